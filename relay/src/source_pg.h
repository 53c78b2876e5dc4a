/*
 * source_pg.h
 *		The PostgreSQL replication protocol, through libpq (the only file that
 *		includes it): connect with replication=database, check or create the
 *		logical slot, START_REPLICATION with the plugin options, read
 *		XLogData ('w') and keepalive ('k') messages without blocking, and send
 *		standby status updates ('r').  The loop that uses it is in relay.c.
 */
#ifndef RELAY_SOURCE_PG_H
#define RELAY_SOURCE_PG_H

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

/* Failure classes of source_pg_start / source_pg_read. */
typedef enum pg_fail
{
	PGF_RETRY = 0, /* connection trouble: reconnect with backoff */
	PGF_SLOT,	   /* slot missing / invalidated / moved: stop (EXIT_SLOT) */
	PGF_CONFIG	   /* authentication, unknown database, bad option: stop (EXIT_CONFIG) */
} pg_fail;

pg_source *source_pg_new(const relay_config *cfg);
void source_pg_free(pg_source *s);

/*
 * Connect, check (or create) the slot and start streaming.  last_confirmed
 * is the highest flush LSN this process confirmed before (0 at start): a
 * slot found ahead of it was moved or recreated by someone else.  *slot_lsn
 * is the slot's confirmed position (where streaming resumes).  expect_identity
 * (or NULL): the source_pg_identity() a state file recorded; another server
 * or database is a configuration error.
 */
int source_pg_start(pg_source *s, uint64_t last_confirmed, const char *expect_identity,
					uint64_t *slot_lsn, pg_fail *fail, char *err, size_t errlen);
/* "<system identifier>/<database>" of the connected server (after a start). */
const char *source_pg_identity(const pg_source *s);
bool source_pg_connected(const pg_source *s);
int source_pg_socket(const pg_source *s);

/* 1 = a message in *m, 0 = nothing available now, -1 = stream ended/failed. */
int source_pg_read(pg_source *s, pg_msg *m, pg_fail *fail, char *err, size_t errlen);

/* Standby status update. */
int source_pg_feedback(pg_source *s, uint64_t write_lsn, uint64_t flush_lsn, char *err,
					   size_t errlen);

/* End streaming politely (CopyDone) and close. */
void source_pg_close(pg_source *s);

#endif
