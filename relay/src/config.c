/*
 * config.c
 *		Flags, environment variables and defaults (see config.h).  The option
 *		table below is also the source of --help, so every flag is documented
 *		where it is defined.
 */
#include "config.h"
#include "codec.h"
#include "log.h"
#include "metrics_emf.h"
#include "sink.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifndef RELAY_VERSION
#define RELAY_VERSION "1.0.0"
#endif

enum
{
	OPT_DBNAME = 'd',
	OPT_SLOT = 'S',
	OPT_HELP = 'h',
	OPT_VERSION = 'V',
	OPT_CREATE_SLOT = 256,
	OPT_PLUGIN,
	OPT_DECODER,
	OPT_PUBLICATION,
	OPT_ORIGIN,
	OPT_AGG_TYPES,
	OPT_EVENT_TYPES,
	OPT_PLUGIN_OPTION,
	OPT_STATUS_INTERVAL,
	OPT_RECONNECT_MAX,
	OPT_END_LSN,
	OPT_STATE_FILE,
	OPT_ACCEPT_SLOT,
	OPT_RDS_IAM_AUTH,
	OPT_RDS_REGION,
	OPT_RDS_WEAK_TLS,
	OPT_BACKFILL,
	OPT_BACKFILL_SINCE,
	OPT_BACKFILL_AGG_TYPES,
	OPT_BACKFILL_RATE,
	OPT_REPAIR_SLOT,
	OPT_STANDBY,
	OPT_SLOT_FAILOVER,
	OPT_WAL_CHECK,
	OPT_SINK,
	OPT_DEAD_LETTER,
	OPT_MAX_BUFFER,
	OPT_STREAM,
	OPT_REGION,
	OPT_ENDPOINT,
	OPT_CA_BUNDLE,
	OPT_BATCH_RECORDS,
	OPT_BATCH_BYTES,
	OPT_RECORD_BYTES,
	OPT_LINGER,
	OPT_IN_FLIGHT,
	OPT_KEY_RUN,
	OPT_RETRY_BASE,
	OPT_RETRY_MAX,
	OPT_REQ_TIMEOUT,
	OPT_METRICS_PORT,
	OPT_METRICS_ADDR,
	OPT_METRICS_EMF_INTERVAL,
	OPT_METRICS_EMF_NAMESPACE,
	OPT_LOG_LEVEL,
	OPT_SHUTDOWN_TIMEOUT,
};

typedef struct opt_doc
{
	int id;
	const char *name;
	int has_arg;
	const char *arg; /* metavariable */
	const char *env; /* environment variable read when the flag is absent */
	const char *help;
	const char *group; /* starts a new --help section when set */
} opt_doc;

