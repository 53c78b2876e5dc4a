/*
 * test_s3_object.c
 *		The archive object builder: gzip round trip, deterministic bytes,
 *		cut decisions, event time and the position-derived key naming.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "codec.h"
#include "s3_object.h"

#define EV1 "{\"aggregate_id\":\"a1\",\"version\":1,\"recorded_at\":\"2026-11-23T09:14:03.1Z\"}"
#define EV2                                                                                        \
	"{\"aggregate_id\":\"a1\",\"version\":2,\"recorded_at\":\"2026-11-23T09:59:59Z\","             \
	"\"source\":{\"kind\":\"postgres\",\"commit_time\":\"2026-11-23T10:00:01.5Z\"}}"

static void
build(s3_object *o, int n)
{
	char err[256];
	int i;

	s3_object_init(o);
	for (i = 0; i < n; i++)
		assert_int_equal(s3_object_append(o, i % 2 ? EV2 : EV1, strlen(i % 2 ? EV2 : EV1), 1000,
										  err, sizeof(err)),
						 0);
	assert_int_equal(s3_object_finish(o, err, sizeof(err)), 0);
}

static void
test_gzip_round_trip(void **state)
{
	s3_object o;
	buf out = BUF_INIT;
	char err[256];
	char want[4096];

	(void) state;
	build(&o, 4);
	assert_int_equal(o.events, 4);
	assert_int_equal(o.raw_bytes, 2 * (strlen(EV1) + 1) + 2 * (strlen(EV2) + 1));
	/* gzip magic, deflate, no mtime */
	assert_true((unsigned char) o.gz.data[0] == 0x1f && (unsigned char) o.gz.data[1] == 0x8b);
	assert_int_equal(o.gz.data[4] | o.gz.data[5] | o.gz.data[6] | o.gz.data[7], 0);
	assert_int_equal(s3_gunzip(o.gz.data, o.gz.len, &out, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s\n%s\n%s\n%s\n", EV1, EV2, EV1, EV2);
	assert_string_equal(out.data, want);
	buf_free(&out);
	s3_object_free(&o);
}

static void
test_gzip_deterministic_and_large(void **state)
{
	s3_object a, b;
	buf out = BUF_INIT;
	char err[256];

	(void) state;
	build(&a, 20000); /* several deflate chunks */
	build(&b, 20000);
	assert_int_equal(a.gz.len, b.gz.len);
	assert_memory_equal(a.gz.data, b.gz.data, a.gz.len);
	assert_true(a.gz.len < a.raw_bytes / 10);
	assert_int_equal(s3_gunzip(a.gz.data, a.gz.len, &out, err, sizeof(err)), 0);
	assert_int_equal(out.len, a.raw_bytes);
	buf_free(&out);
	s3_object_free(&b);
	s3_object_free(&a);
}

/* n zero bytes, gzip'd as tightly as deflate can (about 1000:1). */
static void
s_bomb(buf *gz, size_t n)
{
	static char zeros[65536];
	z_stream zs;
	size_t left = n;

	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY), Z_OK);
	assert_int_equal(buf_reserve(gz, n / 500 + 1024), 0);
	do
	{
		size_t k = left < sizeof(zeros) ? left : sizeof(zeros);

		left -= k;
		zs.next_in = (Bytef *) zeros;
		zs.avail_in = (uInt) k;
		zs.next_out = (Bytef *) gz->data + gz->len;
		zs.avail_out = (uInt) (gz->cap - gz->len);
		assert_true(deflate(&zs, left ? Z_NO_FLUSH : Z_FINISH) != Z_STREAM_ERROR);
		gz->len = gz->cap - zs.avail_out;
	} while (left > 0 || zs.avail_in > 0);
	deflateEnd(&zs);
}

