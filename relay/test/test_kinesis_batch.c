/*
 * test_batch.c
 *		The batcher: request limits, one record per key per request, retry
 *		backoff of only the failed records, per-aggregate order under random
 *		partial failures, and position (transaction) acknowledgement; runs of
 *		one key per request (max_per_key), the re-send of a run's tail after a
 *		failure inside it, several batches in flight at once, and a take that
 *		costs what it takes, not what is queued.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kinesis_batch.h"

static batch_limits
limits(void)
{
	batch_limits l = {500, 5 * 1024 * 1024, 1024 * 1024, 20, 100, 5000, 1};

	return l;
}

static void
put(batcher *b, const char *key, int version, uint64_t pos, int64_t now)
{
	char data[64];

	snprintf(data, sizeof(data), "{\"aggregate_id\":\"%s\",\"version\":%d}", key, version);
	assert_int_equal(batch_put(b, data, strlen(data), key, strlen(key), pos, 0, now), 0);
}

static void
test_record_limit(void **state)
{
	batcher b;
	batch_limits l = limits();
	batch_record *out[500];
	batch_outcome ok[500] = {0};
	char key[32];
	int i, n;

	(void) state;
	batch_init(&b, &l);
	for (i = 0; i < 1200; i++)
	{
		snprintf(key, sizeof(key), "k%d", i);
		put(&b, key, 1, 1, 0);
	}
	batch_commit(&b, 100);
	assert_true(batch_due(&b, 0)); /* full: no linger */
	n = batch_take(&b, 0, out);
	assert_int_equal(n, 500);
	batch_done(&b, out, ok, n, 0);
	n = batch_take(&b, 0, out);
	assert_int_equal(n, 500);
	batch_done(&b, out, ok, n, 0);
	assert_int_equal(b.acked, 0);
	assert_false(batch_due(&b, 0)); /* 200 left: wait for the linger */
	assert_true(batch_due(&b, 20));
	n = batch_take(&b, 20, out);
	assert_int_equal(n, 200);
	batch_done(&b, out, ok, n, 20);
	assert_int_equal(b.acked, 100);
	assert_int_equal(b.n_records, 0);
	batch_free(&b);
}

static void
test_byte_limits(void **state)
{
	batcher b;
	batch_limits l = limits();
	batch_record *out[500];
	batch_outcome ok[500] = {0};
	char *big = malloc(1024 * 1024);
	char key[32];
	int i, n, total = 0;

	(void) state;
	memset(big, 'x', 1024 * 1024);
	batch_init(&b, &l);
	/* exactly at the record limit: data + key = 1 MiB is accepted, one more byte is not */
	assert_int_equal(batch_put(&b, big, 1024 * 1024 - 2, "k1", 2, 1, 0, 0), 0);
	assert_int_equal(batch_put(&b, big, 1024 * 1024 - 1, "k2", 2, 1, 0, 0), 1);
	assert_int_equal(batch_put(&b, big, 10, "", 0, 1, 0, 0), 1);
	for (i = 0; i < 12; i++)
	{
		snprintf(key, sizeof(key), "key%02d", i);
		assert_int_equal(batch_put(&b, big, 600 * 1024, key, strlen(key), 1, 0, 0), 0);
	}
	batch_commit(&b, 7);
	while ((n = batch_take(&b, 100, out)) > 0)
	{
		size_t bytes = 0;

		for (i = 0; i < n; i++)
			bytes += out[i]->len + out[i]->key_len;
		assert_true(bytes <= 5 * 1024 * 1024);
		total += n;
		batch_done(&b, out, ok, n, 100);
	}
	assert_int_equal(total, 13);
	assert_int_equal(b.acked, 7);
	free(big);
	batch_free(&b);
}

