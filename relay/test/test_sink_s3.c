/*
 * test_s3_sink.c
 *		The S3 sink against a canned HTTP server: a position is acknowledged
 *		only once the object holding its last event is stored, objects hold
 *		whole positions, size/age/hour cuts, and the crash-recovery cut at an
 *		earlier run's object boundary.
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
#include "sink.h"
#include "th_util.h"

#define EMPTY_LIST "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>"

static th_http *srv;
static relay_config cfg;

static sink *
open_sink(const char *max_bytes)
{
	char ep[64], err[256];
	char *argv[] = {"run", "--sink=s3",			 "--s3-bucket=arch", "--s3-prefix=ev",
					ep,	   "--region=us-east-1", (char *) max_bytes, "--s3-max-object-age=1s",
					NULL};
	sink *s;

	setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	snprintf(ep, sizeof(ep), "--s3-endpoint-url=http://127.0.0.1:%d", th_http_port(srv));
	assert_int_equal(config_parse(&cfg, 8, argv, err, sizeof(err)), 0);
	s = sink_open("s3", &cfg, NULL, err, sizeof(err));
	if (s == NULL)
		fail_msg("%s", err);
	return s;
}

static void
put(sink *s, uint64_t pos, const char *agg, int version, int pad)
{
	char data[2048], err[256];
	relay_event ev;

	snprintf(
		data, sizeof(data),
		"{\"aggregate_id\":\"%s\",\"version\":%d,\"recorded_at\":\"2026-11-23T09:14:03Z\","
		"\"data\":\"%*s\",\"source\":{\"lsn\":\"0/1\",\"commit_time\":\"2026-11-23T09:14:03Z\"}}",
		agg, version, pad, "");
	memset(&ev, 0, sizeof(ev));
	ev.data = data;
	ev.len = strlen(data);
	ev.key = agg;
	ev.key_len = strlen(agg);
	ev.pos = pos;
	assert_int_equal(s->ops->put(s, &ev, err, sizeof(err)), 0);
}

static void
commit(sink *s, uint64_t pos)
{
	char err[256];

	assert_int_equal(s->ops->commit(s, pos, err, sizeof(err)), 0);
}

static void
poll_at(sink *s, int64_t now)
{
	char err[256];

	if (s->ops->poll(s, now, true, err, sizeof(err)) < 0)
		fail_msg("%s", err);
}

static int
setup(void **state)
{
	(void) state;
	srv = th_http_start();
	return 0;
}

static int
teardown(void **state)
{
	(void) state;
	th_http_stop(srv);
	config_free(&cfg);
	return 0;
}

static void
test_ack_only_after_upload(void **state)
{
	sink *s = open_sink("--s3-max-object-bytes=64K");
	int n0 = th_http_count(srv);
	int64_t now;

	(void) state;
	/* first object of a run: one listing to look for an earlier run's object */
	th_http_push(srv, 200, "", EMPTY_LIST);
	put(s, 0x100, "a", 1, 10);
	put(s, 0x100, "a", 2, 10);
	commit(s, 0x100);
	now = relay_now_ms(); /* the object's age counts from before this */
	assert_int_equal(th_http_count(srv), n0 + 1);
	assert_non_null(strstr(th_http_request(srv, n0),
						   "list-type=2&max-keys=1000&prefix=ev%2F2026%2F11%2F23%2F09%2F "));
	assert_int_equal(s->acked, 0);
	commit(s, 0x180); /* an empty position: still behind the object */
	poll_at(s, now);
	assert_int_equal(s->acked, 0);
	assert_true(s->ops->next_due(s) <= now + 1000);
	assert_true(s->ops->pending_bytes(s) > 0);

	/* age cut: upload fails once (503), then succeeds */
	th_http_push(srv, 503, "", "<Error><Code>SlowDown</Code></Error>");
	poll_at(s, now + 1000);
	assert_int_equal(s->acked, 0);
	th_http_push(srv, 200, "", "");
	poll_at(s, now + 1000 + 10000);
	assert_int_equal(s->acked, 0x180);
	assert_int_equal(th_http_count(srv), n0 + 3);
	assert_non_null(
		strstr(th_http_request(srv, n0 + 2),
			   "PUT /arch/ev/2026/11/23/09/0000000000000100_0000000000000100.ndjson.gz "));
	assert_int_equal(s->ops->pending_bytes(s), 0);

	/* with nothing held, an empty position is acknowledged at once */
	commit(s, 0x200);
	assert_int_equal(s->acked, 0x200);
	/* no more listings once a first object did not exist */
	put(s, 0x300, "b", 1, 10);
	commit(s, 0x300);
	assert_int_equal(th_http_count(srv), n0 + 3);
	th_http_push(srv, 200, "", "");
	{
		char err[256];

		assert_int_equal(s->ops->drain(s, relay_now_ms() + 5000, err, sizeof(err)), 0);
	}
	assert_int_equal(s->acked, 0x300);
	s->ops->free(s);
}