/* A gzip bomb stops at the cap, with an error, and never holds more than it. */
static void
test_gunzip_caps_output(void **state)
{
	buf gz = BUF_INIT, out = BUF_INIT, two = BUF_INIT;
	char err[256];
	size_t n = 16 << 20;

	(void) state;
	s_bomb(&gz, n);
	assert_true(gz.len < n / 200);
	assert_int_equal(s3_gunzip_max(gz.data, gz.len, n, &out, err, sizeof(err)), 0);
	assert_int_equal(out.len, n);
	buf_reset(&out);
	err[0] = '\0';
	assert_int_equal(s3_gunzip_max(gz.data, gz.len, n - 1, &out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more than 16777215 bytes"));
	assert_true(out.len <= n);
	buf_free(&out);
	assert_int_equal(s3_gunzip_max(gz.data, gz.len, 1 << 20, &out, err, sizeof(err)), -1);
	assert_true(out.len <= (1 << 20) + 1);
	assert_true(out.cap <= (4 << 20));
	/* the cap is on the whole object, not per gzip member */
	buf_append(&two, gz.data, gz.len);
	buf_append(&two, gz.data, gz.len);
	buf_reset(&out);
	assert_int_equal(s3_gunzip_max(two.data, two.len, 2 * n - 1, &out, err, sizeof(err)), -1);
	buf_reset(&out);
	assert_int_equal(s3_gunzip_max(two.data, two.len, 2 * n, &out, err, sizeof(err)), 0);
	assert_int_equal(out.len, 2 * n);
	/* never below what the relay itself writes */
	assert_true(S3_GUNZIP_MAX_BYTES > S3_MAX_OBJECT_BYTES);
	buf_free(&gz);
	buf_free(&two);
	buf_free(&out);
}

static void
test_gunzip_rejects_truncated_and_reads_members(void **state)
{
	s3_object o;
	buf out = BUF_INIT, two = BUF_INIT;
	char err[256];

	(void) state;
	build(&o, 2);
	assert_int_equal(s3_gunzip(o.gz.data, o.gz.len - 5, &out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "gzip"));
	buf_reset(&out);
	buf_append(&two, o.gz.data, o.gz.len);
	buf_append(&two, o.gz.data, o.gz.len);
	assert_int_equal(s3_gunzip(two.data, two.len, &out, err, sizeof(err)), 0);
	assert_int_equal(out.len, 2 * o.raw_bytes);
	assert_int_equal(s3_gunzip("not gzip", 8, &out, err, sizeof(err)), -1);
	buf_free(&two);
	buf_free(&out);
	s3_object_free(&o);
}

static void
test_empty_object_finishes(void **state)
{
	s3_object o;
	buf out = BUF_INIT;
	char err[256];

	(void) state;
	s3_object_init(&o);
	assert_int_equal(s3_object_finish(&o, err, sizeof(err)), 0);
	assert_int_equal(s3_gunzip(o.gz.data, o.gz.len, &out, err, sizeof(err)), 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(s3_object_append(&o, "x", 1, 0, err, sizeof(err)), -1);
	buf_free(&out);
	s3_object_free(&o);
}

static void
test_due(void **state)
{
	s3_object o;
	s3_limits l = {200, 5000};
	char err[256];

	(void) state;
	s3_object_init(&o);
	assert_false(s3_object_due(&o, &l, 1000000)); /* empty: never */
	assert_int_equal(s3_object_append(&o, EV1, strlen(EV1), 1000, err, sizeof(err)), 0);
	assert_false(s3_object_due(&o, &l, 1000));
	assert_false(s3_object_due(&o, &l, 5999));
	assert_true(s3_object_due(&o, &l, 6000)); /* age */
	assert_int_equal(s3_object_append(&o, EV2, strlen(EV2), 2000, err, sizeof(err)), 0);
	assert_int_equal(o.opened_ms, 1000);	  /* age counts from the first event */
	assert_true(s3_object_due(&o, &l, 1000)); /* size */
	s3_object_free(&o);
}

static void
test_event_time(void **state)
{
	time_t t;

	(void) state;
	/* commit_time wins over recorded_at */
	assert_true(s3_event_time(EV2, strlen(EV2), &t));
	assert_int_equal(t, codec_iso8601("2026-11-23T10:00:01Z", 20, NULL));
	assert_int_equal(s3_hour(t), codec_iso8601("2026-11-23T10:00:00Z", 20, NULL));
	assert_true(s3_event_time(EV1, strlen(EV1), &t));
	assert_int_equal(t, codec_iso8601("2026-11-23T09:14:03Z", 20, NULL));
	assert_false(s3_event_time("{\"a\":1}", 7, &t));
	assert_false(s3_event_time("{\"recorded_at\":\"yesterday\"}", 27, &t));
	assert_int_equal(codec_iso8601("1970-01-01T01:00:00Z", 20, NULL), 3600);
	assert_int_equal(codec_iso8601("2026-13-01T00:00:00Z", 20, NULL), -1);
}

static void
test_keys(void **state)
{
	char key[256];
	time_t part = codec_iso8601("2026-11-23T09:00:00Z", 20, NULL), p2;
	uint64_t a, b;

	(void) state;
	assert_int_equal(s3_object_key("events", part, 0x16B3748, 0x2FFFFFFFFULL, key, sizeof(key)), 0);
	assert_string_equal(key, "events/2026/11/23/09/00000000016B3748_00000002FFFFFFFF.ndjson.gz");
	assert_int_equal(s3_object_key("events/", part, 1, 2, key, sizeof(key)), 0);
	assert_string_equal(key, "events/2026/11/23/09/0000000000000001_0000000000000002.ndjson.gz");
	assert_int_equal(s3_object_key("", part, 1, 2, key, sizeof(key)), 0);
	assert_string_equal(key, "2026/11/23/09/0000000000000001_0000000000000002.ndjson.gz");
	assert_int_equal(s3_object_key("events", part, 1, 2, key, 20), -1);

	/* parse back */
	assert_true(
		s3_key_parse("a/b/2026/11/23/09/00000000016B3748_00000002FFFFFFFF.ndjson.gz", &p2, &a, &b));
	assert_int_equal(p2, part);
	assert_int_equal(a, 0x16B3748);
	assert_int_equal(b, 0x2FFFFFFFFULL);
	assert_true(
		s3_key_parse("2026/11/23/09/0000000000000001_0000000000000002.ndjson.gz", &p2, &a, &b));
	assert_false(
		s3_key_parse("a/2026/11/23/09/00000000016b3748_00000002FFFFFFFF.ndjson.gz", &p2, &a, &b));
	assert_false(
		s3_key_parse("a/2026/11/23/09/0000000000000001_0000000000000002.json", &p2, &a, &b));
	assert_false(s3_key_parse("a/dead-letter/x.json", &p2, &a, &b));
	assert_false(
		s3_key_parse("x2026/11/23/09/0000000000000001_0000000000000002.ndjson.gz", &p2, &a, &b));

	/* key order is position order within an hour, and hour order across */
	{
		char k1[256], k2[256], k3[256];

		s3_object_key("p", part, 0xFFFF, 0x10000, k1, sizeof(k1));
		s3_object_key("p", part, 0x10001, 0x1000000, k2, sizeof(k2));
		s3_object_key("p", part + 3600, 0x1000001, 0x1000002, k3, sizeof(k3));
		assert_true(strcmp(k1, k2) < 0);
		assert_true(strcmp(k2, k3) < 0);
	}
	/* run-scoped keys (positions that restart with the process) */
	{
		uint64_t run;

		assert_int_equal(s3_object_key_run("p", part, 0x19AB0000FFFFULL, 1, 2, key, sizeof(key)),
						 0);
		assert_string_equal(
			key, "p/2026/11/23/09/r000019AB0000FFFF-0000000000000001_0000000000000002.ndjson.gz");
		assert_true(s3_key_parse_run(key, &p2, &run, &a, &b));
		assert_int_equal(run, 0x19AB0000FFFFULL);
		assert_int_equal(a, 1);
		assert_int_equal(b, 2);
		assert_int_equal(p2, part);
		assert_true(s3_key_parse_run("2026/11/23/09/0000000000000001_0000000000000002.ndjson.gz",
									 &p2, &run, &a, &b));
		assert_int_equal(run, 0);
		assert_false(s3_key_parse_run(
			"p/2026/11/23/09/x000019AB0000FFFF-0000000000000001_0000000000000002.ndjson.gz", &p2,
			&run, &a, &b));
	}
	assert_true(
		s3_event_has_lsn("{\"data\":{},\"source\":{\"database\":\"app\",\"lsn\":\"0/1\"}}", 50));
	assert_false(
		s3_event_has_lsn("{\"data\":{\"lsn\":\"x\"},\"source\":{\"kind\":\"dynamodb\"}}", 52));
	assert_int_equal(s3_partition_prefix("p", part, key, sizeof(key)), 0);
	assert_string_equal(key, "p/2026/11/23/09/");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gzip_round_trip),
		cmocka_unit_test(test_gzip_deterministic_and_large),
		cmocka_unit_test(test_gunzip_rejects_truncated_and_reads_members),
		cmocka_unit_test(test_gunzip_caps_output),
		cmocka_unit_test(test_empty_object_finishes),
		cmocka_unit_test(test_due),
		cmocka_unit_test(test_event_time),
		cmocka_unit_test(test_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
