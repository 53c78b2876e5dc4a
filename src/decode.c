/*-------------------------------------------------------------------------
 *
 * decode.c
 *		The "eventstore" logical decoding output plugin: emits every event
 *		appended to eventstore.events as one JSON object (the envelope, see
 *		docs/envelope.md, written by envelope.c), and nothing else.
 *
 * Only INSERTs into eventstore.events are emitted; other tables, UPDATE,
 * DELETE and TRUNCATE produce nothing.  Each event is written as its own
 * message as soon as the reorder buffer hands it over, so memory stays flat
 * however large a transaction is.  With include-transaction, begin/commit
 * markers frame the events of a transaction (and only of transactions that
 * have events); the commit marker carries the end LSN a consumer may confirm.
 *
 * The plugin runs in walsenders of databases where CREATE EXTENSION may not
 * have run: it finds the events table by name, and emits nothing if there is
 * none.
 *
 * IDENTIFICATION
 *		src/decode.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "replication/logical.h"
#include "replication/output_plugin.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "envelope.h"
#include "eventstore.h"

#if PG_VERSION_NUM >= 170000
#define ES_NEWTUPLE(change) ((change)->data.tp.newtuple)
#else
#define ES_NEWTUPLE(change) \
	((change)->data.tp.newtuple ? &(change)->data.tp.newtuple->tuple : NULL)
#endif

#if PG_VERSION_NUM >= 150000
#define ES_COMMIT_TIME(txn) ((txn)->xact_time.commit_time)
#define ES_UPDATE_PROGRESS(ctx, skipped) \
	OutputPluginUpdateProgress((ctx), (skipped))
#else
#define ES_COMMIT_TIME(txn)				 ((txn)->commit_time)
#define ES_UPDATE_PROGRESS(ctx, skipped) OutputPluginUpdateProgress(ctx)
#endif

/*
 * While a transaction has only changes we skip (other tables), tell the
 * walsender we are alive every this many changes, so that a huge filtered
 * transaction does not run into wal_sender_timeout.
 */
#define ES_SKIPPED_CHANGES_PROGRESS 1000

/* Columns of eventstore.events the envelope needs, found by name. */
typedef enum EsColumn
{
	COL_AGGREGATE_ID,
	COL_VERSION,
	COL_AGGREGATE_TYPE,
	COL_EVENT_ID,
	COL_TYPE,
	COL_DATA,
	COL_METADATA,
	COL_RECORDED_AT,
	ES_NCOLUMNS
} EsColumn;

static const char *const es_column_names[ES_NCOLUMNS] =
	{"aggregate_id", "version", "aggregate_type", "event_id",
	 "type",		 "data",	"metadata",		  "recorded_at"};

typedef struct EsDecodingData
{
	MemoryContext context; /* reset after every change */

	/* options */
	bool			 include_transaction; /* begin/commit markers */
	EsEnvelopeFields fields;		  /* include-source/-database/-lsn/... */
	bool			 pretty_print;	  /* indent the JSON (several lines) */
	List			*aggregate_types; /* char *; NIL = every aggregate type */
	List			*event_types;	  /* char *; NIL = every event type */

	char		 *database;	  /* JSON string literal of the db name, or NULL */
	MemoryContext long_lived; /* where database is kept */

	/* the transaction being decoded */
	bool   xact_begun;	 /* begin marker written? */
	uint64 xact_events;	 /* events written */
	uint64 xact_skipped; /* changes skipped since last progress */
} EsDecodingData;

/*
 * Where eventstore.events is, cached per process (walsenders decode one
 * database; SQL-level decoding may run in a backend repeatedly, which is why
 * this is static and not in the plugin state: the invalidation callback
 * cannot be unregistered).
 */
static Oid		  es_events_relid = InvalidOid;
static AttrNumber es_events_attnum[ES_NCOLUMNS];
static bool		  es_callback_registered = false;

static void pg_decode_startup(LogicalDecodingContext *ctx,
							  OutputPluginOptions *opt, bool is_init);
static void pg_decode_shutdown(LogicalDecodingContext *ctx);
static void pg_decode_begin_txn(LogicalDecodingContext *ctx,
								ReorderBufferTXN	   *txn);
static void pg_decode_commit_txn(LogicalDecodingContext *ctx,
								 ReorderBufferTXN *txn, XLogRecPtr commit_lsn);
static void pg_decode_change(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
							 Relation relation, ReorderBufferChange *change);

void _PG_output_plugin_init(OutputPluginCallbacks *cb);

