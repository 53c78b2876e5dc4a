/*-------------------------------------------------------------------------
 *
 * envelope.c
 *		The envelope writer: the one place that knows the JSON text of an
 *		event (docs/envelope.md), of the begin/commit markers, and of their
 *		pretty-printed form.
 *
 * The output plugin hands over the columns of a decoded row and the
 * transaction it belongs to; this file decides field order and formatting.
 * The DynamoDB path of the relay writes the same fields in the same form,
 * which tests/t_envelope_golden.sh checks against this writer.
 *
 * IDENTIFICATION
 *		src/envelope.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "envelope.h"
#include "eventstore.h"

static void
append_uuid(StringInfo out, const pg_uuid_t *u)
{
	static const char hex[] = "0123456789abcdef";
	char			  buf[38];
	int				  p = 0;

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
	char buf[MAXINT8LEN + 1];
	int	 len = pg_lltoa(v, buf);

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
	fsec_t		 fsec;

	if (TIMESTAMP_NOT_FINITE(ts) ||
		timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
	{
		appendBinaryStringInfo(out, "null", 4);
		return;
	}
	appendStringInfo(out, "\"%04d-%02d-%02dT%02d:%02d:%02d.%06dZ\"",
					 tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min,
					 tm.tm_sec, (int) fsec);
}

static void
append_text(StringInfo out, text *t)
{
	es_json_append_string(out, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

/*
 * The "source" object of the PostgreSQL path.  Fields are written with a
 * leading comma; the first one drops it.
 */
static void
append_source(StringInfo out, const EsEnvelopeTxn *txn,
			  const EsEnvelopeFields *fields, const char *database)
{
	int open;

	appendStringInfoString(out, ",\"source\":{");
	open = out->len;
	if (fields->database)
	{
		appendStringInfoString(out, ",\"database\":");
		appendStringInfoString(out, database);
	}
	if (fields->lsn)
	{
		appendStringInfoString(out, ",\"lsn\":");
		append_lsn(out, txn->lsn);
	}
	if (fields->xid)
	{
		appendStringInfoString(out, ",\"xid\":");
		append_int64(out, txn->xid);
	}
	if (fields->commit_time)
	{
		appendStringInfoString(out, ",\"commit_time\":");
		append_timestamptz(out, txn->commit_time);
	}
	if (out->len > open)
	{
		/* drop the comma right after "{" */
		memmove(out->data + open, out->data + open + 1, out->len - open - 1);
		out->len--;
		out->data[out->len] = '\0';
	}
	appendStringInfoChar(out, '}');
}

void
es_envelope_append_event(StringInfo out, const EsEnvelopeEvent *ev,
						 const EsEnvelopeTxn	*txn,
						 const EsEnvelopeFields *fields, const char *database)
{
	appendStringInfoString(out, "{\"aggregate_id\":");
	append_uuid(out, ev->aggregate_id);
	appendStringInfoString(out, ",\"aggregate_type\":");
	append_text(out, ev->aggregate_type);
	appendStringInfoString(out, ",\"version\":");
	append_int64(out, ev->version);
	appendStringInfoString(out, ",\"event_id\":");
	append_uuid(out, ev->event_id);
	appendStringInfoString(out, ",\"type\":");
	append_text(out, ev->type);
	appendStringInfoString(out, ",\"data\":");
	es_jsonb_append_compact(out, &ev->data->root);
	appendStringInfoString(out, ",\"metadata\":");
	es_jsonb_append_compact(out, &ev->metadata->root);
	appendStringInfoString(out, ",\"recorded_at\":");
	append_timestamptz(out, ev->recorded_at);
	if (fields->source)
		append_source(out, txn, fields, database);
	appendStringInfoChar(out, '}');
}

/*
 * A begin marker, or with nevents a commit marker, which also has the end of
 * the commit record and the number of events.
 */
static void
append_marker(StringInfo out, const char *kind, const EsEnvelopeTxn *txn,
			  const EsEnvelopeFields *fields, const uint64 *nevents)
{
	appendStringInfo(out, "{\"kind\":\"%s\"", kind);
	if (fields->xid)
	{
		appendStringInfoString(out, ",\"xid\":");
		append_int64(out, txn->xid);
	}
	appendStringInfoString(out, ",\"lsn\":");
	append_lsn(out, txn->lsn);
	if (nevents)
	{
		appendStringInfoString(out, ",\"end_lsn\":");
		append_lsn(out, txn->end_lsn);
	}
	if (fields->commit_time)
	{
		appendStringInfoString(out, ",\"commit_time\":");
		append_timestamptz(out, txn->commit_time);
	}
	if (nevents)
	{
		appendStringInfoString(out, ",\"events\":");
		append_int64(out, (int64) *nevents);
	}
	appendStringInfoChar(out, '}');
}

void
es_envelope_append_begin(StringInfo out, const EsEnvelopeTxn *txn,
						 const EsEnvelopeFields *fields)
{
	append_marker(out, "begin", txn, fields, NULL);
}

void
es_envelope_append_commit(StringInfo out, const EsEnvelopeTxn *txn,
						  const EsEnvelopeFields *fields, uint64 nevents)
{
	append_marker(out, "commit", txn, fields, &nevents);
}

static void
append_newline_indent(StringInfo out, int depth)
{
	appendStringInfoChar(out, '\n');
	for (int d = 0; d < depth; d++)
		appendStringInfoChar(out, '\t');
}

/*
 * Strings are copied as they are; structure characters outside strings get
 * newlines and tabs.
 */
void
es_envelope_append_pretty(StringInfo out, const char *json, int len)
{
	int	 depth = 0;
	bool in_string = false;

	for (int i = 0; i < len; i++)
	{
		char c = json[i];

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
				append_newline_indent(out, depth);
				break;
			case '}':
			case ']':
				depth--;
				append_newline_indent(out, depth);
				appendStringInfoChar(out, c);
				break;
			case ',':
				appendStringInfoChar(out, c);
				append_newline_indent(out, depth);
				break;
			case ':':
				appendStringInfoString(out, ": ");
				break;
			default:
				appendStringInfoChar(out, c);
		}
	}
}
