/*
 * pg_repair.h
 *		The slot-loss repair's rule (docs/backfill.md): what to re-publish
 *		from eventstore.events when the slot is gone, invalidated or moved.
 *
 * While the relay streams, it samples now and then, on a plain SQL
 * connection, the pair (H, W): H the xmin of a fresh snapshot (every
 * transaction with a lower xid had ended when it was taken) and W the WAL
 * insert position read after it (every such transaction that committed
 * wrote its commit record before W).  Once the relay confirms a position
 * >= W, every transaction with xid < H that committed is delivered, and
 * the state file records H with the position (pg_state.horizon).
 *
 * The repair then re-publishes, for every aggregate with a row whose xmin
 * is >= H, that aggregate from its lowest such version on (all later
 * versions too), from the new slot's exported snapshot; the new slot
 * streams what commits after it.  pg_backfill.c runs it.
 */
#ifndef RELAY_PG_REPAIR_H
#define RELAY_PG_REPAIR_H

#include <stdint.h>

#include "buf.h"
#include "config.h"

typedef struct pg_horizon pg_horizon;

pg_horizon *pg_horizon_new(const relay_config *cfg);
void pg_horizon_free(pg_horizon *h);
/* Take a sample when one is due (every few seconds; failures are logged and retried). */
void pg_horizon_tick(pg_horizon *h, int64_t now_ms);
/* The highest H whose W <= confirmed (0 if none); older samples are dropped. */
uint64_t pg_horizon_at(pg_horizon *h, uint64_t confirmed);

/*
 * The rows the repair re-publishes, as a FROM/WHERE fragment over
 * eventstore.events e for pg_backfill.c's query: $7 is H, $8 the snapshot's
 * next xid (pg_snapshot_xmax), both 64-bit; filter is the aggregate-type
 * condition on the alias f.
 */
void pg_repair_rows_sql(buf *q, const char *filter_f);

#endif
