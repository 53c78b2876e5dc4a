/*-------------------------------------------------------------------------
 *
 * decode.c
 *		The "eventstore" logical decoding output plugin: emits every event
 *		appended to eventstore.events as one JSON object (the envelope, see
 *		docs/envelope.md), and nothing else.
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
#include "utils/datetime.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "eventstore.h"

#if PG_VERSION_NUM >= 170000
#define ES_NEWTUPLE(change)		((change)->data.tp.newtuple)
#else
#define ES_NEWTUPLE(change)		((change)->data.tp.newtuple ? &(change)->data.tp.newtuple->tuple : NULL)
#endif

#if PG_VERSION_NUM >= 150000
#define ES_COMMIT_TIME(txn)		((txn)->xact_time.commit_time)
#define ES_UPDATE_PROGRESS(ctx, skipped)	OutputPluginUpdateProgress((ctx), (skipped))
#else
#define ES_COMMIT_TIME(txn)		((txn)->commit_time)
#define ES_UPDATE_PROGRESS(ctx, skipped)	OutputPluginUpdateProgress(ctx)
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

static const char *const es_column_names[ES_NCOLUMNS] = {
	"aggregate_id", "version", "aggregate_type", "event_id",
	"type", "data", "metadata", "recorded_at"
};

typedef struct EsDecodingData
{
	MemoryContext context;		/* reset after every change */

	/* options */
	bool		include_transaction;	/* begin/commit markers */
	bool		include_source; /* the "source" object at all */
	bool		include_database;	/* source.database */
	bool		include_lsn;	/* source.lsn */
	bool		include_xids;	/* source.xid and xid in markers */
	bool		include_timestamp;	/* source.commit_time */
	bool		pretty_print;	/* indent the JSON (several lines) */
	List	   *aggregate_types;	/* char *; NIL = every aggregate type */
	List	   *event_types;	/* char *; NIL = every event type */

	char	   *database;		/* JSON string literal of the db name, or NULL */
	MemoryContext long_lived;	/* where database is kept */

	/* the transaction being decoded */
	bool		xact_begun;		/* begin marker written? */
	uint64		xact_events;	/* events written */
	uint64		xact_skipped;	/* changes skipped since last progress */
} EsDecodingData;

/*
 * Where eventstore.events is, cached per process (walsenders decode one
 * database; SQL-level decoding may run in a backend repeatedly, which is why
 * this is static and not in the plugin state: the invalidation callback
 * cannot be unregistered).
 */
static Oid	es_events_relid = InvalidOid;
static AttrNumber es_events_attnum[ES_NCOLUMNS];
static bool es_callback_registered = false;

static void pg_decode_startup(LogicalDecodingContext *ctx, OutputPluginOptions *opt,
							  bool is_init);
static void pg_decode_shutdown(LogicalDecodingContext *ctx);
static void pg_decode_begin_txn(LogicalDecodingContext *ctx, ReorderBufferTXN *txn);
static void pg_decode_commit_txn(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
								 XLogRecPtr commit_lsn);
static void pg_decode_change(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
							 Relation relation, ReorderBufferChange *change);

