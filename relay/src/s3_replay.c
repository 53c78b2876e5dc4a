/*
 * s3_replay.c
 *		`eventrelay replay` (see s3_replay.h): flags, the archive walk, progress
 *		on a terminal and the closing summary.
 *
 * The command line goes through the relay's own option engine, extended
 * with replay's flags: the --s3-* flags describe the archive (as for
 * `--sink s3`), everything else the output (`--to` is its sink), so every
 * Kinesis flag of `eventrelay run` works here with the same meaning and
 * validation.
 *
 * Positions: the n-th replayed event is position n, committed one by one;
 * the output is complete when every sink acknowledged the last one.
 */
#include "stop.h"
#include "s3_replay.h"
#include "config.h"
#include "sink_deadletter.h"
#include "log.h"
#include "s3_replay_filter.h"
#include "s3_client.h"
#include "s3_object.h"
#include "s3_settings.h"
#include "sink.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REPLAY_GET_RETRIES 8
#define REPLAY_PROGRESS_MS 250

typedef struct replay_state
{
	s3_client *s3;
	s3_settings st;
	replay_filter filter;
	sink_set sinks;
	deadletter *dl;
	size_t max_buffer;
	int shutdown_ms;
	int retry_base_ms;
	bool progress;

	/* the walk */
	char **keys;
	int n_keys;
	uint64_t pos; /* events written = last position */
	unsigned long objects_done;
	unsigned long events_read;
	unsigned long overlaps;
	size_t bytes; /* compressed bytes read */
	int64_t t0_ms;
	int64_t last_progress_ms;
} replay_state;

static void
s_usage(FILE *out)
{
	fprintf(
		out,
		"eventrelay replay reads an S3 archive written by the s3 sink, in key order (which is\n"
		"position order), and writes its envelopes to standard output or to a Kinesis stream\n"
		"with the relay's batching, retry and per-aggregate ordering rules.\n\n"
		"Usage:\n"
		"  eventrelay replay --s3-bucket=NAME [OPTION]...\n\n"
		"Archive:\n"
		"  --s3-bucket=NAME           bucket [env EVENTRELAY_S3_BUCKET]\n"
		"  --s3-prefix=PREFIX         key prefix the sink wrote under (default events)\n"
		"                             [env EVENTRELAY_S3_PREFIX]\n"
		"  --s3-region=REGION         region of the bucket (default --region, AWS_REGION)\n"
		"  --s3-endpoint-url=URL      S3 endpoint, path-style [env AWS_ENDPOINT_URL_S3,\n"
		"                             AWS_ENDPOINT_URL]\n"
		"  --s3-path-style=BOOL       bucket in the path instead of the host name\n\n"
		"Selection (all optional, combined with AND):\n"
		"  --since=TIME               events committed at or after TIME (UTC: 2026-11-23,\n"
		"                             2026-11-23T09, 2026-11-23T09:14:03Z)\n"
		"  --until=TIME               events committed before TIME\n"
		"  --aggregate-type=TYPE      only this aggregate type\n"
		"  --aggregate-id=ID          only this aggregate\n\n"
		"Output:\n"
		"  --to=stdout|kinesis        where to write (default stdout)\n"
		"  --stream=NAME              Kinesis stream (with --to=kinesis) [env EVENTRELAY_STREAM]\n"
		"  --region, --endpoint-url, --max-batch-records, --max-batch-bytes,\n"
		"  --max-record-bytes, --linger-ms, --max-in-flight, --max-records-per-key,\n"
		"  --retry-base-ms, --retry-max-ms, --request-timeout-ms, --dead-letter,\n"
		"  --ca-bundle, --log-level\n"
		"                             as for `eventrelay run` (see eventrelay --help)\n"
		"  --shutdown-timeout=SECS    how long to wait at the end (or on SIGINT) for the\n"
		"                             output to acknowledge everything (default 30)\n"
		"  --progress / --no-progress show objects, events and rate on standard error\n"
		"                             (default: when standard error is a terminal)\n"
		"  -h, --help                 show this help and exit\n\n"
		"A summary line goes to standard error at the end.  Exit status: 0 when every\n"
		"selected event was written and acknowledged, 1 on a runtime failure or when\n"
		"interrupted, 2 on a configuration error.\n");
}

