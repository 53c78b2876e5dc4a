/*
 * test_pg_pgoutput.c
 *		The pgoutput decoder (pg_pgoutput.c) on messages captured from
 *		PostgreSQL 15 (relay/testdata/pgoutput: a transaction writing
 *		another table, an event and an UPDATE) and on hand-made ones: lazy
 *		begin, filters, origins, and malformed input (truncated at every
 *		length, unknown types, a Relation that is not eventstore.events'
 *		shape, an unchanged-TOAST value in an INSERT): a clear error, no
 *		crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pg_pgoutput.h"
#include "th_util.h"

#define DATA "../testdata/pgoutput/"

static const char *const captured[] = {
	"captured-01-B", "captured-02-R", "captured-03-I", "captured-04-R",
	"captured-05-I", "captured-06-U", "captured-07-C",
};

static pg_pgoutput *
s_new(const char *agg, const char *types, bool any_origin)
{
	pg_pgoutput_options o = {PG_ENVELOPE_FIELDS_ALL, agg, types, any_origin};
	char err[256];
	pg_pgoutput *d = pg_pgoutput_new(&o, err, sizeof(err));

	assert_non_null(d);
	assert_int_equal(pg_pgoutput_set_database(d, "postgres"), 0);
	return d;
}

static int
s_feed(pg_pgoutput *d, const char *m, size_t len, pg_pgoutput_out out[2], char *err, size_t errlen)
{
	bool config;

	return pg_pgoutput_decode(d, m, len, out, &config, err, errlen);
}

/* --- hand-made messages ------------------------------------------------------------ */

static void
s_u32(buf *b, uint32_t v)
{
	for (int i = 3; i >= 0; i--)
		buf_putc(b, (char) (v >> (8 * i)));
}

static void
s_u64(buf *b, uint64_t v)
{
	s_u32(b, (uint32_t) (v >> 32));
	s_u32(b, (uint32_t) v);
}

static void
s_str(buf *b, const char *s)
{
	buf_append(b, s, strlen(s) + 1);
}

static void
s_begin(buf *b, uint64_t lsn, uint32_t xid)
{
	buf_reset(b);
	buf_putc(b, 'B');
	s_u64(b, lsn);
	s_u64(b, 0); /* 2000-01-01 */
	s_u32(b, xid);
}

static void
s_commit(buf *b, uint64_t lsn, uint64_t end)
{
	buf_reset(b);
	buf_putc(b, 'C');
	buf_putc(b, 0);
	s_u64(b, lsn);
	s_u64(b, end);
	s_u64(b, 0);
}

/* Relation of eventstore.events with the columns in the given order (names, type OIDs). */
static void
s_relation(buf *b, uint32_t relid, int n, const char *const *names, const uint32_t *types)
{
	buf_reset(b);
	buf_putc(b, 'R');
	s_u32(b, relid);
	s_str(b, "eventstore");
	s_str(b, "events");
	buf_putc(b, 'd');
	buf_putc(b, (char) (n >> 8));
	buf_putc(b, (char) n);
	for (int i = 0; i < n; i++)
	{
		buf_putc(b, 0);
		s_str(b, names[i]);
		s_u32(b, types[i]);
		s_u32(b, 0xffffffff);
	}
}

static const char *const table_names[] = {"aggregate_id", "version",	"aggregate_type",
										  "event_id",	  "type",		"data",
										  "metadata",	  "recorded_at"};
static const uint32_t table_types[] = {2950, 20, 25, 2950, 25, 3802, 3802, 1184};

/* Insert of one event in table order; kinds[i] 't' (value vals[i]), 'n' or 'u'. */
static void
s_insert(buf *b, uint32_t relid, const char *kinds, const char *const *vals)
{
	int n = (int) strlen(kinds);

	buf_reset(b);
	buf_putc(b, 'I');
	s_u32(b, relid);
	buf_putc(b, 'N');
	buf_putc(b, (char) (n >> 8));
	buf_putc(b, (char) n);
	for (int i = 0; i < n; i++)
	{
		buf_putc(b, kinds[i]);
		if (kinds[i] == 't')
		{
			s_u32(b, (uint32_t) strlen(vals[i]));
			buf_puts(b, vals[i]);
		}
	}
}

