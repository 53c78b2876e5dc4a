/*
 * test_kinesis.c
 *		The Kinesis sink against a canned HTTP server: request shape and
 *		signature headers, retry of only the failed records of a partial
 *		failure, isolation of an invalid record into the dead letter, the
 *		record-size limit, a configuration error that stops the relay, and
 *		(with runs of one aggregate per request, several requests in flight)
 *		the re-send of a run's tail after a failure inside it.
 *		The linger is long, so that nothing is sent before drain(): the
 *		batches are then the same on every run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "sink_deadletter.h"
#include "sink.h"
#include "th_util.h"

typedef struct fixture
{
	th_http *srv;
	relay_config cfg;
	deadletter *dl;
	sink *s;
	char dlpath[64];
} fixture;

static int
setup_with(void **state, const char *per_key)
{
	fixture *f = calloc(1, sizeof(*f));
	char url[64], err[256];
	char *argv[] = {"eventrelay",
					"--stream",
					"orders",
					"--region",
					"us-east-1",
					"--endpoint-url",
					url,
					"--linger-ms",
					"60000",
					"--retry-base-ms",
					"1",
					"--retry-max-ms",
					"2",
					"--max-record-bytes",
					"1024",
					"--max-records-per-key",
					(char *) per_key,
					"--max-in-flight",
					"3",
					NULL};

	setenv("AWS_ACCESS_KEY_ID", "AKIDTEST", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_KINESIS");
	f->srv = th_http_start();
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", th_http_port(f->srv));
	assert_int_equal(config_parse(&f->cfg, 19, argv, err, sizeof(err)), 0);
	strcpy(f->dlpath, "/tmp/test_kinesis_dl.XXXXXX");
	close(mkstemp(f->dlpath));
	f->dl = deadletter_open(f->dlpath, &f->cfg, err, sizeof(err));
	assert_non_null(f->dl);
	f->s = sink_open("kinesis", &f->cfg, f->dl, err, sizeof(err));
	assert_non_null(f->s);
	*state = f;
	return 0;
}

static int
setup(void **state)
{
	return setup_with(state, "1");
}

/* Runs of up to 10 events of one aggregate per request. */
static int
setup_runs(void **state)
{
	return setup_with(state, "10");
}

static int
teardown(void **state)
{
	fixture *f = *state;

	f->s->ops->free(f->s);
	deadletter_free(f->dl);
	unlink(f->dlpath);
	th_http_stop(f->srv);
	config_free(&f->cfg);
	free(f);
	return 0;
}

static void
put(fixture *f, const char *key, int version, uint64_t pos)
{
	char data[128], err[256];
	relay_event ev;

	snprintf(data, sizeof(data), "{\"aggregate_id\":\"%s\",\"version\":%d}", key, version);
	ev.data = data;
	ev.len = strlen(data);
	ev.key = key;
	ev.key_len = strlen(key);
	ev.pos = pos;
	ev.seq = 0;
	ev.commit_time = 0;
	assert_int_equal(f->s->ops->put(f->s, &ev, err, sizeof(err)), 0);
}

