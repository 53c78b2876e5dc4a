/*
 * ddb_input.c
 *		Stream of JSON values from a file descriptor, and the records in a
 *		value (see ddb_input.h).
 *
 * The JSON reader's scanner (jv_scan) finds where each value ends, across
 * reads and lines, keeping its state so a large value is scanned once; only
 * then is the complete value parsed (json.h), in place.
 */
#include "ddb_input.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DDB_READ_SIZE (1 << 16)
#define DDB_MAX_VALUE ((size_t) 256 << 20) /* a Lambda payload is at most 6 MB */

int
ddb_reader_init(ddb_reader *r, int fd, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->cap = DDB_READ_SIZE * 4;
	r->buf = malloc(r->cap + 1);
	jv_doc_init(&r->doc);
	if (r->buf == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

void
ddb_reader_free(ddb_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	jv_doc_free(&r->doc);
}

static int
s_is_space(char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* Read more input after what is buffered; 1 bytes came, 0 EOF, -1 error. */
static int
s_fill(ddb_reader *r, char *err, size_t errlen)
{
	ssize_t n;

	if (r->eof)
		return 0;
	if (r->pos > 0)
	{
		/* drop consumed bytes */
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->scan -= r->pos;
		r->pos = 0;
	}
	if (r->cap - r->len < DDB_READ_SIZE)
	{
		size_t cap = r->cap * 2;
		char *p;

		if (cap > DDB_MAX_VALUE + DDB_READ_SIZE)
		{
			snprintf(err, errlen, "input value larger than %zu MiB", DDB_MAX_VALUE >> 20);
			return -1;
		}
		p = realloc(r->buf, cap + 1);
		if (p == NULL)
		{
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		r->buf = p;
		r->cap = cap;
	}
	do
		n = read(r->fd, r->buf + r->len, r->cap - r->len);
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
	r->len += (size_t) n;
	if (!r->started)
	{
		r->started = 1;
		if (r->len >= 3 && memcmp(r->buf, "\xEF\xBB\xBF", 3) == 0)
			r->pos = r->scan = 3;
	}
	return 1;
}

static void
s_scan_reset(ddb_reader *r)
{
	r->scan = r->pos;
	memset(&r->sc, 0, sizeof(r->sc));
}

/* After an error at the value starting at pos: resume at the next line. */
static void
s_skip_line(ddb_reader *r, size_t from)
{
	char *nl = memchr(r->buf + from, '\n', r->len - from);

	r->pos = nl ? (size_t) (nl - r->buf) + 1 : r->len;
	s_scan_reset(r);
}

/* Scan on from r->scan: 1 and *end when the value at pos is complete. */
static int
s_scan(ddb_reader *r, size_t *end)
{
	size_t e;

	if (r->scan == r->pos && r->buf[r->pos] != '{' && r->buf[r->pos] != '[')
		return -1; /* inputs are objects (or arrays) */
	if (jv_scan(&r->sc, r->buf + r->pos, r->scan - r->pos, r->len - r->pos, &e) == 1)
	{
		*end = r->pos + e;
		return 1;
	}
	r->scan = r->pos + e;
	return 0;
}

int
ddb_reader_next(ddb_reader *r, const jv **out, char *err, size_t errlen)
{
	*out = NULL;
	for (;;)
	{
		size_t end;
		int rc;

		if (r->scan == r->pos)
		{
			while (r->pos < r->len && s_is_space(r->buf[r->pos]))
				r->pos++;
			r->scan = r->pos;
		}
		if (r->pos == r->len)
		{
			rc = s_fill(r, err, errlen);
			if (rc < 0)
				return -1;
			if (rc == 0)
				return 0;
			continue;
		}
		rc = s_scan(r, &end);
		if (rc < 0)
		{
			r->values++;
			snprintf(err, errlen, "malformed JSON in value %ld: not an object", r->values);
			s_skip_line(r, r->pos);
			return -1;
		}
		if (rc == 0)
		{
			rc = s_fill(r, err, errlen);
			if (rc < 0)
				return -1;
			if (rc > 0)
				continue;
			/* EOF inside a value */
			r->values++;
			snprintf(err, errlen, "input ends in the middle of value %ld", r->values);
			s_skip_line(r, r->pos);
			return -1;
		}
		r->values++;
		{
			size_t start = r->pos;
			char saved = r->buf[end];
			char perr[200];

			r->pos = end;
			s_scan_reset(r);
			r->buf[end] = '\0';
			if (jv_parse(&r->doc, r->buf + start, end - start, perr, sizeof(perr)) != 0)
			{
				r->buf[end] = saved;
				snprintf(err, errlen, "malformed JSON in value %ld: %s", r->values, perr);
				/* the text was partly unescaped in place: resume after its first line */
				s_skip_line(r, start);
				return -1;
			}
			r->buf[end] = saved;
			*out = r->doc.root;
			return 1;
		}
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
ddb_recs_from_value(const jv *v, ddb_recs *r, char *err, size_t errlen)
{
	const jv *a;

	memset(r, 0, sizeof(*r));
	if (!jv_is(v, JV_OBJECT))
	{
		snprintf(err, errlen, "input value is not a JSON object");
		return -1;
	}
	if ((a = jv_get(v, "Records")) != NULL)
	{
		if (!jv_is(a, JV_ARRAY))
		{
			snprintf(err, errlen, "\"Records\" is not an array");
			return -1;
		}
		r->arr = a;
		r->n = a->len;
		return 0;
	}
	if (jv_get(v, "dynamodb") || jv_get(v, "eventName"))
	{
		r->one = v;
		r->n = 1;
		return 0;
	}
	snprintf(err, errlen, "input value is neither a stream record nor an event with \"Records\"");
	return -1;
}

const jv *
ddb_recs_get(const ddb_recs *r, size_t i)
{
	if (i >= r->n)
		return NULL;
	return r->arr ? &r->arr->u.items[i] : r->one;
}

const jv *
ddb_parse_doc(jv_doc *d, char *text, size_t len, char *err, size_t errlen)
{
	size_t end;

	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
	{
		text += 3;
		len -= 3;
	}
	if (jv_value_end(text, len, &end) == 0)
	{
		snprintf(err, errlen, "truncated JSON");
		return NULL;
	}
	if (jv_parse(d, text, len, err, errlen) != 0)
		return NULL;
	return d->root;
}