static void
test_size_cut_keeps_positions_whole(void **state)
{
	sink *s = open_sink("--s3-max-object-bytes=1K");
	int n0 = th_http_count(srv);
	int64_t now = relay_now_ms();

	(void) state;
	th_http_push(srv, 200, "", EMPTY_LIST);
	put(s, 0x10, "a", 1, 300);
	put(s, 0x10, "a", 2, 300);
	commit(s, 0x10); /* ~800 bytes: not yet */
	put(s, 0x20, "a", 3, 300);
	put(s, 0x20, "a", 4, 300);
	put(s, 0x20, "a", 5, 300);
	commit(s, 0x20); /* over 1K after the whole position: cut */
	put(s, 0x30, "a", 6, 10);
	commit(s, 0x30);
	now = relay_now_ms();
	th_http_push(srv, 200, "", "");
	poll_at(s, now);
	assert_int_equal(s->acked, 0x20);
	assert_non_null(strstr(th_http_request(srv, n0 + 1),
						   "/ev/2026/11/23/09/0000000000000010_0000000000000020.ndjson.gz "));
	th_http_push(srv, 200, "", "");
	poll_at(s, now + 2000);
	assert_int_equal(s->acked, 0x30);
	assert_non_null(
		strstr(th_http_request(srv, n0 + 2), "/0000000000000030_0000000000000030.ndjson.gz "));
	s->ops->free(s);
}

static void
test_recovery_cuts_where_the_earlier_run_did(void **state)
{
	sink *s = open_sink("--s3-max-object-bytes=1K");
	int n0 = th_http_count(srv);
	int64_t now = relay_now_ms();

	(void) state;
	/* an earlier run stored 0x10..0x30 but died before confirming it */
	th_http_push(srv, 200, "",
				 "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>ev/2026/11/23/"
				 "09/0000000000000010_0000000000000030.ndjson.gz</Key><Size>99</Size></Contents>"
				 "</ListBucketResult>");
	put(s, 0x10, "a", 1, 600);
	commit(s, 0x10);
	put(s, 0x20, "a", 2, 600);
	commit(s, 0x20);		/* over the size limit, but the earlier cut wins */
	poll_at(s, now + 5000); /* and over the age limit */
	assert_int_equal(th_http_count(srv), n0 + 1);
	put(s, 0x30, "a", 3, 10);
	commit(s, 0x30);
	/* next object: looked up too, nothing there, so normal cutting resumes */
	th_http_push(srv, 200, "", "");
	th_http_push(srv, 200, "", EMPTY_LIST);
	poll_at(s, now + 5000);
	assert_int_equal(s->acked, 0x30);
	assert_non_null(
		strstr(th_http_request(srv, n0 + 1), "/0000000000000010_0000000000000030.ndjson.gz "));
	put(s, 0x40, "b", 1, 10);
	commit(s, 0x40);
	assert_int_equal(th_http_count(srv), n0 + 3);
	assert_non_null(strstr(th_http_request(srv, n0 + 2), "prefix=ev%2F2026%2F11%2F23%2F09%2F "));
	s->ops->free(s);
}

static void
test_recovery_skips_what_is_archived(void **state)
{
	sink *s = open_sink("--s3-max-object-bytes=64K");
	int n0 = th_http_count(srv);
	char err[256];

	(void) state;
	/*
	 * An earlier run stored 0x10..0x30, but the slot was confirmed only up
	 * to 0x18 (the Kinesis sink was behind): 0x20 and 0x30 come again.
	 */
	th_http_push(srv, 200, "",
				 "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>ev/2026/11/23/"
				 "09/0000000000000001_0000000000000008.ndjson.gz</Key></Contents><Contents><Key>"
				 "ev/2026/11/23/09/0000000000000010_0000000000000030.ndjson.gz</Key></Contents>"
				 "</ListBucketResult>");
	put(s, 0x20, "a", 2, 10);
	commit(s, 0x20);
	assert_int_equal(s->acked, 0x20); /* archived already: acknowledged at once */
	assert_int_equal(s->ops->pending_bytes(s), 0);
	put(s, 0x30, "a", 3, 10);
	commit(s, 0x30);
	assert_int_equal(s->acked, 0x30);
	assert_int_equal(th_http_count(srv), n0 + 1);
	/* the first new position is looked up once more, then archived normally */
	th_http_push(srv, 200, "", EMPTY_LIST);
	put(s, 0x40, "a", 4, 10);
	commit(s, 0x40);
	assert_int_equal(th_http_count(srv), n0 + 2);
	assert_int_equal(s->acked, 0x30);
	th_http_push(srv, 200, "", "");
	assert_int_equal(s->ops->drain(s, relay_now_ms() + 5000, err, sizeof(err)), 0);
	assert_non_null(
		strstr(th_http_request(srv, n0 + 2), "/0000000000000040_0000000000000040.ndjson.gz "));
	assert_int_equal(s->acked, 0x40);
	s->ops->free(s);
}

