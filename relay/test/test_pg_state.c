/*
 * test_pg_state.c
 *		The --state-file and its durable write (file_replace.c): the
 *		contents round-trip, a file for another slot is refused, and every
 *		write fsyncs the new file and then its directory, after the rename
 *		(without the directory fsync a power loss can undo the rename and
 *		bring back an older position than the one confirmed to PostgreSQL).
 *
 * fsync() is interposed here (the test binary's definition wins over
 * libc's) to record which files were flushed, in order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "ddb_checkpoint.h"
#include "pg_state.h"

static char synced[8][4096];
static int n_synced;

int
fsync(int fd)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if (n_synced < 8)
	{
		n = readlink(link, synced[n_synced], sizeof(synced[0]) - 1);
		synced[n_synced][n > 0 ? n : 0] = '\0';
		n_synced++;
	}
	return (int) syscall(SYS_fsync, fd);
}

static char dir[256];

static int
setup(void **state)
{
	char tmpl[] = "/tmp/test_pg_state.XXXXXX";

	(void) state;
	assert_non_null(mkdtemp(tmpl));
	/* the directory as /proc/self/fd shows it (resolved) */
	assert_non_null(realpath(tmpl, dir));
	n_synced = 0;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void) state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void
test_state_file_durable(void **state)
{
	char path[300], err[256];
	pg_state st;
	struct stat sb;

	(void) state;
	snprintf(path, sizeof(path), "%s/relay.state", dir);
	assert_int_equal(pg_state_load(path, "s1", &st, err, sizeof(err)), 0);
	assert_false(st.loaded);

	assert_int_equal(
		pg_state_write(path, "7300000000000000001/app", "s1", 0x16B374D848ULL, err, sizeof(err)),
		0);
	/* the new file (before its rename), then the directory holding the rename */
	strcat(path, ".tmp");
	assert_int_equal(n_synced, 2);
	assert_string_equal(synced[0], path);
	assert_string_equal(synced[1], dir);
	assert_int_equal(stat(path, &sb), -1); /* renamed away */
	path[strlen(path) - 4] = '\0';

	assert_int_equal(pg_state_load(path, "s1", &st, err, sizeof(err)), 0);
	assert_true(st.loaded);
	assert_int_equal(st.lsn, 0x16B374D848ULL);
	assert_string_equal(st.identity, "7300000000000000001/app");
	assert_int_equal(pg_state_load(path, "other", &st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is for slot \"s1\""));

	/* a directory that is gone: an error, not a silent success */
	snprintf(path, sizeof(path), "%s/missing/relay.state", dir);
	assert_int_equal(pg_state_write(path, "x", "s1", 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "missing/relay.state"));
}

/* The horizon and a task in progress survive a save and a load (pg_backfill.c resumes from them).
 */
static void
test_state_task_round_trip(void **state)
{
	char path[300], err[256];
	pg_state st, back;

	(void) state;
	snprintf(path, sizeof(path), "%s/task.state", dir);
	memset(&st, 0, sizeof(st));
	snprintf(st.identity, sizeof(st.identity), "7300000000000000001/app");
	st.lsn = 0x1E55E50;
	st.horizon = 4294967301ULL; /* past the first xid epoch */
	snprintf(st.task.kind, sizeof(st.task.kind), "backfill");
	st.task.slot_lsn = 0x1E55E50;
	st.task.snap_xmax = 4294967310ULL;
	st.task.snap_xmin = 4294967300ULL;
	st.task.next_pos = 0x1E55E50 - 1000;
	st.task.end_pos = 0x1E55E50;
	snprintf(st.task.key_agg, sizeof(st.task.key_agg), "00000000-0000-4000-8000-000000000400");
	st.task.key_version = 12;
	st.task.time = 1796100000;
	st.task.events = 4000;
	st.task.expected = 20000;
	assert_int_equal(pg_state_save(path, "s1", &st, err, sizeof(err)), 0);
	assert_int_equal(pg_state_load(path, "s1", &back, err, sizeof(err)), 0);
	st.loaded = true;
	assert_memory_equal(&st, &back, sizeof(st));

	/* done: no task lines, the horizon stays */
	memset(&st.task, 0, sizeof(st.task));
	assert_int_equal(pg_state_save(path, "s1", &st, err, sizeof(err)), 0);
	assert_int_equal(pg_state_load(path, "s1", &back, err, sizeof(err)), 0);
	assert_string_equal(back.task.kind, "");
	assert_int_equal(back.horizon, 4294967301ULL);
}

static void
test_checkpoint_same_path(void **state)
{
	char path[300], err[256];
	ddb_ckpt c;

	(void) state;
	snprintf(path, sizeof(path), "%s/ckpt.json", dir);
	memset(&c, 0, sizeof(c));
	c.path = path;
	assert_int_equal(ddb_ckpt_save(&c, err, sizeof(err)), 0);
	strcat(path, ".tmp");
	assert_int_equal(n_synced, 2);
	assert_string_equal(synced[0], path);
	assert_string_equal(synced[1], dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_state_file_durable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_task_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_same_path, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
