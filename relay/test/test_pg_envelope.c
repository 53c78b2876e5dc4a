/*
 * test_pg_envelope.c
 *		The relay's envelope writer for rows in text form (pg_envelope.c):
 *		byte for byte what the plugin writes (tests/golden/envelope.ndjson),
 *		jsonb_out text made compact, timestamptz text in every form the
 *		server prints it, markers, and rows that are not in text form.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pg_envelope.h"

static const pg_envelope_fields all_fields = PG_ENVELOPE_FIELDS_ALL;

static void
s_row(pg_envelope_row *r, const char *agg, const char *atype, const char *ver, const char *eid,
	  const char *type, const char *data, const char *meta, const char *at)
{
	const char *v[PGE_NCOLUMNS] = {agg, atype, ver, eid, type, data, meta, at};

	for (int c = 0; c < PGE_NCOLUMNS; c++)
	{
		r->val[c] = v[c];
		r->len[c] = v[c] ? strlen(v[c]) : 0;
	}
}

/* Golden line 2 of tests/golden/envelope.ndjson, from jsonb_out's text. */
static void
test_golden_event(void **state)
{
	pg_envelope_row r;
	pg_envelope_txn t = {"postgres", 0x16B3748, 0x16B3780, 750, 1795425243124001LL};
	pg_envelope_fields nosrc = PG_ENVELOPE_FIELDS_ALL;
	buf b = BUF_INIT;
	char err[256];

	(void) state;
	s_row(&r, "0b6c1f2e-5d7a-4c1e-9f3b-2a8d6e4c1b70", "cart", "2",
		  "d411670d-bf55-5f0e-b0d9-ce9701d8b3d4", "ItemAdded",
		  "{\"qty\": 2, \"sku\": \"A-1\", \"gift\": false, \"note\": null, \"price\": 19.99}",
		  "{\"user_id\": \"u-7\", \"correlation_id\": \"8c3d1f0a-2b4e-4d6f-8a1c-3e5b7d9f1a2c\"}",
		  "2026-11-23 09:14:03.123+00");
	nosrc.source = false;
	assert_int_equal(pg_envelope_event(&b, &r, &t, &nosrc, err, sizeof(err)), 0);
	assert_string_equal(
		b.data, "{\"aggregate_id\":\"0b6c1f2e-5d7a-4c1e-9f3b-2a8d6e4c1b70\",\"aggregate_type\":"
				"\"cart\",\"version\":2,\"event_id\":\"d411670d-bf55-5f0e-b0d9-ce9701d8b3d4\","
				"\"type\":\"ItemAdded\",\"data\":{\"qty\":2,\"sku\":\"A-1\",\"gift\":false,"
				"\"note\":null,\"price\":19.99},\"metadata\":{\"user_id\":\"u-7\","
				"\"correlation_id\":\"8c3d1f0a-2b4e-4d6f-8a1c-3e5b7d9f1a2c\"},\"recorded_at\":"
				"\"2026-11-23T09:14:03.123000Z\"}");
	buf_reset(&b);
	assert_int_equal(pg_envelope_event(&b, &r, &t, &all_fields, err, sizeof(err)), 0);
	assert_non_null(strstr(b.data, "\"recorded_at\":\"2026-11-23T09:14:03.123000Z\",\"source\":{"
								   "\"database\":\"postgres\",\"lsn\":\"0/16B3748\",\"xid\":750,"
								   "\"commit_time\":\"2026-11-23T09:14:03.124001Z\"}}"));
	assert_int_equal(b.data[b.len - 1], '}');
	/* in two steps: the same bytes */
	{
		buf src = BUF_INIT, two = BUF_INIT;

		pg_envelope_source(&src, &t, &all_fields);
		assert_int_equal(pg_envelope_event_src(&two, &r, src.data, src.len, err, sizeof(err)), 0);
		assert_string_equal(two.data, b.data);
		buf_reset(&two);
		buf_reset(&src);
		pg_envelope_source(&src, &t, &nosrc);
		assert_int_equal(src.len, 0);
		assert_int_equal(pg_envelope_event_src(&two, &r, "", 0, err, sizeof(err)), 0);
		assert_string_equal(two.data + two.len - 30, "\"2026-11-23T09:14:03.123000Z\"}");
		buf_free(&src);
		buf_free(&two);
	}
	buf_free(&b);
}