static const opt_doc opts[] = {
	{OPT_DBNAME, "dbname", 1, "CONNSTR", "EVENTRELAY_DBNAME",
	 "database to stream from: a libpq connection string or URI (the PG* variables apply; "
	 "replication=database is added)",
	 "PostgreSQL source"},
	{OPT_SLOT, "slot", 1, "NAME", "EVENTRELAY_SLOT",
	 "logical replication slot (default eventrelay)", NULL},
	{OPT_CREATE_SLOT, "create-slot", 0, NULL, NULL,
	 "create the slot if it does not exist (without this flag a missing slot stops the relay)",
	 NULL},
	{OPT_PLUGIN, "plugin", 1, "NAME", NULL,
	 "output plugin of a slot it creates (default eventstore; pgoutput with --decoder pgoutput)",
	 NULL},
	{OPT_DECODER, "decoder", 1, "NAME", "EVENTRELAY_DECODER",
	 "eventstore (default: the extension's output plugin) or pgoutput (PostgreSQL's built-in "
	 "plugin and a publication, for managed servers such as RDS and Aurora; same envelopes)",
	 NULL},
	{OPT_PUBLICATION, "publication", 1, "NAME", "EVENTRELAY_PUBLICATION",
	 "publication of eventstore.events that pgoutput streams (default eventstore_events)", NULL},
	{OPT_ORIGIN, "origin", 1, "none|any", "EVENTRELAY_ORIGIN",
	 "pgoutput: none (default) skips transactions replicated in from another server by logical "
	 "replication, any relays them too",
	 NULL},
	{OPT_AGG_TYPES, "aggregate-types", 1, "LIST", NULL,
	 "only events of these aggregate types (comma-separated; plugin option aggregate-types, or "
	 "applied by the relay with pgoutput)",
	 NULL},
	{OPT_EVENT_TYPES, "event-types", 1, "LIST", NULL,
	 "only events of these types (comma-separated; plugin option event-types, or applied by the "
	 "relay with pgoutput)",
	 NULL},
	{OPT_PLUGIN_OPTION, "plugin-option", 1, "NAME=VALUE", NULL,
	 "pass another option to the plugin (repeatable)", NULL},
	{OPT_STATUS_INTERVAL, "status-interval", 1, "SECS", NULL,
	 "send a standby status update at least this often (default 10)", NULL},
	{OPT_RECONNECT_MAX, "reconnect-max", 1, "SECS", NULL,
	 "longest wait between reconnection attempts after PostgreSQL went away (default 30)", NULL},
	{OPT_STATE_FILE, "state-file", 1, "PATH", "EVENTRELAY_STATE_FILE",
	 "remember the confirmed position here (written before each confirmation), so that a slot "
	 "that was dropped, recreated or advanced by someone else is detected after a restart too",
	 NULL},
	{OPT_ACCEPT_SLOT, "accept-slot-position", 0, NULL, NULL,
	 "start from the slot's position even if it is ahead of the state file or the slot is new "
	 "(events in between are not relayed)",
	 NULL},
	{OPT_BACKFILL, "backfill", 0, NULL, NULL,
	 "when --create-slot creates the slot, publish every event that already exists (from the "
	 "snapshot exported with the slot, in (aggregate_id, version) order) beside the live "
	 "stream; needs --state-file, resumes after a crash (docs/backfill.md)",
	 NULL},
	{OPT_BACKFILL_SINCE, "backfill-since", 1, "TIME", NULL,
	 "backfill each aggregate from its first event recorded at or after TIME (ISO 8601)", NULL},
	{OPT_BACKFILL_AGG_TYPES, "backfill-aggregate-types", 1, "LIST", NULL,
	 "backfill only these aggregate types (comma-separated)", NULL},
	{OPT_BACKFILL_RATE, "backfill-rate", 1, "N", NULL,
	 "backfill at most N events per second (default 0 = as fast as the sinks take them)", NULL},
	{OPT_REPAIR_SLOT, "repair-slot", 0, NULL, NULL,
	 "when the slot is gone, invalidated or moved, recreate it and re-publish from "
	 "eventstore.events everything that may be missing since the position the state file "
	 "confirmed (instead of exit 3); needs --state-file (docs/backfill.md)",
	 NULL},
	{OPT_STANDBY, "standby", 0, NULL, NULL,
	 "another relay streams the same slot (a hot standby pair): while the slot is in use, wait "
	 "and take over when it is freed; a slot ahead of the state file is then expected (the other "
	 "relay moved it), not an error (docs/failover.md)",
	 NULL},
	{OPT_SLOT_FAILOVER, "slot-failover", 1, "MODE", NULL,
	 "PostgreSQL 17+: create (default: a slot it creates is a failover slot, synchronised to "
	 "standbys; an existing one that is not gets a warning), alter (also make an existing slot "
	 "one) or off (docs/failover.md)",
	 NULL},
	{OPT_WAL_CHECK, "wal-check-interval", 1, "SECS", NULL,
	 "look at the slot's wal_status, retained WAL and safe_wal_size this often, over a second "
	 "(normal) connection: metrics, and warnings as safe_wal_size shrinks (default 30, 0 = off)",
	 NULL},
	{OPT_END_LSN, "end-lsn", 1, "LSN", NULL,
	 "stop (exit 0) once everything up to this WAL position is delivered and confirmed, like "
	 "pg_recvlogical --endpos (benchmarks, one-off catch-up runs)",
	 NULL},
	{OPT_RDS_IAM_AUTH, "rds-iam-auth", 0, NULL, "EVENTRELAY_RDS_IAM_AUTH (true/false)",
	 "log in to RDS/Aurora with IAM database authentication: a fresh rds-db:connect token "
	 "from the AWS credentials for every connection, as the password of the conninfo's "
	 "user at its host and port; needs sslmode=verify-full (see docs/rds-iam.md)",
	 NULL},
	{OPT_RDS_REGION, "rds-region", 1, "REGION", "EVENTRELAY_RDS_REGION",
	 "region of the database for --rds-iam-auth (default --region, AWS_REGION)", NULL},
	{OPT_RDS_WEAK_TLS, "rds-iam-allow-weak-sslmode", 0, NULL, NULL,
	 "let --rds-iam-auth send its token with an sslmode below verify-full (tests only: the "
	 "token is a password, an unverified server may be an impostor)",
	 NULL},

	{OPT_SINK, "sink", 1, "NAME", "EVENTRELAY_SINK",
	 "where events go: kinesis (default), stdout, ...; repeat for several sinks (each "
	 "must acknowledge a transaction before the slot moves past it)",
	 "Sinks"},
	{OPT_DEAD_LETTER, "dead-letter", 1, "PATH", "EVENTRELAY_DEAD_LETTER",
	 "where records that can never be delivered are set aside: a file path, file:PATH or "
	 "s3://BUCKET/PREFIX (one object per record, see docs/s3-archive.md) "
	 "(default eventrelay-dead-letter.ndjson)",
	 NULL},
	{OPT_MAX_BUFFER, "max-buffer-bytes", 1, "BYTES", NULL,
	 "stop reading from the source while a sink holds this many unacknowledged bytes "
	 "(default 64M)",
	 NULL},

	{OPT_STREAM, "stream", 1, "NAME", "EVENTRELAY_STREAM", "Kinesis data stream name (required)",
	 "Kinesis sink"},
	{OPT_REGION, "region", 1, "REGION", "AWS_REGION, AWS_DEFAULT_REGION", "AWS region (required)",
	 NULL},
	{OPT_ENDPOINT, "endpoint-url", 1, "URL", "AWS_ENDPOINT_URL_KINESIS, AWS_ENDPOINT_URL",
	 "Kinesis endpoint (default https://kinesis.REGION.amazonaws.com); plain http only for "
	 "emulators, TLS certificates are always verified",
	 NULL},
	{OPT_CA_BUNDLE, "ca-bundle", 1, "FILE", "AWS_CA_BUNDLE", "CA certificates for TLS", NULL},
	{OPT_BATCH_RECORDS, "max-batch-records", 1, "N", NULL, "records per PutRecords (default 500)",
	 NULL},
	{OPT_BATCH_BYTES, "max-batch-bytes", 1, "BYTES", NULL,
	 "bytes (data + partition keys) per PutRecords (default 5M)", NULL},
	{OPT_RECORD_BYTES, "max-record-bytes", 1, "BYTES", NULL,
	 "largest record (data + partition key); larger ones go to the dead letter (default 1M)", NULL},
	{OPT_LINGER, "linger-ms", 1, "MS", NULL,
	 "wait at most this long for a batch to fill before sending it (default 20)", NULL},
	{OPT_IN_FLIGHT, "max-in-flight", 1, "N", "EVENTRELAY_MAX_IN_FLIGHT",
	 "PutRecords requests in flight at once (default 4); an aggregate is in one at a time", NULL},
	{OPT_KEY_RUN, "max-records-per-key", 1, "N", "EVENTRELAY_MAX_RECORDS_PER_KEY",
	 "consecutive events of one aggregate per PutRecords (default 1: a later event is sent only "
	 "once the earlier one is stored; above 1 a partial failure can deliver a later event before "
	 "the re-sent earlier one, see \"Ordering\" in relay/README.md)",
	 NULL},
	{OPT_RETRY_BASE, "retry-base-ms", 1, "MS", NULL,
	 "first retry delay; doubles per attempt, with full jitter (default 100)", NULL},
	{OPT_RETRY_MAX, "retry-max-ms", 1, "MS", NULL, "longest retry delay (default 5000)", NULL},
	{OPT_REQ_TIMEOUT, "request-timeout-ms", 1, "MS", NULL,
	 "timeout of one HTTP request (default 30000)", NULL},

	{OPT_METRICS_PORT, "metrics-port", 1, "PORT", "EVENTRELAY_METRICS_PORT",
	 "serve Prometheus metrics on this port (default 0 = off)", "Operations"},
	{OPT_METRICS_ADDR, "metrics-address", 1, "ADDR", NULL,
	 "address of the metrics listener (default 127.0.0.1)", NULL},
	{OPT_METRICS_EMF_INTERVAL, "metrics-emf-interval", 1, "SECS", "EVENTRELAY_METRICS_EMF_INTERVAL",
	 "every SECS seconds, write the lag (LagSeconds, LagBytes) and the slot's retained WAL "
	 "(RetainedWalBytes, SafeWalBytes) as one CloudWatch Embedded Metric Format line, dimension "
	 "Slot, on stderr, where the ECS awslogs driver ships it to CloudWatch, which makes metrics "
	 "of it; only while streaming (default 0 = off)",
	 NULL},
	{OPT_METRICS_EMF_NAMESPACE, "metrics-emf-namespace", 1, "NAME",
	 "EVENTRELAY_METRICS_EMF_NAMESPACE",
	 "CloudWatch namespace of those metrics (default eventrelay)", NULL},
	{OPT_LOG_LEVEL, "log-level", 1, "LEVEL", "EVENTRELAY_LOG_LEVEL",
	 "debug, info (default), warn or error; logs are JSON lines on stderr", NULL},
	{OPT_SHUTDOWN_TIMEOUT, "shutdown-timeout", 1, "SECS", NULL,
	 "on SIGTERM/SIGINT, wait this long for in-flight events to be acknowledged (default 30)",
	 NULL},
	{OPT_HELP, "help", 0, NULL, NULL, "show this help and exit", NULL},
	{OPT_VERSION, "version", 0, NULL, NULL, "show the version and exit", NULL},
	{0, NULL, 0, NULL, NULL, NULL, NULL},
};

