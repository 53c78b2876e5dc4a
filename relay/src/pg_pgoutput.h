/*
 * pg_pgoutput.h
 *		The pgoutput decoder: PostgreSQL's built-in logical replication
 *		protocol (protocol version 1, the messages pgoutput sends for a
 *		publication) turned into what the eventstore plugin would have sent
 *		for the same WAL: the envelope of every INSERT into
 *		eventstore.events (written by pg_envelope.c) and begin/commit
 *		markers around the transactions that have events, as plugin_msg
 *		(pg_message.h), so that pg_relay.c handles both decoders alike.
 *
 * Like the plugin: nothing for other tables, UPDATE, DELETE, TRUNCATE or
 * logical messages; transactions without (wanted) events produce nothing
 * (the relay advances the slot past them on keepalives); the aggregate-type
 * and event-type filters are applied here (same lists, same matching); a
 * transaction replicated in from another server (an Origin message) is
 * skipped unless any_origin.  One message in, at most two out, nothing
 * buffered across messages but the Relation of eventstore.events: memory
 * stays flat whatever the size of a transaction.
 */
#ifndef RELAY_PG_PGOUTPUT_H
#define RELAY_PG_PGOUTPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "pg_envelope.h"
#include "pg_message.h"

typedef struct pg_pgoutput pg_pgoutput;

typedef struct pg_pgoutput_options
{
	pg_envelope_fields fields;	 /* the plugin's include-* options */
	const char *aggregate_types; /* comma-separated names, or NULL for all */
	const char *event_types;	 /* comma-separated names, or NULL for all */
	bool any_origin;			 /* also transactions replicated in from elsewhere */
} pg_pgoutput_options;

/* What one message yields. */
typedef struct pg_pgoutput_out
{
	plugin_msg pm;	  /* kind, and key / lsn / end_lsn / commit_time_us / events */
	const char *data; /* PM_EVENT: the envelope (valid until the next decode) */
	size_t len;
} pg_pgoutput_out;

/*
 * A plugin option that the envelope writer implements for pgoutput
 * (include-source, include-database, include-lsn, include-xids,
 * include-timestamp; --plugin-option passes any other to pgoutput): 1 and
 * *fields updated (fields may be NULL to ask), 0 if name is not one, -1 with
 * err on a value that is not a boolean.
 */
int pg_pgoutput_envelope_option(pg_envelope_fields *fields, const char *name, const char *value,
								char *err, size_t errlen);

/* NULL with err on a bad filter list (a configuration error) or no memory. */
pg_pgoutput *pg_pgoutput_new(const pg_pgoutput_options *opt, char *err, size_t errlen);
void pg_pgoutput_free(pg_pgoutput *d);

/* The database name written in source.database (after each connect). */
int pg_pgoutput_set_database(pg_pgoutput *d, const char *name);

/* Forget the transaction being received (the stream was interrupted). */
void pg_pgoutput_reset(pg_pgoutput *d);

/*
 * Decode one pgoutput message (an XLogData payload of len bytes).  Returns
 * the number of outputs in out[0..2), or -1 with a one-line err; *config is
 * set when the error is the database's configuration (eventstore.events
 * without the columns or types the envelope needs, in the Relation message
 * or the publication's column list), not a broken stream.
 */
int pg_pgoutput_decode(pg_pgoutput *d, const char *data, size_t len, pg_pgoutput_out out[2],
					   bool *config, char *err, size_t errlen);

#endif
