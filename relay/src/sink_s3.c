/*
 * sink_s3.c
 *		The S3 archive sink: envelopes as gzip NDJSON objects, cut by size, by
 *		age and at hour boundaries, keyed by the positions they hold
 *		(s3_object.h), uploaded create-only (s3_client.h).
 *
 * Acknowledgement: a position is acknowledged once the object holding its
 * last event is in S3.  Objects hold whole positions only: events of the
 * open position wait in a plain buffer and are compressed into the object
 * at commit(), so an object never mixes committed and uncommitted data.
 *
 * Crash recovery (PostgreSQL path, whose positions are LSNs and survive
 * restarts; other sources get run-scoped keys, see s_put): after a restart
 * the source hands over again every
 * position not acknowledged, starting with the first one of the object that
 * was in flight.  Before the first object of a run (and each following one
 * while this keeps being true) is cut, the sink lists its hour partition:
 * if an earlier run already stored an object starting at the same position,
 * the sink cuts at that object's last position, so the upload finds
 * the same key with the same bytes (If-None-Match: * answers 412, the
 * comparison says equal) and no near-duplicate object appears.  When the
 * slot was confirmed inside a stored object (with --sink kinesis --sink s3
 * the Kinesis sink may have acknowledged less), the positions that object
 * holds are acknowledged without being archived a second time.
 */
#include "sink.h"
#include "buf.h"
#include "config.h"
#include "sink_deadletter.h"
#include "log.h"
#include "metrics.h"
#include "s3_client.h"
#include "s3_object.h"
#include "s3_settings.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S3_CONTENT_TYPE		   "application/x-ndjson"
#define S3_OPEN_POS_RECHECK_MS 50

typedef struct s3_sealed
{
	struct s3_sealed *next;
	s3_object obj; /* finished */
	char key[1024];
	uint64_t ack_pos; /* acknowledged once this object is stored */
	s3_upload *up;	  /* the upload in progress, if started */
} s3_sealed;

typedef struct sink_s3
{
	sink base;
	s3_settings st;
	s3_limits limits;
	s3_client *client;

	/* the open position */
	buf txn; /* its events, NDJSON, not yet compressed */
	size_t txn_events;
	time_t txn_time; /* event time of its first event */

	/* the object being filled */
	s3_object cur;
	uint64_t committed;	   /* last position passed to commit() */
	time_t last_partition; /* partitions never go back in time */

	/* sealed objects, oldest first, uploaded in order */
	s3_sealed *head;
	s3_sealed *tail;
	size_t sealed_bytes;
	int attempts;
	int64_t retry_at_ms;

	/* crash recovery (see the file header) */
	bool recovering; /* look for objects of an earlier run */
	bool check_due;	 /* cur's first position not checked yet */
	bool have_forced;
	bool have_skip;
	uint64_t skip_through; /* positions up to this one are archived already */
	uint64_t forced_cut;   /* cut cur right after this position */
	int64_t check_retry_ms;

	/* keys: positions alone (durable positions), or with a run id (see s_put) */
	bool mode_known;
	uint64_t run;

	metrics_sink_counters *m; /* "s3" in the metrics endpoint */
	unsigned long objects;	  /* uploaded by this run */
	unsigned long events;	  /* archived by this run */
} sink_s3;

static int64_t
s_backoff(sink_s3 *s)
{
	int64_t d = s->st.retry_base_ms;
	int i;

	for (i = 1; i < s->attempts && d < s->st.retry_max_ms; i++)
		d *= 2;
	if (d > s->st.retry_max_ms)
		d = s->st.retry_max_ms;
	/* full jitter, but never zero */
	return 1 + (int64_t) ((double) d * ((double) rand() / ((double) RAND_MAX + 1.0)));
}

/* Raise acked as far as what is stored allows. */
static void
s_update_acked(sink_s3 *s)
{
	if (s->head == NULL && s->cur.events == 0 && s->txn_events == 0)
		s->base.acked = s->committed;
}