const char *
config_env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* Print "  LEFT  text" with text wrapped at 100 columns under column 33. */
static void
s_wrap(FILE *out, const char *left, const char *text)
{
	const int indent = 33, width = 100;
	int col;

	fprintf(out, "  %-30s", left);
	col = indent - 1;
	if ((int) strlen(left) > 30)
	{
		fprintf(out, "\n%*s", indent - 1, "");
	}
	while (*text)
	{
		size_t w = strcspn(text, " ");

		if (col + 1 + (int) w > width && col > indent - 1)
		{
			fprintf(out, "\n%*s", indent - 1, "");
			col = indent - 1;
		}
		fprintf(out, " %.*s", (int) w, text);
		col += 1 + (int) w;
		text += w;
		text += strspn(text, " ");
	}
	fputc('\n', out);
}

void
config_usage(FILE *out)
{
	const sink_type *const *types = sink_types();
	int i;

	fprintf(out, "eventrelay streams the events of a PostgreSQL event store (logical decoding,\n"
				 "output plugin eventstore) to Amazon Kinesis Data Streams and other sinks,\n"
				 "at least once and in order per aggregate.\n\n"
				 "Usage:\n"
				 "  eventrelay [run] [OPTION]...        stream from PostgreSQL\n"
				 "  eventrelay COMMAND --help           other commands (if built in): dynamodb, "
				 "replay\n");
	for (i = 0; opts[i].name; i++)
	{
		char left[64];

		if (opts[i].group)
			fprintf(out, "\n%s:\n", opts[i].group);
		if (opts[i].id < 256)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", opts[i].id, opts[i].name,
					 opts[i].has_arg ? "=" : "", opts[i].has_arg ? opts[i].arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", opts[i].name, opts[i].has_arg ? "=" : "",
					 opts[i].has_arg ? opts[i].arg : "");
		{
			char text[1024];

			snprintf(text, sizeof(text), "%s%s%s%s", opts[i].help, opts[i].env ? " [env " : "",
					 opts[i].env ? opts[i].env : "", opts[i].env ? "]" : "");
			s_wrap(out, left, text);
		}
	}
	fprintf(out, "\nOther sinks (options are --<sink>-<name>=VALUE):\n");
	for (i = 0; types[i]; i++)
		if (strcmp(types[i]->name, "kinesis") != 0)
			fputs(types[i]->help, out);
	fprintf(
		out,
		"\nAWS credentials (standard chain, first that is present):\n"
		"  1. AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN\n"
		"  2. ECS/EKS container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or\n"
		"     AWS_CONTAINER_CREDENTIALS_FULL_URI, with AWS_CONTAINER_AUTHORIZATION_TOKEN or\n"
		"     AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE\n"
		"  3. EC2 instance metadata (IMDSv2); AWS_EC2_METADATA_DISABLED=true skips it,\n"
		"     AWS_EC2_METADATA_SERVICE_ENDPOINT overrides http://169.254.169.254\n"
		"\nExit status: 0 after a clean shutdown, 1 on a runtime failure, 2 on a configuration\n"
		"error (bad flag, unknown stream, rejected credentials), 3 when the replication slot\n"
		"is missing, was invalidated or cannot be used.\n");
}