/* specify output plugin callbacks */
void
_PG_output_plugin_init(OutputPluginCallbacks *cb)
{
	cb->startup_cb = pg_decode_startup;
	cb->begin_cb = pg_decode_begin_txn;
	cb->change_cb = pg_decode_change;
	cb->commit_cb = pg_decode_commit_txn;
	cb->shutdown_cb = pg_decode_shutdown;
	/* no truncate_cb, message_cb, stream or two-phase callbacks: nothing to emit */
}

/* Forget the cached table when its relcache entry (or all) is invalidated. */
static void
es_relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == es_events_relid)
		es_events_relid = InvalidOid;
}

/* Parse a boolean option value; a bare option name means true. */
static bool
parse_bool_option(DefElem *elem)
{
	bool result;

	if (elem->arg == NULL)
		return true;
	if (!parse_bool(strVal(elem->arg), &result))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("could not parse value \"%s\" for parameter \"%s\"",
						strVal(elem->arg), elem->defname),
				 errhint("Use a boolean: on/off, true/false, 1/0.")));
	return result;
}

/* Parse a comma-separated list of names (case-sensitive, blanks trimmed). */
static List *
parse_list_option(DefElem *elem)
{
	List *result = NIL;
	char *s;
	char *tok;

	if (elem->arg == NULL || strVal(elem->arg)[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"%s\" needs a comma-separated list of names",
						elem->defname)));
	s = pstrdup(strVal(elem->arg));

	/*
	 * Split by hand: strtok would skip empty entries ("a,,b", ",a", "a,"),
	 * which are errors like a blank one.
	 */
	for (tok = s; tok != NULL;)
	{
		char *comma = strchr(tok, ',');
		char *end;

		if (comma)
			*comma = '\0';
		while (*tok == ' ' || *tok == '\t')
			tok++;
		end = tok + strlen(tok);
		while (end > tok && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (*tok == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("could not parse value \"%s\" for parameter \"%s\"",
							strVal(elem->arg), elem->defname),
					 errdetail("The list has an empty name.")));
		result = lappend(result, pstrdup(tok));
		tok = comma ? comma + 1 : NULL;
	}
	return result;
}

/* initialize this plugin */
static void
pg_decode_startup(LogicalDecodingContext *ctx, OutputPluginOptions *opt,
				  bool is_init)
{
	EsDecodingData *data;
	ListCell	   *option;
	List		   *seen = NIL;
	data = palloc0(sizeof(EsDecodingData));
	data->context =
		AllocSetContextCreate(ctx->context, "eventstore output plugin",
							  ALLOCSET_DEFAULT_SIZES);
	data->include_transaction = false;
	data->fields.source = true;
	data->fields.database = true;
	data->fields.lsn = true;
	data->fields.xid = true;
	data->fields.commit_time = true;
	data->pretty_print = false;

	ctx->output_plugin_private = data;
	opt->output_type = OUTPUT_PLUGIN_TEXTUAL_OUTPUT;
	opt->receive_rewrites = false;

	foreach(option, ctx->output_plugin_options)
	{
		DefElem *elem = lfirst(option);

		Assert(elem->arg == NULL || IsA(elem->arg, String));

		if (list_member(seen, makeString(elem->defname)))
			ereport(ERROR, (errcode(ERRCODE_SYNTAX_ERROR),
							errmsg("conflicting or redundant options"),
							errdetail("Parameter \"%s\" is given more than once.",
									  elem->defname)));
		seen = lappend(seen, makeString(elem->defname));

		if (strcmp(elem->defname, "include-transaction") == 0)
			data->include_transaction = parse_bool_option(elem);
		else if (strcmp(elem->defname, "include-source") == 0)
			data->fields.source = parse_bool_option(elem);
		else if (strcmp(elem->defname, "include-database") == 0)
			data->fields.database = parse_bool_option(elem);
		else if (strcmp(elem->defname, "include-lsn") == 0)
			data->fields.lsn = parse_bool_option(elem);
		else if (strcmp(elem->defname, "include-xids") == 0)
			data->fields.xid = parse_bool_option(elem);
		else if (strcmp(elem->defname, "include-timestamp") == 0)
			data->fields.commit_time = parse_bool_option(elem);
		else if (strcmp(elem->defname, "pretty-print") == 0)
			data->pretty_print = parse_bool_option(elem);
		else if (strcmp(elem->defname, "aggregate-types") == 0)
			data->aggregate_types = parse_list_option(elem);
		else if (strcmp(elem->defname, "event-types") == 0)
			data->event_types = parse_list_option(elem);
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("option \"%s\" = \"%s\" is unknown", elem->defname,
							elem->arg ? strVal(elem->arg) : "(null)"),
					 errhint("Options of the eventstore plugin: include-transaction, include-source, "
							 "include-database, include-lsn, include-xids, include-timestamp, "
							 "pretty-print, aggregate-types, event-types.")));
	}

	/*
	 * The database name is looked up on the first event (database_json):
	 * a walsender calls startup outside any transaction, where the catalog
	 * cannot be read.
	 */
	data->database = NULL;
	data->long_lived = ctx->context;

	if (!es_callback_registered)
	{
		CacheRegisterRelcacheCallback(es_relcache_callback, (Datum) 0);
		es_callback_registered = true;
	}
}

