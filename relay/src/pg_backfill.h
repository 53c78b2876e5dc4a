/*
 * pg_backfill.h
 *		Publishing rows of eventstore.events through the sinks before the
 *		slot streams: the backfill of what existed before a new slot
 *		(--backfill) and the slot-loss repair (--repair-slot, the rule in
 *		pg_repair.h).  docs/backfill.md has the rules and their proofs.
 *
 * Both run inside pg_source_start (pg_source_hooks), while the replication
 * connection holds the snapshot exported with the slot and before
 * START_REPLICATION: the live stream waits meanwhile.  Rows are read in
 * (aggregate_id, version) order, on a plain SQL connection (pg_sql.h), in
 * that snapshot; they become envelopes (pg_envelope.h) with source.lsn =
 * the slot's consistent point, source.xid = the row's xmin and
 * source.commit_time = its commit timestamp (track_commit_timestamp) or
 * else recorded_at.
 *
 * Sink positions: one per page of rows, from a range just below the
 * consistent point that a logical WAL message written before the slot was
 * created keeps free of real LSNs, so they are above every position sinks
 * ever had and below every position the slot will stream.
 *
 * The task (kind, snapshot xmax, last acknowledged row, next position) is
 * in the state file (pg_state.h), saved before each page is handed out.
 * After a crash the next start finds the slot at the task's consistent
 * point and resumes after the last acknowledged row, in a fresh snapshot
 * that sees everything the exported one saw (its xmin must reach the
 * exported snapshot's xmax): rows committed since are sent again by the
 * stream (duplicates, never a gap or a reordering).
 */
#ifndef RELAY_PG_BACKFILL_H
#define RELAY_PG_BACKFILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "pg_source.h"
#include "pg_state.h"
#include "sink.h"

typedef struct pg_backfill pg_backfill;

/* state: the relay's (saved through it); sinks: the relay's sink set. */
pg_backfill *pg_backfill_new(const relay_config *cfg, sink_set *sinks, pg_state *state);
void pg_backfill_free(pg_backfill *b);

/* pg_source_hooks.before_create / before_start (ctx = the pg_backfill). */
int pg_backfill_before_create(void *ctx, bool recreate, pg_fail *fail, char *err, size_t errlen);
int pg_backfill_before_start(void *ctx, const char *snapshot, uint64_t slot_lsn, bool recreated,
							 pg_fail *fail, char *err, size_t errlen);

/* The server identity to save in the state file (pg_source_identity). */
void pg_backfill_set_identity(pg_backfill *b, const char *identity);

/*
 * After a failed hook: the exit code a sink failure asks for (1 or
 * EXIT_CONFIG), 0 if the failure was the source's (pg_fail applies).
 */
int pg_backfill_exit_code(const pg_backfill *b);

#endif