static int s_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
s_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Integer with optional k/M/G suffix (powers of 1024 when allow_suffix). */
int
config_number(const char *name, const char *s, long long min, long long max, bool allow_suffix,
			  long long *out, char *err, size_t errlen)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || errno)
		return s_fail(err, errlen, "invalid value \"%s\" for --%s: not a number", s, name);
	if (allow_suffix && *end)
	{
		char c = (char) toupper((unsigned char) *end);
		long long mul;

		if (c == 'K')
			mul = 1024;
		else if (c == 'M')
			mul = 1024 * 1024;
		else if (c == 'G')
			mul = 1024LL * 1024 * 1024;
		else
			return s_fail(err, errlen, "invalid value \"%s\" for --%s", s, name);
		/* range check before the multiply, which could overflow */
		if (v < min / mul || v > max / mul)
			return s_fail(err, errlen, "value %s for --%s is out of range (%lld..%lld)", s, name,
						  min, max);
		v *= mul;
		end++;
		if (*end == 'i' || *end == 'I')
			end++;
		if (*end == 'B' || *end == 'b')
			end++;
	}
	if (*end)
		return s_fail(err, errlen, "invalid value \"%s\" for --%s", s, name);
	if (v < min || v > max)
		return s_fail(err, errlen, "value %s for --%s is out of range (%lld..%lld)", s, name, min,
					  max);
	*out = v;
	return 0;
}

static void
s_set(char **dst, const char *v)
{
	free(*dst);
	*dst = v ? strdup(v) : NULL;
}

static int
s_kv_add(config_kv *kv, int *n, const char *key, size_t keylen, const char *value, char *err,
		 size_t errlen)
{
	if (*n >= CONFIG_MAX_OPTS)
		return s_fail(err, errlen, "too many options");
	kv[*n].key = strndup(key, keylen);
	kv[*n].value = strdup(value);
	(*n)++;
	return 0;
}

static const opt_doc *
s_find(int id)
{
	int i;

	for (i = 0; opts[i].name; i++)
		if (opts[i].id == id)
			return &opts[i];
	return NULL;
}

static bool
s_is_known(const char *name, size_t len)
{
	int i;

	for (i = 0; opts[i].name; i++)
		if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
			return true;
	return false;
}

static void
s_defaults(relay_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->slot = strdup("eventrelay");
	cfg->plugin = strdup("eventstore");
	cfg->status_interval_ms = 10000;
	cfg->reconnect_max_ms = 30000;
	cfg->wal_check_interval_ms = 30000;
	cfg->dead_letter = strdup("eventrelay-dead-letter.ndjson");
	cfg->max_buffer_bytes = 64 * 1024 * 1024;
	cfg->max_batch_records = 500;
	cfg->max_batch_bytes = 5 * 1024 * 1024;
	cfg->max_record_bytes = 1024 * 1024;
	cfg->linger_ms = 20;
	cfg->max_in_flight = 4;
	cfg->max_records_per_key = 1;
	cfg->retry_base_ms = 100;
	cfg->retry_max_ms = 5000;
	cfg->request_timeout_ms = 30000;
	cfg->metrics_address = strdup("127.0.0.1");
	cfg->metrics_emf_namespace = strdup("eventrelay");
	cfg->log_level = LOG_INFO;
	cfg->shutdown_timeout_ms = 30000;
}

