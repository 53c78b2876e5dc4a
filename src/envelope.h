/*-------------------------------------------------------------------------
 *
 * envelope.h
 *		The envelope writer: the JSON text of one event, of the transaction
 *		markers, and their pretty-printed form (docs/envelope.md).
 *
 * IDENTIFICATION
 *		src/envelope.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ENVELOPE_H
#define ENVELOPE_H

#include "access/xlogdefs.h"
#include "datatype/timestamp.h"
#include "lib/stringinfo.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"

/* The columns of one stored event, as the envelope shows them. */
typedef struct EsEnvelopeEvent
{
	pg_uuid_t  *aggregate_id;
	text	   *aggregate_type;
	int64		version;
	pg_uuid_t  *event_id;
	text	   *type;
	Jsonb	   *data;
	Jsonb	   *metadata;
	TimestampTz recorded_at;
} EsEnvelopeEvent;

/* The transaction an event or marker belongs to. */
typedef struct EsEnvelopeTxn
{
	TransactionId xid;
	XLogRecPtr	  lsn;	   /* the commit record's LSN */
	XLogRecPtr	  end_lsn; /* end of the commit record */
	TimestampTz	  commit_time;
} EsEnvelopeTxn;

/* Which optional fields are written (the plugin's include-* options). */
typedef struct EsEnvelopeFields
{
	bool source;	  /* the "source" object at all */
	bool database;	  /* source.database */
	bool lsn;		  /* source.lsn */
	bool xid;		  /* source.xid and xid in markers */
	bool commit_time; /* source.commit_time and in markers */
} EsEnvelopeFields;

/*
 * Append the envelope of ev.  database is the database name as a JSON string
 * literal; it is read only when fields->source and fields->database are set.
 */
extern void es_envelope_append_event(StringInfo out, const EsEnvelopeEvent *ev,
									 const EsEnvelopeTxn	*txn,
									 const EsEnvelopeFields *fields,
									 const char				*database);

/* Append the begin marker of txn. */
extern void es_envelope_append_begin(StringInfo out, const EsEnvelopeTxn *txn,
									 const EsEnvelopeFields *fields);

/* Append the commit marker of txn, which had nevents events. */
extern void es_envelope_append_commit(StringInfo out, const EsEnvelopeTxn *txn,
									  const EsEnvelopeFields *fields,
									  uint64				  nevents);

/* Append compact JSON json[0..len) re-indented (pretty-print option). */
extern void es_envelope_append_pretty(StringInfo out, const char *json, int len);

#endif /* ENVELOPE_H */
