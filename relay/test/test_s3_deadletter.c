/*
 * test_s3_deadletter.c
 *		The s3:// dead-letter destination against a canned HTTP server: the
 *		key (hour of the event, position, seq, content hash), a create-only
 *		write, the retry of a transient failure, and the same record set
 *		aside twice landing on the same key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "config.h"
#include "sink_deadletter.h"
#include "th_util.h"

static void
test_s3_dead_letter(void **state)
{
	th_http *srv = th_http_start();
	relay_config cfg;
	deadletter *dl;
	char ep[80], err[512], key1[256];
	char *argv[] = {"run", "--sink=stdout", "--region=us-east-1", NULL};
	const char data[] =
		"{\"aggregate_id\":\"a\",\"source\":{\"commit_time\":\"2026-11-23T09:14:03Z\"}}";
	relay_event ev = {data, sizeof(data) - 1, "a", 1, 0x16B3780, 2, 0};
	const char *r, *sp;

	(void) state;
	setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", th_http_port(srv));
	setenv("AWS_ENDPOINT_URL_S3", ep, 1);
	assert_int_equal(config_parse(&cfg, 3, argv, err, sizeof(err)), 0);
	dl = deadletter_open("s3://dlq-bucket/rejected", &cfg, err, sizeof(err));
	if (dl == NULL)
		fail_msg("%s", err);

	th_http_push(srv, 500, "", "<Error><Code>InternalError</Code></Error>");
	th_http_push(srv, 200, "", "");
	assert_int_equal(
		deadletter_put(dl, "kinesis", &ev, "record larger than 1048576 bytes", err, sizeof(err)),
		0);
	assert_int_equal(th_http_count(srv), 2);
	assert_int_equal(dl->count, 1);
	r = th_http_request(srv, 1);
	assert_non_null(strstr(r, "PUT /dlq-bucket/rejected/2026/11/23/09/00000000016B3780-2-"));
	assert_non_null(strcasestr(r, "if-none-match: *"));
	assert_non_null(strcasestr(r, "content-type: application/json"));
	assert_non_null(strstr(r, "\"reason\":\"record larger than 1048576 bytes\""));
	assert_non_null(strstr(r, "\"pos\":\"0/16B3780\",\"seq\":2"));
	sp = strchr(r + 4, ' ');
	snprintf(key1, sizeof(key1), "%.*s", (int) (sp - r), r);

	/* the same record again (after a crash): same key, found, same bytes */
	th_http_push(srv, 412, "", "<Error><Code>PreconditionFailed</Code></Error>");
	{
		const char *body = strstr(r, "\r\n\r\n") + 4;

		th_http_push(srv, 200, "", body);
	}
	assert_int_equal(
		deadletter_put(dl, "kinesis", &ev, "record larger than 1048576 bytes", err, sizeof(err)),
		0);
	assert_int_equal(strncmp(th_http_request(srv, 2), key1, strlen(key1)), 0);

	deadletter_free(dl);
	config_free(&cfg);
	unsetenv("AWS_ENDPOINT_URL_S3");
	th_http_stop(srv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_s3_dead_letter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