void		_PG_output_plugin_init(OutputPluginCallbacks *cb);

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
	bool		result;

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
	List	   *result = NIL;
	char	   *s;
	char	   *tok;

	if (elem->arg == NULL || strVal(elem->arg)[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"%s\" needs a comma-separated list of names", elem->defname)));
	s = pstrdup(strVal(elem->arg));

	/*
	 * Split by hand: strtok would skip empty entries ("a,,b", ",a", "a,"),
	 * which are errors like a blank one.
	 */
	for (tok = s; tok != NULL;)
	{
		char	   *comma = strchr(tok, ',');
		char	   *end;

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
pg_decode_startup(LogicalDecodingContext *ctx, OutputPluginOptions *opt, bool is_init)
{
	EsDecodingData *data;
	ListCell   *option;
	List	   *seen = NIL;
	data = palloc0(sizeof(EsDecodingData));
	data->context = AllocSetContextCreate(ctx->context,
										  "eventstore output plugin",
										  ALLOCSET_DEFAULT_SIZES);
	data->include_transaction = false;
	data->include_source = true;
	data->include_database = true;
	data->include_lsn = true;
	data->include_xids = true;
	data->include_timestamp = true;
	data->pretty_print = false;

	ctx->output_plugin_private = data;
	opt->output_type = OUTPUT_PLUGIN_TEXTUAL_OUTPUT;
	opt->receive_rewrites = false;

	foreach(option, ctx->output_plugin_options)
	{
		DefElem    *elem = lfirst(option);

		Assert(elem->arg == NULL || IsA(elem->arg, String));

		if (list_member(seen, makeString(elem->defname)))
			ereport(ERROR,
					(errcode(ERRCODE_SYNTAX_ERROR),
					 errmsg("conflicting or redundant options"),
					 errdetail("Parameter \"%s\" is given more than once.", elem->defname)));
		seen = lappend(seen, makeString(elem->defname));

		if (strcmp(elem->defname, "include-transaction") == 0)
			data->include_transaction = parse_bool_option(elem);
		else if (strcmp(elem->defname, "include-source") == 0)
			data->include_source = parse_bool_option(elem);
		else if (strcmp(elem->defname, "include-database") == 0)
			data->include_database = parse_bool_option(elem);
		else if (strcmp(elem->defname, "include-lsn") == 0)
			data->include_lsn = parse_bool_option(elem);
		else if (strcmp(elem->defname, "include-xids") == 0)
			data->include_xids = parse_bool_option(elem);
		else if (strcmp(elem->defname, "include-timestamp") == 0)
			data->include_timestamp = parse_bool_option(elem);
		else if (strcmp(elem->defname, "pretty-print") == 0)
			data->pretty_print = parse_bool_option(elem);
		else if (strcmp(elem->defname, "aggregate-types") == 0)
			data->aggregate_types = parse_list_option(elem);
		else if (strcmp(elem->defname, "event-types") == 0)
			data->event_types = parse_list_option(elem);
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("option \"%s\" = \"%s\" is unknown",
							elem->defname,
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
	Oid			nspid;
	Oid			relid;
	TupleDesc	desc;

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

			if (!att->attisdropped && strcmp(NameStr(att->attname), es_column_names[c]) == 0)
			{
				es_events_attnum[c] = att->attnum;
				break;
			}
		}
		if (es_events_attnum[c] == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("table eventstore.events has no column \"%s\"", es_column_names[c]),
					 errdetail("The eventstore output plugin needs the table created by CREATE EXTENSION eventstore.")));
	}
	es_events_relid = relid;
	return true;
}

static void
append_uuid(StringInfo out, Datum d)
{
	static const char hex[] = "0123456789abcdef";
	pg_uuid_t  *u = DatumGetUUIDP(d);
	char		buf[38];
	int			p = 0;

	buf[p++] = '"';
	for (int i = 0; i < UUID_LEN; i++)
	{
		if (i == 4 || i == 6 || i == 8 || i == 10)
			buf[p++] = '-';
		buf[p++] = hex[u->data[i] >> 4];
		buf[p++] = hex[u->data[i] & 0xf];
	}
	buf[p++] = '"';
	appendBinaryStringInfo(out, buf, p);
}

static void
append_int64(StringInfo out, int64 v)
{
	char		buf[MAXINT8LEN + 1];
	int			len = pg_lltoa(v, buf);

	appendBinaryStringInfo(out, buf, len);
}

static void
append_lsn(StringInfo out, XLogRecPtr lsn)
{
	appendStringInfo(out, "\"%X/%X\"", LSN_FORMAT_ARGS(lsn));
}

/* ISO 8601 in UTC with microseconds: "2026-11-23T09:14:03.123456Z" */
static void
append_timestamptz(StringInfo out, TimestampTz ts)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (TIMESTAMP_NOT_FINITE(ts) || timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
	{
		appendBinaryStringInfo(out, "null", 4);
		return;
	}
	appendStringInfo(out, "\"%04d-%02d-%02dT%02d:%02d:%02d.%06dZ\"",
					 tm.tm_year, tm.tm_mon, tm.tm_mday,
					 tm.tm_hour, tm.tm_min, tm.tm_sec, (int) fsec);
}

/* The database name as a JSON string, looked up once (inside a transaction). */
static const char *
database_json(EsDecodingData *data)
{
	if (data->database == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(data->long_lived);
		char	   *dbname = get_database_name(MyDatabaseId);
		StringInfoData buf;

		initStringInfo(&buf);
		es_json_append_string(&buf, dbname ? dbname : "", dbname ? strlen(dbname) : 0);
		data->database = buf.data;
		MemoryContextSwitchTo(old);
	}
	return data->database;
}

