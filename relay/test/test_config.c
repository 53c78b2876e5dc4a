/*
 * test_config.c
 *		Flag and environment parsing: defaults, precedence (flags over
 *		variables), limits, several sinks, per-sink options, and one-line
 *		errors for what is wrong.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

static int
parse(relay_config *cfg, char *err, const char *first, ...)
{
	char *argv[64];
	int argc = 0;
	va_list ap;
	const char *a;

	argv[argc++] = "eventrelay";
	va_start(ap, first);
	for (a = first; a; a = va_arg(ap, const char *))
		argv[argc++] = (char *) a;
	va_end(ap);
	argv[argc] = NULL;
	return config_parse(cfg, argc, argv, err, 256);
}

static int
setup(void **state)
{
	(void) state;
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_KINESIS");
	unsetenv("EVENTRELAY_STREAM");
	unsetenv("EVENTRELAY_SINK");
	unsetenv("EVENTRELAY_SLOT");
	unsetenv("EVENTRELAY_DECODER");
	unsetenv("EVENTRELAY_PUBLICATION");
	unsetenv("EVENTRELAY_ORIGIN");
	return 0;
}

static void
test_defaults(void **state)
{
	relay_config c;
	char err[256];

	(void) state;
	assert_int_equal(parse(&c, err, "--stream", "s", "--region", "eu-west-1", NULL), 0);
	assert_int_equal(c.n_sinks, 1);
	assert_string_equal(c.sinks[0], "kinesis");
	assert_string_equal(c.slot, "eventrelay");
	assert_int_equal(c.max_batch_records, 500);
	assert_int_equal(c.max_batch_bytes, 5 * 1024 * 1024);
	assert_int_equal(c.max_record_bytes, 1024 * 1024);
	assert_int_equal(c.status_interval_ms, 10000);
	assert_null(c.endpoint);
	config_free(&c);
}

static void
test_env_and_precedence(void **state)
{
	relay_config c;
	char err[256];

	(void) state;
	setenv("AWS_REGION", "us-west-2", 1);
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1", 1);
	setenv("AWS_ENDPOINT_URL_KINESIS", "http://127.0.0.1:2", 1);
	setenv("EVENTRELAY_STREAM", "from-env", 1);
	setenv("EVENTRELAY_SINK", "stdout", 1);
	assert_int_equal(parse(&c, err, "--stream", "from-flag", NULL), 0);
	assert_string_equal(c.region, "us-west-2");
	assert_string_equal(c.endpoint, "http://127.0.0.1:2"); /* the service-specific one wins */
	assert_string_equal(c.stream, "from-flag");
	assert_int_equal(c.n_sinks, 1);
	assert_string_equal(c.sinks[0], "stdout");
	config_free(&c);
	/* --sink replaces EVENTRELAY_SINK */
	assert_int_equal(parse(&c, err, "--sink", "kinesis", "--sink", "stdout", NULL), 0);
	assert_int_equal(c.n_sinks, 2);
	assert_string_equal(c.sinks[0], "kinesis");
	config_free(&c);
	setup(NULL);
}

static void
test_sizes_and_limits(void **state)
{
	relay_config c;
	char err[256];

	(void) state;
	assert_int_equal(parse(&c, err, "--sink", "stdout", "--max-record-bytes", "10M",
						   "--max-batch-bytes", "20MiB", "--linger-ms", "5", NULL),
					 0);
	assert_int_equal(c.max_record_bytes, 10 * 1024 * 1024);
	assert_int_equal(c.max_batch_bytes, 20 * 1024 * 1024);
	assert_int_equal(c.linger_ms, 5);
	config_free(&c);
	assert_int_equal(parse(&c, err, "--sink", "stdout", "--max-batch-records", "501", NULL), -1);
	assert_non_null(strstr(err, "out of range"));
	config_free(&c);
	assert_int_equal(parse(&c, err, "--sink", "stdout", "--max-record-bytes", "6M", NULL), -1);
	assert_non_null(strstr(err, "larger than --max-batch-bytes"));
	config_free(&c);
	assert_int_equal(parse(&c, err, "--sink", "stdout", "--linger-ms", "abc", NULL), -1);
	config_free(&c);
}

static void
test_errors(void **state)
{
	relay_config c;
	char err[256];

	(void) state;
	assert_int_equal(parse(&c, err, "--region", "x", NULL), -1);
	assert_non_null(strstr(err, "--stream"));
	config_free(&c);
	assert_int_equal(parse(&c, err, "--stream", "x", NULL), -1);
	assert_non_null(strstr(err, "region"));
	config_free(&c);
	assert_int_equal(parse(&c, err, "--sink", "kafka", NULL), -1);
	assert_non_null(strstr(err, "unknown sink"));
	config_free(&c);
	assert_int_equal(parse(&c, err, "--sink", "stdout", "--frobnicate", NULL), -1);
	assert_non_null(strstr(err, "unknown option"));
	assert_null(strchr(err, '\n'));
	config_free(&c);
	assert_int_equal(parse(&c, err, "--sink", "stdout", "--slot", "Bad-Name", NULL), -1);
	config_free(&c);
	assert_int_equal(parse(&c, err, "--sink", "stdout", "--stdout-nonsense=1", NULL), -1);
	config_free(&c);
	assert_int_equal(parse(&c, err, "--sink", "stdout", "--endpoint-url", "ftp://x", NULL), -1);
	config_free(&c);
	assert_int_equal(parse(&c, err, "--sink", "stdout", "extra", NULL), -1);
	config_free(&c);
}