static void
test_one_per_key(void **state)
{
	batcher b;
	batch_limits l = limits();
	batch_record *out[500];
	batch_outcome ok[500] = {0};
	int n;

	(void) state;
	batch_init(&b, &l);
	put(&b, "A", 1, 1, 0);
	put(&b, "A", 2, 1, 0);
	put(&b, "B", 1, 1, 0);
	put(&b, "A", 3, 1, 0);
	put(&b, "C", 1, 1, 0);
	batch_commit(&b, 1);
	n = batch_take(&b, 100, out);
	assert_int_equal(n, 3);
	assert_string_equal(out[0]->key, "A");
	assert_non_null(strstr(out[0]->data, "\"version\":1"));
	assert_string_equal(out[1]->key, "B");
	assert_string_equal(out[2]->key, "C");
	/* while A/1 is in flight nothing else of A may go */
	assert_int_equal(batch_take(&b, 100, out + 3), 0);
	batch_done(&b, out, ok, n, 100);
	n = batch_take(&b, 100, out);
	assert_int_equal(n, 1);
	assert_non_null(strstr(out[0]->data, "\"version\":2"));
	batch_done(&b, out, ok, n, 100);
	n = batch_take(&b, 100, out);
	assert_int_equal(n, 1);
	assert_non_null(strstr(out[0]->data, "\"version\":3"));
	batch_done(&b, out, ok, n, 100);
	assert_int_equal(b.acked, 1);
	batch_free(&b);
}

static void
test_retry_only_failed(void **state)
{
	batcher b;
	batch_limits l = limits();
	batch_record *out[500];
	batch_outcome res[3] = {BO_OK, BO_RETRY, BO_OK};
	batch_outcome ok[500] = {0};
	int n;
	int64_t t = 1000;

	(void) state;
	batch_init(&b, &l);
	put(&b, "A", 1, 1, t);
	put(&b, "B", 1, 1, t);
	put(&b, "C", 1, 1, t);
	put(&b, "B", 2, 2, t);
	put(&b, "D", 1, 2, t);
	batch_commit(&b, 2);
	n = batch_take(&b, t, out);
	assert_int_equal(n, 4); /* A1 B1 C1 D1 (B2 waits for B1) */
	assert_string_equal(out[3]->key, "D");
	res[0] = BO_OK;
	res[1] = BO_RETRY; /* B1 throttled */
	res[2] = BO_OK;
	{
		batch_outcome r4[4] = {BO_OK, BO_RETRY, BO_OK, BO_OK};

		batch_done(&b, out, r4, 4, t);
	}
	(void) res;
	assert_int_equal(b.n_records, 2); /* B1 (backoff) and B2 */
	assert_int_equal(b.acked, 0);
	/* within the backoff nothing is eligible, and B2 must not overtake B1 */
	n = batch_take(&b, t + 1, out);
	assert_int_equal(n, 0);
	assert_true(b.blocked_until >= t + 50 && b.blocked_until <= t + 100);
	assert_false(batch_due(&b, t + 1));
	n = batch_take(&b, t + 100, out);
	assert_int_equal(n, 1);
	assert_non_null(strstr(out[0]->data, "\"version\":1"));
	assert_int_equal(out[0]->attempts, 1);
	batch_done(&b, out, ok, n, t + 100);
	n = batch_take(&b, t + 100, out);
	assert_int_equal(n, 1);
	assert_non_null(strstr(out[0]->data, "\"version\":2"));
	batch_done(&b, out, ok, n, t + 100);
	assert_int_equal(b.acked, 2);
	batch_free(&b);
}

static void
test_backoff_grows_and_caps(void **state)
{
	batcher b;
	batch_limits l = limits();
	batch_record *out[1];
	batch_outcome retry[1] = {BO_RETRY};
	int64_t t = 0, prev_max = 0;
	int i;

	(void) state;
	batch_init(&b, &l);
	put(&b, "A", 1, 1, 0);
	for (i = 1; i <= 10; i++)
	{
		int64_t d;
		int64_t expect = 100LL << (i - 1);

		if (expect > 5000)
			expect = 5000;
		assert_int_equal(batch_take(&b, t, out), 1);
		batch_done(&b, out, retry, 1, t);
		d = out[0]->not_before - t;
		assert_true(d >= expect / 2 && d <= expect);
		assert_true(d <= 5000);
		if (expect > prev_max)
			prev_max = expect;
		t = out[0]->not_before;
	}
	batch_free(&b);
}

