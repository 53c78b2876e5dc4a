/*
 * ddb_checkpoint.c
 *		The Streams reader's checkpoint file (see ddb_checkpoint.h).
 */
#include "ddb_checkpoint.h"
#include "file_replace.h"
#include "json.h"

#include <errno.h>
#include <fcntl.h>
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
	const jv *v, *shards;
	buf text = BUF_INIT;
	char perr[128];
	jv_doc d;
	FILE *f;
	size_t n;
	int rc = -1;

	memset(c, 0, sizeof(*c));
	c->path = strdup(path);
	if (c->path == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (access(path, F_OK) != 0)
		return 0;
	if ((f = fopen(path, "r")) == NULL)
	{
		snprintf(err, errlen, "cannot read checkpoint file %s: %s", path, strerror(errno));
		return -1;
	}
	while (buf_reserve(&text, 65536) == 0 && (n = fread(text.data + text.len, 1, 65536, f)) > 0)
		text.len += n;
	fclose(f);
	jv_doc_init(&d);
	if (buf_failed(&text))
		snprintf(err, errlen, "out of memory");
	else if (jv_parse(&d, text.data, text.len, perr, sizeof(perr)) != 0 ||
			 !jv_is(d.root, JV_OBJECT))
		snprintf(err, errlen, "checkpoint file %s is not valid JSON", path);
	else
		rc = 0;
	if (rc == 0 && (v = jv_get(d.root, "stream_arn")) && jv_str(v))
		c->stream_arn = strdup(jv_str(v));
	shards = rc == 0 ? jv_get(d.root, "shards") : NULL;
	for (n = 0; jv_is(shards, JV_OBJECT) && n < shards->len; n++)
	{
		const jv_member *m = &shards->u.members[n];

		if (ddb_ckpt_set(c, m->key, jv_str(jv_get(&m->val, "sequence_number")),
						 jv_is(jv_get(&m->val, "finished"), JV_TRUE)) != 0)
		{
			snprintf(err, errlen, "out of memory");
			rc = -1;
			break;
		}
	}
	jv_doc_free(&d);
	buf_free(&text);
	return rc;
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