/* Escaping of text columns and the database name is the plugin's (buf_json_string). */
static void
test_escaping_and_source_fields(void **state)
{
	pg_envelope_row r;
	pg_envelope_txn t = {"d\"b", 0x100000000ULL, 0, 4294967295U, PG_ENVELOPE_NO_TIME};
	pg_envelope_fields f = PG_ENVELOPE_FIELDS_ALL;
	buf b = BUF_INIT;
	char err[256];

	(void) state;
	s_row(&r, "00000000-0000-0000-0000-000000000001", "ca\"rt\\\n", "9223372036854775807",
		  "00000000-0000-0000-0000-00000000000f", "Q\"uo\\te\t\x01\x7f\xc3\xbc",
		  "\"just a string \\u0001 \\\"q\\\"\"", "{}", "2026-11-23 09:14:03.000001+00");
	f.lsn = false;
	assert_int_equal(pg_envelope_event(&b, &r, &t, &f, err, sizeof(err)), 0);
	assert_string_equal(
		b.data, "{\"aggregate_id\":\"00000000-0000-0000-0000-000000000001\",\"aggregate_type\":"
				"\"ca\\\"rt\\\\\\n\",\"version\":9223372036854775807,\"event_id\":"
				"\"00000000-0000-0000-0000-00000000000f\",\"type\":\"Q\\\"uo\\\\te\\t\\u0001\x7f"
				"\xc3\xbc\",\"data\":\"just a string \\u0001 \\\"q\\\"\",\"metadata\":{},"
				"\"recorded_at\":\"2026-11-23T09:14:03.000001Z\",\"source\":{\"database\":"
				"\"d\\\"b\",\"xid\":4294967295,\"commit_time\":null}}");
	/* every field off but one, then none: no stray comma */
	f.database = f.xid = false;
	buf_reset(&b);
	assert_int_equal(pg_envelope_event(&b, &r, &t, &f, err, sizeof(err)), 0);
	assert_non_null(strstr(b.data, ",\"source\":{\"commit_time\":null}}"));
	f.commit_time = false;
	buf_reset(&b);
	assert_int_equal(pg_envelope_event(&b, &r, &t, &f, err, sizeof(err)), 0);
	assert_non_null(strstr(b.data, ",\"source\":{}}"));
	buf_free(&b);
}

static void
s_time(const char *in, const char *want)
{
	buf b = BUF_INIT;
	char err[256];

	if (want == NULL)
	{
		assert_int_equal(pg_envelope_timestamptz(&b, in, strlen(in), err, sizeof(err)), -1);
		assert_non_null(strstr(err, "DateStyle"));
	}
	else
	{
		if (pg_envelope_timestamptz(&b, in, strlen(in), err, sizeof(err)) != 0)
			fail_msg("%s: %s", in, err);
		if (strcmp(b.data, want) != 0)
			fail_msg("%s: got %s, want %s", in, b.data, want);
	}
	buf_free(&b);
}

/* Every shape timestamptz_out gives with DateStyle = ISO, written as the plugin's timestamp2tm. */
static void
test_timestamptz(void **state)
{
	(void) state;
	s_time("2026-11-23 09:14:03.123+00", "\"2026-11-23T09:14:03.123000Z\"");
	s_time("2026-11-23 09:14:03+00", "\"2026-11-23T09:14:03.000000Z\"");
	s_time("2026-11-23 09:14:03.999999+00", "\"2026-11-23T09:14:03.999999Z\"");
	s_time("2026-11-23 10:14:03.5+01", "\"2026-11-23T09:14:03.500000Z\"");
	s_time("2026-11-23 04:44:03.5-04:30", "\"2026-11-23T09:14:03.500000Z\"");
	s_time("2000-01-01 00:30:00+05:30", "\"1999-12-31T19:00:00.000000Z\"");
	s_time("2024-02-28 23:00:00-01", "\"2024-02-29T00:00:00.000000Z\"");
	s_time("1900-03-01 00:00:00+00:00:15", "\"1900-02-28T23:59:45.000000Z\"");
	s_time("1969-12-31 23:59:59.999999+00", "\"1969-12-31T23:59:59.999999Z\"");
	/* years of five digits, and BC: the plugin prints the astronomical year with %04d */
	s_time("12345-06-07 08:09:10.000001+00", "\"12345-06-07T08:09:10.000001Z\"");
	s_time("0001-01-01 00:00:00+00 BC", "\"0000-01-01T00:00:00.000000Z\"");
	s_time("0044-03-15 12:00:00+00 BC", "\"-043-03-15T12:00:00.000000Z\"");
	s_time("4714-11-24 00:00:00+00 BC", "\"-4713-11-24T00:00:00.000000Z\"");
	s_time("2026-11-23T09:14:03.1Z", "\"2026-11-23T09:14:03.100000Z\"");
	s_time("infinity", "null");
	s_time("-infinity", "null");
	s_time("2026-11-23", NULL);
	s_time("2026-11-23 09:14:03", NULL); /* no zone: a timestamp, not a timestamptz */
	s_time("2026-13-01 00:00:00+00", NULL);
	s_time("2026-11-23 09:14:03.1234567+00", NULL);
	s_time("2026-11-23 09:14:03.+00", NULL);
	s_time("11/23/2026 09:14:03 UTC", NULL); /* DateStyle SQL */
	s_time("Mon Nov 23 09:14:03 2026 UTC", NULL);
	s_time("2026-11-23 09:14:03+00 AD", NULL);
	s_time("", NULL);
}