static void
test_plugin_options(void **state)
{
	relay_config c;
	char err[256];

	(void) state;
	assert_int_equal(parse(&c, err, "--sink=stdout", "--aggregate-types=cart,order",
						   "--plugin-option", "include-xids=off", "-S", "my_slot", "--create-slot",
						   NULL),
					 0);
	assert_string_equal(c.aggregate_types, "cart,order");
	assert_int_equal(c.n_plugin_opts, 1);
	assert_string_equal(c.plugin_opts[0].key, "include-xids");
	assert_string_equal(c.plugin_opts[0].value, "off");
	assert_string_equal(c.slot, "my_slot");
	assert_true(c.create_slot);
	config_free(&c);
}

/* --decoder pgoutput: the slot's plugin, the publication's default, --origin; errors. */
static void
test_decoder(void **state)
{
	relay_config c;
	char err[256];

	(void) state;
	assert_int_equal(parse(&c, err, "--sink=stdout", NULL), 0);
	assert_false(c.pgoutput);
	assert_string_equal(c.plugin, "eventstore");
	assert_null(c.publication);
	config_free(&c);
	assert_int_equal(parse(&c, err, "--sink=stdout", "--decoder", "pgoutput", NULL), 0);
	assert_true(c.pgoutput);
	assert_string_equal(c.plugin, "pgoutput");
	assert_string_equal(c.publication, "eventstore_events");
	assert_false(c.any_origin);
	config_free(&c);
	setenv("EVENTRELAY_DECODER", "pgoutput", 1);
	setenv("EVENTRELAY_PUBLICATION", "carts", 1);
	assert_int_equal(parse(&c, err, "--sink=stdout", "--origin=any", NULL), 0);
	assert_true(c.pgoutput);
	assert_string_equal(c.publication, "carts");
	assert_true(c.any_origin);
	config_free(&c);
	/* the flag wins over the environment */
	assert_int_equal(parse(&c, err, "--sink=stdout", "--decoder=eventstore", NULL), -1);
	assert_non_null(strstr(err, "--publication is for --decoder pgoutput"));
	unsetenv("EVENTRELAY_PUBLICATION");
	assert_int_equal(parse(&c, err, "--sink=stdout", "--decoder=eventstore", NULL), 0);
	assert_false(c.pgoutput);
	config_free(&c);
	unsetenv("EVENTRELAY_DECODER");
	assert_int_equal(parse(&c, err, "--sink=stdout", "--decoder=wal2json", NULL), -1);
	assert_non_null(strstr(err, "invalid --decoder \"wal2json\""));
	assert_int_equal(parse(&c, err, "--sink=stdout", "--decoder=pgoutput", "--origin=local", NULL),
					 -1);
	assert_non_null(strstr(err, "--origin"));
	assert_int_equal(
		parse(&c, err, "--sink=stdout", "--decoder=pgoutput", "--plugin=wal2json", NULL), -1);
	assert_non_null(strstr(err, "not wal2json"));
}

/* --backfill: its companions, and no --standby (a peer could not finish it). */
static void
test_backfill(void **state)
{
	relay_config c;
	char err[256];

	(void) state;
	assert_int_equal(parse(&c, err, "--sink=stdout", "--backfill", "--create-slot", "--state-file",
						   "/tmp/x", "--backfill-rate", "500", NULL),
					 0);
	assert_true(c.backfill);
	assert_int_equal(c.backfill_rate, 500);
	config_free(&c);
	assert_int_equal(parse(&c, err, "--sink=stdout", "--backfill", "--state-file", "/tmp/x", NULL),
					 -1);
	assert_non_null(strstr(err, "--backfill needs --create-slot and --state-file"));
	assert_int_equal(parse(&c, err, "--sink=stdout", "--backfill", "--create-slot", "--state-file",
						   "/tmp/x", "--standby", NULL),
					 -1);
	assert_non_null(strstr(err, "--backfill cannot be used with --standby"));
	assert_int_equal(parse(&c, err, "--sink=stdout", "--backfill-rate", "5", NULL), -1);
	assert_non_null(strstr(err, "need --backfill"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_defaults, setup),
		cmocka_unit_test_setup(test_env_and_precedence, setup),
		cmocka_unit_test_setup(test_sizes_and_limits, setup),
		cmocka_unit_test_setup(test_errors, setup),
		cmocka_unit_test_setup(test_plugin_options, setup),
		cmocka_unit_test_setup(test_decoder, setup),
		cmocka_unit_test_setup(test_backfill, setup),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
