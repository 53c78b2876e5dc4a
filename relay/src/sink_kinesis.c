/*
 * sink_kinesis.c
 *		The Kinesis sink: the batcher (kinesis_batch.c) in front of the PutRecords
 *		client (kinesis_client.c).  --max-in-flight sender threads, each with
 *		its own client (connection), own the HTTP side, so the source keeps
 *		reading (and batches keep filling) while requests are in flight; the
 *		batcher is shared under one mutex.  An aggregate is in one request at
 *		a time (the batcher's rule, kinesis_batch.h): a failed record waits out
 *		its own backoff while records of other aggregates keep flowing, and
 *		nothing later of its aggregate is acknowledged before it is.
 *
 * Records the service can never accept go to the dead letter: too large or
 * with an unusable partition key (found before sending), or rejected as
 * invalid (ValidationException: the batch is then resent one record per
 * request to find the culprit).  Configuration errors (unknown stream,
 * rejected credentials) stop the relay; everything else is retried.
 *
 * Threading: the main thread calls put/commit/poll/drain; the sender threads
 * take batches and report outcomes.  base.acked is written only by the
 * main thread (copied from the batcher in poll/commit/drain).
 */
#include "sink.h"
#include "kinesis_batch.h"
#include "config.h"
#include "sink_deadletter.h"
#include "kinesis_client.h"
#include "log.h"
#include "metrics.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KINESIS_EXPIRED_LIMIT 3

#define KINESIS_MAX_SENDERS 64

struct sink_kinesis;

/* One sender thread: its connection and the buffers of its request. */
typedef struct kinesis_sender
{
	struct sink_kinesis *k;
	kinesis_client *client;
	batch_record **recs;
	kinesis_entry *entries;
	aws_status *rstatus;
	batch_outcome *outcome;
	pthread_t thread;
	bool started;
} kinesis_sender;

typedef struct sink_kinesis
{
	sink base;
	int max_records; /* configured batch size */
	kinesis_sender senders[KINESIS_MAX_SENDERS];
	int n_senders;
	metrics_sink_counters *m; /* under mu */

	/* shared with the sender threads, under mu */
	pthread_mutex_t mu;
	pthread_cond_t wake;	 /* idle senders: work may be due */
	pthread_cond_t timer;	 /* the one idle sender that waits for the linger or a backoff */
	pthread_cond_t progress; /* main: a request completed */
	batcher b;
	int isolate; /* records still to send one per request */
	int expired_in_row;
	int64_t last_error_log;
	int idle_senders;	/* waiting on wake or timer */
	bool timer_waiting; /* an idle sender waits on timer */
	int requests_in_flight;
	bool draining; /* ignore the linger: send what is there */
	bool stopping;
	bool failed; /* a sender hit a fatal error */
	bool failed_config;
	char failmsg[512];
} sink_kinesis;