static void
test_request_and_partial_failure(void **state)
{
	fixture *f = *state;
	char err[256];
	const char *r0;

	put(f, "A", 1, 100);
	put(f, "B", 1, 100);
	put(f, "A", 2, 100);
	assert_int_equal(f->s->ops->commit(f->s, 100, err, sizeof(err)), 0);
	/* first request: A1 B1; B1 throttled */
	th_http_push(
		f->srv, 200, "",
		"{\"FailedRecordCount\":1,\"Records\":[{\"SequenceNumber\":\"1\",\"ShardId\":\"s\"},"
		"{\"ErrorCode\":\"ProvisionedThroughputExceededException\",\"ErrorMessage\":\"slow "
		"down\"}]}");
	/* then A2 and B1 together */
	th_http_push(
		f->srv, 200, "",
		"{\"FailedRecordCount\":0,\"Records\":[{\"SequenceNumber\":\"2\",\"ShardId\":\"s\"},"
		"{\"SequenceNumber\":\"3\",\"ShardId\":\"s\"}]}");
	assert_int_equal(f->s->ops->drain(f->s, relay_now_ms() + 5000, err, sizeof(err)), 0);
	assert_int_equal(th_http_count(f->srv), 2);
	assert_int_equal(f->s->acked, 100);
	r0 = th_http_request(f->srv, 0);
	assert_non_null(strstr(r0, "POST / HTTP/1.1"));
	assert_non_null(strcasestr(r0, "\r\nX-Amz-Target: Kinesis_20131202.PutRecords\r\n"));
	assert_non_null(strcasestr(r0, "\r\nContent-Type: application/x-amz-json-1.1\r\n"));
	assert_non_null(strcasestr(r0, "\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIDTEST/"));
	assert_non_null(strstr(r0,
						   "/us-east-1/kinesis/aws4_request, "
						   "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature="));
	assert_non_null(strstr(r0, "\"StreamName\":\"orders\""));
	/* base64 of {"aggregate_id":"A","version":1} then B; A2 is held back */
	assert_non_null(strstr(r0, "\"PartitionKey\":\"A\""));
	assert_non_null(strstr(r0, "\"PartitionKey\":\"B\""));
	assert_null(strstr(r0, "eyJhZ2dyZWdhdGVfaWQiOiJBIiwidmVyc2lvbiI6Mn0="));
	assert_non_null(strstr(r0, "eyJhZ2dyZWdhdGVfaWQiOiJBIiwidmVyc2lvbiI6MX0="));
	/* second request: B1 retried (it is the older record) and A2 */
	assert_non_null(
		strstr(th_http_request(f->srv, 1), "eyJhZ2dyZWdhdGVfaWQiOiJCIiwidmVyc2lvbiI6MX0="));
	assert_non_null(
		strstr(th_http_request(f->srv, 1), "eyJhZ2dyZWdhdGVfaWQiOiJBIiwidmVyc2lvbiI6Mn0="));
}

#define B64_A1 "eyJhZ2dyZWdhdGVfaWQiOiJBIiwidmVyc2lvbiI6MX0="
#define B64_A2 "eyJhZ2dyZWdhdGVfaWQiOiJBIiwidmVyc2lvbiI6Mn0="
#define B64_A3 "eyJhZ2dyZWdhdGVfaWQiOiJBIiwidmVyc2lvbiI6M30="
#define B64_B1 "eyJhZ2dyZWdhdGVfaWQiOiJCIiwidmVyc2lvbiI6MX0="

/*
 * A run of A1 A2 A3 in one request, A2 fails while A3 is stored: A2 and A3
 * go again, in that order (A's run halved: one request each), and the
 * position is acknowledged only once that re-send was accepted (not on A3's
 * first, out-of-order success).
 */
static void
test_run_partial_failure_resends_tail(void **state)
{
	fixture *f = *state;
	char err[256];
	const char *r0, *last, *p2, *p3;
	int n;

	put(f, "A", 1, 50);
	put(f, "A", 2, 50);
	put(f, "A", 3, 50);
	put(f, "B", 1, 50);
	assert_int_equal(f->s->ops->commit(f->s, 50, err, sizeof(err)), 0);
	th_http_push(
		f->srv, 200, "",
		"{\"FailedRecordCount\":1,\"Records\":[{\"SequenceNumber\":\"1\",\"ShardId\":\"s\"},"
		"{\"ErrorCode\":\"InternalFailure\",\"ErrorMessage\":\"x\"},"
		"{\"SequenceNumber\":\"2\",\"ShardId\":\"s\"},"
		"{\"SequenceNumber\":\"3\",\"ShardId\":\"s2\"}]}");
	/* every later request fails (500) until the deadline: nothing more may be acknowledged */
	assert_int_equal(f->s->ops->drain(f->s, relay_now_ms() + 100, err, sizeof(err)), -1);
	assert_int_equal(f->s->acked, 0);
	r0 = th_http_request(f->srv, 0);
	p2 = strstr(r0, B64_A2);
	p3 = strstr(r0, B64_A3);
	assert_non_null(strstr(r0, B64_A1));
	assert_non_null(strstr(r0, B64_B1));
	assert_true(p2 != NULL && p3 != NULL && p2 < p3);
	/* the failure halved A's run (3 -> 1): A2 alone, then A3 */
	th_http_push(
		f->srv, 200, "",
		"{\"FailedRecordCount\":0,\"Records\":[{\"SequenceNumber\":\"4\",\"ShardId\":\"s\"}]}");
	th_http_push(
		f->srv, 200, "",
		"{\"FailedRecordCount\":0,\"Records\":[{\"SequenceNumber\":\"5\",\"ShardId\":\"s\"}]}");
	assert_int_equal(f->s->ops->drain(f->s, relay_now_ms() + 5000, err, sizeof(err)), 0);
	assert_int_equal(f->s->acked, 50);
	n = th_http_count(f->srv);
	assert_true(n >= 3);
	if (n <= 256) /* (only the first 256 requests are kept) */
	{
		last = th_http_request(f->srv, n - 2);
		assert_non_null(strstr(last, B64_A2));
		assert_null(strstr(last, B64_A3));
		last = th_http_request(f->srv, n - 1);
		assert_non_null(strstr(last, B64_A3));
		assert_null(strstr(last, B64_A1));
		assert_null(strstr(last, B64_B1));
	}
}