static void
s_event_vals(const char *vals[8], const char *agg_type, const char *type)
{
	vals[0] = "0b6c1f2e-5d7a-4c1e-9f3b-2a8d6e4c1b70";
	vals[1] = "7";
	vals[2] = agg_type;
	vals[3] = "d411670d-bf55-5f0e-b0d9-ce9701d8b3d4";
	vals[4] = type;
	vals[5] = "{\"a\": [1, 2]}";
	vals[6] = "{}";
	vals[7] = "2026-11-23 09:14:03.5+00";
}

/* --- tests -------------------------------------------------------------------------- */

/* What PostgreSQL 15 sent: one event out of a transaction that also wrote another table. */
static void
test_captured(void **state)
{
	pg_pgoutput *d = s_new(NULL, NULL, false);
	pg_pgoutput_out out[2];
	int got[7], want[7] = {0, 0, 0, 0, 2, 0, 1};
	uint64_t begin_lsn = 0;
	char err[256], event[1024] = "";

	(void) state;
	for (int i = 0; i < 7; i++)
	{
		char path[128];
		size_t len;
		char *m;

		snprintf(path, sizeof(path), DATA "%s", captured[i]);
		m = th_read_file(path, &len);
		assert_non_null(m);
		got[i] = s_feed(d, m, len, out, err, sizeof(err));
		if (got[i] < 0)
			fail_msg("%s: %s", captured[i], err);
		if (got[i] == 2)
		{
			assert_int_equal(out[0].pm.kind, PM_BEGIN);
			begin_lsn = out[0].pm.lsn;
			assert_int_equal(out[1].pm.kind, PM_EVENT);
			assert_int_equal(out[1].pm.key_len, 36);
			assert_memory_equal(out[1].pm.key, "0b6c1f2e-5d7a-4c1e-9f3b-2a8d6e4c1b70", 36);
			snprintf(event, sizeof(event), "%.*s", (int) out[1].len, out[1].data);
		}
		if (i == 6)
		{
			assert_int_equal(out[0].pm.kind, PM_COMMIT);
			assert_int_equal(out[0].pm.lsn, begin_lsn);
			assert_true(out[0].pm.end_lsn > begin_lsn);
			assert_int_equal(out[0].pm.events, 1);
			assert_true(out[0].pm.commit_time_us > 1700000000000000LL);
		}
		free(m);
	}
	for (int i = 0; i < 7; i++)
		assert_int_equal(got[i], want[i]);
	assert_non_null(strstr(
		event, "{\"aggregate_id\":\"0b6c1f2e-5d7a-4c1e-9f3b-2a8d6e4c1b70\",\"aggregate_type\":"
			   "\"cart\",\"version\":1,\"event_id\":\"d411670d-bf55-5f0e-b0d9-ce9701d8b3d4\","
			   "\"type\":\"ItemAdded\",\"data\":{\"qty\":2,\"sku\":\"A-1\",\"gift\":false,"
			   "\"note\":null,\"price\":19.99},\"metadata\":{\"user_id\":\"u-7\"},"
			   "\"recorded_at\":\"2026-12-02T05:50:48.564638Z\",\"source\":{\"database\":"
			   "\"postgres\",\"lsn\":\""));
	pg_pgoutput_free(d);
}

/* Every captured message cut short at every length: an error, never a crash or an output. */
static void
test_truncated(void **state)
{
	char err[256];

	(void) state;
	for (int i = 0; i < 7; i++)
	{
		char path[128];
		size_t len;
		char *m;

		snprintf(path, sizeof(path), DATA "%s", captured[i]);
		m = th_read_file(path, &len);
		assert_non_null(m);
		for (size_t cut = 0; cut < len; cut++)
		{
			pg_pgoutput *d = s_new(NULL, NULL, false);
			pg_pgoutput_out out[2];
			char *copy = malloc(cut ? cut : 1);
			int rc;

			/* the decoder state the message needs: a transaction, the Relations */
			for (int k = 0; k < i; k++)
			{
				char p2[128];
				size_t l2;
				char *m2;

				snprintf(p2, sizeof(p2), DATA "%s", captured[k]);
				m2 = th_read_file(p2, &l2);
				assert_true(s_feed(d, m2, l2, out, err, sizeof(err)) >= 0);
				free(m2);
			}
			memcpy(copy, m, cut); /* exactly cut bytes: ASan sees any read past them */
			rc = s_feed(d, copy, cut, out, err, sizeof(err));
			/* an Insert into another table, an Update: skipped after the relation id */
			if (!((i == 2 || i == 5) && cut >= 5))
			{
				if (rc != -1)
					fail_msg("%s cut to %zu bytes: rc %d", captured[i], cut, rc);
				assert_non_null(memchr(err, '\0', sizeof(err)));
			}
			free(copy);
			pg_pgoutput_free(d);
		}
		free(m);
	}
}

