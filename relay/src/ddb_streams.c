/*
 * ddb_streams.c
 *		The DynamoDB Streams API reader (see ddb_streams.h).
 *
 * Rules it keeps:
 *  - parent shards before children: a shard is read only once its parent
 *    was read to its end (or no longer exists), so an aggregate's records
 *    stay in order across shard splits;
 *  - the checkpoint of a shard moves only past records whose events every
 *    sink acknowledged, and is on disk before the next batch is read;
 *  - an expired iterator is replaced from the checkpoint
 *    (AFTER_SEQUENCE_NUMBER), never from LATEST;
 *  - data trimmed before it was read (TrimmedDataAccessException, a
 *    checkpointed shard that vanished unfinished, a checkpoint older than
 *    its shard) is reported as loss (error log + count), then reading goes
 *    on from the oldest data left: never skipped silently.
 */
#include "stop.h"
#include "ddb_streams.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "aws_json.h"
#include "ddb_batch.h"
#include "ddb_checkpoint.h"
#include "ddb_input.h"
#include "log.h"
#include "metrics.h"

#define DESCRIBE_EVERY_MS 10000
#define RETRY_BASE_MS	  200
#define RETRY_MAX_MS	  10000

typedef struct s_shard
{
	char *id;
	char *parent;
	char *start_seq;
	bool closed;	/* has an EndingSequenceNumber */
	bool present;	/* in the last DescribeStream */
	bool initial;	/* existed at start-up (--start applies) */
	bool from_trim; /* next iterator from TRIM_HORIZON (after a loss) */
	char *iter;
	int64_t next_ms; /* do not read before */
	int failures;	 /* consecutive failed reads (backoff) */
} s_shard;

typedef struct s_state
{
	const ddb_options *opt;
	ddb_out *out;
	ddb_stats *stats;
	aws_json *aws;
	ddb_ckpt ck;
	char *arn;
	s_shard *sh;
	size_t n;
	size_t cap;
	bool described;
	unsigned long lost; /* loss reports */
	jv_doc doc;			/* the last GetRecords answer */
	jv_doc cdoc;		/* the last answer of another call */
} s_state;

/* Transient (expired credentials were refreshed): try again later. */
#define S_RETRY(rc) ((rc) == AWS_RETRY || (rc) == AWS_EXPIRED)

/* One DynamoDB Streams call; on AWS_OK *out is the answer (valid until the next call). */
static aws_status
s_call(s_state *st, const char *op, const char *body, const jv **out, char *type, size_t typelen,
	   char *err, size_t errlen)
{
	buf *answer;
	char perr[128];
	aws_status rc =
		aws_json_call(st->aws, op, body, strlen(body), &answer, type, typelen, err, errlen);

	*out = NULL;
	if (rc != AWS_OK)
		return rc;
	jv_doc_reset(&st->cdoc);
	if (jv_parse(&st->cdoc, answer->data, answer->len, perr, sizeof(perr)) != 0 ||
		!jv_is(st->cdoc.root, JV_OBJECT))
	{
		snprintf(err, errlen, "%s: unexpected response (HTTP 200, %zu bytes)", op, answer->len);
		return AWS_RETRY;
	}
	*out = st->cdoc.root;
	return AWS_OK;
}

/* Wait up to ms, serving the metrics listener; a signal ends it early. */
static void
s_sleep_ms(int64_t ms)
{
	struct pollfd p;

	if (ms <= 0)
		return;
	p.fd = metrics_serve_fd();
	p.events = POLLIN;
	p.revents = 0;
	if (poll(&p, p.fd >= 0 ? 1 : 0, ms > 60000 ? 60000 : (int) ms) > 0 && p.fd >= 0)
		metrics_serve_handle();
}

static int64_t
s_backoff(s_shard *s)
{
	int64_t d = RETRY_BASE_MS << (s->failures < 6 ? s->failures : 6);

	s->failures++;
	if (d > RETRY_MAX_MS)
		d = RETRY_MAX_MS;
	return relay_now_ms() + d / 2 + rand() % (d / 2 + 1);
}

