/*
 * ddb_main.c
 *		`eventrelay dynamodb [flags]`: flags, environment, and the choice of
 *		input mode (stdin, Lambda Runtime API, DynamoDB Streams API).
 *
 * The DynamoDB-specific flags are taken here; every other flag (sinks,
 * Kinesis, dead letter, log level, metrics) is the relay's own and goes to
 * config_parse, so both paths share one set of sink options and defaults.
 * A custom-runtime Lambda starts its `bootstrap` without arguments, so each
 * flag here can also come from the environment: --id-attribute is
 * EVENTRELAY_ID_ATTRIBUTE, and so on (a flag wins over the environment).
 */
#include "ddb_main.h"
#include "ddb.h"
#include "stop.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ddb_lambda.h"
#include "ddb_out.h"
#include "ddb_stdin.h"
#include "ddb_streams.h"
#include "log.h"

static const char s_usage[] =
	"Usage: eventrelay dynamodb [FLAG]...\n"
	"Relay the events appended to an aggregate's Events list in a DynamoDB table\n"
	"(stream view NEW_AND_OLD_IMAGES) as envelopes (docs/envelope.md) to the sinks.\n"
	"Each flag below may be given as an environment variable instead:\n"
	"--id-attribute = EVENTRELAY_ID_ATTRIBUTE, and so on.\n"
	"\n"
	"Input:\n"
	"  --input=MODE            stdin | lambda | streams (default: lambda when\n"
	"                          AWS_LAMBDA_RUNTIME_API is set, else stdin)\n"
	"                          stdin: Lambda-style events ({\"Records\":[...]}) or\n"
	"                            single records, one per line or pretty-printed\n"
	"                          lambda: AWS Lambda Runtime API loop (custom runtime\n"
	"                            bootstrap); partial failures are returned as\n"
	"                            batchItemFailures (ReportBatchItemFailures)\n"
	"                          streams: DynamoDB Streams API (DescribeStream,\n"
	"                            GetShardIterator, GetRecords) with checkpoints\n"
	"  --table=NAME            streams: table whose latest stream is read;\n"
	"                          also the table name when a record names none\n"
	"  --stream-arn=ARN        streams: read this stream instead of the table's\n"
	"  --checkpoint=FILE       streams: checkpoint file (default\n"
	"                          eventrelay-dynamodb.checkpoint)\n"
	"  --start=POSITION        streams, shards without a checkpoint:\n"
	"                          trim_horizon (default) | latest\n"
	"  --poll-ms=MS            streams: wait after an empty GetRecords (default 1000)\n"
	"  --idle-exit-ms=MS       streams: exit 0 once every open shard returned no\n"
	"                          records for MS (default 0 = run until SIGTERM)\n"
	"  --streams-endpoint=URL  DynamoDB and DynamoDB Streams endpoint (default:\n"
	"                          AWS_ENDPOINT_URL_DYNAMODB_STREAMS, AWS_ENDPOINT_URL,\n"
	"                          else https://streams.dynamodb.REGION.amazonaws.com)\n"
	"\n"
	"Events:\n"
	"  --id-attribute=NAME     key attribute holding the aggregate id (default Uuid;\n"
	"                          a table with a single key attribute needs none)\n"
	"  --events-attribute=NAME list attribute holding the events (default Events)\n"
	"  --aggregate-type=TYPE   aggregate_type of every envelope (default: table name)\n"
	"  --on-error=ACTION       for a record whose list shrank or changed in the\n"
	"                          middle, or that is malformed: stop (default; Lambda\n"
	"                          retries from that record, stdin/streams exit 1) |\n"
	"                          skip (log, count, go on)\n"
	"  --publish-timeout-ms=MS longest wait for the sinks to acknowledge a batch\n"
	"                          (default 60000; Lambda: also the invocation deadline)\n"
	"\n"
	"Output: the sink, Kinesis and operations flags of `eventrelay run` apply\n"
	"(--sink, --stream, --region, --endpoint-url, --dead-letter, --log-level, ...;\n"
	"the PostgreSQL source flags are ignored).  The default sink is stdout for\n"
	"--input=stdin and kinesis otherwise.  Those flags are:\n"
	"\n";