static int
s_apply(relay_config *cfg, int id, const char *v, char *err, size_t errlen)
{
	const opt_doc *d = s_find(id);
	long long n;
	int lvl;

	switch (id)
	{
		case OPT_DBNAME:
			s_set(&cfg->dbname, v);
			break;
		case OPT_SLOT:
			if (!*v || strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(v) ||
				strlen(v) > 63)
				return s_fail(err, errlen,
							  "invalid slot name \"%s\": use lower-case letters, digits and _", v);
			s_set(&cfg->slot, v);
			break;
		case OPT_CREATE_SLOT:
			cfg->create_slot = true;
			break;
		case OPT_PLUGIN:
			s_set(&cfg->plugin, v);
			break;
		case OPT_DECODER:
			if (strcmp(v, "eventstore") != 0 && strcmp(v, "pgoutput") != 0)
				return s_fail(err, errlen, "invalid --decoder \"%s\" (eventstore or pgoutput)", v);
			cfg->pgoutput = strcmp(v, "pgoutput") == 0;
			break;
		case OPT_PUBLICATION:
			if (!*v || strlen(v) > 63)
				return s_fail(err, errlen, "invalid --publication \"%s\"", v);
			s_set(&cfg->publication, v);
			break;
		case OPT_ORIGIN:
			if (strcmp(v, "none") != 0 && strcmp(v, "any") != 0)
				return s_fail(err, errlen, "invalid --origin \"%s\" (none or any)", v);
			cfg->any_origin = strcmp(v, "any") == 0;
			break;
		case OPT_AGG_TYPES:
			s_set(&cfg->aggregate_types, v);
			break;
		case OPT_EVENT_TYPES:
			s_set(&cfg->event_types, v);
			break;
		case OPT_PLUGIN_OPTION:
		{
			const char *eq = strchr(v, '=');

			if (eq == NULL || eq == v)
				return s_fail(err, errlen, "invalid --plugin-option \"%s\": expected NAME=VALUE",
							  v);
			return s_kv_add(cfg->plugin_opts, &cfg->n_plugin_opts, v, (size_t) (eq - v), eq + 1,
							err, errlen);
		}
		case OPT_STATUS_INTERVAL:
			if (config_number(d->name, v, 1, 3600, false, &n, err, errlen) < 0)
				return -1;
			cfg->status_interval_ms = (int) n * 1000;
			break;
		case OPT_STATE_FILE:
			s_set(&cfg->state_file, v);
			break;
		case OPT_ACCEPT_SLOT:
			cfg->accept_slot_position = true;
			break;
		case OPT_RDS_IAM_AUTH:
			/* the flag gives no value; the variable says true or false */
			if (v == NULL || !*v || strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
				strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0)
				cfg->rds_iam_auth = true;
			else if (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0 ||
					 strcasecmp(v, "no") == 0 || strcasecmp(v, "off") == 0)
				cfg->rds_iam_auth = false;
			else
				return s_fail(err, errlen, "invalid value \"%s\" for --rds-iam-auth: true or false",
							  v);
			break;
		case OPT_RDS_REGION:
			s_set(&cfg->rds_region, v);
			break;
		case OPT_RDS_WEAK_TLS:
			cfg->rds_iam_weak_tls = true;
			break;
		case OPT_BACKFILL:
			cfg->backfill = true;
			break;
		case OPT_BACKFILL_SINCE:
			if (codec_iso8601(v, strlen(v), NULL) == (time_t) -1)
				return s_fail(err, errlen,
							  "invalid --backfill-since \"%s\": expected an ISO 8601 time such as "
							  "2026-01-31T00:00:00Z",
							  v);
			s_set(&cfg->backfill_since, v);
			break;
		case OPT_BACKFILL_AGG_TYPES:
			if (!*v)
				return s_fail(err, errlen, "--backfill-aggregate-types is empty");
			s_set(&cfg->backfill_aggregate_types, v);
			break;
		case OPT_BACKFILL_RATE:
			if (config_number(d->name, v, 0, 100000000, false, &n, err, errlen) < 0)
				return -1;
			cfg->backfill_rate = (int) n;
			break;
		case OPT_REPAIR_SLOT:
			cfg->repair_slot = true;
			break;
		case OPT_STANDBY:
			cfg->standby = true;
			break;
		case OPT_SLOT_FAILOVER:
			if (strcmp(v, "create") == 0)
				cfg->slot_failover = CONFIG_FAILOVER_CREATE;
			else if (strcmp(v, "alter") == 0)
				cfg->slot_failover = CONFIG_FAILOVER_ALTER;
			else if (strcmp(v, "off") == 0)
				cfg->slot_failover = CONFIG_FAILOVER_OFF;
			else
				return s_fail(err, errlen,
							  "invalid --slot-failover \"%s\": expected create, alter or off", v);
			break;
		case OPT_WAL_CHECK:
			if (config_number(d->name, v, 0, 3600, false, &n, err, errlen) < 0)
				return -1;
			cfg->wal_check_interval_ms = (int) n * 1000;
			break;
		case OPT_END_LSN:
		{
			unsigned int hi, lo;
			char extra;

			if (sscanf(v, "%X/%X%c", &hi, &lo, &extra) != 2)
				return s_fail(err, errlen, "invalid --end-lsn \"%s\": expected X/X", v);
			s_set(&cfg->end_lsn, v);
			break;
		}
		case OPT_RECONNECT_MAX:
			if (config_number(d->name, v, 1, 3600, false, &n, err, errlen) < 0)
				return -1;
			cfg->reconnect_max_ms = (int) n * 1000;
			break;
		case OPT_SINK:
		{
			/* accept "kinesis,stdout" as well as repeated flags */
			const char *p = v;

			while (*p)
			{
				size_t len = strcspn(p, ",");
				int i;

				if (len == 0 || sink_type_find(p, len) == NULL)
					return s_fail(err, errlen, "unknown sink \"%.*s\"", (int) len, p);
				for (i = 0; i < cfg->n_sinks; i++)
					if (strlen(cfg->sinks[i]) == len && strncmp(cfg->sinks[i], p, len) == 0)
						return s_fail(err, errlen, "sink \"%.*s\" given twice", (int) len, p);
				if (cfg->n_sinks >= CONFIG_MAX_SINKS)
					return s_fail(err, errlen, "too many sinks");
				cfg->sinks[cfg->n_sinks++] = strndup(p, len);
				p += len;
				if (*p == ',')
					p++;
			}
			break;
		}
		case OPT_DEAD_LETTER:
			s_set(&cfg->dead_letter, v);
			break;
		case OPT_MAX_BUFFER:
			if (config_number(d->name, v, 1024 * 1024, 64LL << 30, true, &n, err, errlen) < 0)
				return -1;
			cfg->max_buffer_bytes = (size_t) n;
			break;
		case OPT_STREAM:
			s_set(&cfg->stream, v);
			break;
		case OPT_REGION:
			s_set(&cfg->region, v);
			break;
		case OPT_ENDPOINT:
			if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
				return s_fail(err, errlen,
							  "invalid --endpoint-url \"%s\": must start with http:// or https://",
							  v);
			s_set(&cfg->endpoint, v);
			break;
		case OPT_CA_BUNDLE:
			s_set(&cfg->ca_bundle, v);
			break;
		case OPT_BATCH_RECORDS:
			if (config_number(d->name, v, 1, 500, false, &n, err, errlen) < 0)
				return -1;
			cfg->max_batch_records = (int) n;
			break;
		case OPT_BATCH_BYTES:
			if (config_number(d->name, v, 1024, 256LL << 20, true, &n, err, errlen) < 0)
				return -1;
			cfg->max_batch_bytes = (size_t) n;
			break;
		case OPT_RECORD_BYTES:
			if (config_number(d->name, v, 256, 64LL << 20, true, &n, err, errlen) < 0)
				return -1;
			cfg->max_record_bytes = (size_t) n;
			break;
		case OPT_LINGER:
			if (config_number(d->name, v, 0, 60000, false, &n, err, errlen) < 0)
				return -1;
			cfg->linger_ms = (int) n;
			break;
		case OPT_IN_FLIGHT:
			if (config_number(d->name, v, 1, 64, false, &n, err, errlen) < 0)
				return -1;
			cfg->max_in_flight = (int) n;
			break;
		case OPT_KEY_RUN:
			if (config_number(d->name, v, 1, 500, false, &n, err, errlen) < 0)
				return -1;
			cfg->max_records_per_key = (int) n;
			break;
		case OPT_RETRY_BASE:
			if (config_number(d->name, v, 1, 600000, false, &n, err, errlen) < 0)
				return -1;
			cfg->retry_base_ms = (int) n;
			break;
		case OPT_RETRY_MAX:
			if (config_number(d->name, v, 1, 3600000, false, &n, err, errlen) < 0)
				return -1;
			cfg->retry_max_ms = (int) n;
			break;
		case OPT_REQ_TIMEOUT:
			if (config_number(d->name, v, 100, 600000, false, &n, err, errlen) < 0)
				return -1;
			cfg->request_timeout_ms = (int) n;
			break;
		case OPT_METRICS_PORT:
			if (config_number(d->name, v, 0, 65535, false, &n, err, errlen) < 0)
				return -1;
			cfg->metrics_port = (int) n;
			break;
		case OPT_METRICS_ADDR:
			s_set(&cfg->metrics_address, v);
			break;
		case OPT_METRICS_EMF_INTERVAL:
			if (config_number(d->name, v, 0, 3600, false, &n, err, errlen) < 0)
				return -1;
			cfg->metrics_emf_interval_ms = (int) n * 1000;
			break;
		case OPT_METRICS_EMF_NAMESPACE:
		{
			const char *why = metrics_emf_namespace_error(v);

			if (why)
				return s_fail(err, errlen, "invalid --metrics-emf-namespace \"%s\": %s", v, why);
			s_set(&cfg->metrics_emf_namespace, v);
			break;
		}
		case OPT_LOG_LEVEL:
			lvl = log_parse_level(v);
			if (lvl < 0)
				return s_fail(err, errlen, "invalid --log-level \"%s\" (debug, info, warn, error)",
							  v);
			cfg->log_level = lvl;
			break;
		case OPT_SHUTDOWN_TIMEOUT:
			if (config_number(d->name, v, 0, 3600, false, &n, err, errlen) < 0)
				return -1;
			cfg->shutdown_timeout_ms = (int) n * 1000;
			break;
		default:
			return s_fail(err, errlen, "unhandled option");
	}
	return 0;
}

