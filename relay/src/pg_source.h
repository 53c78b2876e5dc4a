/*
 * pg_source.h
 *		The PostgreSQL replication protocol, through libpq (pg_slot.c shares
 *		the connection; pg_sql.c makes the plain ones): connect with
 *		replication=database, check or create the logical slot,
 *		START_REPLICATION with the plugin options, read XLogData ('w') and
 *		keepalive ('k') messages without blocking, and send standby status
 *		updates ('r').  The loop that uses it is in pg_relay.c.
 */
#ifndef RELAY_PG_SOURCE_H
#define RELAY_PG_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

typedef struct pg_source pg_source;

typedef struct pg_msg
{
	char type;			  /* 'w' or 'k' */
	uint64_t data_start;  /* 'w': WAL position of the message */
	uint64_t wal_end;	  /* server's WAL end ('w' and 'k') */
	bool reply_requested; /* 'k' */
	const char *data;	  /* 'w': plugin output (valid until the next read) */
	size_t len;
} pg_msg;

/* Failure classes of pg_source_start / pg_source_read. */
typedef enum pg_fail
{
	PGF_RETRY = 0, /* connection trouble: reconnect with backoff */
	PGF_SLOT,	   /* slot missing / invalidated / moved: stop (EXIT_SLOT) */
	PGF_CONFIG,	   /* authentication, unknown database, bad option: stop (EXIT_CONFIG) */
	PGF_BUSY	   /* the slot is in use by another process (a relay): wait, try again */
} pg_fail;

/* "replication slot ... is active for PID ..." */
#define PG_SQLSTATE_OBJECT_IN_USE "55006"

/*
 * Hooks of the table readers (pg_backfill.h).  before_create runs before the
 * slot is created (recreate: one this relay confirmed from is replaced,
 * --repair-slot); before_start after the slot was checked or created and
 * before START_REPLICATION, with the name of the snapshot exported when
 * this start created the slot (else NULL), which the replication
 * connection holds until START_REPLICATION.  Each returns 0, or -1 with
 * *fail and err.
 */
typedef struct pg_source_hooks
{
	bool export_snapshot; /* create the slot with an exported snapshot */
	bool repair;		  /* drop and recreate a gone, invalidated or moved slot */
	int (*before_create)(void *ctx, bool recreate, pg_fail *fail, char *err, size_t errlen);
	int (*before_start)(void *ctx, const char *snapshot, uint64_t slot_lsn, bool recreated,
						pg_fail *fail, char *err, size_t errlen);
	void *ctx;
} pg_source_hooks;

pg_source *pg_source_new(const relay_config *cfg);
/* Install hooks (copied); before the first pg_source_start. */
void pg_source_set_hooks(pg_source *s, const pg_source_hooks *h);
void pg_source_free(pg_source *s);

/*
 * Connect, check (or create) the slot and start streaming.  last_confirmed
 * is the highest flush LSN this process confirmed before (0 at start): a
 * slot found ahead of it was moved or recreated by someone else.  *slot_lsn
 * is the slot's confirmed position (where streaming resumes).  expect_identity
 * (or NULL): the pg_source_identity() a state file recorded; another server
 * or database is a configuration error.
 */
int pg_source_start(pg_source *s, uint64_t last_confirmed, const char *expect_identity,
					uint64_t *slot_lsn, pg_fail *fail, char *err, size_t errlen);
/* "<system identifier>/<database>" of the connected server (after a start). */
const char *pg_source_identity(const pg_source *s);
/* The connected database's name (after a start). */
const char *pg_source_database(const pg_source *s);
bool pg_source_connected(const pg_source *s);
int pg_source_socket(const pg_source *s);

/* 1 = a message in *m, 0 = nothing available now, -1 = stream ended/failed. */
int pg_source_read(pg_source *s, pg_msg *m, pg_fail *fail, char *err, size_t errlen);

/* Standby status update. */
int pg_source_feedback(pg_source *s, uint64_t write_lsn, uint64_t flush_lsn, char *err,
					   size_t errlen);

/* End streaming politely (CopyDone) and close. */
void pg_source_close(pg_source *s);

#endif