/* Filters: the plugin's matching; a transaction with no wanted event shows nothing at all. */
static void
test_filters_and_lazy_begin(void **state)
{
	pg_pgoutput *d = s_new("cart, order", "A,B", false);
	pg_pgoutput_out out[2];
	buf b = BUF_INIT;
	const char *vals[8];
	char err[256];

	(void) state;
	s_relation(&b, 99, 8, table_names, table_types);
	assert_int_equal(s_feed(d, b.data, b.len, out, err, sizeof(err)), 0);
	/* nothing wanted: no begin, no commit */
	s_begin(&b, 0x100, 5);
	assert_int_equal(s_feed(d, b.data, b.len, out, err, sizeof(err)), 0);
	s_event_vals(vals, "cart", "C");
	s_insert(&b, 99, "tttttttt", vals);
	assert_int_equal(s_feed(d, b.data, b.len, out, err, sizeof(err)), 0);
	s_event_vals(vals, "carts", "A");
	s_insert(&b, 99, "tttttttt", vals);
	assert_int_equal(s_feed(d, b.data, b.len, out, err, sizeof(err)), 0);
	s_commit(&b, 0x100, 0x130);
	assert_int_equal(s_feed(d, b.data, b.len, out, err, sizeof(err)), 0);
	/* one wanted among others: begin before it, commit counts it */
	s_begin(&b, 0x200, 6);
	assert_int_equal(s_feed(d, b.data, b.len, out, err, sizeof(err)), 0);
	s_event_vals(vals, "cart", "C");
	s_insert(&b, 99, "tttttttt", vals);
	assert_int_equal(s_feed(d, b.data, b.len, out, err, sizeof(err)), 0);
	s_event_vals(vals, "order", "B");
	s_insert(&b, 99, "tttttttt", vals);
	assert_int_equal(s_feed(d, b.data, b.len, out, err, sizeof(err)), 2);
	assert_int_equal(out[0].pm.kind, PM_BEGIN);
	assert_int_equal(out[0].pm.lsn, 0x200);
	assert_int_equal(out[0].pm.commit_time_us, 946684800000000LL);
	assert_non_null(strstr(out[1].data, "\"aggregate_type\":\"order\",\"version\":7,"));
	assert_non_null(strstr(out[1].data, "\"data\":{\"a\":[1,2]},\"metadata\":{},\"recorded_at\":"
										"\"2026-11-23T09:14:03.500000Z\",\"source\":{\"database\":"
										"\"postgres\",\"lsn\":\"0/200\",\"xid\":6,\"commit_time\":"
										"\"2000-01-01T00:00:00.000000Z\"}}"));
	s_insert(&b, 99, "tttttttt", vals);
	assert_int_equal(s_feed(d, b.data, b.len, out, err, sizeof(err)), 1);
	assert_int_equal(out[0].pm.kind, PM_EVENT);
	s_commit(&b, 0x200, 0x230);
	assert_int_equal(s_feed(d, b.data, b.len, out, err, sizeof(err)), 1);
	assert_int_equal(out[0].pm.kind, PM_COMMIT);
	assert_int_equal(out[0].pm.end_lsn, 0x230);
	assert_int_equal(out[0].pm.events, 2);
	buf_free(&b);
	pg_pgoutput_free(d);
}

