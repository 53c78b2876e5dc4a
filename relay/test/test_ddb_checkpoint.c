/*
 * test_ddb_checkpoint.c
 *		The Streams checkpoint file (ddb_checkpoint.c): round trip, 28-digit
 *		sequence numbers kept as text, a damaged file refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ddb_checkpoint.h"

static void
test_checkpoint_roundtrip(void **state)
{
	char dir[] = "/tmp/ddb-ckpt-XXXXXX";
	char path[128], tmp[160];
	char err[256];
	ddb_ckpt c;
	ddb_ckpt_shard *s;
	FILE *f;

	(void) state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ckpt.json", dir);

	/* A missing file is an empty checkpoint. */
	assert_int_equal(ddb_ckpt_load(&c, path, err, sizeof(err)), 0);
	assert_int_equal(c.n, 0);
	assert_null(c.stream_arn);
	ddb_ckpt_clear(&c, "arn:aws:dynamodb:us-east-1:1:table/carts/stream/x");
	assert_int_equal(ddb_ckpt_set(&c, "shardId-1", "4421584500000000017450439091", false), 0);
	assert_int_equal(ddb_ckpt_set(&c, "shardId-0", "100", true), 0);
	assert_int_equal(ddb_ckpt_set(&c, "shardId-1", "4421584500000000017450439092", false), 0);
	assert_int_equal(ddb_ckpt_save(&c, err, sizeof(err)), 0);
	ddb_ckpt_free(&c);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(access(tmp, F_OK), -1); /* renamed over the file */

	assert_int_equal(ddb_ckpt_load(&c, path, err, sizeof(err)), 0);
	assert_string_equal(c.stream_arn, "arn:aws:dynamodb:us-east-1:1:table/carts/stream/x");
	assert_int_equal(c.n, 2);
	s = ddb_ckpt_find(&c, "shardId-1");
	assert_non_null(s);
	/* 28 digits: kept as text, never through a 64-bit integer. */
	assert_string_equal(s->seq, "4421584500000000017450439092");
	assert_false(s->finished);
	assert_true(ddb_ckpt_find(&c, "shardId-0")->finished);
	/* Marking finished keeps the last sequence number. */
	assert_int_equal(ddb_ckpt_set(&c, "shardId-1", NULL, true), 0);
	assert_string_equal(ddb_ckpt_find(&c, "shardId-1")->seq, "4421584500000000017450439092");
	ddb_ckpt_free(&c);

	/* A damaged file is an error, not a silent restart from scratch. */
	f = fopen(path, "w");
	fputs("{\"stream_arn\":", f);
	fclose(f);
	assert_int_equal(ddb_ckpt_load(&c, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not valid JSON"));
	ddb_ckpt_free(&c);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checkpoint_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