/* Flags of this subcommand, parsed along the relay's by config_parse_ext. */
static const config_flag s_flags[] = {
	{"input", "EVENTRELAY_INPUT", false},
	{"table", "EVENTRELAY_TABLE", false},
	{"stream-arn", "EVENTRELAY_STREAM_ARN", false},
	{"checkpoint", "EVENTRELAY_CHECKPOINT", false},
	{"start", "EVENTRELAY_START", false},
	{"poll-ms", "EVENTRELAY_POLL_MS", false},
	{"idle-exit-ms", "EVENTRELAY_IDLE_EXIT_MS", false},
	{"streams-endpoint", "EVENTRELAY_STREAMS_ENDPOINT", false},
	{"id-attribute", "EVENTRELAY_ID_ATTRIBUTE", false},
	{"events-attribute", "EVENTRELAY_EVENTS_ATTRIBUTE", false},
	{"aggregate-type", "EVENTRELAY_AGGREGATE_TYPE", false},
	{"on-error", "EVENTRELAY_ON_ERROR", false},
	{"publish-timeout-ms", "EVENTRELAY_PUBLISH_TIMEOUT_MS", false},
	{NULL, NULL, false}};

static int
s_parse_ms(const char *name, const char *v, int *out, char *err, size_t errlen)
{
	long long n;

	if (config_number(name, v, 0, 86400000, false, &n, err, errlen) < 0)
		return -1;
	*out = (int) n;
	return 0;
}
/* Apply one of this subcommand's flags; -1 with err on a bad value. */
static int
s_apply(ddb_options *o, const char *name, const char *v, char *err, size_t errlen)
{
	if (strcmp(name, "input") == 0)
	{
		if (strcmp(v, "stdin") && strcmp(v, "lambda") && strcmp(v, "streams"))
			goto bad;
		o->input = v;
	}
	else if (strcmp(name, "table") == 0)
		o->table = o->rec.table = v;
	else if (strcmp(name, "stream-arn") == 0)
		o->stream_arn = v;
	else if (strcmp(name, "checkpoint") == 0)
		o->checkpoint = v;
	else if (strcmp(name, "start") == 0)
	{
		if (strcmp(v, "trim_horizon") && strcmp(v, "latest"))
			goto bad;
		o->start = v;
	}
	else if (strcmp(name, "poll-ms") == 0)
		return s_parse_ms(name, v, &o->poll_ms, err, errlen);
	else if (strcmp(name, "idle-exit-ms") == 0)
		return s_parse_ms(name, v, &o->idle_exit_ms, err, errlen);
	else if (strcmp(name, "publish-timeout-ms") == 0)
		return s_parse_ms(name, v, &o->publish_timeout_ms, err, errlen);
	else if (strcmp(name, "streams-endpoint") == 0)
		o->streams_endpoint = v;
	else if (strcmp(name, "id-attribute") == 0)
		o->rec.id_attr = v;
	else if (strcmp(name, "events-attribute") == 0)
		o->rec.events_attr = v;
	else if (strcmp(name, "aggregate-type") == 0)
		o->rec.aggregate_type = v;
	else if (strcmp(name, "on-error") == 0)
	{
		if (strcmp(v, "stop") == 0)
			o->on_error = DDB_ON_ERROR_STOP;
		else if (strcmp(v, "skip") == 0)
			o->on_error = DDB_ON_ERROR_SKIP;
		else
			goto bad;
	}
	return 0;
bad:
	snprintf(err, errlen, "invalid value \"%s\" for --%s (see --help)", v, name);
	return -1;
}

static void
s_defaults(ddb_options *o)
{
	const char *v;

	memset(o, 0, sizeof(*o));
	ddb_record_opts_default(&o->rec);
	o->input = getenv("AWS_LAMBDA_RUNTIME_API") ? "lambda" : "stdin";
	o->start = "trim_horizon";
	o->poll_ms = 1000;
	o->publish_timeout_ms = 60000;
	o->on_error = DDB_ON_ERROR_STOP;
	o->checkpoint = "eventrelay-dynamodb.checkpoint";
	if ((v = config_env("AWS_ENDPOINT_URL_DYNAMODB_STREAMS")) ||
		(v = config_env("AWS_ENDPOINT_URL")))
		o->streams_endpoint = v;
}

