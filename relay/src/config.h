/*
 * config.h
 *		The relay's configuration: command-line flags over environment
 *		variables over defaults, validated in one place.  A configuration
 *		error is one line on stderr and exit code 2 (EXIT_CONFIG).
 *
 * Sinks other than the built-in ones take their own options as
 * --<sink>-<name>=VALUE (for instance --s3-bucket=b); config_parse keeps
 * every such option whose prefix names a sink in the registry (sink.h) in
 * cfg->sink_opts, and the sink's constructor validates them.
 */
#ifndef RELAY_CONFIG_H
#define RELAY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define EXIT_CONFIG		 2 /* bad flags/variables, unknown stream, bad credentials */
#define EXIT_SLOT		 3 /* replication slot missing, recreated or invalidated */
#define CONFIG_MAX_SINKS 4

/* --slot-failover */
#define CONFIG_FAILOVER_CREATE 0 /* new slots are failover slots; warn about an old one */
#define CONFIG_FAILOVER_ALTER  1 /* also make an existing slot a failover slot */
#define CONFIG_FAILOVER_OFF	   2 /* plain slots */

#define CONFIG_MAX_OPTS 32

typedef struct config_kv
{
	char *key;
	char *value;
} config_kv;

typedef struct relay_config
{
	/* source */
	char *dbname; /* libpq connection string or dbname */
	char *slot;
	bool create_slot;
	char *plugin;
	bool pgoutput;	   /* --decoder pgoutput: read a publication through pgoutput */
	char *publication; /* --publication (pgoutput) */
	bool any_origin;   /* --origin any (pgoutput): also changes replicated in from elsewhere */
	char *aggregate_types;
	char *event_types;
	config_kv plugin_opts[CONFIG_MAX_OPTS];
	int n_plugin_opts;
	int status_interval_ms;
	int reconnect_max_ms;
	char *end_lsn;					/* stop once everything up to here is confirmed */
	char *state_file;				/* remembers the confirmed position across restarts */
	bool accept_slot_position;		/* take the slot's position even if it moved */
	bool rds_iam_auth;				/* password: a fresh RDS IAM token per connection */
	char *rds_region;				/* region of the token (default: region) */
	bool rds_iam_weak_tls;			/* allow IAM tokens over sslmode below verify-full */
	bool backfill;					/* publish the existing events when creating the slot */
	char *backfill_since;			/* only from an aggregate's first event recorded at or after */
	char *backfill_aggregate_types; /* only these aggregate types (besides --aggregate-types) */
	int backfill_rate;				/* events per second, 0 = as fast as the sinks take them */
	bool repair_slot;				/* recreate a lost slot and re-publish from the table */
	bool standby;					/* another relay may stream the slot and move it */
	int slot_failover;				/* CONFIG_FAILOVER_*: failover slots on PostgreSQL 17+ */
	int wal_check_interval_ms;		/* WAL safety poll of the slot (0 = off) */

	/* sinks */
	char *sinks[CONFIG_MAX_SINKS];
	int n_sinks;
	config_kv sink_opts[CONFIG_MAX_OPTS]; /* --<sink>-<opt> of registered sinks */
	int n_sink_opts;
	char *dead_letter; /* path (or URI handled by sink_deadletter.c) */
	size_t max_buffer_bytes;

	/* kinesis */
	char *stream;
	char *region;
	char *endpoint;
	char *ca_bundle;
	int max_batch_records;
	size_t max_batch_bytes;
	size_t max_record_bytes;
	int linger_ms;
	int max_in_flight;		 /* PutRecords requests at once */
	int max_records_per_key; /* consecutive events of one key per request */
	int retry_base_ms;
	int retry_max_ms;
	int request_timeout_ms;

	/* operations */
	int metrics_port; /* 0 = off */
	char *metrics_address;
	int metrics_emf_interval_ms; /* CloudWatch EMF lines on stderr (0 = off) */
	char *metrics_emf_namespace;
	int log_level;
	int shutdown_timeout_ms;
} relay_config;

/*
 * Parse argv (after the subcommand) and the environment into cfg.  Returns
 * 0 on success, 1 if --help/--version was printed, -1 on a configuration
 * error (message in err, one line).
 */
int config_parse(relay_config *cfg, int argc, char **argv, char *err, size_t errlen);

/*
 * A subcommand's own flags (`eventrelay dynamodb --input=...`), parsed by the
 * same engine as the relay's: --name=VALUE or --name VALUE, each with an
 * environment variable read when the flag is absent.  defaults() (may be
 * NULL) runs after every flag, to choose the subcommand's defaults for the
 * relay's options (which sink, which dead letter) where none was given; 0 or
 * -1 with err.
 */
typedef struct config_flag
{
	const char *name; /* without "--" */
	const char *env;  /* or NULL */
	bool no_value;	  /* a switch: apply() gets "" */
} config_flag;

typedef struct config_ext
{
	const config_flag *flags; /* ends with {NULL, NULL} */
	int (*apply)(void *ctx, const char *name, const char *value, char *err, size_t errlen);
	int (*defaults)(void *ctx, relay_config *cfg, bool sink_given, bool dead_letter_given,
					char *err, size_t errlen);
	const char *usage; /* printed before the relay's options by --help */
	void *ctx;
	/* a sink type whose --<type>-* options the subcommand reads itself (replay: "s3") */
	const char *also_used;
} config_ext;

int config_parse_ext(relay_config *cfg, int argc, char **argv, const config_ext *ext, char *err,
					 size_t errlen);

/* An integer flag value in [min, max], with k/M/G suffixes if allow_suffix. */
int config_number(const char *name, const char *s, long long min, long long max, bool allow_suffix,
				  long long *out, char *err, size_t errlen);
void config_usage(FILE *out);
void config_free(relay_config *cfg);
/* Look up a --<sink>-<opt> value ("s3-bucket"); NULL if not given. */
const char *config_sink_opt(const relay_config *cfg, const char *key);
/* Read an environment variable, treating "" as unset. */
const char *config_env(const char *name);

#endif