/* Environment first, so that flags parsed afterwards win. */
static int
s_apply_env(relay_config *cfg, char *err, size_t errlen)
{
	static const struct
	{
		int id;
		const char *var;
	} env[] = {
		{OPT_DBNAME, "EVENTRELAY_DBNAME"},
		{OPT_SLOT, "EVENTRELAY_SLOT"},
		{OPT_DECODER, "EVENTRELAY_DECODER"},
		{OPT_PUBLICATION, "EVENTRELAY_PUBLICATION"},
		{OPT_ORIGIN, "EVENTRELAY_ORIGIN"},
		{OPT_STATE_FILE, "EVENTRELAY_STATE_FILE"},
		{OPT_RDS_IAM_AUTH, "EVENTRELAY_RDS_IAM_AUTH"},
		{OPT_RDS_REGION, "EVENTRELAY_RDS_REGION"},
		{OPT_SINK, "EVENTRELAY_SINK"},
		{OPT_DEAD_LETTER, "EVENTRELAY_DEAD_LETTER"},
		{OPT_STREAM, "EVENTRELAY_STREAM"},
		{OPT_REGION, "AWS_DEFAULT_REGION"},
		{OPT_REGION, "AWS_REGION"},
		{OPT_ENDPOINT, "AWS_ENDPOINT_URL"},
		{OPT_ENDPOINT, "AWS_ENDPOINT_URL_KINESIS"},
		{OPT_CA_BUNDLE, "AWS_CA_BUNDLE"},
		{OPT_IN_FLIGHT, "EVENTRELAY_MAX_IN_FLIGHT"},
		{OPT_KEY_RUN, "EVENTRELAY_MAX_RECORDS_PER_KEY"},
		{OPT_METRICS_PORT, "EVENTRELAY_METRICS_PORT"},
		{OPT_METRICS_EMF_INTERVAL, "EVENTRELAY_METRICS_EMF_INTERVAL"},
		{OPT_METRICS_EMF_NAMESPACE, "EVENTRELAY_METRICS_EMF_NAMESPACE"},
		{OPT_LOG_LEVEL, "EVENTRELAY_LOG_LEVEL"},
	};
	size_t i;

	for (i = 0; i < sizeof(env) / sizeof(env[0]); i++)
	{
		const char *v = config_env(env[i].var);
		char tmp[512];

		if (v == NULL)
			continue;
		if (s_apply(cfg, env[i].id, v, tmp, sizeof(tmp)) < 0)
			return s_fail(err, errlen, "%s (from %s)", tmp, env[i].var);
	}
	return 0;
}

