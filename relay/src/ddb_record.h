/*
 * ddb_record.h
 *		One DynamoDB Streams record -> the envelopes of the events it
 *		appended (NewImage.Events[len(OldImage.Events):]).
 *
 * The item model: one item per aggregate, key attribute "Uuid", a
 * list attribute "Events" of {Name, Data[, Metadata]} maps that only ever
 * grows by list_append.  Records that append nothing are skipped with a
 * reason; records whose list shrank or changed in the middle are errors.
 */
#ifndef DDB_RECORD_H
#define DDB_RECORD_H

#include <stddef.h>
#include <time.h>

#include "buf.h"

#include "json.h"

typedef struct ddb_record_opts
{
	const char *id_attr;		/* key attribute holding the aggregate id ("Uuid") */
	const char *events_attr;	/* list attribute holding the events ("Events") */
	const char *aggregate_type; /* NULL: the table name */
	const char *table;			/* fallback when the record names no table */
} ddb_record_opts;

/* What became of one record. */
typedef enum ddb_outcome
{
	DDB_OUT_EVENTS = 0,			/* one or more events appended */
	DDB_OUT_SKIP_REMOVE,		/* REMOVE: an aggregate is never un-written */
	DDB_OUT_SKIP_NO_GROWTH,		/* the list did not grow (other attributes changed) */
	DDB_OUT_SKIP_VIEW_TYPE,		/* not NEW_AND_OLD_IMAGES (an image is missing) */
	DDB_OUT_SKIP_NOT_AGGREGATE, /* the item has no events list */
	DDB_OUT_ERROR,				/* malformed, or the list shrank / changed */
	DDB_OUT__COUNT
} ddb_outcome;

/* One envelope of a batch; text and key live in the ddb_events buffers. */
typedef struct ddb_event
{
	size_t off;		/* envelope start in events->text */
	size_t len;		/* envelope length, without the '\n' after it */
	size_t key_off; /* partition key (aggregate id) in events->keys */
	size_t key_len;
	size_t record; /* index of the record in its batch */
	time_t time;   /* recorded_at, whole seconds */
} ddb_event;

/*
 * The envelopes of a batch: text holds each envelope followed by '\n' (so
 * the stdout sink writes it in one go), keys each key followed by NUL.
 */
typedef struct ddb_events
{
	buf text;
	buf keys;
	ddb_event *ev;
	size_t n;
	size_t cap;
} ddb_events;

typedef struct ddb_stats
{
	unsigned long records;
	unsigned long events;
	unsigned long outcome[DDB_OUT__COUNT];
} ddb_stats;

void ddb_record_opts_default(ddb_record_opts *o);
void ddb_events_init(ddb_events *e);
void ddb_events_reset(ddb_events *e);
void ddb_events_free(ddb_events *e);

/*
 * Append the envelopes of rec's new events to out (tagged with record_index)
 * and return the outcome; on DDB_OUT_ERROR nothing is appended and err says
 * why, on a skip err holds the reason.  stats may be NULL.
 */
ddb_outcome ddb_record_pluck(const jv *rec, const ddb_record_opts *o, size_t record_index,
							 ddb_events *out, ddb_stats *stats, char *err, size_t errlen);

/* Short name of an outcome for logs and metrics ("remove", "no_growth", ...). */
const char *ddb_outcome_name(ddb_outcome oc);

/* The record's dynamodb.SequenceNumber, or NULL. */
const char *ddb_record_sequence(const jv *rec);

/* Compare two sequence numbers (decimal strings longer than 64 bits). */
int ddb_seq_cmp(const char *a, const char *b);

#endif /* DDB_RECORD_H */