/* A transaction with an Origin (replicated in) is skipped unless any_origin. */
static void
test_origin(void **state)
{
	(void) state;
	for (int any = 0; any <= 1; any++)
	{
		pg_pgoutput *d = s_new(NULL, NULL, any);
		pg_pgoutput_out out[2];
		buf b = BUF_INIT;
		const char *vals[8];
		char err[256];

		s_relation(&b, 7, 8, table_names, table_types);
		assert_int_equal(s_feed(d, b.data, b.len, out, err, sizeof(err)), 0);
		s_begin(&b, 0x300, 9);
		assert_int_equal(s_feed(d, b.data, b.len, out, err, sizeof(err)), 0);
		buf_reset(&b);
		buf_putc(&b, 'O');
		s_u64(&b, 0x1234);
		s_str(&b, "pg_16390");
		assert_int_equal(s_feed(d, b.data, b.len, out, err, sizeof(err)), 0);
		s_event_vals(vals, "cart", "A");
		s_insert(&b, 7, "tttttttt", vals);
		assert_int_equal(s_feed(d, b.data, b.len, out, err, sizeof(err)), any ? 2 : 0);
		s_commit(&b, 0x300, 0x330);
		assert_int_equal(s_feed(d, b.data, b.len, out, err, sizeof(err)), any ? 1 : 0);
		/* the next, local transaction is relayed */
		s_begin(&b, 0x400, 10);
		assert_int_equal(s_feed(d, b.data, b.len, out, err, sizeof(err)), 0);
		s_insert(&b, 7, "tttttttt", vals);
		assert_int_equal(s_feed(d, b.data, b.len, out, err, sizeof(err)), 2);
		buf_free(&b);
		pg_pgoutput_free(d);
	}
}

static void
s_expect_error(pg_pgoutput *d, const buf *m, bool want_config, const char *msg)
{
	pg_pgoutput_out out[2];
	bool config = !want_config;
	char err[256];

	assert_int_equal(pg_pgoutput_decode(d, m->data, m->len, out, &config, err, sizeof(err)), -1);
	if (strstr(err, msg) == NULL)
		fail_msg("\"%s\" does not say \"%s\"", err, msg);
	assert_int_equal(config, want_config);
}

/* Malformed or unexpected messages: one clear line each. */
static void
test_malformed(void **state)
{
	pg_pgoutput *d = s_new(NULL, NULL, false);
	pg_pgoutput_out out[2];
	buf b = BUF_INIT;
	const char *vals[8];
	const char *names[8];
	uint32_t types[8];
	char err[256];

	(void) state;
	buf_puts(&b, "Z");
	s_expect_error(d, &b, false, "unknown pgoutput message type 0x5a");
	buf_reset(&b);
	buf_putc(&b, 'S');
	s_u32(&b, 1);
	buf_putc(&b, 1);
	s_expect_error(d, &b, false, "streaming is not enabled");
	buf_reset(&b);
	assert_int_equal(s_feed(d, "", 0, out, err, sizeof(err)), -1);
	s_commit(&b, 1, 2);
	s_expect_error(d, &b, false, "outside a transaction");
	s_event_vals(vals, "cart", "A");
	s_begin(&b, 0x500, 1);
	assert_int_equal(s_feed(d, b.data, b.len, out, err, sizeof(err)), 0);
	s_expect_error(d, &b, false, "Begin inside a transaction");
	s_insert(&b, 42, "tttttttt", vals);
	s_expect_error(d, &b, false, "relation OID 42 before its Relation");

	/* Relations not in the shape of eventstore.events: configuration errors */
	memcpy(names, table_names, sizeof(names));
	memcpy(types, table_types, sizeof(types));
	s_relation(&b, 42, 7, names, types);
	s_expect_error(d, &b, true, "no column \"recorded_at\"");
	types[5] = 114; /* json */
	s_relation(&b, 42, 8, names, types);
	s_expect_error(d, &b, true, "column \"data\" has type OID 114");
	types[5] = 3802;
	names[4] = "event_type";
	s_relation(&b, 42, 8, names, types);
	s_expect_error(d, &b, true, "no column \"type\"");

	/* an extra column is fine, looked up by name */
	{
		const char *n9[9] = {"extra", "aggregate_id", "version",  "aggregate_type", "event_id",
							 "type",  "data",		  "metadata", "recorded_at"};
		uint32_t t9[9] = {23, 2950, 20, 25, 2950, 25, 3802, 3802, 1184};
		const char *v9[9] = {"1"};

		s_relation(&b, 42, 9, n9, t9);
		assert_int_equal(s_feed(d, b.data, b.len, out, err, sizeof(err)), 0);
		memcpy(v9 + 1, vals, sizeof(vals));
		s_insert(&b, 42, "ttttttttt", v9);
		assert_int_equal(s_feed(d, b.data, b.len, out, err, sizeof(err)), 2);
		assert_non_null(strstr(out[1].data, "\"version\":7,"));
		s_insert(&b, 42, "tttttttt", vals);
		s_expect_error(d, &b, false, "has 8 columns, its Relation message 9");
		s_insert(&b, 42, "tututtttt", v9);
		s_expect_error(d, &b, false, "unchanged TOAST value");
		s_insert(&b, 42, "ttntttttt", v9);
		s_expect_error(d, &b, false, "null in column \"version\"");
		v9[6] = "{\"a\": 1";
		s_insert(&b, 42, "ttttttttt", v9);
		s_expect_error(d, &b, false, "data is not JSON");
		s_insert(&b, 42, "tttttttbt", v9);
		s_expect_error(d, &b, false, "binary");
		s_insert(&b, 42, "tttttttxt", v9);
		s_expect_error(d, &b, false, "unknown column kind 0x78");
		/* trailing bytes after the tuple */
		v9[6] = "{}";
		s_insert(&b, 42, "ttttttttt", v9);
		buf_putc(&b, 0);
		s_expect_error(d, &b, false, "truncated or malformed pgoutput message 'I'");
	}
	/* Update, Delete, Truncate and messages: nothing */
	buf_reset(&b);
	buf_puts(&b, "U\x00\x00\x00\x2a");
	b.len = 5;
	assert_int_equal(s_feed(d, b.data, b.len, out, err, sizeof(err)), 0);
	buf_free(&b);
	pg_pgoutput_free(d);
}

