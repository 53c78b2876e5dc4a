/*
 * ddb_record.c
 *		Pluck the appended tail of an aggregate's Events list out of one
 *		DynamoDB Streams record and write one envelope per event
 *		(docs/envelope.md, docs/dynamodb.md).
 */
#include "ddb_record.h"
#include "codec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ddb_json.h"
#include "ddb_uuid.h"

void
ddb_record_opts_default(ddb_record_opts *o)
{
	o->id_attr = "Uuid";
	o->events_attr = "Events";
	o->aggregate_type = NULL;
	o->table = NULL;
}

void
ddb_events_init(ddb_events *e)
{
	memset(e, 0, sizeof(*e));
	buf_init(&e->text);
	buf_init(&e->keys);
}

void
ddb_events_reset(ddb_events *e)
{
	buf_reset(&e->text);
	buf_reset(&e->keys);
	e->n = 0;
}

void
ddb_events_free(ddb_events *e)
{
	buf_free(&e->text);
	buf_free(&e->keys);
	free(e->ev);
	memset(e, 0, sizeof(*e));
}

const char *
ddb_outcome_name(ddb_outcome oc)
{
	switch (oc)
	{
		case DDB_OUT_EVENTS:
			return "events";
		case DDB_OUT_SKIP_REMOVE:
			return "remove";
		case DDB_OUT_SKIP_NO_GROWTH:
			return "no_growth";
		case DDB_OUT_SKIP_VIEW_TYPE:
			return "not_new_and_old_images";
		case DDB_OUT_SKIP_NOT_AGGREGATE:
			return "no_events_list";
		case DDB_OUT_ERROR:
			return "error";
		default:
			return "?";
	}
}

int
ddb_seq_cmp(const char *a, const char *b)
{
	size_t la, lb;
	int c;

	/* Decimal strings without leading zeros: longer is larger. */
	while (*a == '0' && a[1])
		a++;
	while (*b == '0' && b[1])
		b++;
	la = strlen(a);
	lb = strlen(b);
	if (la != lb)
		return la < lb ? -1 : 1;
	c = strcmp(a, b);
	return (c > 0) - (c < 0);
}

/* Member key of o; JSON null counts as absent. */
static const jv *
s_get(const jv *o, const char *key)
{
	const jv *v = jv_get(o, key);

	return (v == NULL || v->type == JV_NULL) ? NULL : v;
}

static const char *
s_get_str(const jv *o, const char *key)
{
	return jv_str(s_get(o, key));
}

const char *
ddb_record_sequence(const jv *rec)
{
	return s_get_str(s_get(rec, "dynamodb"), "SequenceNumber");
}

/* "arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL" -> NAME */
static int
s_table_from_arn(const char *arn, const char **name, size_t *len)
{
	const char *p;
	const char *end;

	if (arn == NULL || (p = strstr(arn, ":table/")) == NULL)
		return -1;
	p += 7;
	end = strchr(p, '/');
	*name = p;
	*len = end ? (size_t) (end - p) : strlen(p);
	return *len ? 0 : -1;
}

/* 10000-01-01T00:00:00Z: the first second without a four-digit year */
#define S_END_EPOCH 253402300800.0

/*
 * ApproximateCreationDateTime: epoch seconds (int, float, exponent form, or
 * a numeric string) or, from Kinesis Data Streams for DynamoDB, epoch
 * milliseconds (told apart by magnitude).  Missing, not positive or past
 * the year 9999: the time we read it (an envelope always has a valid
 * ISO 8601 time, and the S3 sink picks its hour partition by it).
 */
static time_t
s_recorded_at(const jv *ddb, buf *out)
{
	const jv *v = s_get(ddb, "ApproximateCreationDateTime");
	double t = 0;
	time_t secs;
	long usec;

	if (v)
		t = jv_double(v); /* a number, or a numeric string */
	if (t > 1e11)
		t /= 1000.0;
	/* also false for NaN; the range check comes before the time_t cast */
	if (!(t > 0 && t < S_END_EPOCH))
	{
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		t = (double) ts.tv_sec + ts.tv_nsec / 1e9;
	}
	secs = (time_t) floor(t);
	usec = lround((t - floor(t)) * 1e6);
	if (usec >= 1000000)
	{
		secs++;
		usec -= 1000000;
	}
	if (secs >= (time_t) S_END_EPOCH)
	{
		secs = (time_t) S_END_EPOCH - 1;
		usec = 999999;
	}
	codec_time_json(out, (int64_t) secs, (int32_t) usec);
	return secs;
}

static int
s_events_push(ddb_events *out, const ddb_event *e)
{
	if (out->n == out->cap)
	{
		size_t cap = out->cap ? out->cap * 2 : 64;
		ddb_event *p = realloc(out->ev, cap * sizeof(*p));

		if (p == NULL)
			return -1;
		out->ev = p;
		out->cap = cap;
	}
	out->ev[out->n++] = *e;
	return 0;
}

/* Static parts of every envelope of one record, computed once. */
typedef struct s_ctx
{
	const char *id;
	size_t idlen;
	const char *atype;
	size_t atypelen;
	buf tail;	 /* ,"recorded_at":...,"source":{...}} */
	time_t time; /* recorded_at */
} s_ctx;