/* The string member key of o, or NULL. */
static const char *
s_str(const jv *o, const char *key)
{
	return jv_str(jv_get(o, key));
}

static void
s_loss(s_state *st, const char *shard, const char *why)
{
	st->lost++;
	log_kv(LOG_ERROR, "dynamodb stream data lost before it was read", "shard", shard, "reason", why,
		   "stream_arn", st->arn, NULL);
}

static int
s_save(s_state *st)
{
	char err[512];

	if (ddb_ckpt_save(&st->ck, err, sizeof(err)) != 0)
	{
		log_kv(LOG_ERROR, "cannot save the checkpoint", "error", err, NULL);
		return -1;
	}
	return 0;
}

/* The table's latest stream (ListStreams), unless --stream-arn was given. */
static int
s_resolve_arn(s_state *st)
{
	char err[512], type[128];
	buf body;
	const jv *o = NULL, *streams;
	const char *best = NULL, *best_label = "";
	size_t i;
	aws_status rc;

	if (st->opt->stream_arn)
		return (st->arn = strdup(st->opt->stream_arn)) ? 0 : -1;
	if (st->opt->table == NULL)
	{
		log_error("--input=streams needs --table or --stream-arn");
		return -1;
	}
	buf_init(&body);
	buf_puts(&body, "{\"TableName\":");
	buf_json_string(&body, st->opt->table, strlen(st->opt->table));
	buf_putc(&body, '}');
	while ((rc = s_call(st, "ListStreams", body.data, &o, type, sizeof(type), err, sizeof(err))) ==
			   AWS_RETRY &&
		   !relay_stop_requested)
	{
		log_kv(LOG_WARN, "ListStreams failed, retrying", "error", err, NULL);
		s_sleep_ms(1000);
	}
	buf_free(&body);
	if (rc != AWS_OK)
	{
		log_kv(LOG_ERROR, "cannot find the table's stream", "error", err, NULL);
		return -1;
	}
	if (jv_is(streams = jv_get(o, "Streams"), JV_ARRAY))
	{
		for (i = 0; i < streams->len; i++)
		{
			const jv *s = jv_at(streams, i);
			const char *label = s_str(s, "StreamLabel");

			if (s_str(s, "StreamArn") && (best == NULL || (label && strcmp(label, best_label) > 0)))
			{
				best = s_str(s, "StreamArn");
				best_label = label ? label : "";
			}
		}
	}
	if (best)
		st->arn = strdup(best);
	if (st->arn == NULL)
	{
		log_kv(LOG_ERROR, "the table has no stream: enable one with NEW_AND_OLD_IMAGES", "table",
			   st->opt->table, NULL);
		return -1;
	}
	return 0;
}

static s_shard *
s_find(s_state *st, const char *id)
{
	size_t i;

	for (i = 0; i < st->n; i++)
		if (strcmp(st->sh[i].id, id) == 0)
			return &st->sh[i];
	return NULL;
}

static s_shard *
s_add(s_state *st, const char *id)
{
	s_shard *s;

	if (st->n == st->cap)
	{
		size_t cap = st->cap ? st->cap * 2 : 16;
		s_shard *p = realloc(st->sh, cap * sizeof(*p));

		if (p == NULL)
			return NULL;
		st->sh = p;
		st->cap = cap;
	}
	s = &st->sh[st->n];
	memset(s, 0, sizeof(*s));
	if ((s->id = strdup(id)) == NULL)
		return NULL;
	st->n++;
	return s;
}