static void
test_time_us(void **state)
{
	buf b = BUF_INIT;

	(void) state;
	pg_envelope_time_us(&b, 0);
	assert_string_equal(b.data, "\"1970-01-01T00:00:00.000000Z\"");
	buf_reset(&b);
	pg_envelope_time_us(&b, -1);
	assert_string_equal(b.data, "\"1969-12-31T23:59:59.999999Z\"");
	buf_reset(&b);
	pg_envelope_time_us(&b, 1795425243124001LL);
	assert_string_equal(b.data, "\"2026-11-23T09:14:03.124001Z\"");
	buf_reset(&b);
	/* the PostgreSQL epoch */
	pg_envelope_time_us(&b, 946684800000000LL);
	assert_string_equal(b.data, "\"2000-01-01T00:00:00.000000Z\"");
	buf_reset(&b);
	pg_envelope_time_us(&b, PG_ENVELOPE_NO_TIME);
	assert_string_equal(b.data, "null");
	buf_free(&b);
}

static void
s_json(const char *in, const char *want)
{
	buf b = BUF_INIT;
	char err[256];
	int rc = pg_envelope_json_compact(&b, in, strlen(in), err, sizeof(err));

	if (want == NULL)
	{
		if (rc != -1)
			fail_msg("accepted %s as %s", in, b.data);
		assert_non_null(strstr(err, "not JSON"));
	}
	else
	{
		if (rc != 0)
			fail_msg("%s: %s", in, err);
		if (strcmp(b.data ? b.data : "", want) != 0)
			fail_msg("%s: got %s, want %s", in, b.data, want);
	}
	buf_free(&b);
}

/* jsonb_out's ", " and ": " go; strings are copied as they are, blanks in them stay. */
static void
test_json_compact(void **state)
{
	(void) state;
	s_json("{}", "{}");
	s_json("[]", "[]");
	s_json("{\"a\": 1, \"b\": [1, 2]}", "{\"a\":1,\"b\":[1,2]}");
	s_json("{\"list\": [1, \"two\", true, null, [], {}, [[3]], {\"k\": [4.25]}], \"e\": {}}",
		   "{\"list\":[1,\"two\",true,null,[],{},[[3]],{\"k\":[4.25]}],\"e\":{}}");
	s_json("{\"k \\\"q\\\"\\n\": \"a, b: c \\\\ \\u0001 \\u001f\"}",
		   "{\"k \\\"q\\\"\\n\":\"a, b: c \\\\ \\u0001 \\u001f\"}");
	s_json("{\"u\": \"caf\xc3\xa9 \xe2\x80\xa8 \xf0\x9f\x98\x80 \x7f\"}",
		   "{\"u\":\"caf\xc3\xa9 \xe2\x80\xa8 \xf0\x9f\x98\x80 \x7f\"}");
	s_json("123456789012345678901234567890.123456789", "123456789012345678901234567890.123456789");
	s_json("-0.0001", "-0.0001");
	s_json("[1e3, 1E-3, 0]", "[1e3,1E-3,0]");
	s_json("\"x\"", "\"x\"");
	s_json("true", "true");
	s_json("null", "null");
	s_json(" { \"a\" :\t[ 1 ,\n2 ] } ", "{\"a\":[1,2]}");
	/* deeper than the writer's stack on the stack */
	{
		char in[2 * 300 + 1], want[2 * 300 + 1];

		memset(in, '[', 300);
		memset(in + 300, ']', 300);
		in[600] = '\0';
		memcpy(want, in, sizeof(in));
		s_json(in, want);
	}
	s_json("", NULL);
	s_json("{", NULL);
	s_json("{\"a\": 1", NULL);
	s_json("{\"a\" 1}", NULL);
	s_json("{\"a\": 1,}", NULL);
	s_json("[1, 2]]", NULL);
	s_json("[1}", NULL);
	s_json("{1: 2}", NULL);
	s_json("{\"a\": 1} x", NULL);
	s_json("\"raw\x01control\"", NULL);
	s_json("\"bad \\x escape\"", NULL);
	s_json("\"bad \\u12 escape\"", NULL);
	s_json("\"unterminated", NULL);
	s_json("\"ends in a backslash\\", NULL);
	s_json("01", NULL);
	s_json("-", NULL);
	s_json("1.", NULL);
	s_json("1e", NULL);
	s_json("tru", NULL);
	s_json("NaN", NULL);
	s_json("1 2", NULL);
}