/* Positions are acknowledged in order, however records complete. */
static void
test_ack_order(void **state)
{
	batcher b;
	batch_limits l = limits();
	batch_record *out[500];
	int n;

	(void) state;
	batch_init(&b, &l);
	put(&b, "A", 1, 10, 0);
	batch_commit(&b, 10);
	put(&b, "B", 1, 20, 0);
	batch_commit(&b, 20);
	batch_commit(&b, 25); /* empty position */
	n = batch_take(&b, 100, out);
	assert_int_equal(n, 2);
	{
		batch_outcome r[2] = {BO_RETRY, BO_OK}; /* position 20 done before 10 */

		batch_done(&b, out, r, 2, 100);
	}
	assert_int_equal(b.acked, 0);
	n = batch_take(&b, 1000, out);
	assert_int_equal(n, 1);
	{
		batch_outcome r[1] = {BO_DROPPED}; /* set aside counts as done */

		batch_done(&b, out, r, 1, 1000);
	}
	assert_int_equal(b.acked, 25);
	/* an open position is never acknowledged */
	put(&b, "C", 1, 30, 1000);
	n = batch_take(&b, 2000, out);
	{
		batch_outcome r[1] = {BO_OK};

		batch_done(&b, out, r, n, 2000);
	}
	assert_int_equal(b.acked, 25);
	batch_commit(&b, 30);
	assert_int_equal(b.acked, 30);
	batch_free(&b);
}

/*
 * Randomised: 40 aggregates x 50 versions over many positions; each send
 * fails a random subset.  The simulated stream must receive every event,
 * and per aggregate strictly in version order (no duplicates either: a
 * record succeeds exactly once here).
 */
static void
test_order_under_partial_failure(void **state)
{
	batcher b;
	batch_limits l = limits();
	batch_record *out[64];
	batch_outcome res[64];
	int last[40];
	int next_version[40];
	int delivered = 0, round = 0, i, n;
	int64_t t = 0;
	uint64_t pos = 0;
	unsigned int seed = 12345;

	(void) state;
	l.max_records = 64;
	l.retry_base_ms = 5;
	l.retry_max_ms = 40;
	batch_init(&b, &l);
	memset(last, 0, sizeof(last));
	for (i = 0; i < 40; i++)
		next_version[i] = 1;
	while (delivered < 40 * 50 && round < 100000)
	{
		round++;
		/* append a few events to random aggregates, one position per round */
		for (i = 0; i < 3; i++)
		{
			int a = (int) ((seed = seed * 1103515245u + 12345u) >> 16) % 40;
			char key[16];

			if (next_version[a] > 50)
				continue;
			snprintf(key, sizeof(key), "agg-%02d", a);
			put(&b, key, next_version[a]++, pos + 1, t);
		}
		batch_commit(&b, ++pos);
		n = batch_take(&b, t, out);
		for (i = 0; i < n; i++)
		{
			seed = seed * 1103515245u + 12345u;
			res[i] = ((seed >> 16) % 100) < 35 ? BO_RETRY : BO_OK;
			if (res[i] == BO_OK)
			{
				int a = atoi(out[i]->key + 4);
				int v = atoi(strstr(out[i]->data, "\"version\":") + 10);

				assert_int_equal(v, last[a] + 1);
				last[a] = v;
				delivered++;
			}
		}
		batch_done(&b, out, res, n, t);
		t += 3;
	}
	assert_int_equal(delivered, 40 * 50);
	for (i = 0; i < 40; i++)
		assert_int_equal(last[i], 50);
	assert_int_equal(b.acked, pos);
	assert_int_equal(b.n_records, 0);
	batch_free(&b);
}

static int
version_of(const batch_record *r)
{
	return atoi(strstr(r->data, "\"version\":") + 10);
}