/* DescribeStream (all pages): learn new shards, notice vanished ones. */
static int
s_describe(s_state *st)
{
	char err[512], type[128];
	char *last = NULL;
	size_t i;
	bool first = !st->described;

	for (i = 0; i < st->n; i++)
		st->sh[i].present = false;
	do
	{
		buf body;
		const jv *o = NULL, *desc, *shards;
		aws_status rc;
		const char *view;

		buf_init(&body);
		buf_puts(&body, "{\"StreamArn\":");
		buf_json_string(&body, st->arn, strlen(st->arn));
		if (last)
		{
			buf_puts(&body, ",\"ExclusiveStartShardId\":");
			buf_json_string(&body, last, strlen(last));
		}
		buf_putc(&body, '}');
		rc = s_call(st, "DescribeStream", body.data, &o, type, sizeof(type), err, sizeof(err));
		buf_free(&body);
		free(last);
		last = NULL;
		if (rc != AWS_OK)
		{
			log_kv(S_RETRY(rc) ? LOG_WARN : LOG_ERROR, "DescribeStream failed", "error", err, NULL);
			return S_RETRY(rc) ? 0 : -1;
		}
		desc = jv_get(o, "StreamDescription");
		view = s_str(desc, "StreamViewType");
		if (first && view && strcmp(view, "NEW_AND_OLD_IMAGES") != 0)
			log_kv(LOG_WARN,
				   "stream view type is not NEW_AND_OLD_IMAGES: its records will be skipped",
				   "stream_view_type", view, NULL);
		if (jv_is(shards = jv_get(desc, "Shards"), JV_ARRAY))
		{
			for (i = 0; i < shards->len; i++)
			{
				const jv *j = jv_at(shards, i), *range;
				const char *id = s_str(j, "ShardId");
				s_shard *s;

				if (id == NULL)
					continue;
				s = s_find(st, id);
				if (s == NULL)
				{
					if ((s = s_add(st, id)) == NULL)
						return -1;
					s->parent =
						s_str(j, "ParentShardId") ? strdup(s_str(j, "ParentShardId")) : NULL;
					s->initial = first;
				}
				range = jv_get(j, "SequenceNumberRange");
				if (s->start_seq == NULL && s_str(range, "StartingSequenceNumber"))
					s->start_seq = strdup(s_str(range, "StartingSequenceNumber"));
				s->closed = s_str(range, "EndingSequenceNumber") != NULL;
				s->present = true;
			}
		}
		if (s_str(desc, "LastEvaluatedShardId"))
			last = strdup(s_str(desc, "LastEvaluatedShardId"));
	} while (last);
	st->described = true;

	/* A checkpointed shard that is gone before we finished it: loss. */
	for (i = 0; i < st->ck.n; i++)
	{
		ddb_ckpt_shard *c = &st->ck.s[i];
		s_shard *s = s_find(st, c->id);

		if (!c->finished && (s == NULL || !s->present))
		{
			s_loss(st, c->id, "the shard was trimmed before it was read to its end");
			c->finished = true;
			s_save(st);
		}
	}
	return 0;
}

/* May this shard be read now?  Only after its parent is finished. */
static bool
s_ready(s_state *st, s_shard *s)
{
	ddb_ckpt_shard *c = ddb_ckpt_find(&st->ck, s->id);
	s_shard *p;
	ddb_ckpt_shard *pc;

	if (!s->present || (c && c->finished))
		return false;
	if (s->parent == NULL)
		return true;
	p = s_find(st, s->parent);
	pc = ddb_ckpt_find(&st->ck, s->parent);
	if (p == NULL || !p->present)
		return true; /* parent expired (24 h): nothing left to read first */
	return pc && pc->finished;
}

