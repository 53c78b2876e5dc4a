/*
 * test_event.c
 *		Envelope and marker handling: the fast path for the plugin's own
 *		envelopes, the json-c fallback, markers, LSN and time parsing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pg_message.h"

static void
test_event_fast_path(void **state)
{
	const char *e = "{\"aggregate_id\":\"5f0c2f43-7d6b-4d0e-9a61-2b7a1f8f3a10\",\"aggregate_type\":"
					"\"cart\",\"version\":3,\"data\":{\"kind\":\"x\"}}";
	plugin_msg m;
	char err[128];

	(void) state;
	assert_int_equal(pg_message_parse(e, strlen(e), &m, err, sizeof(err)), 0);
	assert_int_equal(m.kind, PM_EVENT);
	assert_int_equal(m.key_len, 36);
	assert_memory_equal(m.key, "5f0c2f43-7d6b-4d0e-9a61-2b7a1f8f3a10", 36);
	assert_true(m.key > e && m.key < e + strlen(e)); /* no copy */
}

static void
test_event_slow_path(void **state)
{
	const char *reordered = "{\"version\":1,\"aggregate_id\":\"abc\"}";
	const char *escaped = "{\"aggregate_id\":\"a\\\"b\",\"version\":1}";
	const char *nokey = "{\"version\":1}";
	const char *notjson = "{\"aggregate_id\":";
	plugin_msg m;
	char err[128];

	(void) state;
	assert_int_equal(pg_message_parse(reordered, strlen(reordered), &m, err, sizeof(err)), 0);
	assert_int_equal(m.kind, PM_EVENT);
	assert_int_equal(m.key_len, 3);
	assert_memory_equal(m.key, "abc", 3);
	assert_int_equal(pg_message_parse(escaped, strlen(escaped), &m, err, sizeof(err)), 0);
	assert_int_equal(m.key_len, 3);
	assert_memory_equal(m.key, "a\"b", 3);
	assert_int_equal(pg_message_parse(nokey, strlen(nokey), &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "aggregate_id"));
	assert_int_equal(pg_message_parse(notjson, strlen(notjson), &m, err, sizeof(err)), -1);
}

static void
test_markers(void **state)
{
	const char *b = "{\"kind\":\"begin\",\"xid\":750,\"lsn\":\"0/16B3748\",\"commit_time\":"
					"\"2026-11-23T09:14:03.124001Z\"}";
	const char *c =
		"{\"kind\":\"commit\",\"xid\":750,\"lsn\":\"0/16B3748\",\"end_lsn\":\"1/16B3780\","
		"\"commit_time\":\"2026-11-23T09:14:03.124001Z\",\"events\":3}";
	const char *bad = "{\"kind\":\"rollback\"}";
	plugin_msg m;
	char err[128];

	(void) state;
	assert_int_equal(pg_message_parse(b, strlen(b), &m, err, sizeof(err)), 0);
	assert_int_equal(m.kind, PM_BEGIN);
	assert_int_equal(m.lsn, 0x16B3748);
	assert_int_equal(m.end_lsn, 0);
	assert_int_equal(m.commit_time_us, 1795425243124001LL);
	assert_int_equal(pg_message_parse(c, strlen(c), &m, err, sizeof(err)), 0);
	assert_int_equal(m.kind, PM_COMMIT);
	assert_int_equal(m.end_lsn, 0x1016B3780ULL);
	assert_int_equal(m.events, 3);
	assert_int_equal(pg_message_parse(bad, strlen(bad), &m, err, sizeof(err)), -1);
}

/* A commit time with a field out of range is an error, not a time of 0. */
static void
test_marker_bad_commit_time(void **state)
{
	static const char *const times[] = {
		"2026-99-23T09:14:03.124001Z",
		"2026-00-23T09:14:03Z",
		"2026-11-00T09:14:03Z",
		"2026-11-32T09:14:03Z",
		"2026-11-31T09:14:03Z",
		"2026-02-29T09:14:03Z",
		"2026-11-23T25:14:03Z",
		"2026-11-23T09:60:03Z",
		"2026-11-23T09:14:61Z",
		"2026-11-23T09:1x:03Z",
		"yesterday",
		"",
	};
	char msg[256], err[256];
	plugin_msg m;
	size_t i;

	(void) state;
	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++)
	{
		snprintf(msg, sizeof(msg),
				 "{\"kind\":\"commit\",\"xid\":750,\"lsn\":\"0/16B3748\",\"commit_time\":\"%s\","
				 "\"events\":1}",
				 times[i]);
		err[0] = '\0';
		if (pg_message_parse(msg, strlen(msg), &m, err, sizeof(err)) != -1)
			fail_msg("commit_time \"%s\" accepted (%lld)", times[i], (long long) m.commit_time_us);
		assert_non_null(strstr(err, "invalid \"commit_time\""));
	}
	/* the leap day and a leap second still are times */
	snprintf(msg, sizeof(msg), "{\"kind\":\"commit\",\"lsn\":\"0/1\",\"commit_time\":\"%s\"}",
			 "2028-02-29T23:59:60Z");
	assert_int_equal(pg_message_parse(msg, strlen(msg), &m, err, sizeof(err)), 0);
}

static void
test_lsn(void **state)
{
	uint64_t v;
	char out[32];

	(void) state;
	assert_int_equal(lsn_parse("16/B374D848", 11, &v), 0);
	assert_int_equal(v, 0x16B374D848ULL);
	lsn_format(v, out);
	assert_string_equal(out, "16/B374D848");
	assert_int_equal(lsn_parse("0/0", 3, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(lsn_parse("x/1", 3, &v), -1);
	assert_int_equal(lsn_parse("1", 1, &v), -1);
	assert_int_equal(lsn_parse("1/", 2, &v), -1);
	assert_int_equal(lsn_parse("123456789/1", 11, &v), -1);
}

/* The version of an envelope: found by its name, never inside a string. */
static void
test_version(void **state)
{
	(void) state;
	const char *e = "{\"aggregate_id\":\"a\",\"aggregate_type\":\"x\\\",\\\"version\\\":7\","
					"\"version\":42,\"data\":{\"version\":1}}";

	assert_int_equal(pg_message_version(e, strlen(e)), 42);
	assert_int_equal(pg_message_version("{\"a\":1,\"version\":1}", 19), 1);
	assert_int_equal(pg_message_version("{\"a\":1}", 7), -1);
	assert_int_equal(pg_message_version("{\"a\":1,\"version\":\"3\"}", 21), -1);
	assert_int_equal(pg_message_version("{\"a\":1,\"version\":99999999999999999999}", 38), -1);
	/* the length bounds the search: no NUL is needed */
	assert_int_equal(pg_message_version("{\"a\":1,\"version\":12", 18), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_fast_path),
		cmocka_unit_test(test_event_slow_path),
		cmocka_unit_test(test_markers),
		cmocka_unit_test(test_marker_bad_commit_time),
		cmocka_unit_test(test_lsn),
		cmocka_unit_test(test_version),
	};

	return cmocka_run_group_tests_name("event", tests, NULL, NULL);
}
