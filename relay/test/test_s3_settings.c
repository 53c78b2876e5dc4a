/*
 * test_s3_settings.c
 *		Where the archive is: --s3-* flags over the environment over
 *		defaults, sizes and durations, and the errors for bad values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "s3_settings.h"

static int
resolve(char **argv, int argc, s3_settings *st, char *err, size_t errlen)
{
	relay_config cfg;
	int rc;

	if (config_parse(&cfg, argc, argv, err, errlen) != 0)
	{
		config_free(&cfg);
		return -2;
	}
	rc = s3_settings_resolve(&cfg, st, true, err, errlen);
	config_free(&cfg);
	return rc;
}

static void
clear_env(void)
{
	unsetenv("EVENTRELAY_S3_BUCKET");
	unsetenv("EVENTRELAY_S3_PREFIX");
	unsetenv("AWS_ENDPOINT_URL_S3");
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	unsetenv("EVENTRELAY_SINK");
}

static void
test_defaults_and_env(void **state)
{
	s3_settings st;
	char err[256];
	char *argv[] = {"run", "--sink=s3", NULL};

	(void) state;
	clear_env();
	setenv("EVENTRELAY_S3_BUCKET", "env-bucket", 1);
	setenv("AWS_REGION", "eu-west-1", 1);
	assert_int_equal(resolve(argv, 2, &st, err, sizeof(err)), 0);
	assert_string_equal(st.bucket, "env-bucket");
	assert_string_equal(st.prefix, "events");
	assert_string_equal(st.region, "eu-west-1");
	assert_string_equal(st.endpoint, "");
	assert_false(st.path_style);
	assert_int_equal(st.max_object_bytes, 5 * 1024 * 1024);
	assert_int_equal(st.max_object_age_ms, 300000);

	/* an endpoint: S3's own variable first, and path-style */
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1/", 1);
	setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:2/", 1);
	assert_int_equal(resolve(argv, 2, &st, err, sizeof(err)), 0);
	assert_string_equal(st.endpoint, "http://127.0.0.1:2");
	assert_true(st.path_style);
	clear_env();
}

static void
test_flags_win(void **state)
{
	s3_settings st;
	char err[256];
	char *argv[] = {"run",
					"--sink=s3",
					"--s3-bucket=b",
					"--s3-prefix=/archive/pg",
					"--region=us-east-1",
					"--s3-region=eu-central-1",
					"--s3-endpoint-url=https://s3.example",
					"--s3-path-style=false",
					"--s3-max-object-bytes=64M",
					"--s3-max-object-age=2m",
					"--s3-multipart-threshold=5M",
					"--s3-part-size=6MiB",
					NULL};

	(void) state;
	clear_env();
	setenv("EVENTRELAY_S3_BUCKET", "env-bucket", 1);
	assert_int_equal(resolve(argv, 12, &st, err, sizeof(err)), 0);
	assert_string_equal(st.bucket, "b");
	assert_string_equal(st.prefix, "archive/pg"); /* no leading slash in keys */
	assert_string_equal(st.region, "eu-central-1");
	assert_string_equal(st.endpoint, "https://s3.example");
	assert_false(st.path_style);
	assert_int_equal(st.max_object_bytes, 64 * 1024 * 1024);
	assert_int_equal(st.max_object_age_ms, 120000);
	assert_int_equal(st.multipart_threshold, 5 * 1024 * 1024);
	assert_int_equal(st.part_size, 6 * 1024 * 1024);
	clear_env();
}

static void
test_errors(void **state)
{
	s3_settings st;
	char err[256];
	char *nobucket[] = {"run", "--sink=s3", "--region=us-east-1", NULL};
	char *noregion[] = {"run", "--sink=s3", "--s3-bucket=b", NULL};
	char *badage[] = {"run", "--sink=s3", "--s3-bucket=b", "--region=r", "--s3-max-object-age=soon",
					  NULL};
	char *smallpart[] = {"run",		   "--sink=s3",			"--s3-bucket=b",
						 "--region=r", "--s3-part-size=1M", NULL};
	char *badurl[] = {
		"run", "--sink=s3", "--s3-bucket=b", "--region=r", "--s3-endpoint-url=localhost:9000",
		NULL};
	char *unknown[] = {"run", "--sink=s3", "--s3-bucket=b", "--s3-colour=red", NULL};
	char *notsel[] = {"run", "--sink=stdout", "--s3-bucket=b", NULL};

	(void) state;
	clear_env();
	assert_int_equal(resolve(nobucket, 3, &st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--s3-bucket"));
	assert_int_equal(resolve(noregion, 3, &st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "region"));
	assert_int_equal(resolve(badage, 5, &st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--s3-max-object-age"));
	assert_int_equal(resolve(smallpart, 5, &st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "5M"));
	assert_int_equal(resolve(badurl, 5, &st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "http://"));
	/* the relay's parser rejects unknown --s3-* options and unselected sinks */
	assert_int_equal(resolve(unknown, 4, &st, err, sizeof(err)), -2);
	assert_non_null(strstr(err, "--s3-colour"));
	assert_int_equal(resolve(notsel, 3, &st, err, sizeof(err)), -2);
}

static void
test_parsers(void **state)
{
	size_t n;
	int64_t ms;

	(void) state;
	assert_int_equal(s3_parse_size("5M", &n), 0);
	assert_int_equal(n, 5 * 1024 * 1024);
	assert_int_equal(s3_parse_size("512k", &n), 0);
	assert_int_equal(n, 512 * 1024);
	assert_int_equal(s3_parse_size("1GiB", &n), 0);
	assert_int_equal(n, (size_t) 1 << 30);
	assert_int_equal(s3_parse_size("12", &n), 0);
	assert_int_equal(n, 12);
	assert_int_equal(s3_parse_size("-1", &n), -1);
	assert_int_equal(s3_parse_size("5X", &n), -1);
	assert_int_equal(s3_parse_duration("300", &ms), 0);
	assert_int_equal(ms, 300000);
	assert_int_equal(s3_parse_duration("500ms", &ms), 0);
	assert_int_equal(ms, 500);
	assert_int_equal(s3_parse_duration("1.5s", &ms), 0);
	assert_int_equal(ms, 1500);
	assert_int_equal(s3_parse_duration("1h", &ms), 0);
	assert_int_equal(ms, 3600000);
	assert_int_equal(s3_parse_duration("1d", &ms), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_env),
		cmocka_unit_test(test_flags_win),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_parsers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