static int
s_validate(relay_config *cfg, const char *also_used, char *err, size_t errlen)
{
	int i;
	bool kinesis = false;

	/* an empty region would make the endpoint "kinesis..amazonaws.com": retried forever */
	if (cfg->region && cfg->region[0] == '\0')
		return s_fail(err, errlen, "--region is empty: give an AWS region such as us-east-1");
	if (cfg->rds_iam_auth && cfg->rds_region == NULL && cfg->region == NULL)
		return s_fail(err, errlen,
					  "--rds-iam-auth needs the database's region: set --rds-region or AWS_REGION");
	if (cfg->rds_region && cfg->rds_region[0] == '\0')
		return s_fail(err, errlen, "--rds-region is empty: give an AWS region such as us-east-1");
	if (cfg->n_sinks == 0)
		cfg->sinks[cfg->n_sinks++] = strdup("kinesis");
	for (i = 0; i < cfg->n_sinks; i++)
		if (strcmp(cfg->sinks[i], "kinesis") == 0)
			kinesis = true;
	if (kinesis)
	{
		if (cfg->stream == NULL)
			return s_fail(err, errlen, "no Kinesis stream: set --stream or EVENTRELAY_STREAM");
		if (cfg->region == NULL)
			return s_fail(err, errlen, "no AWS region: set --region or AWS_REGION");
	}
	if (cfg->pgoutput)
	{
		/* the slot's plugin is pgoutput; another --plugin would be a slot of another kind */
		if (strcmp(cfg->plugin, "eventstore") != 0 && strcmp(cfg->plugin, "pgoutput") != 0)
			return s_fail(err, errlen, "--decoder pgoutput reads slots of plugin pgoutput, not %s",
						  cfg->plugin);
		s_set(&cfg->plugin, "pgoutput");
		if (cfg->publication == NULL)
			s_set(&cfg->publication, "eventstore_events");
	}
	else if (cfg->publication)
		return s_fail(err, errlen, "--publication is for --decoder pgoutput");
	if (cfg->max_record_bytes > cfg->max_batch_bytes)
		return s_fail(err, errlen,
					  "--max-record-bytes (%zu) is larger than --max-batch-bytes (%zu)",
					  cfg->max_record_bytes, cfg->max_batch_bytes);
	if (cfg->backfill && (!cfg->create_slot || !cfg->state_file))
		return s_fail(err, errlen,
					  "--backfill needs --create-slot and --state-file (the backfill's progress "
					  "is kept there so that it resumes after a crash)");
	if (cfg->backfill && cfg->standby)
		return s_fail(err, errlen,
					  "--backfill cannot be used with --standby: the backfill's progress is in "
					  "this relay's state file, and a peer taking over the slot could not finish "
					  "it; backfill with one relay, then start the pair");
	if ((cfg->backfill_since || cfg->backfill_aggregate_types || cfg->backfill_rate) &&
		!cfg->backfill)
		return s_fail(err, errlen, "--backfill-since, -aggregate-types and -rate need --backfill");
	if (cfg->repair_slot && !cfg->state_file)
		return s_fail(
			err, errlen,
			"--repair-slot needs --state-file (the position to repair from is kept there)");
	if (cfg->retry_max_ms < cfg->retry_base_ms)
		return s_fail(err, errlen, "--retry-max-ms is smaller than --retry-base-ms");
	for (i = 0; i < cfg->n_sink_opts; i++)
	{
		const char *dash = strchr(cfg->sink_opts[i].key, '-');
		size_t len = (size_t) (dash - cfg->sink_opts[i].key);
		int j;
		bool used = false;

		const sink_type *t = sink_type_find(cfg->sink_opts[i].key, len);
		const char *o = t ? t->options : NULL;
		size_t klen = strlen(cfg->sink_opts[i].key);
		bool known = false;

		while (o && *o)
		{
			size_t olen = strcspn(o, " ");

			if (olen == klen && strncmp(o, cfg->sink_opts[i].key, klen) == 0)
				known = true;
			o += olen;
			o += strspn(o, " ");
		}
		if (!known)
			return s_fail(err, errlen, "unknown option --%s (see --help)", cfg->sink_opts[i].key);
		for (j = 0; j < cfg->n_sinks; j++)
			if (strlen(cfg->sinks[j]) == len &&
				strncmp(cfg->sinks[j], cfg->sink_opts[i].key, len) == 0)
				used = true;
		if (also_used && strlen(also_used) == len &&
			strncmp(also_used, cfg->sink_opts[i].key, len) == 0)
			used = true;
		if (!used)
			return s_fail(err, errlen, "option --%s given but sink \"%.*s\" is not selected",
						  cfg->sink_opts[i].key, (int) len, cfg->sink_opts[i].key);
	}
	return 0;
}

/* Is argv[*i] one of ext's flags?  Then apply it (advancing *i past its value): 1, or -1. */
static int
s_ext_flag(const config_ext *ext, int argc, char **argv, int *i, char *err, size_t errlen)
{
	const char *a = argv[*i] + 2;
	const config_flag *f;

	for (f = ext ? ext->flags : NULL; f && f->name; f++)
	{
		size_t n = strlen(f->name);
		const char *v;

		if (strncmp(a, f->name, n) != 0 || (a[n] != '\0' && a[n] != '='))
			continue;
		if (f->no_value && a[n] == '=')
			return s_fail(err, errlen, "option --%s takes no value", f->name);
		if (f->no_value)
			v = "";
		else if (a[n] == '=')
			v = a + n + 1;
		else if (*i + 1 < argc)
			v = argv[++*i];
		else
			return s_fail(err, errlen, "option --%s needs a value", f->name);
		return ext->apply(ext->ctx, f->name, v, err, errlen) < 0 ? -1 : 1;
	}
	return 0;
}

int
config_parse(relay_config *cfg, int argc, char **argv, char *err, size_t errlen)
{
	return config_parse_ext(cfg, argc, argv, NULL, err, errlen);
}