/* A run: consecutive events of one key in one request, in order; the key in one request only. */
static void
test_runs(void **state)
{
	batcher b;
	batch_limits l = limits();
	batch_record *out[500], *out2[500];
	batch_outcome ok[500] = {0};
	int i, n;

	(void) state;
	l.max_per_key = 4;
	batch_init(&b, &l);
	for (i = 1; i <= 6; i++)
		put(&b, "A", i, 1, 0);
	put(&b, "B", 1, 1, 0);
	batch_commit(&b, 1);
	n = batch_take(&b, 100, out);
	assert_int_equal(n, 5); /* A1..A4, B1 */
	for (i = 0; i < 4; i++)
	{
		assert_string_equal(out[i]->key, "A");
		assert_int_equal(version_of(out[i]), i + 1);
	}
	assert_string_equal(out[4]->key, "B");
	/* a second batch in flight may not carry A5 while A1..A4 are out */
	assert_int_equal(batch_take(&b, 100, out2), 0);
	batch_done(&b, out, ok, n, 100);
	n = batch_take(&b, 100, out);
	assert_int_equal(n, 2);
	assert_int_equal(version_of(out[0]), 5);
	assert_int_equal(version_of(out[1]), 6);
	batch_done(&b, out, ok, n, 100);
	assert_int_equal(b.acked, 1);
	assert_int_equal(b.n_records, 0);
	batch_free(&b);
}

/*
 * A failure inside a run: the records before it are done; it and every later
 * record of that key from the request go again (those stored count as
 * re-sent), first in the key's next request, after the backoff; other keys
 * of the request are not held back.
 */
static void
test_run_failure_resends_tail(void **state)
{
	batcher b;
	batch_limits l = limits();
	batch_record *out[500];
	batch_outcome ok[500] = {0};
	int i, n;

	(void) state;
	l.max_per_key = 10;
	batch_init(&b, &l);
	for (i = 1; i <= 5; i++)
		put(&b, "A", i, 1, 0);
	put(&b, "B", 1, 2, 0);
	put(&b, "B", 2, 2, 0);
	batch_commit(&b, 1);
	batch_commit(&b, 2);
	n = batch_take(&b, 100, out);
	assert_int_equal(n, 7);
	{
		/* A1 ok, A2 ok, A3 failed, A4 ok (stored ahead), A5 failed; B1 B2 ok */
		batch_outcome r[7] = {BO_OK, BO_OK, BO_RETRY, BO_OK, BO_RETRY, BO_OK, BO_OK};

		batch_done(&b, out, r, 7, 100);
	}
	assert_int_equal(b.n_records, 3);			   /* A3 A4 A5 */
	assert_int_equal(b.resent, 1);				   /* A4 */
	assert_int_equal(b.acked, 0);				   /* position 1 waits for A3..A5 */
	assert_int_equal(batch_take(&b, 101, out), 0); /* backoff */
	assert_true(b.blocked_until > 100);
	/* the failure halved A's run (5 -> 2): A3 A4, then A5 */
	n = batch_take(&b, 1000, out);
	assert_int_equal(n, 2);
	for (i = 0; i < 2; i++)
		assert_int_equal(version_of(out[i]), i + 3);
	assert_int_equal(out[0]->attempts, 1);
	assert_int_equal(out[1]->attempts, 0); /* A4 did not fail: its backoff is not its own */
	batch_done(&b, out, ok, n, 1000);
	assert_int_equal(b.acked, 0); /* A5 of position 1 is still out */
	n = batch_take(&b, 1000, out);
	assert_int_equal(n, 1);
	assert_int_equal(version_of(out[0]), 5);
	assert_int_equal(out[0]->attempts, 0); /* A5 failed, but behind A3: not counted */
	batch_done(&b, out, ok, n, 1000);
	assert_int_equal(b.acked, 2);
	assert_int_equal(b.n_records, 0);
	batch_free(&b);
}

/*
 * Randomised, runs and several batches in flight completing in any order:
 * a simulated Kinesis stores the successful records of each request in
 * request order; a consumer applying by version (apply last+1, skip any
 * other) must end with every event, and every position acknowledged.
 */
