/*
 * ddb_input.c
 *		Stream of JSON values from a file descriptor, and the records in a
 *		value (see ddb_input.h).
 *
 * json-c's incremental tokener is fed whatever read() returns, so values may
 * span reads and lines; nothing assumes one value per line except the
 * recovery after a syntax error, which skips to the next newline.
 */
#include "ddb_input.h"

#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DDB_READ_SIZE (1 << 16)
/* typed JSON nests twice per DynamoDB level, inside the record's own levels */
#define DDB_PARSE_DEPTH 200

int
ddb_reader_init(ddb_reader *r, int fd, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->tok = json_tokener_new_ex(DDB_PARSE_DEPTH);
	r->buf = malloc(DDB_READ_SIZE);
	if (r->tok == NULL || r->buf == NULL)
	{
		snprintf(err, errlen, "out of memory");
		ddb_reader_free(r);
		return -1;
	}
	return 0;
}

void
ddb_reader_free(ddb_reader *r)
{
	if (r->tok)
		json_tokener_free(r->tok);
	free(r->buf);
	r->tok = NULL;
	r->buf = NULL;
}

/* Refill the buffer; 1 if bytes arrived, 0 at EOF, -1 on error. */
static int
s_fill(ddb_reader *r, char *err, size_t errlen)
{
	ssize_t n;

	if (r->eof)
		return 0;
	do
		n = read(r->fd, r->buf, DDB_READ_SIZE);
	while (n < 0 && errno == EINTR);
	if (n < 0)
	{
		snprintf(err, errlen, "read: %s", strerror(errno));
		r->eof = 1; /* a read error ends the input */
		return -1;
	}
	if (n == 0)
	{
		r->eof = 1;
		return 0;
	}
	r->pos = 0;
	r->len = (size_t) n;
	if (!r->started)
	{
		r->started = 1;
		if (r->len >= 3 && memcmp(r->buf, "\xEF\xBB\xBF", 3) == 0)
			r->pos = 3;
	}
	return 1;
}

static int
s_is_space(char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* After a syntax error: drop the rest of the current line. */
static void
s_skip_line(ddb_reader *r)
{
	char e[8];

	json_tokener_reset(r->tok);
	for (;;)
	{
		char *nl = memchr(r->buf + r->pos, '\n', r->len - r->pos);

		if (nl)
		{
			r->pos = (size_t) (nl - r->buf) + 1;
			return;
		}
		r->pos = r->len;
		if (s_fill(r, e, sizeof(e)) <= 0)
			return;
	}
}

int
ddb_reader_next(ddb_reader *r, struct json_object **out, char *err, size_t errlen)
{
	int in_value = 0; /* tokener holds part of a value */

	*out = NULL;
	for (;;)
	{
		struct json_object *v;
		enum json_tokener_error jerr;
		size_t start;

		if (r->pos == r->len)
		{
			int rc = s_fill(r, err, errlen);

			if (rc < 0)
				return -1;
			if (rc == 0)
			{
				if (in_value)
				{
					snprintf(err, errlen, "input ends in the middle of value %ld", r->values + 1);
					json_tokener_reset(r->tok);
					return -1;
				}
				return 0;
			}
		}
		if (!in_value)
		{
			while (r->pos < r->len && s_is_space(r->buf[r->pos]))
				r->pos++;
			if (r->pos == r->len)
				continue;
		}
		start = r->pos;
		v = json_tokener_parse_ex(r->tok, r->buf + start, (int) (r->len - start));
		jerr = json_tokener_get_error(r->tok);
		if (jerr == json_tokener_continue)
		{
			in_value = 1;
			r->pos = r->len;
			continue;
		}
		if (jerr != json_tokener_success)
		{
			snprintf(err, errlen, "malformed JSON in value %ld: %s", r->values + 1,
					 json_tokener_error_desc(jerr));
			r->pos = start + json_tokener_get_parse_end(r->tok);
			s_skip_line(r);
			r->values++;
			return -1;
		}
		r->pos = start + json_tokener_get_parse_end(r->tok);
		json_tokener_reset(r->tok);
		r->values++;
		*out = v;
		return 1;
	}
}

int
ddb_reader_ready(ddb_reader *r)
{
	struct pollfd p;
	size_t i;

	for (i = r->pos; i < r->len; i++)
		if (!s_is_space(r->buf[i]))
			return 1;
	if (r->eof)
		return 1;
	p.fd = r->fd;
	p.events = POLLIN;
	p.revents = 0;
	return poll(&p, 1, 0) > 0;
}

int
ddb_recs_from_value(struct json_object *v, ddb_recs *r, char *err, size_t errlen)
{
	struct json_object *a;

	memset(r, 0, sizeof(*r));
	if (!json_object_is_type(v, json_type_object))
	{
		snprintf(err, errlen, "input value is not a JSON object");
		return -1;
	}
	if (json_object_object_get_ex(v, "Records", &a))
	{
		if (!json_object_is_type(a, json_type_array))
		{
			snprintf(err, errlen, "\"Records\" is not an array");
			return -1;
		}
		r->arr = a;
		r->n = json_object_array_length(a);
		return 0;
	}
	if (json_object_object_get_ex(v, "dynamodb", NULL) ||
		json_object_object_get_ex(v, "eventName", NULL))
	{
		r->one = v;
		r->n = 1;
		return 0;
	}
	snprintf(err, errlen, "input value is neither a stream record nor an event with \"Records\"");
	return -1;
}

struct json_object *
ddb_recs_get(const ddb_recs *r, size_t i)
{
	if (i >= r->n)
		return NULL;
	return r->arr ? json_object_array_get_idx(r->arr, i) : r->one;
}

struct json_object *
ddb_parse_text(const char *text, size_t len, char *err, size_t errlen)
{
	struct json_tokener *tok = json_tokener_new_ex(DDB_PARSE_DEPTH);
	struct json_object *v;
	enum json_tokener_error jerr;
	size_t end;

	if (tok == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
	{
		text += 3;
		len -= 3;
	}
	v = json_tokener_parse_ex(tok, text, (int) len);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue)
	{
		/* A complete top-level object needs no more input; this is truncation. */
		snprintf(err, errlen, "truncated JSON");
		json_object_put(v);
		v = NULL;
	}
	else if (jerr != json_tokener_success)
	{
		snprintf(err, errlen, "malformed JSON: %s", json_tokener_error_desc(jerr));
		v = NULL;
	}
	else
	{
		end = json_tokener_get_parse_end(tok);
		while (end < len && s_is_space(text[end]))
			end++;
		if (end != len)
		{
			snprintf(err, errlen, "trailing data after the JSON value");
			json_object_put(v);
			v = NULL;
		}
	}
	json_tokener_free(tok);
	return v;
}