/* Wall-clock deadline for pthread_cond_timedwait from a monotonic ms deadline. */
static struct timespec
s_abs(int64_t due_ms)
{
	struct timespec ts;
	int64_t wait = due_ms - relay_now_ms();

	if (wait < 0)
		wait = 0;
	if (wait > 1000)
		wait = 1000;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t) (wait / 1000);
	ts.tv_nsec += (long) (wait % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L)
	{
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

static int
s_dead_letter(sink_kinesis *k, const batch_record *r, const char *reason, char *err, size_t errlen)
{
	relay_event ev = {r->data, r->len, r->key, r->key_len, r->pos, r->seq, 0};

	if (deadletter_put(k->base.dead_letter, "kinesis", &ev, reason, err, errlen) < 0)
		return -1;
	k->m->dead_letters++;
	return 0;
}

/* Under mu: record a fatal error and stop sending. */
static void
s_fail_locked(sink_kinesis *k, bool config, const char *msg)
{
	k->failed = true;
	k->failed_config = config;
	snprintf(k->failmsg, sizeof(k->failmsg), "%s", msg);
	pthread_cond_broadcast(&k->progress);
	pthread_cond_broadcast(&k->wake);
	pthread_cond_broadcast(&k->timer);
}

/*
 * Sender thread, under mu: classify the answer to one batch and report the
 * outcomes to the batcher.  Returns 0, or -1 after s_fail_locked().
 */
static int
s_outcome(kinesis_sender *ks, int n, aws_status st, const aws_status *rstatus, int failed,
		  const char *msg, int64_t now)
{
	sink_kinesis *k = ks->k;
	char err[512];
	int i;

	switch (st)
	{
		case AWS_OK:
			k->expired_in_row = 0;
			for (i = 0; i < n; i++)
			{
				if (rstatus[i] == AWS_OK)
				{
					ks->outcome[i] = BO_OK;
					k->m->records++;
					k->m->bytes += ks->recs[i]->len;
				}
				else if (rstatus[i] == AWS_FATAL)
				{
					s_fail_locked(k, true, msg);
					return -1;
				}
				else
					ks->outcome[i] = BO_RETRY;
			}
			if (failed > 0)
			{
				k->m->errors++;
				log_kv(LOG_DEBUG, "PutRecords partial failure; retrying the failed records",
					   "detail", msg, NULL);
			}
			break;
		case AWS_INVALID:
			if (n == 1)
			{
				if (s_dead_letter(k, ks->recs[0], msg, err, sizeof(err)) < 0)
				{
					s_fail_locked(k, false, err);
					return -1;
				}
				ks->outcome[0] = BO_DROPPED;
				break;
			}
			/* find the bad record: resend these one per request */
			log_kv(LOG_WARN, "PutRecords rejected a batch as invalid; isolating the record",
				   "detail", msg, NULL);
			k->isolate += n;
			for (i = 0; i < n; i++)
				ks->outcome[i] = BO_AGAIN;
			break;
		case AWS_EXPIRED:
			if (++k->expired_in_row > KINESIS_EXPIRED_LIMIT)
			{
				s_fail_locked(k, true, msg);
				return -1;
			}
			/* credentials were invalidated: retry like any transient failure */
			__attribute__((fallthrough));
		case AWS_OTHER: /* kinesis_put_records never returns it */
		case AWS_RETRY:
			k->m->errors++;
			if (now - k->last_error_log >= 5000)
			{
				log_kv(LOG_WARN, "PutRecords failed; retrying", "detail", msg, NULL);
				k->last_error_log = now;
			}
			for (i = 0; i < n; i++)
				ks->outcome[i] = BO_RETRY;
			break;
		case AWS_FATAL:
			s_fail_locked(k, true, msg);
			return -1;
	}
	for (i = 0; i < n; i++)
		if (ks->recs[i]->attempts > 0)
			k->m->retries++;
	batch_done(&k->b, ks->recs, ks->outcome, n, now);
	pthread_cond_broadcast(&k->progress);
	return 0;
}

/*
 * Sender thread: send one batch (n records already taken and marked in
 * flight; their bytes stay put while they are) and report the outcomes.
 * Called and returns with mu held.  Returns 0, or -1 after s_fail_locked().
 */
static int
s_send(kinesis_sender *ks, int n)
{
	sink_kinesis *k = ks->k;
	char msg[512];
	int i, failed = 0;
	aws_status st;
	int64_t t0, now;

	for (i = 0; i < n; i++)
	{
		ks->entries[i].data = ks->recs[i]->data;
		ks->entries[i].len = ks->recs[i]->len;
		ks->entries[i].key = ks->recs[i]->key;
		ks->entries[i].key_len = ks->recs[i]->key_len;
	}
	k->requests_in_flight++;
	pthread_mutex_unlock(&k->mu);
	msg[0] = '\0';
	t0 = relay_now_ms();
	st = kinesis_put_records(ks->client, ks->entries, n, ks->rstatus, &failed, msg, sizeof(msg));
	now = relay_now_ms();
	pthread_mutex_lock(&k->mu);
	k->requests_in_flight--;
	k->m->requests++;
	k->m->request_seconds += (double) (now - t0) / 1000.0;
	return s_outcome(ks, n, st, ks->rstatus, failed, msg, now);
}

/* Under mu: wake one idle sender, the timer only if no other is idle. */
static void
s_kick(sink_kinesis *k)
{
	if (k->idle_senders > (k->timer_waiting ? 1 : 0))
		pthread_cond_signal(&k->wake);
	else if (k->timer_waiting)
		pthread_cond_signal(&k->timer);
}

static void *
s_sender(void *arg)
{
	kinesis_sender *ks = arg;
	sink_kinesis *k = ks->k;

	pthread_mutex_lock(&k->mu);
	while (!k->stopping && !k->failed)
	{
		int64_t now = relay_now_ms();
		int n = 0;

		/* isolating: one record per request, one request at a time */
		if ((k->isolate == 0 || k->requests_in_flight == 0) &&
			(k->draining ? batch_sendable(&k->b, now) : batch_due(&k->b, now)))
		{
			bool isolating = k->isolate > 0;

			k->b.lim.max_records = isolating ? 1 : k->max_records;
			n = batch_take(&k->b, now, ks->recs);
			if (isolating && n > 0)
				k->isolate--;
		}
		if (n > 0)
		{
			/* more may be due, and someone must watch the clock: let an idle sender look */
			if (batch_due(&k->b, now))
				s_kick(k);
			else if (!k->timer_waiting && k->idle_senders > 0)
				pthread_cond_signal(&k->wake);
			if (log_get_level() <= LOG_DEBUG)
			{
				char nb[64];

				snprintf(nb, sizeof(nb), "%d of %zu", n, k->b.n_records);
				log_kv(LOG_DEBUG, "PutRecords", "records", nb, NULL);
			}
			if (s_send(ks, n) < 0)
				break;
			/* the outcome may have moved a backoff or a linger: the timer resets its clock */
			if (k->timer_waiting)
				pthread_cond_signal(&k->timer);
			continue;
		}
		/*
		 * Nothing to send now.  One idle sender sleeps until the linger or a
		 * backoff ends (the timer); the others until woken (a full batch,
		 * the timer leaving), so that a linger wakes one thread, not all.
		 */
		if (!k->timer_waiting)
		{
			int64_t due = batch_next_due(&k->b);
			struct timespec ts = s_abs(due == INT64_MAX ? now + 1000 : due);

			k->timer_waiting = true;
			k->idle_senders++;
			pthread_cond_timedwait(&k->timer, &k->mu, &ts);
			k->idle_senders--;
			k->timer_waiting = false;
		}
		else
		{
			struct timespec ts = s_abs(now + 1000);

			k->idle_senders++;
			pthread_cond_timedwait(&k->wake, &k->mu, &ts);
			k->idle_senders--;
		}
	}
	pthread_mutex_unlock(&k->mu);
	return NULL;
}

/* Main thread: copy the acknowledged position; report a sender failure. */
static int
s_sync(sink_kinesis *k, char *err, size_t errlen)
{
	int rc = 0;

	pthread_mutex_lock(&k->mu);
	k->base.acked = k->b.acked;
	if (k->failed)
	{
		snprintf(err, errlen, "%s", k->failmsg);
		k->base.fatal_config = k->failed_config;
		rc = -1;
	}
	pthread_mutex_unlock(&k->mu);
	return rc;
}

static int
s_put(sink *s, const relay_event *ev, char *err, size_t errlen)
{
	sink_kinesis *k = (sink_kinesis *) s;
	int rc;
	bool full, was_ready;

	pthread_mutex_lock(&k->mu);
	was_ready = k->b.ready_head != NULL;
	rc =
		batch_put(&k->b, ev->data, ev->len, ev->key, ev->key_len, ev->pos, ev->seq, relay_now_ms());
	/* a full batch is ready: an idle sender need not wait for the linger */
	full = k->b.ready_records >= (size_t) k->max_records;
	if (full)
		s_kick(k);
	else if (!was_ready && k->b.ready_head != NULL && k->timer_waiting)
		pthread_cond_signal(&k->timer); /* a linger starts: the timer sets its clock */
	pthread_mutex_unlock(&k->mu);
	if (rc < 0)
	{
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (rc == 1)
	{
		char reason[160];
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
		/* the senders write dead letters too */
		pthread_mutex_lock(&k->mu);
		rc = s_dead_letter(k, &r, reason, err, errlen);
		pthread_mutex_unlock(&k->mu);
		return rc;
	}
	return 0;
}

static int
s_commit(sink *s, uint64_t pos, char *err, size_t errlen)
{
	sink_kinesis *k = (sink_kinesis *) s;

	pthread_mutex_lock(&k->mu);
	batch_commit(&k->b, pos); /* nothing becomes due by it: no wake-up */
	pthread_mutex_unlock(&k->mu);
	return s_sync(k, err, errlen);
}

static int
s_poll(sink *s, int64_t now, bool idle, char *err, size_t errlen)
{
	(void) now;
	(void) idle;
	return s_sync((sink_kinesis *) s, err, errlen);
}

static int64_t
s_next_due(sink *s)
{
	sink_kinesis *k = (sink_kinesis *) s;
	int64_t due;

	/* the senders send by themselves; come back soon to pick up acknowledgements */
	pthread_mutex_lock(&k->mu);
	due = k->b.n_records > 0 ? relay_now_ms() + 50 : INT64_MAX;
	pthread_mutex_unlock(&k->mu);
	return due;
}

static size_t
s_pending_bytes(sink *s)
{
	sink_kinesis *k = (sink_kinesis *) s;
	size_t n;

	pthread_mutex_lock(&k->mu);
	n = k->b.bytes;
	pthread_mutex_unlock(&k->mu);
	return n;
}

static int
s_drain(sink *s, int64_t deadline, char *err, size_t errlen)
{
	sink_kinesis *k = (sink_kinesis *) s;
	int rc = 0;

	pthread_mutex_lock(&k->mu);
	k->draining = true;
	pthread_cond_broadcast(&k->wake);
	pthread_cond_broadcast(&k->timer);
	while (k->b.n_records > 0 && !k->failed && relay_now_ms() < deadline)
	{
		struct timespec ts = s_abs(deadline);

		pthread_cond_timedwait(&k->progress, &k->mu, &ts);
	}
	if (k->b.n_records > 0 && !k->failed)
	{
		snprintf(err, errlen, "%zu records not delivered before the deadline", k->b.n_records);
		rc = -1;
	}
	k->draining = false;
	pthread_mutex_unlock(&k->mu);
	if (s_sync(k, err, errlen) < 0)
		rc = -1;
	return rc;
}

static void
s_free(sink *s)
{
	sink_kinesis *k = (sink_kinesis *) s;
	int i;

	pthread_mutex_lock(&k->mu);
	k->stopping = true;
	pthread_cond_broadcast(&k->wake);
	pthread_cond_broadcast(&k->timer);
	pthread_mutex_unlock(&k->mu);
	for (i = 0; i < k->n_senders; i++)
	{
		kinesis_sender *ks = &k->senders[i];

		/* a request in flight ends within its timeout */
		if (ks->started)
			pthread_join(ks->thread, NULL);
		kinesis_client_free(ks->client);
		free(ks->recs);
		free(ks->entries);
		free(ks->rstatus);
		free(ks->outcome);
	}
	batch_free(&k->b);
	pthread_mutex_destroy(&k->mu);
	pthread_cond_destroy(&k->wake);
	pthread_cond_destroy(&k->timer);
	pthread_cond_destroy(&k->progress);
	free(k);
}

static int
s_check(sink *b, char *err, size_t errlen)
{
	sink_kinesis *k = (sink_kinesis *) b;
	int rc;

	/* before anything is put: the senders are idle, but this client is theirs */
	pthread_mutex_lock(&k->mu);
	rc = kinesis_check_stream(k->senders[0].client, err, errlen) == AWS_FATAL ? -1 : 0;
	pthread_mutex_unlock(&k->mu);
	return rc;
}

static const sink_ops kinesis_ops = {s_put,			  s_commit, s_poll, s_next_due,
									 s_pending_bytes, s_drain,	s_free, s_check};

static sink *
s_open(const relay_config *cfg, struct deadletter *dl, char *err, size_t errlen)
{
	sink_kinesis *k = calloc(1, sizeof(*k));
	kinesis_options ko;
	batch_limits lim;
	size_t n = (size_t) cfg->max_batch_records;
	int i, senders = cfg->max_in_flight > 0 ? cfg->max_in_flight : 1;

	(void) dl;
	if (k == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (senders > KINESIS_MAX_SENDERS)
		senders = KINESIS_MAX_SENDERS;
	memset(&ko, 0, sizeof(ko));
	ko.stream = cfg->stream;
	ko.region = cfg->region;
	ko.endpoint = cfg->endpoint;
	ko.ca_bundle = cfg->ca_bundle;
	ko.timeout_ms = cfg->request_timeout_ms;
	lim.max_records = cfg->max_batch_records;
	lim.max_bytes = cfg->max_batch_bytes;
	lim.max_record_bytes = cfg->max_record_bytes;
	lim.linger_ms = cfg->linger_ms;
	lim.retry_base_ms = cfg->retry_base_ms;
	lim.retry_max_ms = cfg->retry_max_ms;
	lim.max_per_key = cfg->max_records_per_key;
	batch_init(&k->b, &lim);
	k->max_records = cfg->max_batch_records;
	k->m = metrics_sink("kinesis");
	k->base.ops = &kinesis_ops;
	pthread_mutex_init(&k->mu, NULL);
	pthread_cond_init(&k->wake, NULL);
	pthread_cond_init(&k->timer, NULL);
	pthread_cond_init(&k->progress, NULL);
	for (i = 0; i < senders; i++)
	{
		kinesis_sender *ks = &k->senders[i];

		ks->k = k;
		k->n_senders++;
		ks->client = kinesis_client_new(&ko, err, errlen);
		if (ks->client == NULL)
		{
			s_free(&k->base);
			return NULL;
		}
		ks->recs = calloc(n, sizeof(*ks->recs));
		ks->entries = calloc(n, sizeof(*ks->entries));
		ks->rstatus = calloc(n, sizeof(*ks->rstatus));
		ks->outcome = calloc(n, sizeof(*ks->outcome));
		if (!ks->recs || !ks->entries || !ks->rstatus || !ks->outcome)
		{
			snprintf(err, errlen, "out of memory");
			s_free(&k->base);
			return NULL;
		}
	}
	for (i = 0; i < senders; i++)
	{
		kinesis_sender *ks = &k->senders[i];

		if (pthread_create(&ks->thread, NULL, s_sender, ks) != 0)
		{
			snprintf(err, errlen, "could not start the Kinesis sender threads");
			s_free(&k->base);
			return NULL;
		}
		ks->started = true;
	}
	return &k->base;
}

const sink_type sink_type_kinesis = {
	"kinesis",
	"  kinesis: Amazon Kinesis Data Streams PutRecords (options above).\n",
	"",
	s_open,
};