int
config_parse_ext(relay_config *cfg, int argc, char **argv, const config_ext *ext, char *err,
				 size_t errlen)
{
	bool sink_given, dl_given = config_env("EVENTRELAY_DEAD_LETTER") != NULL;
	const config_flag *f;
	struct option longopts[64];
	char shortopts[64] = "+:";
	char **av;
	int ac = 0, i, n = 0, c, env_sinks;

	s_defaults(cfg);
	for (f = ext ? ext->flags : NULL; f && f->name; f++)
	{
		const char *v = f->env ? config_env(f->env) : NULL;

		if (v && ext->apply(ext->ctx, f->name, v, err, errlen) < 0)
		{
			char tmp[512];

			snprintf(tmp, sizeof(tmp), "%s (from %s)", err, f->env);
			snprintf(err, errlen, "%s", tmp);
			return -1;
		}
	}
	if (s_apply_env(cfg, err, errlen) < 0)
		return -1;
	sink_given = cfg->n_sinks > 0;

	/* Pull out the subcommand's flags and --<sink>-<opt>[=]VALUE for registered sinks. */
	av = calloc((size_t) argc + 1, sizeof(char *));
	if (av == NULL)
		return s_fail(err, errlen, "out of memory");
	for (i = 0; i < argc; i++)
	{
		const char *a = argv[i];

		if (i > 0 && strncmp(a, "--", 2) == 0 && a[2])
		{
			const char *name = a + 2;
			int r = s_ext_flag(ext, argc, argv, &i, err, errlen);

			if (r != 0)
			{
				if (r < 0)
				{
					free(av);
					return -1;
				}
				continue;
			}
			size_t nlen = strcspn(name, "=");
			const char *dash = memchr(name, '-', nlen);

			if (!s_is_known(name, nlen) && dash &&
				sink_type_find(name, (size_t) (dash - name)) != NULL)
			{
				const char *val =
					name[nlen] == '=' ? name + nlen + 1 : (i + 1 < argc ? argv[++i] : NULL);

				if (val == NULL)
				{
					free(av);
					return s_fail(err, errlen, "option --%.*s needs a value", (int) nlen, name);
				}
				if (s_kv_add(cfg->sink_opts, &cfg->n_sink_opts, name, nlen, val, err, errlen) < 0)
				{
					free(av);
					return -1;
				}
				continue;
			}
		}
		av[ac++] = argv[i];
	}

	for (i = 0; opts[i].name; i++)
	{
		longopts[n++] = (struct option){
			opts[i].name, opts[i].has_arg ? required_argument : no_argument, NULL, opts[i].id};
		if (opts[i].id < 256)
		{
			size_t l = strlen(shortopts);

			shortopts[l] = (char) opts[i].id;
			shortopts[l + 1] = opts[i].has_arg ? ':' : '\0';
			shortopts[l + 2] = '\0';
		}
	}
	longopts[n] = (struct option){NULL, 0, NULL, 0};

	/*
	 * 0, not 1: glibc's full reset.  With 1, a parse that returned in the
	 * middle of a cluster of short options ("-VS") left getopt pointing
	 * into the old argv, and the next config_parse read it (a freed string
	 * in the tests and the fuzz target).
	 */
	optind = 0;
	opterr = 0;
	env_sinks = cfg->n_sinks;
	while ((c = getopt_long(ac, av, shortopts, longopts, NULL)) != -1)
	{
		if (c == OPT_SINK && env_sinks > 0)
		{
			/* --sink flags replace EVENTRELAY_SINK instead of adding to it */
			for (i = 0; i < env_sinks; i++)
				free(cfg->sinks[i]);
			cfg->n_sinks = env_sinks = 0;
		}
		if (c == OPT_HELP)
		{
			free(av);
			if (ext && ext->usage)
				fputs(ext->usage, stdout);
			config_usage(stdout);
			return 1;
		}
		if (c == OPT_SINK)
			sink_given = true;
		if (c == OPT_DEAD_LETTER)
			dl_given = true;
		if (c == OPT_VERSION)
		{
			free(av);
			printf("eventrelay %s\n", RELAY_VERSION);
			return 1;
		}
		if (c == '?' || c == ':')
		{
			const char *bad = av[optind - 1];

			free(av);
			if (c == ':')
				return s_fail(err, errlen, "option %s needs a value", bad);
			return s_fail(err, errlen, "unknown option %s (see --help)", bad);
		}
		if (s_apply(cfg, c, optarg, err, errlen) < 0)
		{
			free(av);
			return -1;
		}
	}
	if (optind < ac)
	{
		s_fail(err, errlen, "unexpected argument \"%s\" (see --help)", av[optind]);
		free(av);
		return -1;
	}
	free(av);
	if (ext && ext->defaults && ext->defaults(ext->ctx, cfg, sink_given, dl_given, err, errlen) < 0)
		return -1;
	return s_validate(cfg, ext ? ext->also_used : NULL, err, errlen);
}

const char *
config_sink_opt(const relay_config *cfg, const char *key)
{
	int i;

	for (i = 0; i < cfg->n_sink_opts; i++)
		if (strcmp(cfg->sink_opts[i].key, key) == 0)
			return cfg->sink_opts[i].value;
	return NULL;
}

void
config_free(relay_config *cfg)
{
	int i;

	free(cfg->dbname);
	free(cfg->slot);
	free(cfg->plugin);
	free(cfg->publication);
	free(cfg->end_lsn);
	free(cfg->state_file);
	free(cfg->backfill_since);
	free(cfg->backfill_aggregate_types);
	free(cfg->aggregate_types);
	free(cfg->event_types);
	for (i = 0; i < cfg->n_plugin_opts; i++)
	{
		free(cfg->plugin_opts[i].key);
		free(cfg->plugin_opts[i].value);
	}
	for (i = 0; i < cfg->n_sinks; i++)
		free(cfg->sinks[i]);
	for (i = 0; i < cfg->n_sink_opts; i++)
	{
		free(cfg->sink_opts[i].key);
		free(cfg->sink_opts[i].value);
	}
	free(cfg->dead_letter);
	free(cfg->stream);
	free(cfg->region);
	free(cfg->rds_region);
	free(cfg->endpoint);
	free(cfg->ca_bundle);
	free(cfg->metrics_address);
	free(cfg->metrics_emf_namespace);
	memset(cfg, 0, sizeof(*cfg));
}