/* cleanup this plugin's resources */
static void
pg_decode_shutdown(LogicalDecodingContext *ctx)
{
	EsDecodingData *data = ctx->output_plugin_private;

	MemoryContextDelete(data->context);
}

/*
 * Is relation eventstore.events?  Looked up by name in the historic catalog
 * on first use and cached until a relcache invalidation for it.
 */
static bool
is_events_table(Relation relation)
{
	Oid		  nspid;
	Oid		  relid;
	TupleDesc desc;

	if (OidIsValid(es_events_relid))
		return RelationGetRelid(relation) == es_events_relid;

	/* Cheap name test first: most changes are to other tables. */
	if (strcmp(RelationGetRelationName(relation), "events") != 0)
		return false;
	nspid = get_namespace_oid("eventstore", true);
	if (!OidIsValid(nspid) || RelationGetNamespace(relation) != nspid)
		return false;
	relid = RelationGetRelid(relation);

	desc = RelationGetDescr(relation);
	for (int c = 0; c < ES_NCOLUMNS; c++)
	{
		es_events_attnum[c] = InvalidAttrNumber;
		for (int a = 0; a < desc->natts; a++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, a);

			if (!att->attisdropped &&
				strcmp(NameStr(att->attname), es_column_names[c]) == 0)
			{
				es_events_attnum[c] = att->attnum;
				break;
			}
		}
		if (es_events_attnum[c] == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("table eventstore.events has no column \"%s\"",
							es_column_names[c]),
					 errdetail("The eventstore output plugin needs the table created by CREATE EXTENSION eventstore.")));
	}
	es_events_relid = relid;
	return true;
}

/* The database name as a JSON string, looked up once (inside a transaction). */
static const char *
database_json(EsDecodingData *data)
{
	if (data->database == NULL)
	{
		MemoryContext  old = MemoryContextSwitchTo(data->long_lived);
		char		  *dbname = get_database_name(MyDatabaseId);
		StringInfoData buf;

		initStringInfo(&buf);
		es_json_append_string(&buf, dbname ? dbname : "",
							  dbname ? strlen(dbname) : 0);
		data->database = buf.data;
		MemoryContextSwitchTo(old);
	}
	return data->database;
}

static bool
name_in_list(List *names, const char *s, int len)
{
	ListCell *lc;

	foreach(lc, names)
	{
		const char *name = lfirst(lc);

		if ((int) strlen(name) == len && memcmp(name, s, len) == 0)
			return true;
	}
	return false;
}

/*
 * Write one complete message: the JSON in buf, pretty-printed if asked.
 */
static void
write_message(LogicalDecodingContext *ctx, EsDecodingData *data, StringInfo buf)
{
	OutputPluginPrepareWrite(ctx, true);
	if (data->pretty_print)
		es_envelope_append_pretty(ctx->out, buf->data, buf->len);
	else
		appendBinaryStringInfo(ctx->out, buf->data, buf->len);
	OutputPluginWrite(ctx, true);
}

/* The transaction as the envelope shows it; lsn is the commit record's. */
static void
envelope_txn(ReorderBufferTXN *txn, XLogRecPtr commit_lsn, EsEnvelopeTxn *out)
{
	out->xid = txn->xid;
	out->lsn = commit_lsn;
	out->end_lsn = txn->end_lsn;
	out->commit_time = ES_COMMIT_TIME(txn);
}

/* BEGIN callback: nothing is written until the first event (lazy begin). */
static void
pg_decode_begin_txn(LogicalDecodingContext *ctx, ReorderBufferTXN *txn)
{
	EsDecodingData *data = ctx->output_plugin_private;

	data->xact_begun = false;
	data->xact_events = 0;
	data->xact_skipped = 0;
}