static int
s_write_event(s_ctx *c, const jv *item, long version, size_t record_index, ddb_events *out,
			  char *err, size_t errlen)
{
	const jv *m = s_get(item, "M");
	const jv *name;
	const jv *data;
	const jv *meta;
	const char *ntext;
	size_t nlen;
	char uuid[DDB_UUID_STRLEN + 1];
	ddb_event e;
	buf *t = &out->text;

	if (m == NULL || !jv_is(m, JV_OBJECT) || item->len != 1)
	{
		snprintf(err, errlen, "event %ld is not a map (M)", version);
		return -1;
	}
	name = s_get(m, "Name");
	if (name == NULL || ddb_json_key_text(name, &ntext, &nlen, NULL, 0) != 0 ||
		s_get(name, "S") == NULL)
	{
		snprintf(err, errlen, "event %ld has no Name of type S", version);
		return -1;
	}

	e.off = t->len;
	e.record = record_index;
	e.time = c->time;
	buf_puts(t, "{\"aggregate_id\":");
	buf_json_string(t, c->id, c->idlen);
	buf_puts(t, ",\"aggregate_type\":");
	buf_json_string(t, c->atype, c->atypelen);
	ddb_uuid_event_id(c->id, c->idlen, version, uuid);
	buf_printf(t, ",\"version\":%ld,\"event_id\":\"%s\",\"type\":", version, uuid);
	buf_json_string(t, ntext, nlen);
	buf_puts(t, ",\"data\":");
	data = s_get(m, "Data");
	if (data == NULL)
		buf_puts(t, "null");
	else if (ddb_json_value(data, t, err, errlen) != 0)
	{
		char tmp[400];

		snprintf(tmp, sizeof(tmp), "event %ld Data%s%s", version,
				 err[0] == '.' || err[0] == '[' ? "" : ": ", err);
		snprintf(err, errlen, "%s", tmp);
		return -1;
	}
	buf_puts(t, ",\"metadata\":");
	meta = s_get(m, "Metadata");
	if (meta == NULL)
		buf_puts(t, "{}");
	else if (s_get(meta, "M") == NULL || ddb_json_value(meta, t, err, errlen) != 0)
	{
		snprintf(err, errlen, "event %ld: Metadata is not a valid map (M)", version);
		return -1;
	}
	buf_append(t, c->tail.data, c->tail.len);
	e.len = t->len - e.off;
	buf_putc(t, '\n');

	e.key_off = out->keys.len;
	e.key_len = c->idlen;
	buf_append(&out->keys, c->id, c->idlen);
	buf_putc(&out->keys, '\0');
	if (buf_failed(t) || buf_failed(&out->keys) || s_events_push(out, &e) != 0)
	{
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static ddb_outcome
s_pluck(const jv *rec, const ddb_record_opts *o, size_t record_index, ddb_events *out, s_ctx *c,
		char *err, size_t errlen)
{
	const jv *ddb = s_get(rec, "dynamodb");
	const jv *newimg, *oldimg, *keys, *idav, *newl, *oldl;
	const char *evname = s_get_str(rec, "eventName");
	const char *view = s_get_str(ddb, "StreamViewType");
	const char *arn = s_get_str(rec, "eventSourceARN");
	const char *seq = s_get_str(ddb, "SequenceNumber");
	const char *table;
	size_t tablelen;
	size_t nold = 0, nnew, i;

	if (!jv_is(rec, JV_OBJECT) || ddb == NULL || evname == NULL)
	{
		snprintf(err, errlen, "not a DynamoDB Streams record (no eventName or dynamodb)");
		return DDB_OUT_ERROR;
	}
	if (strcmp(evname, "REMOVE") == 0)
	{
		snprintf(err, errlen, "REMOVE record");
		return DDB_OUT_SKIP_REMOVE;
	}
	if (strcmp(evname, "INSERT") != 0 && strcmp(evname, "MODIFY") != 0)
	{
		snprintf(err, errlen, "unknown eventName \"%.40s\"", evname);
		return DDB_OUT_ERROR;
	}
	newimg = s_get(ddb, "NewImage");
	oldimg = s_get(ddb, "OldImage");
	if (view && strcmp(view, "NEW_AND_OLD_IMAGES") != 0)
	{
		snprintf(err, errlen, "stream view type is %.40s, not NEW_AND_OLD_IMAGES", view);
		return DDB_OUT_SKIP_VIEW_TYPE;
	}
	if (newimg == NULL || (oldimg == NULL && strcmp(evname, "MODIFY") == 0))
	{
		snprintf(err, errlen, "%s record without %s: the stream must be NEW_AND_OLD_IMAGES", evname,
				 newimg == NULL ? "NewImage" : "OldImage");
		return DDB_OUT_SKIP_VIEW_TYPE;
	}
	if (!jv_is(newimg, JV_OBJECT) || (oldimg && !jv_is(oldimg, JV_OBJECT)))
	{
		snprintf(err, errlen, "NewImage/OldImage is not an object");
		return DDB_OUT_ERROR;
	}

	newl = s_get(newimg, o->events_attr);
	if (newl == NULL)
	{
		snprintf(err, errlen, "item has no \"%.60s\" attribute", o->events_attr);
		return DDB_OUT_SKIP_NOT_AGGREGATE;
	}
	/* The aggregate id: the configured key attribute, else the only key. */
	keys = s_get(ddb, "Keys");
	idav = s_get(keys, o->id_attr);
	if (idav == NULL)
		idav = s_get(newimg, o->id_attr);
	if (idav == NULL && jv_is(keys, JV_OBJECT) && keys->len == 1)
		idav = &keys->u.members[0].val;
	if (idav == NULL)
	{
		snprintf(err, errlen, "no key attribute \"%.60s\" and not exactly one key", o->id_attr);
		return DDB_OUT_ERROR;
	}
	if (ddb_json_key_text(idav, &c->id, &c->idlen, err, errlen) != 0)
		return DDB_OUT_ERROR;

	newl = s_get(newl, "L");
	oldl = s_get(oldimg, o->events_attr);
	if (oldl)
		oldl = s_get(oldl, "L");
	if (newl == NULL || !jv_is(newl, JV_ARRAY) ||
		(s_get(oldimg, o->events_attr) && (oldl == NULL || !jv_is(oldl, JV_ARRAY))))
	{
		snprintf(err, errlen, "attribute \"%.60s\" is not a list (L)", o->events_attr);
		return DDB_OUT_ERROR;
	}
	nnew = newl->len;
	if (oldl)
		nold = oldl->len;
	if (nnew < nold)
	{
		snprintf(err, errlen, "events list shrank from %zu to %zu", nold, nnew);
		return DDB_OUT_ERROR;
	}
	/* Append-only: every event already published must be unchanged. */
	for (i = 0; i < nold; i++)
	{
		if (!jv_equal(&oldl->u.items[i], &newl->u.items[i]))
		{
			snprintf(err, errlen,
					 "event %zu changed in the middle of the list (of %zu old, %zu new)", i + 1,
					 nold, nnew);
			return DDB_OUT_ERROR;
		}
	}
	if (nnew == nold)
	{
		snprintf(err, errlen, "events list did not grow (%zu events)", nnew);
		return DDB_OUT_SKIP_NO_GROWTH;
	}

	/* The parts shared by every envelope of this record. */
	if (s_table_from_arn(arn, &table, &tablelen) != 0)
	{
		table = s_get_str(rec, "tableName");
		if (table == NULL)
			table = o->table ? o->table : "";
		tablelen = strlen(table);
	}
	c->atype = o->aggregate_type ? o->aggregate_type : table;
	c->atypelen = strlen(o->aggregate_type ? o->aggregate_type : "");
	if (!o->aggregate_type)
		c->atypelen = tablelen;
	buf_puts(&c->tail, ",\"recorded_at\":");
	c->time = s_recorded_at(ddb, &c->tail);
	buf_puts(&c->tail, ",\"source\":{\"kind\":\"dynamodb\",\"table\":");
	buf_json_string(&c->tail, table, tablelen);
	buf_puts(&c->tail, ",\"sequence_number\":");
	if (seq)
		buf_json_string(&c->tail, seq, strlen(seq));
	else
		buf_puts(&c->tail, "null");
	buf_puts(&c->tail, ",\"event_name\":");
	buf_json_string(&c->tail, evname, strlen(evname));
	if (arn)
	{
		buf_puts(&c->tail, ",\"event_source_arn\":");
		buf_json_string(&c->tail, arn, strlen(arn));
	}
	buf_puts(&c->tail, "}}");
	if (buf_failed(&c->tail))
	{
		snprintf(err, errlen, "out of memory");
		return DDB_OUT_ERROR;
	}

	for (i = nold; i < nnew; i++)
	{
		if (s_write_event(c, &newl->u.items[i], (long) i + 1, record_index, out, err, errlen) != 0)
			return DDB_OUT_ERROR;
	}
	return DDB_OUT_EVENTS;
}

ddb_outcome
ddb_record_pluck(const jv *rec, const ddb_record_opts *o, size_t record_index, ddb_events *out,
				 ddb_stats *stats, char *err, size_t errlen)
{
	size_t text_len = out->text.len;
	size_t keys_len = out->keys.len;
	size_t n = out->n;
	s_ctx c;
	ddb_outcome oc;

	memset(&c, 0, sizeof(c));
	buf_init(&c.tail);
	err[0] = '\0';
	oc = s_pluck(rec, o, record_index, out, &c, err, errlen);
	buf_free(&c.tail);
	if (oc == DDB_OUT_ERROR)
	{
		/* All or nothing per record: drop what this record wrote. */
		out->text.len = text_len;
		out->keys.len = keys_len;
		if (out->text.data)
			out->text.data[text_len] = '\0';
		out->n = n;
	}
	if (stats)
	{
		stats->records++;
		stats->outcome[oc]++;
		if (oc == DDB_OUT_EVENTS)
			stats->events += out->n - n;
	}
	return oc;
}