static int
s_get_iterator(s_state *st, s_shard *s)
{
	ddb_ckpt_shard *c = ddb_ckpt_find(&st->ck, s->id);
	const char *kind;
	const char *seq = NULL;
	char err[512], type[128];
	buf body;
	const jv *o = NULL;
	aws_status rc;

	if (c && c->seq && !s->from_trim)
	{
		if (s->start_seq && ddb_seq_cmp(c->seq, s->start_seq) < 0)
		{
			s_loss(st, s->id, "the checkpoint is older than the shard's oldest record");
			s->from_trim = true;
		}
		else
		{
			kind = "AFTER_SEQUENCE_NUMBER";
			seq = c->seq;
		}
	}
	if (seq == NULL)
		kind = (!s->from_trim && s->initial && !c && strcmp(st->opt->start, "latest") == 0)
				   ? "LATEST"
				   : "TRIM_HORIZON";
	buf_init(&body);
	buf_puts(&body, "{\"StreamArn\":");
	buf_json_string(&body, st->arn, strlen(st->arn));
	buf_puts(&body, ",\"ShardId\":");
	buf_json_string(&body, s->id, strlen(s->id));
	buf_printf(&body, ",\"ShardIteratorType\":\"%s\"", kind);
	if (seq)
	{
		buf_puts(&body, ",\"SequenceNumber\":");
		buf_json_string(&body, seq, strlen(seq));
	}
	buf_putc(&body, '}');
	rc = s_call(st, "GetShardIterator", body.data, &o, type, sizeof(type), err, sizeof(err));
	buf_free(&body);
	if (rc != AWS_OK && strcmp(type, "TrimmedDataAccessException") == 0)
	{
		s_loss(st, s->id, "records after the checkpoint were trimmed");
		s->from_trim = true;
		return 0; /* next round starts from TRIM_HORIZON */
	}
	if (rc != AWS_OK && strcmp(type, "ResourceNotFoundException") == 0)
	{
		s->present = false; /* gone: the next DescribeStream tells whether data was lost */
		return 0;
	}
	if (rc != AWS_OK)
	{
		log_kv(S_RETRY(rc) ? LOG_WARN : LOG_ERROR, "GetShardIterator failed", "shard", s->id,
			   "error", err, NULL);
		s->next_ms = s_backoff(s);
		return S_RETRY(rc) ? 0 : -1;
	}
	free(s->iter);
	s->iter = s_str(o, "ShardIterator") ? strdup(s_str(o, "ShardIterator")) : NULL;
	s->from_trim = false;
	log_kv(LOG_DEBUG, "shard iterator", "shard", s->id, "type", kind, "sequence_number",
		   seq ? seq : "", NULL);
	return 0;
}

/*
 * One GetRecords on shard s: publish, checkpoint, follow the iterator.
 * Returns the number of records read, or -1 on a fatal error.
 */
