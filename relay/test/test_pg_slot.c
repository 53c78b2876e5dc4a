/*
 * test_pg_slot.c
 *		The slot commands and thresholds that need no server: the
 *		CREATE_REPLICATION_SLOT text per server version and --slot-failover
 *		(a failover slot on 17+ only; 14's grammar has no option list), and
 *		the WAL safety warning levels of safe_wal_size against
 *		max_slot_wal_keep_size.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pg_slot.h"
#include "pg_wal_safety.h"

static void
check_create(int version, int mode, const char *want)
{
	relay_config cfg;
	buf q = BUF_INIT;

	memset(&cfg, 0, sizeof(cfg));
	cfg.slot = "s1";
	cfg.plugin = "eventstore";
	cfg.slot_failover = mode;
	pg_slot_create_command(&q, &cfg, version, false);
	assert_string_equal(q.data, want);
	buf_free(&q);
}

static void
test_create_command(void **state)
{
	relay_config cfg;
	buf q = BUF_INIT;

	(void) state;
	/* the backfill's and the repair's slots export their snapshot */
	memset(&cfg, 0, sizeof(cfg));
	cfg.slot = "s1";
	cfg.plugin = "eventstore";
	cfg.slot_failover = CONFIG_FAILOVER_CREATE;
	pg_slot_create_command(&q, &cfg, 170006, true);
	assert_string_equal(
		q.data,
		"CREATE_REPLICATION_SLOT \"s1\" LOGICAL \"eventstore\" (SNAPSHOT 'export', FAILOVER true)");
	buf_reset(&q);
	pg_slot_create_command(&q, &cfg, 150008, true);
	assert_string_equal(
		q.data, "CREATE_REPLICATION_SLOT \"s1\" LOGICAL \"eventstore\" (SNAPSHOT 'export')");
	buf_free(&q);
	check_create(140010, CONFIG_FAILOVER_CREATE,
				 "CREATE_REPLICATION_SLOT \"s1\" LOGICAL \"eventstore\" NOEXPORT_SNAPSHOT");
	check_create(150008, CONFIG_FAILOVER_CREATE,
				 "CREATE_REPLICATION_SLOT \"s1\" LOGICAL \"eventstore\" (SNAPSHOT 'nothing')");
	check_create(160004, CONFIG_FAILOVER_ALTER,
				 "CREATE_REPLICATION_SLOT \"s1\" LOGICAL \"eventstore\" (SNAPSHOT 'nothing')");
	check_create(170006, CONFIG_FAILOVER_CREATE,
				 "CREATE_REPLICATION_SLOT \"s1\" LOGICAL \"eventstore\" (SNAPSHOT 'nothing', "
				 "FAILOVER true)");
	check_create(180000, CONFIG_FAILOVER_ALTER,
				 "CREATE_REPLICATION_SLOT \"s1\" LOGICAL \"eventstore\" (SNAPSHOT 'nothing', "
				 "FAILOVER true)");
	check_create(170006, CONFIG_FAILOVER_OFF,
				 "CREATE_REPLICATION_SLOT \"s1\" LOGICAL \"eventstore\" (SNAPSHOT 'nothing')");
}

static void
test_wal_levels(void **state)
{
	const int64_t keep = 1000;

	(void) state;
	assert_int_equal(pg_wal_safety_level(1000, -1), 0); /* no limit: nothing to warn about */
	assert_int_equal(pg_wal_safety_level(1000, keep), 0);
	assert_int_equal(pg_wal_safety_level(500, keep), 0);
	assert_int_equal(pg_wal_safety_level(499, keep), 1);
	assert_int_equal(pg_wal_safety_level(250, keep), 1);
	assert_int_equal(pg_wal_safety_level(249, keep), 2);
	assert_int_equal(pg_wal_safety_level(100, keep), 2);
	assert_int_equal(pg_wal_safety_level(99, keep), 3);
	assert_int_equal(pg_wal_safety_level(0, keep), 3);
	assert_int_equal(pg_wal_safety_level(-5, keep), 3); /* unreserved: past the limit */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_command),
		cmocka_unit_test(test_wal_levels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