static int
s_apply_flag(void *ctx, const char *name, const char *v, char *err, size_t errlen)
{
	return s_apply(ctx, name, v, err, errlen);
}

/* The relay's defaults that differ here, where the command line gave none. */
static int
s_defaults_for_input(void *ctx, relay_config *cfg, bool sink_given, bool dead_letter_given,
					 char *err, size_t errlen)
{
	const ddb_options *o = ctx;
	char *v;

	/* The obvious sink for a pipe is stdout; for Lambda and Streams, Kinesis. */
	if (!sink_given && (v = strdup(strcmp(o->input, "stdin") == 0 ? "stdout" : "kinesis")))
		cfg->sinks[cfg->n_sinks++] = v;
	/* A Lambda's only writable directory is /tmp. */
	if (!dead_letter_given && strcmp(o->input, "lambda") == 0 &&
		(v = strdup("/tmp/eventrelay-dead-letter.ndjson")))
	{
		free(cfg->dead_letter);
		cfg->dead_letter = v;
	}
	(void) err, (void) errlen;
	return 0;
}

static void
s_log_stats(const ddb_stats *st)
{
	char rec[32], evs[32], rm[32], ng[32], vt[32], na[32], er[32];

	snprintf(rec, sizeof(rec), "%lu", st->records);
	snprintf(evs, sizeof(evs), "%lu", st->events);
	snprintf(rm, sizeof(rm), "%lu", st->outcome[DDB_OUT_SKIP_REMOVE]);
	snprintf(ng, sizeof(ng), "%lu", st->outcome[DDB_OUT_SKIP_NO_GROWTH]);
	snprintf(vt, sizeof(vt), "%lu", st->outcome[DDB_OUT_SKIP_VIEW_TYPE]);
	snprintf(na, sizeof(na), "%lu", st->outcome[DDB_OUT_SKIP_NOT_AGGREGATE]);
	snprintf(er, sizeof(er), "%lu", st->outcome[DDB_OUT_ERROR]);
	log_kv(LOG_INFO, "dynamodb relay finished", "records", rec, "events", evs, "skipped_remove", rm,
		   "skipped_no_growth", ng, "skipped_not_new_and_old_images", vt, "skipped_no_events_list",
		   na, "errors", er, NULL);
}

int
ddb_main(int argc, char **argv)
{
	ddb_options o;
	relay_config cfg;
	ddb_out out;
	ddb_stats stats;
	config_ext ext;
	char err[512];
	int rc;

	s_defaults(&o);
	ext.flags = s_flags;
	ext.apply = s_apply_flag;
	ext.defaults = s_defaults_for_input;
	ext.usage = s_usage;
	ext.ctx = &o;
	ext.also_used = NULL;
	rc = config_parse_ext(&cfg, argc, argv, &ext, err, sizeof(err));
	if (rc != 0)
	{
		if (rc < 0)
			fprintf(stderr, "eventrelay dynamodb: %s\n", err);
		config_free(&cfg);
		return rc < 0 ? EXIT_CONFIG : 0;
	}
	log_set_level((log_level) cfg.log_level);
	o.cfg = &cfg;
	o.region = cfg.region ? cfg.region : "us-east-1";

	stop_install();

	if (ddb_out_open(&out, &cfg, err, sizeof(err)) != 0)
	{
		fprintf(stderr, "eventrelay dynamodb: %s\n", err);
		if (strcmp(o.input, "lambda") == 0)
			ddb_lambda_init_error(err);
		config_free(&cfg);
		return EXIT_CONFIG;
	}
	memset(&stats, 0, sizeof(stats));
	if (strcmp(o.input, "stdin") == 0)
		rc = ddb_stdin_run(&o, STDIN_FILENO, &out, &stats) == 0 ? 0 : 1;
	else if (strcmp(o.input, "lambda") == 0)
		rc = ddb_lambda_run(&o, &out, &stats);
	else if (strcmp(o.input, "streams") == 0)
		rc = ddb_streams_run(&o, &out, &stats);
	else
	{
		fprintf(stderr, "eventrelay dynamodb: input \"%s\" is not available yet\n", o.input);
		rc = EXIT_CONFIG;
	}
	s_log_stats(&stats);
	ddb_out_close(&out);
	config_free(&cfg);
	return rc;
}