/* COMMIT callback */
static void
pg_decode_commit_txn(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
					 XLogRecPtr commit_lsn)
{
	EsDecodingData *data = ctx->output_plugin_private;
	MemoryContext	old;
	StringInfoData	buf;
	EsEnvelopeTxn	etxn;

	if (data->xact_events == 0)
	{
		/*
		 * A transaction without events: nothing to write, but let the
		 * walsender know we are past it, so that the slot can advance while
		 * the application writes only other tables.
		 */
		ES_UPDATE_PROGRESS(ctx, true);
		return;
	}
	if (!data->include_transaction)
		return;

	old = MemoryContextSwitchTo(data->context);
	initStringInfo(&buf);
	envelope_txn(txn, commit_lsn, &etxn);
	es_envelope_append_commit(&buf, &etxn, &data->fields, data->xact_events);
	write_message(ctx, data, &buf);
	MemoryContextSwitchTo(old);
	MemoryContextReset(data->context);
}

/* Count a skipped change; tell the walsender we are alive now and then. */
static void
skip_change(LogicalDecodingContext *ctx, EsDecodingData *data)
{
	if (++data->xact_skipped >= ES_SKIPPED_CHANGES_PROGRESS)
	{
		data->xact_skipped = 0;
		ES_UPDATE_PROGRESS(ctx, false);
	}
}

/*
 * Build the envelope of one event into buf.  Returns false if the event is
 * filtered out by aggregate-types / event-types.
 */
static bool
build_envelope(EsDecodingData *data, const EsEnvelopeTxn *etxn, Datum *values,
			   bool *nulls, StringInfo buf)
{
	EsEnvelopeEvent ev;

	for (int c = 0; c < ES_NCOLUMNS; c++)
		if (nulls[es_events_attnum[c] - 1])
			elog(ERROR, "eventstore.events has a null in column \"%s\"",
				 es_column_names[c]);
#define V(col) values[es_events_attnum[col] - 1]

	ev.aggregate_type = DatumGetTextPP(V(COL_AGGREGATE_TYPE));
	ev.type = DatumGetTextPP(V(COL_TYPE));
	if (data->aggregate_types != NIL &&
		!name_in_list(data->aggregate_types, VARDATA_ANY(ev.aggregate_type),
					  VARSIZE_ANY_EXHDR(ev.aggregate_type)))
		return false;
	if (data->event_types != NIL &&
		!name_in_list(data->event_types, VARDATA_ANY(ev.type),
					  VARSIZE_ANY_EXHDR(ev.type)))
		return false;

	ev.aggregate_id = DatumGetUUIDP(V(COL_AGGREGATE_ID));
	ev.version = DatumGetInt64(V(COL_VERSION));
	ev.event_id = DatumGetUUIDP(V(COL_EVENT_ID));
	ev.data = DatumGetJsonbP(V(COL_DATA));
	ev.metadata = DatumGetJsonbP(V(COL_METADATA));
	ev.recorded_at = DatumGetTimestampTz(V(COL_RECORDED_AT));
#undef V

	es_envelope_append_event(buf, &ev, etxn, &data->fields,
							 data->fields.source && data->fields.database ?
								 database_json(data) :
								 NULL);
	return true;
}

/* CHANGE callback: one message per INSERT into eventstore.events */
static void
pg_decode_change(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
				 Relation relation, ReorderBufferChange *change)
{
	EsDecodingData *data = ctx->output_plugin_private;
	HeapTuple		tuple;
	TupleDesc		desc;
	MemoryContext	old;
	Datum		   *values;
	bool		   *nulls;
	StringInfoData	buf;
	EsEnvelopeTxn	etxn;

	if (change->action != REORDER_BUFFER_CHANGE_INSERT ||
		!is_events_table(relation))
	{
		skip_change(ctx, data);
		return;
	}
	tuple = ES_NEWTUPLE(change);
	if (tuple == NULL)
	{
		skip_change(ctx, data);
		return;
	}

	old = MemoryContextSwitchTo(data->context);
	desc = RelationGetDescr(relation);
	values = palloc(sizeof(Datum) * desc->natts);
	nulls = palloc(sizeof(bool) * desc->natts);
	heap_deform_tuple(tuple, desc, values, nulls);

	initStringInfo(&buf);
	envelope_txn(txn, txn->final_lsn, &etxn);
	if (build_envelope(data, &etxn, values, nulls, &buf))
	{
		if (data->include_transaction && !data->xact_begun)
		{
			StringInfoData marker;

			initStringInfo(&marker);
			es_envelope_append_begin(&marker, &etxn, &data->fields);
			write_message(ctx, data, &marker);
		}
		data->xact_begun = true;
		data->xact_events++;
		write_message(ctx, data, &buf);
	}
	else
		skip_change(ctx, data);

	MemoryContextSwitchTo(old);
	MemoryContextReset(data->context);
}
