/*
 * sink_kinesis.c
 *		The Kinesis sink: the batcher (batch.c) in front of the PutRecords
 *		client (kinesis.c).  One request at a time; a failed record waits out
 *		its own backoff while records of other aggregates keep flowing, and no
 *		later record of its aggregate is sent before it succeeds (batch.h).
 *
 * Records the service can never accept go to the dead letter: too large or
 * with an unusable partition key (found before sending), or rejected as
 * invalid (ValidationException: the batch is then resent one record per
 * request to find the culprit).  Configuration errors (unknown stream,
 * rejected credentials) stop the relay; everything else is retried.
 */
#include "sink.h"
#include "batch.h"
#include "config.h"
#include "deadletter.h"
#include "kinesis.h"
#include "log.h"
#include "metrics.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KINESIS_EXPIRED_LIMIT 3

typedef struct sink_kinesis
{
	sink		base;
	batcher		b;
	kinesis_client *client;
	int			max_records;	/* configured batch size */
	int			isolate;		/* records still to send one per request */
	int			expired_in_row;
	batch_record **recs;
	kinesis_entry *entries;
	kinesis_record_status *rstatus;
	batch_outcome *outcome;
	metrics_sink_counters *m;
	int64_t		last_error_log;
} sink_kinesis;

static int
s_fatal(sink_kinesis *k, bool config, const char *msg, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", msg);
	k->base.fatal_config = config;
	return -1;
}

static int
s_dead_letter(sink_kinesis *k, const batch_record *r, const char *reason, char *err,
			  size_t errlen)
{
	relay_event ev = {r->data, r->len, r->key, r->key_len, r->pos, r->seq};

	if (deadletter_put(k->base.dead_letter, "kinesis", &ev, reason, err, errlen) < 0)
		return -1;
	k->m->dead_letters++;
	return 0;
}

/* Send one batch if anything is eligible.  Returns records sent, or -1 (fatal). */
static int
s_send(sink_kinesis *k, int64_t now, char *err, size_t errlen)
{
	char		msg[512];
	int			n,
				i,
				failed = 0;
	kinesis_status ks;
	int64_t		t0;

	k->b.lim.max_records = k->isolate > 0 ? 1 : k->max_records;
	n = batch_take(&k->b, now, k->recs);
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
	{
		k->entries[i].data = k->recs[i]->data;
		k->entries[i].len = k->recs[i]->len;
		k->entries[i].key = k->recs[i]->key;
		k->entries[i].key_len = k->recs[i]->key_len;
		if (k->recs[i]->attempts > 0)
			k->m->retries++;
	}
	msg[0] = '\0';
	t0 = relay_now_ms();
	ks = kinesis_put_records(k->client, k->entries, n, k->rstatus, &failed, msg, sizeof(msg));
	now = relay_now_ms();
	k->m->requests++;
	k->m->request_seconds += (double) (now - t0) / 1000.0;
	if (k->isolate > 0)
		k->isolate--;

	switch (ks)
	{
		case KS_OK:
			k->expired_in_row = 0;
			for (i = 0; i < n; i++)
			{
				if (k->rstatus[i] == KR_OK)
				{
					k->outcome[i] = BO_OK;
					k->m->records++;
					k->m->bytes += k->recs[i]->len;
				}
				else if (k->rstatus[i] == KR_FATAL)
				{
					batch_done(&k->b, k->recs, k->outcome, 0, now);
					return s_fatal(k, true, msg, err, errlen);
				}
				else
					k->outcome[i] = BO_RETRY;
			}
			if (failed > 0)
			{
				k->m->errors++;
				log_kv(LOG_DEBUG, "PutRecords partial failure; retrying the failed records",
					   "detail", msg, NULL);
			}
			break;
		case KS_INVALID:
			if (n == 1)
			{
				if (s_dead_letter(k, k->recs[0], msg, err, errlen) < 0)
					return -1;
				k->outcome[0] = BO_DROPPED;
				break;
			}
			/* find the bad record: resend these one per request */
			log_kv(LOG_WARN, "PutRecords rejected a batch as invalid; isolating the record",
				   "detail", msg, NULL);
			k->isolate = n;
			for (i = 0; i < n; i++)
				k->outcome[i] = BO_RETRY;
			break;
		case KS_EXPIRED:
			if (++k->expired_in_row > KINESIS_EXPIRED_LIMIT)
				return s_fatal(k, true, msg, err, errlen);
			/* credentials were invalidated: retry like any transient failure */
			__attribute__((fallthrough));
		case KS_RETRY:
			k->m->errors++;
			if (now - k->last_error_log >= 5000)
			{
				log_kv(LOG_WARN, "PutRecords failed; retrying", "detail", msg, NULL);
				k->last_error_log = now;
			}
			for (i = 0; i < n; i++)
				k->outcome[i] = BO_RETRY;
			break;
		case KS_FATAL:
			for (i = 0; i < n; i++)
				k->outcome[i] = BO_RETRY;
			batch_done(&k->b, k->recs, k->outcome, n, now);
			return s_fatal(k, true, msg, err, errlen);
	}
	batch_done(&k->b, k->recs, k->outcome, n, now);
	k->base.acked = k->b.acked;
	return n;
}