/* A commit time out of range (PostgreSQL's infinity): null, as the plugin writes it; no overflow.
 */
static void
test_commit_time_infinity(void **state)
{
	pg_pgoutput *d = s_new(NULL, NULL, false);
	pg_pgoutput_out out[2];
	buf b = BUF_INIT;
	const char *vals[8];
	char err[256];

	(void) state;
	s_relation(&b, 5, 8, table_names, table_types);
	assert_int_equal(s_feed(d, b.data, b.len, out, err, sizeof(err)), 0);
	buf_reset(&b);
	buf_putc(&b, 'B');
	s_u64(&b, 0x600);
	s_u64(&b, (uint64_t) INT64_MAX);
	s_u32(&b, 1);
	assert_int_equal(s_feed(d, b.data, b.len, out, err, sizeof(err)), 0);
	s_event_vals(vals, "cart", "A");
	s_insert(&b, 5, "tttttttt", vals);
	assert_int_equal(s_feed(d, b.data, b.len, out, err, sizeof(err)), 2);
	assert_non_null(strstr(out[1].data, "\"commit_time\":null}}"));
	assert_int_equal(out[0].pm.commit_time_us, PG_ENVELOPE_NO_TIME);
	buf_free(&b);
	pg_pgoutput_free(d);
}

static void
test_options(void **state)
{
	pg_envelope_fields f = PG_ENVELOPE_FIELDS_ALL;
	pg_pgoutput_options o = {PG_ENVELOPE_FIELDS_ALL, "a,,b", NULL, false};
	char err[256];

	(void) state;
	assert_int_equal(pg_pgoutput_envelope_option(&f, "include-xids", "off", err, sizeof(err)), 1);
	assert_false(f.xid);
	assert_int_equal(pg_pgoutput_envelope_option(&f, "include-source", "FALSE", err, sizeof(err)),
					 1);
	assert_false(f.source);
	assert_int_equal(pg_pgoutput_envelope_option(&f, "include-lsn", "maybe", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "include-lsn=maybe"));
	assert_int_equal(pg_pgoutput_envelope_option(NULL, "binary", "true", err, sizeof(err)), 0);
	assert_int_equal(pg_pgoutput_envelope_option(NULL, "include-timestamp", NULL, err, 0), 1);
	assert_null(pg_pgoutput_new(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "empty name"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_captured),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_filters_and_lazy_begin),
		cmocka_unit_test(test_origin),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_commit_time_infinity),
		cmocka_unit_test(test_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