/* Finish the current object and queue it for upload. */
static int
s_seal(sink_s3 *s, char *err, size_t errlen)
{
	s3_sealed *x;

	if (s->cur.events == 0)
		return 0;
	x = calloc(1, sizeof(*x));
	if (x == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (s3_object_finish(&s->cur, err, errlen) < 0 ||
		s3_object_key_run(s->st.prefix, s->cur.partition, s->run, s->cur.first_pos, s->cur.last_pos,
						  x->key, sizeof(x->key)) < 0)
	{
		if (err[0] == '\0')
			snprintf(err, errlen, "archive key too long (prefix \"%s\")", s->st.prefix);
		free(x);
		return -1;
	}
	x->obj = s->cur;
	x->ack_pos = s->committed;
	s3_object_init(&s->cur);
	s->check_due = s->recovering;
	s->have_forced = false;
	if (s->tail)
		s->tail->next = x;
	else
		s->head = x;
	s->tail = x;
	s->sealed_bytes += x->obj.gz.len;
	log_kv(LOG_DEBUG, "archive object sealed", "key", x->key, NULL);
	return 0;
}

/*
 * Recovery check for the object starting at cur.first_pos: did an earlier
 * run store an object holding that position?  Lists the hour partition and
 * looks for an object [a, b] with a <= first_pos <= b:
 *
 *   a == first_pos   the earlier run cut there: cut at b as well, so the
 *                    upload meets the same key with the same bytes
 *   a <  first_pos   the slot was confirmed inside that object (another
 *                    sink acknowledged less than S3 had stored): positions
 *                    up to b are archived already, so they are acknowledged
 *                    without being archived again
 *
 * Returns 0 when settled (found or not), -1 on a failure worth retrying.
 */
static int
s_check_existing(sink_s3 *s, char *err, size_t errlen)
{
	char pfx[1100];
	char *token = NULL;
	bool found = false;
	uint64_t best_a = 0, best_b = 0;
	char best_key[1100] = "";

	if (s3_partition_prefix(s->st.prefix, s->cur.partition, pfx, sizeof(pfx)) < 0)
		return 0;
	for (;;)
	{
		s3_list l;
		int i;

		if (s3_list_page(s->client, pfx, NULL, token, 1000, &l, err, errlen) < 0)
		{
			free(token);
			if (s3_client_retryable(s->client))
				return -1;
			/*
			 * Not allowed to list (a policy without s3:ListBucket): archive
			 * without the recovery cut rather than not at all.  A restart
			 * may then store an object overlapping the previous run's last
			 * one.
			 */
			log_kv(LOG_WARN, "cannot list the archive; crash recovery cut disabled", "error", err,
				   NULL);
			err[0] = '\0';
			s->check_due = false;
			s->recovering = false;
			return 0;
		}
		free(token);
		token = NULL;
		for (i = 0; i < l.n; i++)
		{
			time_t part;
			uint64_t run, a, b;

			/* keys are in position order: the last a <= first_pos wins */
			if (s3_key_parse_run(l.keys[i], &part, &run, &a, &b) && run == 0 &&
				a <= s->cur.first_pos && b >= s->cur.first_pos)
			{
				found = true;
				best_a = a;
				best_b = b;
				snprintf(best_key, sizeof(best_key), "%s", l.keys[i]);
			}
		}
		if (l.truncated)
		{
			token = l.next_token;
			l.next_token = NULL;
		}
		s3_list_free(&l);
		if (token == NULL)
			break;
	}
	s->check_due = false;
	if (found && best_b >= s->cur.last_pos && best_a == s->cur.first_pos)
	{
		s->have_forced = true;
		s->forced_cut = best_b;
		log_kv(LOG_INFO, "archive object of an earlier run found: cutting at the same place", "key",
			   best_key, NULL);
	}
	else if (found && best_b >= s->cur.last_pos)
	{
		char through[32];

		snprintf(through, sizeof(through), "%016" PRIX64, best_b);
		log_kv(LOG_INFO, "positions already archived by an earlier run: not archiving them again",
			   "key", best_key, "through", through, NULL);
		s->events -= s->cur.events;
		s3_object_free(&s->cur);
		s3_object_init(&s->cur);
		s->have_skip = true;
		s->skip_through = best_b;
		s->check_due = true; /* the next object may be the earlier run's too */
		s_update_acked(s);
	}
	else
		s->recovering = false; /* objects are stored in order: nothing later exists */
	return 0;
}

static int
s_put(sink *b, const relay_event *ev, char *err, size_t errlen)
{
	sink_s3 *s = (sink_s3 *) b;

	if (!s->mode_known)
	{
		/*
		 * Positions are durable only on the PostgreSQL path (LSNs).  Other
		 * sources (the DynamoDB path) number from 1 in each process: their
		 * keys carry a run id so that runs never collide, and there is no
		 * crash-recovery cut (an earlier run's positions mean nothing).
		 */
		s->mode_known = true;
		if (!s3_event_has_lsn(ev->data, ev->len))
		{
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			s->run = ((uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000) << 16 |
					 ((uint64_t) rand() & 0xFFFF);
			s->recovering = false;
			s->check_due = false;
			log_kv(LOG_INFO, "positions do not survive restarts: archive keys carry a run id",
				   NULL);
		}
	}
	/* the source knows the time; only a replayed envelope is read for it */
	if (s->txn_events == 0 && ev->commit_time > 0)
		s->txn_time = ev->commit_time;
	else if (s->txn_events == 0 && !s3_event_time(ev->data, ev->len, &s->txn_time))
		s->txn_time = time(NULL);
	buf_append(&s->txn, ev->data, ev->len);
	buf_putc(&s->txn, '\n');
	if (buf_failed(&s->txn))
	{
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->txn_events++;
	return 0;
}

/* Is cur ready to be cut (limits, recovery)? */
static bool
s_cut_now(sink_s3 *s, int64_t now_ms)
{
	if (s->cur.events == 0 || s->check_due)
		return false;
	if (s->have_forced)
		return s->cur.last_pos >= s->forced_cut;
	return s3_object_due(&s->cur, &s->limits, now_ms);
}

static int
s_commit(sink *b, uint64_t pos, char *err, size_t errlen)
{
	sink_s3 *s = (sink_s3 *) b;
	int64_t now = relay_now_ms();
	time_t hour;

	if (s->have_skip && pos <= s->skip_through)
	{
		/* archived by an earlier run (see s_check_existing) */
		buf_reset(&s->txn);
		s->txn_events = 0;
	}
	else
		s->have_skip = false;
	if (s->txn_events == 0)
	{
		s->committed = pos;
		s_update_acked(s);
		return 0;
	}
	hour = s3_hour(s->txn_time);
	if (hour < s->last_partition)
		hour = s->last_partition;
	/* one hour per object; a new hour (or an earlier run's cut) starts a new object */
	if (s->cur.events > 0 && hour != s->cur.partition && !s->have_forced && !s->check_due &&
		s_seal(s, err, errlen) < 0)
		return -1;
	/* from here on, a seal includes this position: it acknowledges it */
	s->committed = pos;
	if (s->cur.events == 0)
	{
		s->cur.partition = hour;
		s->last_partition = hour;
	}
	{
		/* compress the position's events into the object in one go */
		const char *p = s->txn.data;
		const char *end = s->txn.data + s->txn.len;

		while (p < end)
		{
			const char *nl = memchr(p, '\n', (size_t) (end - p));

			if (s3_object_append(&s->cur, p, (size_t) (nl - p), now, err, errlen) < 0)
				return -1;
			p = nl + 1;
		}
	}
	if (!s->cur.has_pos)
	{
		s->cur.first_pos = pos;
		s->cur.has_pos = true;
	}
	s->cur.last_pos = pos;
	s->events += s->txn_events;
	buf_reset(&s->txn);
	s->txn_events = 0;

	if (s->check_due && now >= s->check_retry_ms && s_check_existing(s, err, errlen) < 0)
	{
		/* settled by poll() later; until then the object is not cut */
		log_kv(LOG_WARN, "could not list the archive for crash recovery; will retry", "error", err,
			   NULL);
		err[0] = '\0';
		s->check_retry_ms = now + s_backoff(s);
	}
	if (s->have_forced && s->cur.last_pos > s->forced_cut)
	{
		log_kv(LOG_WARN, "positions differ from the earlier run's object; cutting normally", NULL);
		s->have_forced = false;
		s->recovering = false;
	}
	if (s_cut_now(s, now) && s_seal(s, err, errlen) < 0)
		return -1;
	return 0;
}

/* Upload the oldest sealed object; 0 also when a retry was scheduled. */
static int
s_upload_one(sink_s3 *s, int64_t now, char *err, size_t errlen)
{
	s3_sealed *x = s->head;
	int rc;

	if (x == NULL || now < s->retry_at_ms)
		return 0;
	/* one request per poll: a multipart upload never stalls the relay's loop */
	if (x->up == NULL && (x->up = s3_upload_begin(s->client, x->key, x->obj.gz.data, x->obj.gz.len,
												  S3_CONTENT_TYPE)) == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = s3_upload_step(s->client, x->up, err, errlen);
	if (s->m)
	{
		s->m->requests = s3_client_stats(s->client)->requests;
		s->m->request_seconds += (double) (relay_now_ms() - now) / 1000.0;
	}
	if (rc < 0)
	{
		if (s->m)
		{
			s->m->errors++;
			s->m->retries += x->obj.events;
		}
		if (!s3_client_retryable(s->client))
		{
			s->base.fatal_config = s3_client_config_error(s->client);
			return -1;
		}
		s->attempts++;
		s->retry_at_ms = now + s_backoff(s);
		log_kv(LOG_WARN, "archive upload failed; will retry", "key", x->key, "error", err, NULL);
		err[0] = '\0';
		return 0;
	}
	if (rc > 0)
	{
		/* more parts to send: poll() again at once */
		s->attempts = 0;
		s->retry_at_ms = 0;
		return 0;
	}
	s3_upload_free(s->client, x->up);
	x->up = NULL;
	{
		char n[32];

		snprintf(n, sizeof(n), "%zu", x->obj.events);
		log_kv(LOG_INFO, "archive object stored", "key", x->key, "events", n, NULL);
	}
	if (s->m)
	{
		s->m->records += x->obj.events;
		s->m->bytes += x->obj.raw_bytes;
	}
	s->attempts = 0;
	s->retry_at_ms = 0;
	s->head = x->next;
	if (s->head == NULL)
		s->tail = NULL;
	s->sealed_bytes -= x->obj.gz.len;
	s->objects++;
	if (x->ack_pos > s->base.acked)
		s->base.acked = x->ack_pos;
	s3_object_free(&x->obj);
	free(x);
	s_update_acked(s);
	return 0;
}

static int
s_poll(sink *b, int64_t now_ms, bool idle, char *err, size_t errlen)
{
	sink_s3 *s = (sink_s3 *) b;

	(void) idle;
	if (s->check_due && s->cur.events > 0 && now_ms >= s->check_retry_ms)
	{
		if (s_check_existing(s, err, errlen) < 0)
		{
			err[0] = '\0';
			s->attempts++;
			s->check_retry_ms = now_ms + s_backoff(s);
		}
	}
	if (s_cut_now(s, now_ms) && s_seal(s, err, errlen) < 0)
		return -1;
	return s_upload_one(s, now_ms, err, errlen);
}

static int64_t
s_next_due(sink *b)
{
	sink_s3 *s = (sink_s3 *) b;
	int64_t due = INT64_MAX;

	if (s->head)
		due = s->retry_at_ms;
	if (s->cur.events > 0)
	{
		int64_t d;

		if (s->check_due)
			d = s->check_retry_ms;
		else if (s->have_forced)
			d = INT64_MAX; /* the cut comes with a commit */
		else
			d = s->cur.opened_ms + s->limits.max_age_ms;
		if (d < due)
			due = d;
	}
	return due;
}

static size_t
s_pending_bytes(sink *b)
{
	sink_s3 *s = (sink_s3 *) b;

	/* what is held in memory: compressed objects and the open position */
	return s->sealed_bytes + s->cur.gz.len + s->txn.len;
}

static int
s_drain(sink *b, int64_t deadline_ms, char *err, size_t errlen)
{
	sink_s3 *s = (sink_s3 *) b;
	int64_t now;

	/* an object cut early at shutdown is fine: keys name what they hold */
	s->check_due = false;
	s->have_forced = false;
	if (s_seal(s, err, errlen) < 0)
		return -1;
	while (s->head && (now = relay_now_ms()) < deadline_ms)
	{
		if (now < s->retry_at_ms)
		{
			int64_t wait = s->retry_at_ms - now;

			if (now + wait > deadline_ms)
				wait = deadline_ms - now;
			usleep((useconds_t) (wait * 1000));
			continue;
		}
		if (s_upload_one(s, now, err, errlen) < 0)
			return -1;
	}
	if (s->head)
	{
		int n = 0;
		s3_sealed *x;

		for (x = s->head; x; x = x->next)
			n++;
		snprintf(err, errlen, "%d archive object(s) not stored before the deadline (first %s)", n,
				 s->head->key);
		return -1;
	}
	return 0;
}

static void
s_free(sink *b)
{
	sink_s3 *s = (sink_s3 *) b;

	while (s->head)
	{
		s3_sealed *x = s->head;

		s->head = x->next;
		s3_upload_free(s->client, x->up); /* aborts an unfinished multipart upload */
		s3_object_free(&x->obj);
		free(x);
	}
	s3_object_free(&s->cur);
	buf_free(&s->txn);
	s3_client_free(s->client);
	free(s);
}

/*
 * One key listed: the bucket exists, the key signs, the certificate
 * verifies.  AccessDenied is no verdict: a policy without s3:ListBucket
 * still archives (without the recovery cut, s_check_existing).
 */
static int
s_check(sink *b, char *err, size_t errlen)
{
	sink_s3 *s = (sink_s3 *) b;
	s3_list probe;
	int rc = 0;

	memset(&probe, 0, sizeof(probe));
	/* no prefix: the question is the bucket, and a query without escapes signs the same everywhere
	 */
	if (s3_list_page(s->client, "", NULL, NULL, 1, &probe, err, errlen) < 0 &&
		s3_client_config_error(s->client) && strstr(err, "HTTP 403 AccessDenied") == NULL)
		rc = -1;
	s3_list_free(&probe);
	if (rc == 0)
		log_kv(LOG_INFO, "S3 archive sink ready", "bucket", s->st.bucket, "prefix", s->st.prefix,
			   "region", s->st.region, NULL);
	return rc;
}

static const sink_ops s3_ops = {s_put,			 s_commit, s_poll, s_next_due,
								s_pending_bytes, s_drain,  s_free, s_check};

static sink *
s_open(const relay_config *cfg, struct deadletter *dl, char *err, size_t errlen)
{
	sink_s3 *s = calloc(1, sizeof(*s));
	s3_client_config cc;

	(void) dl; /* S3 takes any object: nothing is ever set aside */
	if (s == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (s3_settings_resolve(cfg, &s->st, true, err, errlen) < 0)
	{
		free(s);
		return NULL;
	}
	s->limits.max_bytes = s->st.max_object_bytes;
	s->limits.max_age_ms = s->st.max_object_age_ms;
	s3_settings_client(&s->st, &cc);
	s->client = s3_client_new(&cc, err, errlen);
	if (s->client == NULL)
	{
		free(s);
		return NULL;
	}
	s3_object_init(&s->cur);
	s->m = metrics_sink("s3");
	s->recovering = true;
	s->check_due = true;
	s->base.ops = &s3_ops;
	s->base.by_position = true; /* archive keys are positions: replay reads them in key order */
	srand((unsigned) (time(NULL) ^ getpid()));
	return &s->base;
}

const sink_type sink_type_s3 = {
	"s3",
	"  s3: archive to Amazon S3 as gzip NDJSON objects under\n"
	"      PREFIX/YYYY/MM/DD/HH/<first-pos>_<last-pos>.ndjson.gz (see docs/s3-archive.md)\n"
	"    --s3-bucket=NAME             bucket (required) [env EVENTRELAY_S3_BUCKET]\n"
	"    --s3-prefix=PREFIX           key prefix (default events) [env EVENTRELAY_S3_PREFIX]\n"
	"    --s3-region=REGION           region of the bucket (default --region)\n"
	"    --s3-endpoint-url=URL        S3 endpoint; implies path-style requests\n"
	"                                 [env AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL]\n"
	"    --s3-path-style=BOOL         bucket in the path instead of the host name\n"
	"    --s3-max-object-bytes=BYTES  cut an object at this many uncompressed bytes\n"
	"                                 (default 5M)\n"
	"    --s3-max-object-age=SECS     cut an object this long after its first event\n"
	"                                 (default 300; also 500ms, 2m)\n"
	"    --s3-multipart-threshold=BYTES  multipart upload from this compressed size\n"
	"                                 (default 16M, at least 5M)\n"
	"    --s3-part-size=BYTES         multipart part size (default 8M, at least 5M)\n",
	"s3-bucket s3-prefix s3-region s3-endpoint-url s3-path-style s3-max-object-bytes "
	"s3-max-object-age s3-multipart-threshold s3-part-size",
	s_open,
};
