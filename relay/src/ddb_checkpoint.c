/*
 * ddb_checkpoint.c
 *		The Streams reader's checkpoint file (see ddb_checkpoint.h).
 */
#include "ddb_checkpoint.h"
#include "file_replace.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"

static char *
s_dup(const char *s)
{
	return s ? strdup(s) : NULL;
}

ddb_ckpt_shard *
ddb_ckpt_find(ddb_ckpt *c, const char *shard_id)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->s[i].id, shard_id) == 0)
			return &c->s[i];
	return NULL;
}

int
ddb_ckpt_set(ddb_ckpt *c, const char *shard_id, const char *seq, bool finished)
{
	ddb_ckpt_shard *s = ddb_ckpt_find(c, shard_id);

	if (s == NULL)
	{
		if (c->n == c->cap)
		{
			size_t cap = c->cap ? c->cap * 2 : 8;
			ddb_ckpt_shard *p = realloc(c->s, cap * sizeof(*p));

			if (p == NULL)
				return -1;
			c->s = p;
			c->cap = cap;
		}
		s = &c->s[c->n];
		memset(s, 0, sizeof(*s));
		if ((s->id = strdup(shard_id)) == NULL)
			return -1;
		c->n++;
	}
	if (seq)
	{
		char *d = strdup(seq);

		if (d == NULL)
			return -1;
		free(s->seq);
		s->seq = d;
	}
	s->finished = finished;
	return 0;
}

void
ddb_ckpt_clear(ddb_ckpt *c, const char *stream_arn)
{
	size_t i;

	for (i = 0; i < c->n; i++)
	{
		free(c->s[i].id);
		free(c->s[i].seq);
	}
	c->n = 0;
	free(c->stream_arn);
	c->stream_arn = s_dup(stream_arn);
}

void
ddb_ckpt_free(ddb_ckpt *c)
{
	ddb_ckpt_clear(c, NULL);
	free(c->s);
	free(c->path);
	memset(c, 0, sizeof(*c));
}

int
ddb_ckpt_load(ddb_ckpt *c, const char *path, char *err, size_t errlen)
{
	struct json_object *o, *v, *shards;

	memset(c, 0, sizeof(*c));
	c->path = strdup(path);
	if (c->path == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (access(path, F_OK) != 0)
		return 0;
	o = json_object_from_file(path);
	if (o == NULL || !json_object_is_type(o, json_type_object))
	{
		snprintf(err, errlen, "checkpoint file %s is not valid JSON", path);
		if (o)
			json_object_put(o);
		return -1;
	}
	if (json_object_object_get_ex(o, "stream_arn", &v) && json_object_is_type(v, json_type_string))
		c->stream_arn = strdup(json_object_get_string(v));
	if (json_object_object_get_ex(o, "shards", &shards) &&
		json_object_is_type(shards, json_type_object))
	{
		json_object_object_foreach(shards, id, sh)
		{
			struct json_object *seq = NULL, *fin = NULL;

			json_object_object_get_ex(sh, "sequence_number", &seq);
			json_object_object_get_ex(sh, "finished", &fin);
			if (ddb_ckpt_set(c, id,
							 seq && json_object_is_type(seq, json_type_string)
								 ? json_object_get_string(seq)
								 : NULL,
							 fin && json_object_get_boolean(fin)) != 0)
			{
				snprintf(err, errlen, "out of memory");
				json_object_put(o);
				return -1;
			}
		}
	}
	json_object_put(o);
	return 0;
}

int
ddb_ckpt_save(const ddb_ckpt *c, char *err, size_t errlen)
{
	buf b;
	size_t i;
	int rc;

	buf_init(&b);
	buf_puts(&b, "{\"stream_arn\":");
	if (c->stream_arn)
		buf_json_string(&b, c->stream_arn, strlen(c->stream_arn));
	else
		buf_puts(&b, "null");
	buf_puts(&b, ",\"shards\":{");
	for (i = 0; i < c->n; i++)
	{
		if (i)
			buf_putc(&b, ',');
		buf_json_string(&b, c->s[i].id, strlen(c->s[i].id));
		buf_puts(&b, ":{\"sequence_number\":");
		if (c->s[i].seq)
			buf_json_string(&b, c->s[i].seq, strlen(c->s[i].seq));
		else
			buf_puts(&b, "null");
		buf_printf(&b, ",\"finished\":%s}", c->s[i].finished ? "true" : "false");
	}
	buf_puts(&b, "}}\n");
	if (buf_failed(&b))
	{
		snprintf(err, errlen, "out of memory");
		return -1;
	}

	rc = file_replace(c->path, b.data, b.len, err, errlen);
	buf_free(&b);
	return rc;
}