static bool
name_in_list(List *names, const char *s, int len)
{
	ListCell   *lc;

	foreach(lc, names)
	{
		const char *name = lfirst(lc);

		if ((int) strlen(name) == len && memcmp(name, s, len) == 0)
			return true;
	}
	return false;
}

/*
 * Re-indent compact JSON (pretty-print option).  Strings are copied as they
 * are; structure characters outside strings get newlines and tabs.
 */
static void
pretty_print_json(StringInfo out, const char *json, int len)
{
	int			depth = 0;
	bool		in_string = false;

	for (int i = 0; i < len; i++)
	{
		char		c = json[i];

		if (in_string)
		{
			appendStringInfoChar(out, c);
			if (c == '\\' && i + 1 < len)
				appendStringInfoChar(out, json[++i]);
			else if (c == '"')
				in_string = false;
			continue;
		}
		switch (c)
		{
			case '"':
				in_string = true;
				appendStringInfoChar(out, c);
				break;
			case '{':
			case '[':
				appendStringInfoChar(out, c);
				if (i + 1 < len && (json[i + 1] == '}' || json[i + 1] == ']'))
				{
					appendStringInfoChar(out, json[++i]);
					break;
				}
				depth++;
				appendStringInfoChar(out, '\n');
				for (int d = 0; d < depth; d++)
					appendStringInfoChar(out, '\t');
				break;
			case '}':
			case ']':
				depth--;
				appendStringInfoChar(out, '\n');
				for (int d = 0; d < depth; d++)
					appendStringInfoChar(out, '\t');
				appendStringInfoChar(out, c);
				break;
			case ',':
				appendStringInfoChar(out, c);
				appendStringInfoChar(out, '\n');
				for (int d = 0; d < depth; d++)
					appendStringInfoChar(out, '\t');
				break;
			case ':':
				appendStringInfoString(out, ": ");
				break;
			default:
				appendStringInfoChar(out, c);
		}
	}
}

/*
 * Write one complete message: the JSON in buf, pretty-printed if asked.
 */
static void
write_message(LogicalDecodingContext *ctx, EsDecodingData *data, StringInfo buf)
{
	OutputPluginPrepareWrite(ctx, true);
	if (data->pretty_print)
		pretty_print_json(ctx->out, buf->data, buf->len);
	else
		appendBinaryStringInfo(ctx->out, buf->data, buf->len);
	OutputPluginWrite(ctx, true);
}