static void
test_server_errors_are_retried(void **state)
{
	fixture *f = *state;
	char err[256];

	put(f, "A", 1, 7);
	f->s->ops->commit(f->s, 7, err, sizeof(err));
	th_http_push(f->srv, 500, "", "{\"__type\":\"InternalFailure\"}");
	th_http_push(f->srv, 400, "",
				 "{\"__type\":\"ProvisionedThroughputExceededException\",\"message\":\"x\"}");
	th_http_push(
		f->srv, 200, "",
		"{\"FailedRecordCount\":0,\"Records\":[{\"SequenceNumber\":\"1\",\"ShardId\":\"s\"}]}");
	assert_int_equal(f->s->ops->drain(f->s, relay_now_ms() + 5000, err, sizeof(err)), 0);
	assert_int_equal(th_http_count(f->srv), 3);
	assert_int_equal(f->s->acked, 7);
}

static void
test_invalid_record_isolated(void **state)
{
	fixture *f = *state;
	char err[256];
	char *dl;

	put(f, "A", 1, 9);
	put(f, "B", 1, 9);
	f->s->ops->commit(f->s, 9, err, sizeof(err));
	th_http_push(f->srv, 400, "", "{\"__type\":\"ValidationException\",\"message\":\"bad\"}");
	th_http_push(
		f->srv, 200, "",
		"{\"FailedRecordCount\":0,\"Records\":[{\"SequenceNumber\":\"1\",\"ShardId\":\"s\"}]}");
	th_http_push(f->srv, 400, "", "{\"__type\":\"ValidationException\",\"message\":\"bad B\"}");
	assert_int_equal(f->s->ops->drain(f->s, relay_now_ms() + 5000, err, sizeof(err)), 0);
	assert_int_equal(th_http_count(f->srv), 3);
	assert_int_equal(f->s->acked, 9);
	dl = th_read_file(f->dlpath, NULL);
	assert_non_null(strstr(dl, "\"partition_key\":\"B\""));
	assert_non_null(strstr(dl, "ValidationException"));
	assert_null(strstr(dl, "\"partition_key\":\"A\""));
	free(dl);
}

static void
test_too_large_goes_to_dead_letter(void **state)
{
	fixture *f = *state;
	char err[256], big[2000];
	relay_event ev = {big, sizeof(big), "K", 1, 11, 0, 0};
	char *dl;

	memset(big, 'x', sizeof(big));
	assert_int_equal(f->s->ops->put(f->s, &ev, err, sizeof(err)), 0);
	f->s->ops->commit(f->s, 11, err, sizeof(err));
	assert_int_equal(f->s->acked, 11);
	assert_int_equal(th_http_count(f->srv), 0);
	dl = th_read_file(f->dlpath, NULL);
	assert_non_null(strstr(dl, "larger than 1024 bytes"));
	free(dl);
}

static void
test_unknown_stream_is_fatal(void **state)
{
	fixture *f = *state;
	char err[256];

	put(f, "A", 1, 5);
	f->s->ops->commit(f->s, 5, err, sizeof(err));
	th_http_push(f->srv, 400, "",
				 "{\"__type\":\"ResourceNotFoundException\",\"message\":\"Stream orders under "
				 "account 123 not found.\"}");
	assert_int_equal(f->s->ops->drain(f->s, relay_now_ms() + 5000, err, sizeof(err)), -1);
	assert_true(f->s->fatal_config);
	assert_non_null(strstr(err, "ResourceNotFoundException"));
	assert_int_equal(f->s->acked, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_request_and_partial_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_errors_are_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_record_isolated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_large_goes_to_dead_letter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_stream_is_fatal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_partial_failure_resends_tail, setup_runs,
										teardown),
	};

	return cmocka_run_group_tests_name("kinesis sink", tests, NULL, NULL);
}