/* Flags of this subcommand, parsed along the relay's by config_parse_ext. */
static const config_flag s_flags[] = {
	{"since", NULL, false},		   {"until", NULL, false}, {"aggregate-type", NULL, false},
	{"aggregate-id", NULL, false}, {"to", NULL, false},	   {"progress", NULL, true},
	{"no-progress", NULL, true},   {NULL, NULL, false}};

typedef struct s_args
{
	replay_state *rs;
	const char *to; /* "stdout" or "kinesis" */
	int progress;	/* -1: on a terminal */
	int argc;
	char **argv;
} s_args;

static int
s_apply_flag(void *ctx, const char *name, const char *v, char *err, size_t errlen)
{
	s_args *a = ctx;
	replay_filter *f = &a->rs->filter;
	time_t t;

	if (strcmp(name, "since") == 0 || strcmp(name, "until") == 0)
	{
		if (replay_parse_time(v, &t) < 0)
		{
			snprintf(err, errlen, "invalid time \"%s\" for --%s (e.g. 2026-11-23T09:14:03Z)", v,
					 name);
			return -1;
		}
		if (name[0] == 's')
			f->has_since = true, f->since = t;
		else
			f->has_until = true, f->until = t;
	}
	else if (strcmp(name, "aggregate-type") == 0)
		f->aggregate_type = v;
	else if (strcmp(name, "aggregate-id") == 0)
		f->aggregate_id = v;
	else if (strcmp(name, "to") == 0)
	{
		if (strcmp(v, "stdout") != 0 && strcmp(v, "kinesis") != 0)
		{
			snprintf(err, errlen, "invalid --to \"%s\" (stdout or kinesis)", v);
			return -1;
		}
		a->to = v;
	}
	else
		a->progress = strcmp(name, "progress") == 0;
	return 0;
}