static long
s_read(s_state *st, s_shard *s)
{
	char err[512], type[128];
	buf body;
	char *text = NULL;
	size_t tlen = 0;
	const jv *o, *next;
	buf *answer;
	aws_status rc;
	ddb_recs recs;
	ddb_events ev;
	size_t stop, done;
	bool fatal;
	long nread = -1;

	buf_init(&body);
	buf_puts(&body, "{\"ShardIterator\":");
	buf_json_string(&body, s->iter, strlen(s->iter));
	buf_puts(&body, ",\"Limit\":1000}");
	rc = aws_json_call(st->aws, "GetRecords", body.data, body.len, &answer, type, sizeof(type), err,
					   sizeof(err));
	/* parsed in place below: a copy outlives the next call */
	if (rc == AWS_OK && (text = malloc(answer->len + 1)) == NULL)
	{
		snprintf(err, sizeof(err), "GetRecords: out of memory");
		rc = AWS_RETRY;
	}
	else if (rc == AWS_OK)
	{
		memcpy(text, answer->data, answer->len + 1);
		tlen = answer->len;
	}
	buf_free(&body);
	if (rc != AWS_OK)
	{
		free(s->iter);
		s->iter = NULL;
		if (rc != AWS_OK && strcmp(type, "ExpiredIteratorException") == 0)
		{
			log_kv(LOG_INFO, "shard iterator expired, refreshing it from the checkpoint", "shard",
				   s->id, NULL);
			return 0;
		}
		if (rc != AWS_OK && strcmp(type, "TrimmedDataAccessException") == 0)
		{
			s_loss(st, s->id, "records were trimmed while being read");
			s->from_trim = true;
			return 0;
		}
		if (rc != AWS_OK && strcmp(type, "ResourceNotFoundException") == 0)
		{
			s->present = false;
			return 0;
		}
		log_kv(S_RETRY(rc) ? LOG_WARN : LOG_ERROR, "GetRecords failed", "shard", s->id, "error",
			   err, NULL);
		s->next_ms = s_backoff(s);
		return S_RETRY(rc) ? 0 : -1;
	}
	/* The records are parsed in place, into the arena reused for every call. */
	o = ddb_parse_doc(&st->doc, text, tlen, err, sizeof(err));
	if (o == NULL)
	{
		log_kv(LOG_WARN, "GetRecords: unreadable answer, retrying", "shard", s->id, "error", err,
			   NULL);
		s->next_ms = s_backoff(s);
		nread = 0;
		goto out;
	}
	memset(&recs, 0, sizeof(recs));
	if (jv_is(jv_get(o, "Records"), JV_ARRAY))
	{
		recs.arr = jv_get(o, "Records");
		recs.n = recs.arr->len;
	}

	ddb_events_init(&ev);
	stop = ddb_batch_pluck(&recs, &st->opt->rec, st->opt->on_error, 0, &ev, st->stats);
	done = ddb_out_publish(st->out, &ev, 0, stop, relay_now_ms() + st->opt->publish_timeout_ms,
						   &fatal, err, sizeof(err));
	ddb_events_free(&ev);
	if (done > 0)
	{
		const char *seq = ddb_record_sequence(ddb_recs_get(&recs, done - 1));

		if (seq && (ddb_ckpt_set(&st->ck, s->id, seq, false) != 0 || s_save(st) != 0))
			goto out;
	}
	if (done < stop)
	{
		/* The sinks gave up: drop what they hold, re-read from the checkpoint. */
		log_kv(LOG_ERROR, "publishing failed; re-reading from the checkpoint", "shard", s->id,
			   "error", err, NULL);
		free(s->iter);
		s->iter = NULL;
		s->next_ms = s_backoff(s);
		if (!fatal && ddb_out_reset(st->out, err, sizeof(err)) == 0)
			nread = (long) recs.n;
		goto out;
	}
	if (stop < recs.n)
		goto out; /* --on-error=stop: the bad record was logged; not past it */
	s->failures = 0;
	next = jv_get(o, "NextShardIterator");
	free(s->iter);
	s->iter = jv_str(next) ? strdup(jv_str(next)) : NULL;
	if (s->iter == NULL)
	{
		/* A closed shard read to its end: its children may start. */
		log_kv(LOG_INFO, "shard finished", "shard", s->id, NULL);
		if (ddb_ckpt_set(&st->ck, s->id, NULL, true) != 0 || s_save(st) != 0)
			goto out;
	}
	else if (recs.n == 0)
		s->next_ms = relay_now_ms() + st->opt->poll_ms;
	nread = (long) recs.n;
out:
	jv_doc_reset(&st->doc);
	free(text);
	return nread;
}

static void
s_free(s_state *st)
{
	size_t i;

	for (i = 0; i < st->n; i++)
	{
		free(st->sh[i].id);
		free(st->sh[i].parent);
		free(st->sh[i].start_seq);
		free(st->sh[i].iter);
	}
	free(st->sh);
	free(st->arn);
	ddb_ckpt_free(&st->ck);
	aws_json_free(st->aws);
	jv_doc_free(&st->doc);
	jv_doc_free(&st->cdoc);
}

