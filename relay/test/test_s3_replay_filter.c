/*
 * test_s3_replay_filter.c
 *		Replay's envelope filter: top-level JSON string lookup (nested values
 *		and escapes skipped correctly), the time range on commit time, the
 *		hour-partition pruning and the accepted time formats.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "codec.h"
#include "s3_replay_filter.h"
#include "s3_object.h"

#define ENV                                                                                        \
	"{\"aggregate_id\":\"5f0c\",\"aggregate_type\":\"cart\",\"version\":3,\"event_id\":\"9b\","    \
	"\"type\":\"ItemAdded\",\"data\":{\"aggregate_type\":\"fake\",\"s\":\"a\\\"}\",\"l\":[1,{"     \
	"\"x\":\"]\"}]},\"metadata\":{},\"recorded_at\":\"2026-11-23T09:14:03.123456Z\","              \
	"\"source\":{\"database\":\"app\",\"lsn\":\"0/16B3748\",\"xid\":750,"                          \
	"\"commit_time\":\"2026-11-23T09:14:03.124001Z\"}}"

static void
test_json_string(void **state)
{
	char v[64];

	(void) state;
	assert_true(replay_json_string(ENV, strlen(ENV), "aggregate_id", v, sizeof(v)));
	assert_string_equal(v, "5f0c");
	/* the top-level member, not the one nested in data */
	assert_true(replay_json_string(ENV, strlen(ENV), "aggregate_type", v, sizeof(v)));
	assert_string_equal(v, "cart");
	assert_true(replay_json_string(ENV, strlen(ENV), "recorded_at", v, sizeof(v)));
	assert_string_equal(v, "2026-11-23T09:14:03.123456Z");
	assert_false(replay_json_string(ENV, strlen(ENV), "version", v, sizeof(v))); /* number */
	assert_false(replay_json_string(ENV, strlen(ENV), "lsn", v, sizeof(v)));	 /* nested */
	assert_false(replay_json_string(ENV, strlen(ENV), "nope", v, sizeof(v)));
	assert_false(replay_json_string(ENV, strlen(ENV), "aggregate_id", v, 3)); /* too long */
	assert_true(replay_json_string("{ \"k\" : \"a\\u0041\\n\\\"\" }", 22, "k", v, sizeof(v)));
	assert_string_equal(v, "aA\n\"");
	assert_false(replay_json_string("[1]", 3, "k", v, sizeof(v)));
	assert_false(replay_json_string("{\"k\":\"unterminated", 18, "k", v, sizeof(v)));
}

/* A surrogate pair is one code point (U+1F600, 4 bytes of UTF-8), not two. */
static void
test_json_string_surrogate_pair(void **state)
{
	static const char env[] = "{\"aggregate_id\":\"cart-\\ud83d\\ude00\",\"aggregate_type\":\"c\"}";
	replay_filter f;
	char v[64];

	(void) state;
	assert_true(replay_json_string(env, strlen(env), "aggregate_id", v, sizeof(v)));
	assert_string_equal(v, "cart-\xf0\x9f\x98\x80");
	/* the filter compares that decoded id with the one given on the command line */
	memset(&f, 0, sizeof(f));
	f.aggregate_id = "cart-\xf0\x9f\x98\x80";
	assert_true(replay_filter_match(&f, env, strlen(env)));
	/* a lone surrogate is not a character: U+FFFD, as the DynamoDB reader does */
	assert_true(replay_json_string("{\"k\":\"\\ud83d!\"}", 15, "k", v, sizeof(v)));
	assert_string_equal(v, "\xef\xbf\xbd!");
}

static void
test_filter(void **state)
{
	replay_filter f;
	size_t n = strlen(ENV);

	(void) state;
	memset(&f, 0, sizeof(f));
	assert_true(replay_filter_match(&f, ENV, n));
	f.aggregate_type = "cart";
	assert_true(replay_filter_match(&f, ENV, n));
	f.aggregate_type = "fake";
	assert_false(replay_filter_match(&f, ENV, n));
	f.aggregate_type = NULL;
	f.aggregate_id = "5f0c";
	assert_true(replay_filter_match(&f, ENV, n));
	f.aggregate_id = "5f0";
	assert_false(replay_filter_match(&f, ENV, n));
	f.aggregate_id = NULL;

	/* [since, until) on the commit time */
	f.has_since = true;
	assert_int_equal(replay_parse_time("2026-11-23T09:14:03Z", &f.since), 0);
	assert_true(replay_filter_match(&f, ENV, n));
	assert_int_equal(replay_parse_time("2026-11-23T09:14:04Z", &f.since), 0);
	assert_false(replay_filter_match(&f, ENV, n));
	f.has_since = false;
	f.has_until = true;
	assert_int_equal(replay_parse_time("2026-11-23T09:14:03Z", &f.until), 0);
	assert_false(replay_filter_match(&f, ENV, n));
	assert_int_equal(replay_parse_time("2026-11-23T09:15", &f.until), 0);
	assert_true(replay_filter_match(&f, ENV, n));
	assert_false(replay_filter_match(&f, "{\"a\":1}", 7)); /* no time: not in any range */
}

static void
test_partition_pruning(void **state)
{
	replay_filter f;
	time_t h9 = codec_iso8601("2026-11-23T09:00:00Z", 20, NULL);

	(void) state;
	memset(&f, 0, sizeof(f));
	assert_true(replay_filter_partition(&f, h9));
	f.has_since = true;
	f.since = h9 + 1800; /* 09:30: the 09 hour may hold matches, 08 not */
	assert_true(replay_filter_partition(&f, h9));
	assert_false(replay_filter_partition(&f, h9 - 3600));
	f.has_until = true;
	f.until = h9 + 3600; /* 10:00 exclusive */
	assert_true(replay_filter_partition(&f, h9));
	assert_false(replay_filter_partition(&f, h9 + 3600));
}

static void
test_parse_time(void **state)
{
	time_t t;

	(void) state;
	assert_int_equal(replay_parse_time("2026-11-23", &t), 0);
	assert_int_equal(t, codec_iso8601("2026-11-23T00:00:00Z", 20, NULL));
	assert_int_equal(replay_parse_time("2026-11-23T09", &t), 0);
	assert_int_equal(t, codec_iso8601("2026-11-23T09:00:00Z", 20, NULL));
	assert_int_equal(replay_parse_time("2026-11-23T09:14Z", &t), 0);
	assert_int_equal(t, codec_iso8601("2026-11-23T09:14:00Z", 20, NULL));
	assert_int_equal(replay_parse_time("2026-11-23T09:14:03.5Z", &t), 0);
	assert_int_equal(replay_parse_time("2026-11-23T09:14:03+00:00", &t), 0);
	assert_int_equal(replay_parse_time("2026-11-23T09:14:03+02:00", &t), -1); /* UTC only */
	assert_int_equal(replay_parse_time("yesterday", &t), -1);
	assert_int_equal(replay_parse_time("2026-11-23T09:14:03", &t), -1); /* zone required */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_string), cmocka_unit_test(test_json_string_surrogate_pair),
		cmocka_unit_test(test_filter),		cmocka_unit_test(test_partition_pruning),
		cmocka_unit_test(test_parse_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