/* The output is --to's sink; --sink would be confused with the archive's. */
static int
s_defaults(void *ctx, relay_config *cfg, bool sink_given, bool dead_letter_given, char *err,
		   size_t errlen)
{
	s_args *a = ctx;
	int i;

	(void) dead_letter_given;
	for (i = 1; i < a->argc; i++)
		if (strncmp(a->argv[i], "--sink", 6) == 0 &&
			(a->argv[i][6] == '\0' || a->argv[i][6] == '='))
		{
			snprintf(err, errlen, "use --to=stdout or --to=kinesis instead of --sink");
			return -1;
		}
	/* EVENTRELAY_SINK is for `eventrelay run`: --to decides here */
	for (i = 0; sink_given && i < cfg->n_sinks; i++)
		free(cfg->sinks[i]);
	cfg->n_sinks = 0;
	if ((cfg->sinks[cfg->n_sinks] = strdup(a->to)) == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	cfg->n_sinks++;
	return 0;
}

/*
 * One configuration for both halves: the --s3-* flags describe the archive
 * (as for `--sink s3`), the rest the output.  Returns 0, 1 for --help, -1.
 */
static int
s_parse(replay_state *rs, int argc, char **argv, relay_config *cfg, char *err, size_t errlen)
{
	s_args a = {rs, "stdout", -1, argc, argv};
	config_ext ext = {s_flags, s_apply_flag, s_defaults, NULL, &a, "s3"};
	int rc;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
		{
			s_usage(stdout);
			return 1;
		}
	rc = config_parse_ext(cfg, argc, argv, &ext, err, errlen);
	if (rc != 0)
		return rc;
	if (rs->filter.has_since && rs->filter.has_until && rs->filter.until <= rs->filter.since)
	{
		snprintf(err, errlen, "--until must be later than --since");
		return -1;
	}
	rs->progress = a.progress >= 0 ? a.progress : isatty(STDERR_FILENO);
	return 0;
}

/* ---- the walk --------------------------------------------------------- */

static void
s_progress(replay_state *rs, bool final)
{
	int64_t now = relay_now_ms();
	double secs = (double) (now - rs->t0_ms) / 1000.0;

	if (!rs->progress || (!final && now - rs->last_progress_ms < REPLAY_PROGRESS_MS))
		return;
	rs->last_progress_ms = now;
	fprintf(stderr, "\rreplay: objects %lu/%d, events %llu, %.0f events/s   %s", rs->objects_done,
			rs->n_keys, (unsigned long long) rs->pos, secs > 0 ? (double) rs->pos / secs : 0.0,
			final ? "\n" : "");
	fflush(stderr);
}

/* Feed sinks until they hold less than the buffer limit. */
static int
s_backpressure(replay_state *rs, char *err, size_t errlen)
{
	bool fatal = false;

	for (;;)
	{
		int64_t now = relay_now_ms(), due;

		if (sink_set_poll(&rs->sinks, now, false, err, errlen, &fatal) < 0)
			return -1;
		if (sink_set_pending_bytes(&rs->sinks) < rs->max_buffer || relay_stop_requested)
			return 0;
		due = sink_set_next_due(&rs->sinks);
		if (due > now)
			usleep((useconds_t) ((due - now > 50 ? 50 : due - now) * 1000));
	}
}

/* List the archive keys to replay, in key order. */
static int
s_list(replay_state *rs, char *err, size_t errlen)
{
	char lp[600], after[700];
	char *token = NULL;
	int cap = 0;
	bool done = false;
	size_t plen = strlen(rs->st.prefix);

	snprintf(lp, sizeof(lp), "%s%s", rs->st.prefix,
			 plen && rs->st.prefix[plen - 1] != '/' ? "/" : "");
	after[0] = '\0';
	/* keys sort by hour: start right before the --since hour */
	if (rs->filter.has_since)
		s3_partition_prefix(rs->st.prefix, s3_hour(rs->filter.since), after, sizeof(after));
	while (!done && !relay_stop_requested)
	{
		s3_list l;
		int i;

		if (s3_list_page(rs->s3, lp, after[0] ? after : NULL, token, 1000, &l, err, errlen) < 0)
		{
			free(token);
			return -1;
		}
		for (i = 0; i < l.n; i++)
		{
			time_t part;
			uint64_t a, b;

			if (!s3_key_parse(l.keys[i], &part, &a, &b))
				continue; /* dead letters, other files */
			if (rs->filter.has_until && part >= rs->filter.until)
			{
				done = true; /* every later key is a later hour */
				break;
			}
			if (!replay_filter_partition(&rs->filter, part))
				continue;
			if (rs->n_keys == cap)
			{
				int ncap = cap ? cap * 2 : 256;
				char **nk = realloc(rs->keys, sizeof(char *) * (size_t) ncap);

				if (nk == NULL)
				{
					s3_list_free(&l);
					free(token);
					snprintf(err, errlen, "out of memory");
					return -1;
				}
				rs->keys = nk;
				cap = ncap;
			}
			rs->keys[rs->n_keys++] = l.keys[i];
			l.keys[i] = NULL;
		}
		free(token);
		token = NULL;
		if (l.truncated && !done)
		{
			token = l.next_token;
			l.next_token = NULL;
		}
		else
			done = true;
		s3_list_free(&l);
	}
	free(token);
	return 0;
}

/* GetObject with the relay's retry rules. */
static int
s_get(replay_state *rs, const char *key, buf *out, char *err, size_t errlen)
{
	int attempt;
	bool missing = false;

	for (attempt = 0;; attempt++)
	{
		int64_t d;

		if (s3_get_object(rs->s3, key, out, &missing, err, errlen) == 0)
		{
			if (!missing)
				return 0;
			snprintf(err, errlen, "s3://%s/%s disappeared while replaying", rs->st.bucket, key);
			return -1;
		}
		if (!s3_client_retryable(rs->s3) || attempt + 1 >= REPLAY_GET_RETRIES ||
			relay_stop_requested)
			return -1;
		d = (int64_t) rs->retry_base_ms << (attempt < 10 ? attempt : 10);
		if (d > rs->st.retry_max_ms)
			d = rs->st.retry_max_ms;
		log_kv(LOG_WARN, "archive read failed; will retry", "key", key, "error", err, NULL);
		usleep((useconds_t) (d * 1000));
	}
}

static int
s_replay_object(replay_state *rs, const char *key, char *err, size_t errlen)
{
	buf gz = BUF_INIT, raw = BUF_INIT;
	const char *p, *end;
	bool fatal = false;
	int rc = -1;
	char agg[512];

	if (s_get(rs, key, &gz, err, errlen) < 0)
		goto done;
	rs->bytes += gz.len;
	{
		char zerr[128];

		if (s3_gunzip(gz.data, gz.len, &raw, zerr, sizeof(zerr)) < 0)
		{
			snprintf(err, errlen, "s3://%s/%s: %s", rs->st.bucket, key, zerr);
			goto done;
		}
	}
	p = raw.data ? raw.data : "";
	end = p + raw.len;
	while (p < end && !relay_stop_requested)
	{
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		size_t len = nl ? (size_t) (nl - p) : (size_t) (end - p);
		relay_event ev;

		if (len > 0)
		{
			rs->events_read++;
			if (replay_filter_match(&rs->filter, p, len))
			{
				memset(&ev, 0, sizeof(ev));
				ev.data = p;
				ev.len = len;
				if (replay_json_string(p, len, "aggregate_id", agg, sizeof(agg)))
				{
					ev.key = agg;
					ev.key_len = strlen(agg);
				}
				ev.pos = ++rs->pos;
				if (sink_set_put(&rs->sinks, &ev, err, errlen, &fatal) < 0 ||
					sink_set_commit(&rs->sinks, ev.pos, err, errlen, &fatal) < 0)
					goto done;
				if ((rs->pos & 255) == 0 && s_backpressure(rs, err, errlen) < 0)
					goto done;
				s_progress(rs, false);
			}
		}
		p += len + 1;
	}
	if (s_backpressure(rs, err, errlen) < 0)
		goto done;
	rc = 0;
done:
	buf_free(&gz);
	buf_free(&raw);
	return rc;
}

static int
s_run(replay_state *rs, relay_config *out, char *err, size_t errlen)
{
	uint64_t prev_last = 0, prev_run = 0;
	int i;

	for (i = 0; i < out->n_sinks; i++)
	{
		if (strcmp(out->sinks[i], "kinesis") == 0 && rs->dl == NULL &&
			(rs->dl = deadletter_open(out->dead_letter, out, err, errlen)) == NULL)
			return EXIT_CONFIG;
		rs->sinks.s[rs->sinks.n] = sink_open(out->sinks[i], out, rs->dl, err, errlen);
		if (rs->sinks.s[rs->sinks.n] == NULL)
			return EXIT_CONFIG;
		rs->sinks.n++;
	}
	if (s_list(rs, err, errlen) < 0)
		return s3_client_config_error(rs->s3) ? EXIT_CONFIG : 1;
	log_kv(LOG_INFO, "replay: archive listed", "bucket", rs->st.bucket, "prefix", rs->st.prefix,
		   NULL);
	rs->t0_ms = relay_now_ms();
	for (i = 0; i < rs->n_keys && !relay_stop_requested; i++)
	{
		time_t part;
		uint64_t run, a, b;

		s3_key_parse_run(rs->keys[i], &part, &run, &a, &b);
		if (i == 0 || run != prev_run)
		{
			/* positions of another run (DynamoDB path) start afresh */
			prev_run = run;
			prev_last = 0;
		}
		else if (a <= prev_last)
		{
			/*
			 * Not skipped: with one relay per prefix this only follows a run
			 * whose crash-recovery cut was unavailable, and with several
			 * relays writing one prefix skipping would lose events.
			 * Consumers dedupe on (aggregate_id, version).
			 */
			rs->overlaps++;
			log_kv(LOG_WARN, "replay: object overlaps the previous one; its events may repeat",
				   "key", rs->keys[i], NULL);
		}
		if (b > prev_last)
			prev_last = b;
		if (s_replay_object(rs, rs->keys[i], err, errlen) < 0)
			return 1;
		rs->objects_done++;
		s_progress(rs, false);
	}
	return 0;
}

int
replay_main(int argc, char **argv)
{
	replay_state rs;
	relay_config out;
	s3_client_config cc;
	char err[1024] = "";
	int rc;
	double secs;

	memset(&rs, 0, sizeof(rs));
	memset(&out, 0, sizeof(out));
	rc = s_parse(&rs, argc, argv, &out, err, sizeof(err));
	if (rc != 0)
	{
		config_free(&out);
		if (rc > 0)
			return 0;
		fprintf(stderr, "eventrelay replay: %s\n", err);
		return EXIT_CONFIG;
	}
	log_set_level((log_level) out.log_level);
	if (s3_settings_resolve(&out, &rs.st, true, err, sizeof(err)) < 0)
	{
		fprintf(stderr, "eventrelay replay: %s\n", err);
		config_free(&out);
		return EXIT_CONFIG;
	}
	s3_settings_client(&rs.st, &cc);
	rs.s3 = s3_client_new(&cc, err, sizeof(err));
	if (rs.s3 == NULL)
	{
		fprintf(stderr, "eventrelay replay: %s\n", err);
		config_free(&out);
		return EXIT_CONFIG;
	}
	rs.max_buffer = out.max_buffer_bytes;
	rs.shutdown_ms = out.shutdown_timeout_ms;
	rs.retry_base_ms = rs.st.retry_base_ms;

	stop_install();

	rs.t0_ms = relay_now_ms();
	rc = s_run(&rs, &out, err, sizeof(err));
	if (rs.sinks.n > 0)
	{
		char derr[512];

		/* whatever happened, deliver what was handed over */
		if (sink_set_drain(&rs.sinks, relay_now_ms() + rs.shutdown_ms, derr, sizeof(derr)) < 0 &&
			rc == 0)
		{
			snprintf(err, sizeof(err), "%s", derr);
			rc = 1;
		}
		if (rc == 0 && sink_set_acked(&rs.sinks) < rs.pos)
		{
			snprintf(err, sizeof(err), "the output did not acknowledge every event in time");
			rc = 1;
		}
	}
	if (rc == 0 && relay_stop_requested)
	{
		snprintf(err, sizeof(err), "interrupted");
		rc = 1;
	}
	s_progress(&rs, true);
	secs = (double) (relay_now_ms() - rs.t0_ms) / 1000.0;
	fprintf(stderr,
			"replay: %s: %lu of %d objects, %llu events written (%lu read), %zu bytes "
			"compressed, %.1f s, %.0f events/s%s%s\n",
			rc == 0 ? "done" : "stopped", rs.objects_done, rs.n_keys, (unsigned long long) rs.pos,
			rs.events_read, rs.bytes, secs, secs > 0 ? (double) rs.pos / secs : 0.0,
			rs.overlaps ? ", overlapping objects: " : "", rs.overlaps ? "see the log" : "");
	if (rc != 0)
		fprintf(stderr, "eventrelay replay: %s\n", err);

	sink_set_free(&rs.sinks);
	deadletter_free(rs.dl);
	{
		int i;

		for (i = 0; i < rs.n_keys; i++)
			free(rs.keys[i]);
		free(rs.keys);
	}
	s3_client_free(rs.s3);
	config_free(&out);
	return rc;
}