int
ddb_streams_run(const ddb_options *opt, ddb_out *out, ddb_stats *stats)
{
	s_state st;
	char err[512];
	int64_t next_describe = 0;
	int64_t last_data;
	int rc = 0;

	memset(&st, 0, sizeof(st));
	st.opt = opt;
	st.out = out;
	st.stats = stats;
	if (ddb_ckpt_load(&st.ck, opt->checkpoint, err, sizeof(err)) != 0)
	{
		log_kv(LOG_ERROR, "cannot load the checkpoint", "error", err, NULL);
		s_free(&st);
		return EXIT_CONFIG;
	}
	{
		char def[256];
		aws_json_options ao = {"dynamodb",
							   "DynamoDBStreams_20120810",
							   "application/x-amz-json-1.0",
							   opt->region,
							   opt->streams_endpoint,
							   opt->cfg->ca_bundle,
							   opt->cfg->request_timeout_ms};

		if (ao.endpoint == NULL || *ao.endpoint == '\0')
		{
			snprintf(def, sizeof(def), "https://streams.dynamodb.%s.amazonaws.com", opt->region);
			ao.endpoint = def;
		}
		st.aws = aws_json_new(&ao, err, sizeof(err));
	}
	if (st.aws == NULL)
	{
		log_kv(LOG_ERROR, "cannot set up the DynamoDB Streams client", "error", err, NULL);
		s_free(&st);
		return EXIT_CONFIG;
	}
	if (s_resolve_arn(&st) != 0)
	{
		s_free(&st);
		return relay_stop_requested ? 0 : EXIT_CONFIG;
	}
	if (st.ck.stream_arn && strcmp(st.ck.stream_arn, st.arn) != 0)
	{
		log_kv(LOG_WARN, "the checkpoint belongs to another stream; starting this one afresh",
			   "checkpoint_stream", st.ck.stream_arn, "stream_arn", st.arn, NULL);
		ddb_ckpt_clear(&st.ck, st.arn);
	}
	else if (st.ck.stream_arn == NULL)
		ddb_ckpt_clear(&st.ck, st.arn);
	if (opt->cfg->metrics_port > 0 &&
		metrics_serve_open(opt->cfg->metrics_address, opt->cfg->metrics_port, err, sizeof(err)) < 0)
	{
		log_kv(LOG_ERROR, "cannot serve metrics", "error", err, NULL);
		s_free(&st);
		return EXIT_CONFIG;
	}
	log_kv(LOG_INFO, "reading dynamodb stream", "stream_arn", st.arn, "checkpoint", opt->checkpoint,
		   NULL);

	last_data = relay_now_ms();
	while (!relay_stop_requested)
	{
		int64_t now = relay_now_ms();
		int64_t wake = now + opt->poll_ms;
		bool any_ready = false;
		size_t i;

		if (now >= next_describe)
		{
			if (s_describe(&st) != 0)
			{
				rc = 1;
				break;
			}
			next_describe = now + DESCRIBE_EVERY_MS;
		}
		for (i = 0; i < st.n && !relay_stop_requested; i++)
		{
			s_shard *s = &st.sh[i];
			long got;

			if (!s_ready(&st, s))
				continue;
			any_ready = true;
			if (s->next_ms > relay_now_ms())
			{
				if (s->next_ms < wake)
					wake = s->next_ms;
				continue;
			}
			if (s->iter == NULL && s_get_iterator(&st, s) != 0)
			{
				rc = 1;
				break;
			}
			if (s->iter == NULL)
			{
				wake = relay_now_ms();
				continue;
			}
			got = s_read(&st, s);
			if (got < 0)
			{
				rc = 1;
				break;
			}
			if (got > 0)
				last_data = relay_now_ms();
			if (!s_ready(&st, s))
				next_describe = 0; /* finished: its children may be listed now */
			wake = relay_now_ms(); /* go round again at once after a read */
		}
		if (rc != 0)
			break;
		if (opt->idle_exit_ms > 0 && relay_now_ms() - last_data >= opt->idle_exit_ms)
		{
			log_kv(LOG_INFO, "no new records, exiting (--idle-exit-ms)", NULL);
			break;
		}
		if (!any_ready && st.n > 0)
			wake = next_describe < wake ? next_describe : wake;
		s_sleep_ms(wake - relay_now_ms());
	}
	if (st.lost)
	{
		char n[32];

		snprintf(n, sizeof(n), "%lu", st.lost);
		log_kv(LOG_ERROR, "dynamodb stream data was lost (see the errors above)", "loss_reports", n,
			   NULL);
	}
	metrics_serve_close();
	s_free(&st);
	return rc;
}