static void
write_begin_marker(LogicalDecodingContext *ctx, EsDecodingData *data, ReorderBufferTXN *txn,
				   StringInfo buf)
{
	resetStringInfo(buf);
	appendStringInfoString(buf, "{\"kind\":\"begin\"");
	if (data->include_xids)
	{
		appendStringInfoString(buf, ",\"xid\":");
		append_int64(buf, txn->xid);
	}
	appendStringInfoString(buf, ",\"lsn\":");
	append_lsn(buf, txn->final_lsn);
	if (data->include_timestamp)
	{
		appendStringInfoString(buf, ",\"commit_time\":");
		append_timestamptz(buf, ES_COMMIT_TIME(txn));
	}
	appendStringInfoChar(buf, '}');
	write_message(ctx, data, buf);
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
pg_decode_commit_txn(LogicalDecodingContext *ctx, ReorderBufferTXN *txn, XLogRecPtr commit_lsn)
{
	EsDecodingData *data = ctx->output_plugin_private;
	MemoryContext old;
	StringInfoData buf;

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
	appendStringInfoString(&buf, "{\"kind\":\"commit\"");
	if (data->include_xids)
	{
		appendStringInfoString(&buf, ",\"xid\":");
		append_int64(&buf, txn->xid);
	}
	appendStringInfoString(&buf, ",\"lsn\":");
	append_lsn(&buf, commit_lsn);
	appendStringInfoString(&buf, ",\"end_lsn\":");
	append_lsn(&buf, txn->end_lsn);
	if (data->include_timestamp)
	{
		appendStringInfoString(&buf, ",\"commit_time\":");
		append_timestamptz(&buf, ES_COMMIT_TIME(txn));
	}
	appendStringInfoString(&buf, ",\"events\":");
	append_int64(&buf, (int64) data->xact_events);
	appendStringInfoChar(&buf, '}');
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
build_envelope(EsDecodingData *data, ReorderBufferTXN *txn, Datum *values, bool *nulls,
			   StringInfo buf)
{
	text	   *aggregate_type;
	text	   *type;

	for (int c = 0; c < ES_NCOLUMNS; c++)
		if (nulls[es_events_attnum[c] - 1])
			elog(ERROR, "eventstore.events has a null in column \"%s\"", es_column_names[c]);
#define V(col) values[es_events_attnum[col] - 1]

	aggregate_type = DatumGetTextPP(V(COL_AGGREGATE_TYPE));
	type = DatumGetTextPP(V(COL_TYPE));
	if (data->aggregate_types != NIL &&
		!name_in_list(data->aggregate_types, VARDATA_ANY(aggregate_type), VARSIZE_ANY_EXHDR(aggregate_type)))
		return false;
	if (data->event_types != NIL &&
		!name_in_list(data->event_types, VARDATA_ANY(type), VARSIZE_ANY_EXHDR(type)))
		return false;

	appendStringInfoString(buf, "{\"aggregate_id\":");
	append_uuid(buf, V(COL_AGGREGATE_ID));
	appendStringInfoString(buf, ",\"aggregate_type\":");
	es_json_append_string(buf, VARDATA_ANY(aggregate_type), VARSIZE_ANY_EXHDR(aggregate_type));
	appendStringInfoString(buf, ",\"version\":");
	append_int64(buf, DatumGetInt64(V(COL_VERSION)));
	appendStringInfoString(buf, ",\"event_id\":");
	append_uuid(buf, V(COL_EVENT_ID));
	appendStringInfoString(buf, ",\"type\":");
	es_json_append_string(buf, VARDATA_ANY(type), VARSIZE_ANY_EXHDR(type));
	appendStringInfoString(buf, ",\"data\":");
	es_jsonb_append_compact(buf, &DatumGetJsonbP(V(COL_DATA))->root);
	appendStringInfoString(buf, ",\"metadata\":");
	es_jsonb_append_compact(buf, &DatumGetJsonbP(V(COL_METADATA))->root);
	appendStringInfoString(buf, ",\"recorded_at\":");
	append_timestamptz(buf, DatumGetTimestampTz(V(COL_RECORDED_AT)));
#undef V

	if (data->include_source)
	{
		/* Fields are written with a leading comma; the first one drops it. */
		int			open;

		appendStringInfoString(buf, ",\"source\":{");
		open = buf->len;
		if (data->include_database)
		{
			appendStringInfoString(buf, ",\"database\":");
			appendStringInfoString(buf, database_json(data));
		}
		if (data->include_lsn)
		{
			appendStringInfoString(buf, ",\"lsn\":");
			append_lsn(buf, txn->final_lsn);
		}
		if (data->include_xids)
		{
			appendStringInfoString(buf, ",\"xid\":");
			append_int64(buf, txn->xid);
		}
		if (data->include_timestamp)
		{
			appendStringInfoString(buf, ",\"commit_time\":");
			append_timestamptz(buf, ES_COMMIT_TIME(txn));
		}
		if (buf->len > open)
		{
			/* drop the comma right after "{" */
			memmove(buf->data + open, buf->data + open + 1, buf->len - open - 1);
			buf->len--;
			buf->data[buf->len] = '\0';
		}
		appendStringInfoChar(buf, '}');
	}
	appendStringInfoChar(buf, '}');
	return true;
}

/* CHANGE callback: one message per INSERT into eventstore.events */
static void
pg_decode_change(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
				 Relation relation, ReorderBufferChange *change)
{
	EsDecodingData *data = ctx->output_plugin_private;
	HeapTuple	tuple;
	TupleDesc	desc;
	MemoryContext old;
	Datum	   *values;
	bool	   *nulls;
	StringInfoData buf;

	if (change->action != REORDER_BUFFER_CHANGE_INSERT || !is_events_table(relation))
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
	if (build_envelope(data, txn, values, nulls, &buf))
	{
		if (data->include_transaction && !data->xact_begun)
		{
			StringInfoData marker;

			initStringInfo(&marker);
			write_begin_marker(ctx, data, txn, &marker);
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