static void
test_runs_in_flight_consumer_rule(void **state)
{
	enum
	{
		AGGS = 30,
		VERS = 80,
		SLOTS = 4
	};
	batcher b;
	batch_limits l = limits();
	batch_record *out[SLOTS][64];
	int nout[SLOTS] = {0};
	batch_outcome res[64];
	int applied[AGGS], next_version[AGGS];
	int done = 0, round = 0, i, stored_ahead = 0;
	int64_t t = 0;
	uint64_t pos = 0;
	unsigned int seed = 777;

	(void) state;
	l.max_records = 64;
	l.max_per_key = 16;
	l.linger_ms = 0;
	l.retry_base_ms = 2;
	l.retry_max_ms = 8;
	batch_init(&b, &l);
	for (i = 0; i < AGGS; i++)
		applied[i] = 0, next_version[i] = 1;
	while (done < AGGS && round < 200000)
	{
		int slot;

		round++;
		for (i = 0; i < 6; i++)
		{
			int a = (int) ((seed = seed * 1103515245u + 12345u) >> 16) % AGGS;
			char key[16];

			if (next_version[a] > VERS)
				continue;
			snprintf(key, sizeof(key), "agg-%02d", a);
			put(&b, key, next_version[a]++, pos + 1, t);
		}
		batch_commit(&b, ++pos);
		/* fill free slots, then complete one slot chosen at random */
		for (slot = 0; slot < SLOTS; slot++)
			if (nout[slot] == 0)
				nout[slot] = batch_take(&b, t, out[slot]);
		slot = (int) ((seed = seed * 1103515245u + 12345u) >> 16) % SLOTS;
		for (i = 0; i < nout[slot]; i++)
		{
			batch_record *r = out[slot][i];
			int a = atoi(r->key + 4), v = version_of(r);

			seed = seed * 1103515245u + 12345u;
			res[i] = ((seed >> 16) % 100) < 25 ? BO_RETRY : BO_OK;
			if (res[i] != BO_OK)
				continue;
			/* stored: the consumer sees it now */
			if (v == applied[a] + 1)
				applied[a] = v;
			else if (v > applied[a] + 1)
				stored_ahead++;
		}
		batch_done(&b, out[slot], res, nout[slot], t);
		nout[slot] = 0;
		done = 0;
		for (i = 0; i < AGGS; i++)
			done += applied[i] == VERS;
		t += 1;
	}
	for (i = 0; i < AGGS; i++)
		assert_int_equal(applied[i], VERS);
	assert_true(stored_ahead > 0); /* the rule was exercised */
	assert_true(b.resent > 0);
	/* drain what is left in flight (all acknowledged already: nothing more to apply) */
	for (i = 0; i < SLOTS; i++)
		if (nout[i] > 0)
		{
			memset(res, 0, sizeof(res));
			batch_done(&b, out[i], res, nout[i], t);
		}
	while ((i = batch_take(&b, t + 100000, out[0])) > 0)
	{
		memset(res, 0, sizeof(res));
		batch_done(&b, out[0], res, i, t + 100000);
	}
	assert_int_equal(b.n_records, 0);
	assert_int_equal(b.acked, pos);
	batch_free(&b);
}

/* Forming a request does not walk the queue: 200,000 records of one key behind a run. */
static void
test_take_cost_independent_of_queue(void **state)
{
	batcher b;
	batch_limits l = limits();
	batch_record *out[500];
	batch_outcome ok[500] = {0};
	int i, n, rounds = 0;

	(void) state;
	l.max_per_key = 500;
	batch_init(&b, &l);
	for (i = 1; i <= 200000; i++)
		put(&b, "A", i, (uint64_t) i, 0);
	batch_commit(&b, 200000);
	while ((n = batch_take(&b, 100, out)) > 0)
	{
		assert_int_equal(n, 500);
		assert_int_equal(version_of(out[0]), rounds * 500 + 1);
		/* and nothing else while the run is out */
		assert_int_equal(batch_take(&b, 100, out + n), 0);
		batch_done(&b, out, ok, n, 100);
		rounds++;
	}
	assert_int_equal(rounds, 400);
	assert_int_equal(b.acked, 200000);
	batch_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_limit),
		cmocka_unit_test(test_byte_limits),
		cmocka_unit_test(test_one_per_key),
		cmocka_unit_test(test_retry_only_failed),
		cmocka_unit_test(test_backoff_grows_and_caps),
		cmocka_unit_test(test_ack_order),
		cmocka_unit_test(test_order_under_partial_failure),
		cmocka_unit_test(test_runs),
		cmocka_unit_test(test_run_failure_resends_tail),
		cmocka_unit_test(test_runs_in_flight_consumer_rule),
		cmocka_unit_test(test_take_cost_independent_of_queue),
	};

	return cmocka_run_group_tests_name("batch", tests, NULL, NULL);
}