static int
s_put(sink *s, const relay_event *ev, char *err, size_t errlen)
{
	sink_kinesis *k = (sink_kinesis *) s;
	int			rc = batch_put(&k->b, ev->data, ev->len, ev->key, ev->key_len, ev->pos, ev->seq,
							   relay_now_ms());

	if (rc < 0)
		return s_fatal(k, false, "out of memory", err, errlen);
	if (rc == 1)
	{
		char		reason[160];
		batch_record r;

		memset(&r, 0, sizeof(r));
		r.data = (char *) ev->data;
		r.len = ev->len;
		r.key = (char *) ev->key;
		r.key_len = ev->key_len;
		r.pos = ev->pos;
		r.seq = ev->seq;
		if (ev->key_len == 0 || ev->key_len > 256)
			snprintf(reason, sizeof(reason), "partition key of %zu bytes (1..256 allowed)",
					 ev->key_len);
		else
			snprintf(reason, sizeof(reason), "record of %zu bytes is larger than %zu bytes",
					 ev->len + ev->key_len, k->b.lim.max_record_bytes);
		return s_dead_letter(k, &r, reason, err, errlen);
	}
	/* a full batch goes at once */
	if (k->b.n_records >= (size_t) k->max_records && batch_due(&k->b, relay_now_ms()))
		return s_send(k, relay_now_ms(), err, errlen) < 0 ? -1 : 0;
	return 0;
}

static int
s_commit(sink *s, uint64_t pos, char *err, size_t errlen)
{
	sink_kinesis *k = (sink_kinesis *) s;

	(void) err;
	(void) errlen;
	batch_commit(&k->b, pos);
	k->base.acked = k->b.acked;
	return 0;
}

static int
s_poll(sink *s, int64_t now, bool idle, char *err, size_t errlen)
{
	sink_kinesis *k = (sink_kinesis *) s;
	int			rounds = 0;

	(void) idle;
	/* a few requests per call, so the source still gets its turn */
	while (rounds++ < 4 && batch_due(&k->b, now))
	{
		int			n = s_send(k, now, err, errlen);

		if (n < 0)
			return -1;
		if (n == 0)
			break;
		now = relay_now_ms();
	}
	return 0;
}

static int64_t
s_next_due(sink *s)
{
	return batch_next_due(&((sink_kinesis *) s)->b);
}

static size_t
s_pending_bytes(sink *s)
{
	return ((sink_kinesis *) s)->b.bytes;
}

static int
s_drain(sink *s, int64_t deadline, char *err, size_t errlen)
{
	sink_kinesis *k = (sink_kinesis *) s;

	while (k->b.n_records > 0)
	{
		int64_t		now = relay_now_ms();
		int			n;

		if (now >= deadline)
		{
			snprintf(err, errlen, "%zu records not delivered before the deadline", k->b.n_records);
			return -1;
		}
		n = s_send(k, now, err, errlen);
		if (n < 0)
			return -1;
		if (n == 0)
		{
			int64_t		wait = k->b.blocked_until - now;

			if (wait > deadline - now)
				wait = deadline - now;
			if (wait < 1)
				wait = 1;
			poll(NULL, 0, (int) wait);
		}
	}
	k->base.acked = k->b.acked;
	return 0;
}

static void
s_free(sink *s)
{
	sink_kinesis *k = (sink_kinesis *) s;

	batch_free(&k->b);
	kinesis_client_free(k->client);
	free(k->recs);
	free(k->entries);
	free(k->rstatus);
	free(k->outcome);
	free(k);
}

static const sink_ops kinesis_ops = {s_put,			  s_commit, s_poll, s_next_due,
									 s_pending_bytes, s_drain,	s_free};

static sink *
s_open(const relay_config *cfg, struct deadletter *dl, char *err, size_t errlen)
{
	sink_kinesis *k = calloc(1, sizeof(*k));
	kinesis_options ko;
	batch_limits lim;
	size_t		n = (size_t) cfg->max_batch_records;

	(void) dl;
	if (k == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	memset(&ko, 0, sizeof(ko));
	ko.stream = cfg->stream;
	ko.region = cfg->region;
	ko.endpoint = cfg->endpoint;
	ko.ca_bundle = cfg->ca_bundle;
	ko.timeout_ms = cfg->request_timeout_ms;
	k->client = kinesis_client_new(&ko, err, errlen);
	if (k->client == NULL)
	{
		free(k);
		return NULL;
	}
	lim.max_records = cfg->max_batch_records;
	lim.max_bytes = cfg->max_batch_bytes;
	lim.max_record_bytes = cfg->max_record_bytes;
	lim.linger_ms = cfg->linger_ms;
	lim.retry_base_ms = cfg->retry_base_ms;
	lim.retry_max_ms = cfg->retry_max_ms;
	batch_init(&k->b, &lim);
	k->max_records = cfg->max_batch_records;
	k->recs = calloc(n, sizeof(*k->recs));
	k->entries = calloc(n, sizeof(*k->entries));
	k->rstatus = calloc(n, sizeof(*k->rstatus));
	k->outcome = calloc(n, sizeof(*k->outcome));
	k->m = metrics_sink("kinesis");
	k->base.ops = &kinesis_ops;
	return &k->base;
}

const sink_type sink_type_kinesis = {
	"kinesis",
	"  kinesis: Amazon Kinesis Data Streams PutRecords (options above).\n",
	"",
	s_open,
};
