/*
 * pg_state.h
 *		The --state-file of the PostgreSQL path: the position this relay
 *		confirmed last, with the slot and the server identity it was
 *		confirmed on, so that a slot dropped, recreated or advanced by
 *		someone else is detected across relay restarts too.
 *
 * Written durably (file_replace.h) before the position is confirmed to
 * PostgreSQL, so the slot is never ahead of the file unless someone else
 * moved it.
 *
 * Two more things live in it for the table readers (docs/backfill.md):
 * the xmin horizon of the confirmed position (pg_repair.h: every
 * transaction with a lower xid is delivered), and a backfill or repair in
 * progress (pg_backfill.h), so that either resumes after a crash.
 */
#ifndef RELAY_PG_STATE_H
#define RELAY_PG_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A backfill or repair in progress (kind ""  = none). */
typedef struct pg_state_task
{
	char kind[16];		/* "backfill" or "repair" */
	uint64_t slot_lsn;	/* consistent point of the slot it started with */
	uint64_t snap_xmax; /* xmax (64-bit xid) of the snapshot exported then */
	uint64_t snap_xmin; /* and its xmin: the horizon once the task is done */
	uint64_t horizon;	/* repair: re-publishes aggregates from rows with xmin >= this */
	uint64_t next_pos;	/* first sink position not handed out yet */
	uint64_t end_pos;	/* positions stop before this one (the consistent point) */
	char key_agg[40];	/* last acknowledged row: aggregate_id ("" = none yet) */
	long long key_version;
	long long time;				 /* partition time of its events (Unix seconds) */
	unsigned long long events;	 /* events acknowledged so far */
	unsigned long long expected; /* rows counted when it started */
} pg_state_task;

typedef struct pg_state
{
	bool loaded;		/* the file existed */
	uint64_t lsn;		/* confirmed position recorded in it */
	char identity[160]; /* system identifier / database recorded in it */
	uint64_t horizon;	/* xmin horizon (64-bit xid) confirmed with lsn; 0 = unknown */
	pg_state_task task; /* a backfill or repair in progress */
} pg_state;

/* Read path (a missing file is not an error: loaded stays false); -1 with err. */
int pg_state_load(const char *path, const char *slot, pg_state *st, char *err, size_t errlen);

/* Record everything in st for slot durably; 0, or -1 with err. */
int pg_state_save(const char *path, const char *slot, const pg_state *st, char *err, size_t errlen);

/* Record lsn for slot on the server identity (nothing else); 0, or -1 with err. */
int pg_state_write(const char *path, const char *identity, const char *slot, uint64_t lsn,
				   char *err, size_t errlen);

#endif
