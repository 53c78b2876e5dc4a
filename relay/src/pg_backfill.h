/*
 * pg_backfill.h
 *		Publishing rows of eventstore.events beside the live stream: the
 *		backfill of what existed before a new slot (--backfill) and the
 *		slot-loss repair (--repair-slot, the rule in pg_repair.h).
 *		docs/backfill.md has the rules and their proofs.
 *
 * A task starts inside pg_source_start (pg_source_hooks), while the
 * replication connection holds the snapshot exported with the slot: a
 * plain SQL connection (pg_sql.h) imports it into a transaction that stays
 * open, and a cursor reads the task's rows in (aggregate_id, version)
 * order.  Then the slot streams, and the main loop (pg_relay.c) hands out
 * one page of rows per turn (pg_backfill_step), through the task's own
 * sinks: same kinds and options as the relay's, positions from a range
 * just below the consistent point that a logical WAL message written
 * before the slot was created keeps free of real LSNs.
 *
 * Order per aggregate between the two is kept on the stream's side:
 * before an event of the stream goes to the sinks, pg_backfill_gate makes
 * sure the aggregate's rows of the snapshot go first.  Either the task's
 * sinks acknowledged them (the aggregate is behind the acknowledged row),
 * or its rows after the acknowledged row are read by its primary key and
 * put into the stream's own position ahead of the event; the cursor then
 * leaves the aggregate out.  Rows of it in flight in the task's sinks at
 * that moment become duplicates, never a reordering (both copies start at
 * the same row).  The stream does not wait for the backfill.  An aggregate
 * whose event has version 1 has no rows in the snapshot.  All this only
 * for the sinks that deliver in arrival order (Kinesis, stdout): the S3
 * archive is ordered by position (sink.by_position), the task's objects
 * sort before the stream's, so its task sink gets every row and the
 * stream's S3 sink only the stream (the same bytes in every run, as its
 * crash recovery wants).
 *
 * Rows become envelopes (pg_envelope.h) with source.lsn = the slot's
 * consistent point, source.xid = the row's xmin and source.commit_time =
 * its commit timestamp (track_commit_timestamp) or else recorded_at.
 *
 * The task (kind, snapshot xmax, last acknowledged row, next position) is
 * in the state file (pg_state.h), saved before each page is handed out.
 * After a crash the next start resumes after the last acknowledged row, in
 * a fresh snapshot that sees everything the exported one saw (its xmin
 * must reach the exported snapshot's xmax), and the slot streams from
 * where the relay confirmed: rows sent twice are duplicates, never a gap
 * or a reordering.
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
#include "sink_deadletter.h"

typedef struct pg_backfill pg_backfill;

/*
 * state: the relay's (saved through it); live: the relay's sink set (the
 * stream's); dl: the dead letter the task's sinks share with it.
 */
pg_backfill *pg_backfill_new(const relay_config *cfg, sink_set *live, deadletter *dl,
							 pg_state *state);
void pg_backfill_free(pg_backfill *b);

/* pg_source_hooks.before_create / before_start (ctx = the pg_backfill). */
int pg_backfill_before_create(void *ctx, bool recreate, pg_fail *fail, char *err, size_t errlen);
int pg_backfill_before_start(void *ctx, const char *snapshot, uint64_t slot_lsn, bool recreated,
							 pg_fail *fail, char *err, size_t errlen);

/* The server identity to save in the state file (pg_source_identity). */
void pg_backfill_set_identity(pg_backfill *b, const char *identity);

/*
 * Once per turn of the main loop: let the task's sinks work, hand out a
 * page if there is room (the live stream first, --backfill-rate, the
 * in-flight limit), and end the task once every page is acknowledged.
 * 0, or -1 with err after a failure no retry fixes (pg_backfill_exit_code);
 * a lost connection is reopened by itself.
 */
int pg_backfill_step(pg_backfill *b, int64_t now_ms, char *err, size_t errlen);
/* When pg_backfill_step wants to run again (monotonic ms; INT64_MAX: no task). */
int64_t pg_backfill_next_due(pg_backfill *b, int64_t now_ms);
/* Is a backfill or repair running (then the xmin horizon must not move)? */
bool pg_backfill_running(const pg_backfill *b);

/*
 * Before the stream's event ev goes to the sinks.  PG_GATE_LIVE: put it
 * (the aggregate's rows of the snapshot, if any were still to come, were
 * put into ev->pos ahead of it).  PG_GATE_WAIT: not yet (the task's
 * connection is being reopened): try the same event again later, reading
 * nothing else of the stream meanwhile.  -1: failure with err and
 * pg_backfill_exit_code.
 */
#define PG_GATE_LIVE 0
#define PG_GATE_WAIT 1
int pg_backfill_gate(pg_backfill *b, const relay_event *ev, char *err, size_t errlen);

/* Shutdown: deliver the task's pages before deadline_ms and record how far it got. */
int pg_backfill_drain(pg_backfill *b, int64_t deadline_ms, char *err, size_t errlen);

/*
 * After a failed hook or step: the exit code a sink failure asks for (1 or
 * EXIT_CONFIG), 0 if the failure was the source's (pg_fail applies).
 */
int pg_backfill_exit_code(const pg_backfill *b);

#endif