static void
test_hour_change_cuts(void **state)
{
	sink *s = open_sink("--s3-max-object-bytes=64K");
	int n0 = th_http_count(srv);
	char data[] = "{\"aggregate_id\":\"z\",\"source\":{\"lsn\":\"0/"
				  "1\",\"commit_time\":\"2026-11-23T10:00:00Z\"}}";
	relay_event ev = {data, sizeof(data) - 1, "z", 1, 0x60, 0, 0};
	char err[256];

	(void) state;
	th_http_push(srv, 200, "", EMPTY_LIST);
	put(s, 0x50, "a", 1, 10);
	commit(s, 0x50);
	assert_int_equal(s->ops->put(s, &ev, err, sizeof(err)), 0);
	commit(s, 0x60); /* 10:00: the 09 object is cut */
	th_http_push(srv, 200, "", "");
	poll_at(s, relay_now_ms());
	assert_int_equal(s->acked, 0x50);
	assert_non_null(strstr(th_http_request(srv, n0 + 1), "/09/0000000000000050_0000000000000050"));
	th_http_push(srv, 200, "", "");
	assert_int_equal(s->ops->drain(s, relay_now_ms() + 5000, err, sizeof(err)), 0);
	assert_non_null(strstr(th_http_request(srv, n0 + 2), "/10/0000000000000060_0000000000000060"));
	assert_int_equal(s->acked, 0x60);
	s->ops->free(s);
}

static void
test_run_scoped_keys_without_lsn(void **state)
{
	/* DynamoDB path: positions restart at 1 in each process */
	sink *s = open_sink("--s3-max-object-bytes=64K");
	int n0 = th_http_count(srv);
	char data[] = "{\"aggregate_id\":\"t\",\"recorded_at\":\"2026-11-23T09:14:03Z\","
				  "\"source\":{\"kind\":\"dynamodb\",\"sequence_number\":\"41\"}}";
	relay_event ev = {data, sizeof(data) - 1, "t", 1, 1, 0, 0};
	char err[256];
	const char *r;

	(void) state;
	assert_int_equal(s->ops->put(s, &ev, err, sizeof(err)), 0);
	commit(s, 1);
	assert_int_equal(th_http_count(srv), n0); /* no crash-recovery listing */
	th_http_push(srv, 200, "", "");
	assert_int_equal(s->ops->drain(s, relay_now_ms() + 5000, err, sizeof(err)), 0);
	assert_int_equal(s->acked, 1);
	r = th_http_request(srv, n0);
	assert_non_null(strstr(r, "PUT /arch/ev/2026/11/23/09/r"));
	assert_non_null(strstr(r, "-0000000000000001_0000000000000001.ndjson.gz "));
	s->ops->free(s);
}

/* The hour partition comes from the event's commit time, not from re-reading the envelope. */
static void
test_partition_from_event_time(void **state)
{
	sink *s = open_sink("--s3-max-object-bytes=64K");
	int n0 = th_http_count(srv);
	/* the envelope says 09:14; the source says 2026-11-23T11:30:00Z (1795433400) */
	char data[] = "{\"aggregate_id\":\"t\",\"recorded_at\":\"2026-11-23T09:14:03Z\","
				  "\"source\":{\"kind\":\"dynamodb\",\"sequence_number\":\"41\"}}";
	relay_event ev = {data, sizeof(data) - 1, "t", 1, 1, 0, 1795433400};
	char err[256];

	(void) state;
	assert_int_equal(s->ops->put(s, &ev, err, sizeof(err)), 0);
	commit(s, 1);
	th_http_push(srv, 200, "", "");
	assert_int_equal(s->ops->drain(s, relay_now_ms() + 5000, err, sizeof(err)), 0);
	assert_non_null(strstr(th_http_request(srv, n0), "PUT /arch/ev/2026/11/23/11/r"));
	s->ops->free(s);
}

static void
test_fatal_on_missing_bucket(void **state)
{
	sink *s = open_sink("--s3-max-object-bytes=1K");
	char err[256];

	(void) state;
	th_http_push(srv, 200, "", EMPTY_LIST);
	put(s, 0x10, "a", 1, 1500);
	commit(s, 0x10);
	th_http_push(srv, 404, "", "<Error><Code>NoSuchBucket</Code><Message>x</Message></Error>");
	assert_int_equal(s->ops->poll(s, relay_now_ms(), true, err, sizeof(err)), -1);
	assert_true(s->fatal_config);
	assert_non_null(strstr(err, "NoSuchBucket"));
	s->ops->free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ack_only_after_upload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_cut_keeps_positions_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recovery_cuts_where_the_earlier_run_did, setup,
										teardown),
		cmocka_unit_test_setup_teardown(test_recovery_skips_what_is_archived, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hour_change_cuts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_scoped_keys_without_lsn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partition_from_event_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fatal_on_missing_bucket, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
