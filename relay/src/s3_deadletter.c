/*
 * s3_deadletter.c
 *		The s3://BUCKET/PREFIX dead-letter destination: every record a sink
 *		must set aside (too large for Kinesis, rejected) becomes one object
 *
 *		  PREFIX/YYYY/MM/DD/HH/<pos>-<seq>-<sha8>.json
 *
 * holding the same JSON as a dead-letter file line, minus the timestamp
 * (S3 keeps LastModified), so that the same record set aside twice (after a
 * crash) yields the same key and bytes: create-only writes then find it
 * and count it as done.  The hour is the event's commit time, like the
 * archive's.  A put is synchronous and retried here, because the sink
 * acknowledges the record as soon as this returns.
 *
 * Region and endpoint are those of the archive (s3_settings.h).
 */
#include "buf.h"
#include "sink_deadletter.h"
#include "log.h"
#include "s3_client.h"
#include "s3_object.h"
#include "s3_settings.h"
#include "aws_sigv4.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S3_DL_ATTEMPTS 6

typedef struct dl_s3
{
	deadletter base;
	s3_settings st;
	s3_client *client;
} dl_s3;

/* The object body: one JSON object (see the file header). */
static int
s_body(buf *b, const char *sink_name, const relay_event *ev, const char *reason)
{
	buf_puts(b, "{\"sink\":");
	buf_json_string(b, sink_name, strlen(sink_name));
	buf_puts(b, ",\"reason\":");
	buf_json_string(b, reason, strlen(reason));
	buf_puts(b, ",\"partition_key\":");
	buf_json_string(b, ev->key ? ev->key : "", ev->key ? ev->key_len : 0);
	buf_printf(b, ",\"pos\":\"%X/%X\",\"seq\":%u,\"data\":", (unsigned) (ev->pos >> 32),
			   (unsigned) ev->pos, ev->seq);
	buf_json_string(b, ev->data, ev->len);
	buf_puts(b, "}\n");
	return buf_failed(b) ? -1 : 0;
}

static int
s_put(deadletter *dl, const char *sink_name, const relay_event *ev, const char *reason, char *err,
	  size_t errlen)
{
	dl_s3 *d = (dl_s3 *) dl;
	buf body = BUF_INIT;
	char key[1200], hash[65];
	time_t t;
	size_t n;
	int attempt, rc = -1;
	int64_t delay = d->st.retry_base_ms;

	if (s_body(&body, sink_name, ev, reason) < 0)
	{
		buf_free(&body);
		snprintf(err, errlen, "dead letter: out of memory");
		return -1;
	}
	if (ev->commit_time > 0)
		t = ev->commit_time;
	else if (!s3_event_time(ev->data, ev->len, &t))
		t = time(NULL);
	sigv4_sha256_hex(body.data, body.len, hash);
	if (s3_partition_prefix(d->st.prefix, s3_hour(t), key, sizeof(key)) < 0)
	{
		buf_free(&body);
		snprintf(err, errlen, "dead letter: prefix too long");
		return -1;
	}
	n = strlen(key);
	snprintf(key + n, sizeof(key) - n, "%016" PRIX64 "-%u-%.8s.json", ev->pos, ev->seq, hash);

	for (attempt = 1;; attempt++)
	{
		if (s3_put_object(d->client, key, body.data, body.len, "application/json", err, errlen) ==
			0)
		{
			rc = 0;
			break;
		}
		if (!s3_client_retryable(d->client) || attempt >= S3_DL_ATTEMPTS)
			break;
		log_kv(LOG_WARN, "dead letter upload failed; will retry", "key", key, "error", err, NULL);
		usleep((useconds_t) (delay * 1000));
		delay = delay * 2 > d->st.retry_max_ms ? d->st.retry_max_ms : delay * 2;
	}
	if (rc == 0)
		log_kv(LOG_INFO, "dead letter stored", "bucket", d->st.bucket, "key", key, NULL);
	buf_free(&body);
	return rc;
}

static void
s_free(deadletter *dl)
{
	dl_s3 *d = (dl_s3 *) dl;

	s3_client_free(d->client);
	free(d);
}

static const deadletter_ops dl_s3_ops = {s_put, s_free};

/* Open "s3://bucket/prefix" (the prefix defaults to "dead-letter"). */
deadletter *
s3_deadletter_open(const char *uri, const struct relay_config *cfg, char *err, size_t errlen)
{
	dl_s3 *d = calloc(1, sizeof(*d));
	const char *b = uri + 5, *slash = strchr(b, '/');
	size_t blen = slash ? (size_t) (slash - b) : strlen(b);
	s3_client_config cc;

	if (d == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (s3_settings_resolve(cfg, &d->st, false, err, errlen) < 0)
	{
		free(d);
		return NULL;
	}
	if (blen == 0 || blen >= sizeof(d->st.bucket))
	{
		snprintf(err, errlen, "invalid dead letter destination \"%s\": expected s3://BUCKET/PREFIX",
				 uri);
		free(d);
		return NULL;
	}
	memcpy(d->st.bucket, b, blen);
	d->st.bucket[blen] = '\0';
	snprintf(d->st.prefix, sizeof(d->st.prefix), "%s",
			 slash && slash[1] ? slash + 1 : "dead-letter");
	/* one object per record: never multipart */
	d->st.multipart_threshold = 0;
	s3_settings_client(&d->st, &cc);
	d->client = s3_client_new(&cc, err, errlen);
	if (d->client == NULL)
	{
		free(d);
		return NULL;
	}
	d->base.ops = &dl_s3_ops;
	return &d->base;
}