/* The markers of docs/envelope.md, as src/envelope.c writes them. */
static void
test_markers(void **state)
{
	pg_envelope_txn t = {"app", 0x16B3748, 0x16B3780, 750, 1795425243124001LL};
	pg_envelope_fields f = PG_ENVELOPE_FIELDS_ALL;
	buf b = BUF_INIT;

	(void) state;
	pg_envelope_begin(&b, &t, &f);
	assert_string_equal(b.data, "{\"kind\":\"begin\",\"xid\":750,\"lsn\":\"0/16B3748\","
								"\"commit_time\":\"2026-11-23T09:14:03.124001Z\"}");
	buf_reset(&b);
	pg_envelope_commit(&b, &t, &f, 3);
	assert_string_equal(
		b.data, "{\"kind\":\"commit\",\"xid\":750,\"lsn\":\"0/16B3748\",\"end_lsn\":"
				"\"0/16B3780\",\"commit_time\":\"2026-11-23T09:14:03.124001Z\",\"events\":3}");
	f.xid = f.commit_time = false;
	buf_reset(&b);
	pg_envelope_commit(&b, &t, &f, 1);
	assert_string_equal(b.data, "{\"kind\":\"commit\",\"lsn\":\"0/16B3748\",\"end_lsn\":"
								"\"0/16B3780\",\"events\":1}");
	buf_free(&b);
}

/* A row not in text form: one clear error naming the column, never a broken envelope. */
static void
test_bad_rows(void **state)
{
	static const struct
	{
		int col;
		const char *val;
		const char *msg;
	} cases[] = {
		{PGE_AGGREGATE_ID, "0B6C1F2E-5D7A-4C1E-9F3B-2A8D6E4C1B70", "aggregate_id is not a uuid"},
		{PGE_AGGREGATE_ID, "0b6c1f2e5d7a4c1e9f3b2a8d6e4c1b70", "aggregate_id is not a uuid"},
		{PGE_EVENT_ID, "\"},\"x\":\"", "event_id is not a uuid"},
		{PGE_VERSION, "1,\"x\":2", "version is not an integer"},
		{PGE_VERSION, "", "version is not an integer"},
		{PGE_DATA, "{\"a\":1}}", "data is not JSON"},
		{PGE_METADATA, "\\x7b7d", "metadata is not JSON"},
		{PGE_RECORDED_AT, "2026-11-23 09:14:03", "recorded_at is not a timestamptz"},
		{PGE_TYPE, NULL, "null in column \"type\""},
	};
	pg_envelope_txn t = {"app", 1, 2, 3, 0};
	char err[256];

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		pg_envelope_row r;
		buf b = BUF_INIT;

		s_row(&r, "0b6c1f2e-5d7a-4c1e-9f3b-2a8d6e4c1b70", "cart", "2",
			  "d411670d-bf55-5f0e-b0d9-ce9701d8b3d4", "T", "{}", "{}", "2026-11-23 09:14:03+00");
		r.val[cases[i].col] = cases[i].val;
		r.len[cases[i].col] = cases[i].val ? strlen(cases[i].val) : 0;
		assert_int_equal(pg_envelope_event(&b, &r, &t, &all_fields, err, sizeof(err)), -1);
		if (strstr(err, cases[i].msg) == NULL)
			fail_msg("case %zu: \"%s\" does not say \"%s\"", i, err, cases[i].msg);
		buf_free(&b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_event), cmocka_unit_test(test_escaping_and_source_fields),
		cmocka_unit_test(test_timestamptz),	 cmocka_unit_test(test_time_us),
		cmocka_unit_test(test_json_compact), cmocka_unit_test(test_markers),
		cmocka_unit_test(test_bad_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
