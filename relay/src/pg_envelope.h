/*
 * pg_envelope.h
 *		The relay's writer of the PostgreSQL path's envelope (docs/envelope.md)
 *		from a row of eventstore.events in PostgreSQL's text form: the bytes
 *		are exactly those the extension's output plugin writes for the same
 *		row and transaction (src/envelope.c), so that consumers cannot tell
 *		which path produced an event.  Used by the pgoutput decoder
 *		(pg_pgoutput.c) and by the backfill of rows read with SELECT.
 *
 * What the writer expects: every column as its type's text output function
 * prints it (what pgoutput sends, what libpq returns in text format):
 *
 *   aggregate_id, event_id  uuid: 36 characters, lower-case hex and dashes
 *   version                 bigint: decimal digits, optional '-'
 *   aggregate_type, type    text: any bytes but NUL, in the server encoding
 *                           (read with client_encoding = SQL_ASCII, or equal
 *                           to the server's, so they arrive unconverted)
 *   data, metadata          jsonb: jsonb_out's text, e.g. {"a": 1, "b": [1, 2]};
 *                           the writer removes the blanks after ':' and ','
 *                           and copies everything else: jsonb_out and the
 *                           plugin escape strings alike (\" \\ \b \f \n \r \t,
 *                           other control characters as \u00XX, everything
 *                           else byte for byte) and both print numbers
 *                           with numeric_out
 *   recorded_at             timestamptz with DateStyle = ISO, e.g.
 *                           "2026-11-23 09:14:03.1234+00" (trailing zeros of
 *                           the fraction trimmed, the zone as an offset,
 *                           " BC" for years before 1); any offset is
 *                           converted to UTC, TimeZone = UTC makes it the
 *                           fast path.  "infinity" and "-infinity" are
 *                           written as null, like the plugin does
 *
 * and writes recorded_at and commit_time as the plugin does: always six
 * fractional digits and "Z" ("2026-11-23T09:14:03.123400Z").  Set DateStyle
 * and TimeZone on the connection (options=-c DateStyle=ISO -c TimeZone=UTC)
 * so that the server's settings never matter.
 */
#ifndef RELAY_PG_ENVELOPE_H
#define RELAY_PG_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* The columns of eventstore.events the envelope shows, in envelope order. */
typedef enum pg_envelope_column
{
	PGE_AGGREGATE_ID = 0,
	PGE_AGGREGATE_TYPE,
	PGE_VERSION,
	PGE_EVENT_ID,
	PGE_TYPE,
	PGE_DATA,
	PGE_METADATA,
	PGE_RECORDED_AT,
	PGE_NCOLUMNS
} pg_envelope_column;

/* Column names in the table, indexed by pg_envelope_column. */
extern const char *const pg_envelope_column_names[PGE_NCOLUMNS];

/* One row: each column's text (not NUL-terminated) and its length; none may be NULL. */
typedef struct pg_envelope_row
{
	const char *val[PGE_NCOLUMNS];
	size_t len[PGE_NCOLUMNS];
} pg_envelope_row;

/* Commit time unknown: written as null (as the plugin writes a non-finite time). */
#define PG_ENVELOPE_NO_TIME INT64_MIN

/* The transaction the row (or marker) belongs to. */
typedef struct pg_envelope_txn
{
	const char *database; /* the database name as it is (escaped by the writer) */
	uint64_t lsn;		  /* commit LSN: the commit record's start */
	uint64_t end_lsn;	  /* commit marker: the end of the commit record */
	uint32_t xid;		  /* top-level transaction id */
	int64_t commit_time;  /* microseconds since 1970-01-01 UTC, or PG_ENVELOPE_NO_TIME */
} pg_envelope_txn;

/* Which optional fields are written: the plugin's include-* options, all on by default. */
typedef struct pg_envelope_fields
{
	bool source;	  /* include-source: the "source" object at all */
	bool database;	  /* include-database: source.database */
	bool lsn;		  /* include-lsn: source.lsn */
	bool xid;		  /* include-xids: source.xid and the markers' xid */
	bool commit_time; /* include-timestamp: source.commit_time and the markers' */
} pg_envelope_fields;

#define PG_ENVELOPE_FIELDS_ALL                                                                     \
	{                                                                                              \
		true, true, true, true, true                                                               \
	}

/*
 * Append the envelope of row to out (one JSON object, no newline).  0, or -1
 * with err (one line) when a column is not in the text form above; out then
 * holds a partial envelope (reset it).  An allocation failure shows as
 * buf_failed(out).
 */
int pg_envelope_event(buf *out, const pg_envelope_row *row, const pg_envelope_txn *txn,
					  const pg_envelope_fields *fields, char *err, size_t errlen);

/*
 * The same in two steps, for a caller that writes many rows of one
 * transaction: its source object (",\"source\":{...}", or nothing without
 * fields->source) once with pg_envelope_source, then each row with it.
 * Identical bytes to pg_envelope_event.
 */
void pg_envelope_source(buf *out, const pg_envelope_txn *txn, const pg_envelope_fields *fields);
int pg_envelope_event_src(buf *out, const pg_envelope_row *row, const char *source,
						  size_t source_len, char *err, size_t errlen);

/* The begin marker {"kind":"begin",...} and commit marker of docs/envelope.md. */
void pg_envelope_begin(buf *out, const pg_envelope_txn *txn, const pg_envelope_fields *fields);
void pg_envelope_commit(buf *out, const pg_envelope_txn *txn, const pg_envelope_fields *fields,
						uint64_t nevents);

/*
 * Pieces the writer uses, for callers that need them alone: jsonb_out's
 * text as compact JSON (0, or -1 with err if it is not JSON); a timestamptz
 * in ISO text, or Unix microseconds, as the envelope's quoted UTC time (or
 * null).
 */
int pg_envelope_json_compact(buf *out, const char *s, size_t len, char *err, size_t errlen);
int pg_envelope_timestamptz(buf *out, const char *s, size_t len, char *err, size_t errlen);
void pg_envelope_time_us(buf *out, int64_t unix_us);

#endif
