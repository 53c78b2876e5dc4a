/*
 * pg_wal_safety.h
 *		How close the slot is to losing WAL: every --wal-check-interval the
 *		slot's wal_status, the WAL it retains (pg_current_wal_lsn() -
 *		restart_lsn) and safe_wal_size are read from pg_replication_slots over
 *		a second, normal connection (the replication connection cannot run
 *		SQL while it streams), published as metrics, and logged as warnings
 *		as safe_wal_size falls below half, a quarter and a tenth of
 *		max_slot_wal_keep_size or the slot becomes unreserved.  Guidance:
 *		docs/failover.md ("WAL safety").
 */
#ifndef RELAY_PG_WAL_SAFETY_H
#define RELAY_PG_WAL_SAFETY_H

#include <stdint.h>

#include "config.h"

typedef struct pg_wal_safety pg_wal_safety;

pg_wal_safety *pg_wal_safety_new(const relay_config *cfg);
void pg_wal_safety_free(pg_wal_safety *w);

/*
 * Look at the slot if a check is due at now_ms (relay_now_ms); never fails
 * the relay: trouble is logged once and retried at the next interval.
 * Blocks for at most a few seconds (connect and statement timeouts).
 */
void pg_wal_safety_poll(pg_wal_safety *w, int64_t now_ms);

/*
 * Warning level for safe_wal_size of keep bytes allowed: 0 = fine (or no
 * limit), 1 = below half, 2 = below a quarter, 3 = below a tenth.
 */
int pg_wal_safety_level(int64_t safe_bytes, int64_t keep_bytes);

#endif
