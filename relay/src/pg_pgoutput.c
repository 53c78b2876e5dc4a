/*
 * pg_pgoutput.c
 *		Decoding pgoutput's logical replication messages (see pg_pgoutput.h).
 *
 * Message formats: "Logical Replication Message Formats" in the PostgreSQL
 * documentation (protocol version 1; integers in network byte order,
 * strings NUL-terminated).  Every read is bounds-checked: a truncated or
 * malformed message is an error naming the message, never a read past it.
 */
#include "pg_pgoutput.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Microseconds between the Unix epoch and the PostgreSQL epoch (2000-01-01). */
#define PG_EPOCH_OFFSET_US (946684800LL * 1000000)

#define MAX_FILTER_NAMES 256

/* Type OIDs of the columns (pg_type.dat; fixed for built-in types). */
#define OID_INT8		20
#define OID_TEXT		25
#define OID_UUID		2950
#define OID_TIMESTAMPTZ 1184
#define OID_JSONB		3802

static const uint32_t s_column_types[PGE_NCOLUMNS] = {
	OID_UUID, OID_TEXT, OID_INT8, OID_UUID, OID_TEXT, OID_JSONB, OID_JSONB, OID_TIMESTAMPTZ,
};
static const char *const s_type_names[PGE_NCOLUMNS] = {
	"uuid", "text", "bigint", "uuid", "text", "jsonb", "jsonb", "timestamptz",
};

typedef struct name_list
{
	char *names[MAX_FILTER_NAMES];
	size_t lens[MAX_FILTER_NAMES];
	int n; /* 0 = no filter */
} name_list;

struct pg_pgoutput
{
	pg_pgoutput_options opt;
	name_list agg_types, event_types;
	char *database;

	/* the Relation of eventstore.events (0 = not seen yet) */
	uint32_t events_relid;
	int natts;				  /* its number of columns in the stream */
	int attpos[PGE_NCOLUMNS]; /* column of each envelope field */
	uint32_t *others;		  /* relids of other relations seen, sorted */
	size_t n_others, cap_others;

	/* the transaction being received */
	bool in_txn;
	bool skip;		 /* replicated in from elsewhere (Origin) and not wanted */
	bool begun;		 /* begin marker handed out */
	int64_t nevents; /* events handed out */
	pg_envelope_txn txn;

	/* per message */
	const char **vals; /* column texts of an Insert, natts entries */
	size_t *lens;
	int cap_atts;
	buf env;	/* the envelope handed out */
	buf source; /* the transaction's source object, written once per Begin */
};

/* --- reading ------------------------------------------------------------------ */

typedef struct rd
{
	const unsigned char *p;
	size_t len, off;
	bool bad; /* read past the end */
} rd;

static uint64_t
s_get(rd *r, int n)
{
	uint64_t v = 0;

	if (r->bad || r->len - r->off < (size_t) n)
	{
		r->bad = true;
		return 0;
	}
	for (int i = 0; i < n; i++)
		v = (v << 8) | r->p[r->off++];
	return v;
}

/* A NUL-terminated string; "" and bad set if there is no NUL before the end. */
static const char *
s_get_str(rd *r)
{
	const unsigned char *nul;

	if (r->bad || r->off >= r->len || (nul = memchr(r->p + r->off, '\0', r->len - r->off)) == NULL)
	{
		r->bad = true;
		return "";
	}
	{
		const char *s = (const char *) r->p + r->off;

		r->off = (size_t) (nul - r->p) + 1;
		return s;
	}
}

static int
s_truncated(char *err, size_t errlen, char type, size_t len)
{
	snprintf(err, errlen, "truncated or malformed pgoutput message '%c' (%zu bytes)", type, len);
	return -1;
}

/* --- filters ------------------------------------------------------------------- */

static void
s_names_free(name_list *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->names[i]);
	l->n = 0;
}

/* The plugin's list option: comma-separated, blanks trimmed, no empty name. */
static int
s_names_parse(name_list *l, const char *what, const char *s, char *err, size_t errlen)
{
	const char *p = s;

	if (s == NULL)
		return 0;
	for (;;)
	{
		size_t n = strcspn(p, ",");
		const char *a = p, *e = p + n;

		while (a < e && (*a == ' ' || *a == '\t'))
			a++;
		while (e > a && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (a == e)
		{
			snprintf(err, errlen, "invalid --%s \"%s\": the list has an empty name", what, s);
			return -1;
		}
		if (l->n == MAX_FILTER_NAMES)
		{
			snprintf(err, errlen, "--%s: more than %d names", what, MAX_FILTER_NAMES);
			return -1;
		}
		l->lens[l->n] = (size_t) (e - a);
		l->names[l->n] = strndup(a, l->lens[l->n]);
		if (l->names[l->n++] == NULL)
		{
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		if (p[n] == '\0')
			return 0;
		p += n + 1;
	}
}

static bool
s_names_match(const name_list *l, const char *s, size_t len)
{
	if (l->n == 0)
		return true;
	for (int i = 0; i < l->n; i++)
		if (l->lens[i] == len && memcmp(l->names[i], s, len) == 0)
			return true;
	return false;
}

/* --- relations ------------------------------------------------------------------- */

static size_t
s_other_find(const pg_pgoutput *d, uint32_t relid, bool *found)
{
	size_t lo = 0, hi = d->n_others;

	while (lo < hi)
	{
		size_t mid = lo + (hi - lo) / 2;

		if (d->others[mid] < relid)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < d->n_others && d->others[lo] == relid;
	return lo;
}

static int
s_other_add(pg_pgoutput *d, uint32_t relid)
{
	bool found;
	size_t at = s_other_find(d, relid, &found);

	if (found)
		return 0;
	if (d->n_others == d->cap_others)
	{
		size_t cap = d->cap_others ? d->cap_others * 2 : 64;
		uint32_t *n = realloc(d->others, cap * sizeof(*n));

		if (n == NULL)
			return -1;
		d->others = n;
		d->cap_others = cap;
	}
	memmove(d->others + at + 1, d->others + at, (d->n_others - at) * sizeof(*d->others));
	d->others[at] = relid;
	d->n_others++;
	return 0;
}

static void
s_other_remove(pg_pgoutput *d, uint32_t relid)
{
	bool found;
	size_t at = s_other_find(d, relid, &found);

	if (!found)
		return;
	memmove(d->others + at, d->others + at + 1, (d->n_others - at - 1) * sizeof(*d->others));
	d->n_others--;
}

/* Relation: remember eventstore.events' columns; other relations only as known. */
static int
s_relation(pg_pgoutput *d, rd *r, bool *config, char *err, size_t errlen)
{
	uint32_t relid = (uint32_t) s_get(r, 4);
	const char *nsp = s_get_str(r);
	const char *rel = s_get_str(r);
	int natts, pos[PGE_NCOLUMNS];
	bool is_events;

	s_get(r, 1); /* replica identity */
	natts = (int) s_get(r, 2);
	if (r->bad)
		return s_truncated(err, errlen, 'R', r->len);
	is_events = strcmp(nsp, "eventstore") == 0 && strcmp(rel, "events") == 0;
	for (int c = 0; c < PGE_NCOLUMNS; c++)
		pos[c] = -1;
	for (int a = 0; a < natts; a++)
	{
		const char *name;
		uint32_t type;

		s_get(r, 1); /* flags: part of the key */
		name = s_get_str(r);
		type = (uint32_t) s_get(r, 4);
		s_get(r, 4); /* type modifier */
		if (r->bad)
			return s_truncated(err, errlen, 'R', r->len);
		for (int c = 0; is_events && c < PGE_NCOLUMNS; c++)
			if (strcmp(name, pg_envelope_column_names[c]) == 0)
			{
				if (type != s_column_types[c])
				{
					*config = true;
					snprintf(err, errlen,
							 "eventstore.events column \"%s\" has type OID %u in the replication "
							 "stream, not %s: the table is not the one CREATE EXTENSION eventstore "
							 "makes",
							 name, (unsigned int) type, s_type_names[c]);
					return -1;
				}
				pos[c] = a;
			}
	}
	if (r->off != r->len)
		return s_truncated(err, errlen, 'R', r->len);
	if (!is_events)
	{
		if (relid == d->events_relid)
			d->events_relid = 0; /* renamed away */
		return s_other_add(d, relid) < 0 ? (snprintf(err, errlen, "out of memory"), -1) : 0;
	}
	for (int c = 0; c < PGE_NCOLUMNS; c++)
		if (pos[c] < 0)
		{
			*config = true;
			snprintf(err, errlen,
					 "eventstore.events has no column \"%s\" in the replication stream (is it "
					 "left out of the publication's column list?)",
					 pg_envelope_column_names[c]);
			return -1;
		}
	if (natts > d->cap_atts)
	{
		const char **v = realloc(d->vals, (size_t) natts * sizeof(*v));
		size_t *l;

		if (v)
			d->vals = v;
		l = v ? realloc(d->lens, (size_t) natts * sizeof(*l)) : NULL;
		if (l == NULL)
		{
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		d->lens = l;
		d->cap_atts = natts;
	}
	s_other_remove(d, relid);
	d->events_relid = relid;
	d->natts = natts;
	memcpy(d->attpos, pos, sizeof(pos));
	return 0;
}

/* --- messages ---------------------------------------------------------------------- */

/* Insert into eventstore.events: 0 (filtered out), 1 or 2 outputs, or -1. */
static int
s_insert_event(pg_pgoutput *d, rd *r, pg_pgoutput_out out[2], char *err, size_t errlen)
{
	pg_envelope_row row;
	char rerr[200];
	int ncols, n = 0;

	if (s_get(r, 1) != 'N')
	{
		snprintf(err, errlen, "pgoutput Insert without a new tuple ('N')");
		return -1;
	}
	ncols = (int) s_get(r, 2);
	if (r->bad)
		return s_truncated(err, errlen, 'I', r->len);
	if (ncols != d->natts)
	{
		snprintf(err, errlen,
				 "pgoutput Insert into eventstore.events has %d columns, its Relation message %d",
				 ncols, d->natts);
		return -1;
	}
	for (int a = 0; a < ncols; a++)
	{
		int kind = (int) s_get(r, 1);
		uint32_t len;

		d->vals[a] = NULL;
		d->lens[a] = 0;
		switch (kind)
		{
			case 'n':
				break;
			case 't':
				len = (uint32_t) s_get(r, 4);
				if (r->bad || len > r->len - r->off)
					return s_truncated(err, errlen, 'I', r->len);
				d->vals[a] = (const char *) r->p + r->off;
				d->lens[a] = len;
				r->off += len;
				break;
			case 'u':
				/* only an UPDATE may leave a TOASTed value out; an INSERT carries it whole */
				snprintf(err, errlen,
						 "pgoutput Insert into eventstore.events with an unchanged TOAST value "
						 "(column %d): an INSERT must carry every value",
						 a + 1);
				return -1;
			case 'b':
				snprintf(err, errlen,
						 "pgoutput sent a binary column value: remove the plugin option binary");
				return -1;
			default:
				if (r->bad)
					return s_truncated(err, errlen, 'I', r->len);
				snprintf(err, errlen, "pgoutput Insert with an unknown column kind 0x%02x", kind);
				return -1;
		}
	}
	if (r->off != r->len)
		return s_truncated(err, errlen, 'I', r->len);
	if (d->skip)
		return 0;
	for (int c = 0; c < PGE_NCOLUMNS; c++)
	{
		row.val[c] = d->vals[d->attpos[c]];
		row.len[c] = d->lens[d->attpos[c]];
	}
	if ((row.val[PGE_AGGREGATE_TYPE] &&
		 !s_names_match(&d->agg_types, row.val[PGE_AGGREGATE_TYPE], row.len[PGE_AGGREGATE_TYPE])) ||
		(row.val[PGE_TYPE] &&
		 !s_names_match(&d->event_types, row.val[PGE_TYPE], row.len[PGE_TYPE])))
		return 0;
	buf_reset(&d->env);
	if (pg_envelope_event_src(&d->env, &row, d->source.data, d->source.len, rerr, sizeof(rerr)) < 0)
	{
		snprintf(err, errlen, "pgoutput Insert into eventstore.events: %s", rerr);
		return -1;
	}
	if (buf_failed(&d->env))
	{
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!d->begun)
	{
		/* lazy begin, as the plugin: a transaction shows only once it has an event */
		memset(&out[n].pm, 0, sizeof(out[n].pm));
		out[n].pm.kind = PM_BEGIN;
		out[n].pm.lsn = d->txn.lsn;
		out[n].pm.commit_time_us = d->txn.commit_time;
		out[n].pm.events = -1;
		out[n].data = NULL;
		out[n].len = 0;
		n++;
		d->begun = true;
	}
	memset(&out[n].pm, 0, sizeof(out[n].pm));
	out[n].pm.kind = PM_EVENT;
	out[n].pm.key = d->env.data + 17; /* {"aggregate_id":" */
	out[n].pm.key_len = 36;
	out[n].pm.events = -1;
	out[n].data = d->env.data;
	out[n].len = d->env.len;
	d->nevents++;
	return n + 1;
}

static int
s_need_txn(const pg_pgoutput *d, char type, char *err, size_t errlen)
{
	if (d->in_txn)
		return 0;
	snprintf(err, errlen, "pgoutput message '%c' outside a transaction (no Begin)", type);
	return -1;
}

int
pg_pgoutput_decode(pg_pgoutput *d, const char *data, size_t len, pg_pgoutput_out out[2],
				   bool *config, char *err, size_t errlen)
{
	rd r = {(const unsigned char *) data, len, 1, false};
	char type;

	*config = false;
	if (len == 0)
	{
		snprintf(err, errlen, "empty pgoutput message");
		return -1;
	}
	type = data[0];
	switch (type)
	{
		case 'B': /* Begin: final LSN, commit time, xid */
		{
			uint64_t lsn = s_get(&r, 8);
			int64_t ts = (int64_t) s_get(&r, 8);
			uint32_t xid = (uint32_t) s_get(&r, 4);

			if (r.bad || r.off != len)
				return s_truncated(err, errlen, type, len);
			if (d->in_txn)
			{
				snprintf(err, errlen, "pgoutput Begin inside a transaction");
				return -1;
			}
			d->in_txn = true;
			d->skip = false;
			d->begun = false;
			d->nevents = 0;
			d->txn.lsn = lsn;
			d->txn.end_lsn = 0;
			d->txn.xid = xid;
			/* PostgreSQL's infinities and anything out of its range: no time (null) */
			d->txn.commit_time = ts == INT64_MIN || ts > INT64_MAX - PG_EPOCH_OFFSET_US
									 ? PG_ENVELOPE_NO_TIME
									 : ts + PG_EPOCH_OFFSET_US;
			buf_reset(&d->source);
			pg_envelope_source(&d->source, &d->txn, &d->opt.fields);
			if (buf_failed(&d->source))
			{
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			return 0;
		}
		case 'C': /* Commit: flags, commit LSN, end LSN, commit time */
		{
			uint64_t lsn, end;

			s_get(&r, 1);
			lsn = s_get(&r, 8);
			end = s_get(&r, 8);
			s_get(&r, 8);
			if (r.bad || r.off != len)
				return s_truncated(err, errlen, type, len);
			if (s_need_txn(d, type, err, errlen) < 0)
				return -1;
			d->in_txn = false;
			if (d->nevents == 0)
				return 0;
			if (lsn != d->txn.lsn)
			{
				snprintf(err, errlen, "pgoutput Commit LSN differs from its Begin's final LSN");
				return -1;
			}
			d->txn.end_lsn = end;
			memset(&out[0].pm, 0, sizeof(out[0].pm));
			out[0].pm.kind = PM_COMMIT;
			out[0].pm.lsn = lsn;
			out[0].pm.end_lsn = end;
			out[0].pm.commit_time_us = d->txn.commit_time;
			out[0].pm.events = d->nevents;
			out[0].data = NULL;
			out[0].len = 0;
			return 1;
		}
		case 'O': /* Origin: the transaction was replicated in from elsewhere */
			s_get(&r, 8);
			s_get_str(&r);
			if (r.bad || r.off != len)
				return s_truncated(err, errlen, type, len);
			if (s_need_txn(d, type, err, errlen) < 0)
				return -1;
			if (!d->opt.any_origin)
				d->skip = true;
			return 0;
		case 'R':
			return s_relation(d, &r, config, err, errlen);
		case 'Y': /* Type: only for non-built-in types, which the envelope does not use */
			s_get(&r, 4);
			s_get_str(&r);
			s_get_str(&r);
			if (r.bad || r.off != len)
				return s_truncated(err, errlen, type, len);
			return 0;
		case 'I':
		{
			uint32_t relid = (uint32_t) s_get(&r, 4);
			bool found;

			if (r.bad)
				return s_truncated(err, errlen, type, len);
			if (s_need_txn(d, type, err, errlen) < 0)
				return -1;
			if (relid != 0 && relid == d->events_relid)
				return s_insert_event(d, &r, out, err, errlen);
			s_other_find(d, relid, &found);
			if (!found)
			{
				snprintf(err, errlen, "pgoutput Insert into relation OID %u before its Relation",
						 (unsigned int) relid);
				return -1;
			}
			return 0;
		}
		case 'U': /* Update, Delete, Truncate: never events (skipped after the relation id) */
		case 'D':
		case 'T':
			s_get(&r, 4);
			if (r.bad)
				return s_truncated(err, errlen, type, len);
			return s_need_txn(d, type, err, errlen);
		case 'M': /* logical decoding message (only sent with the option messages) */
			return 0;
		case 'S':
		case 'E':
		case 'c':
		case 'A':
			snprintf(err, errlen,
					 "pgoutput sent a streamed transaction ('%c'), but streaming is not enabled",
					 type);
			return -1;
		default:
			snprintf(err, errlen, "unknown pgoutput message type 0x%02x",
					 (unsigned int) (unsigned char) type);
			return -1;
	}
}

/* --- options ------------------------------------------------------------------------ */

int
pg_pgoutput_envelope_option(pg_envelope_fields *fields, const char *name, const char *value,
							char *err, size_t errlen)
{
	static const char *const names[] = {"include-source", "include-database", "include-lsn",
										"include-xids", "include-timestamp"};
	static const char *const yes[] = {"on", "true", "yes", "1"};
	static const char *const no[] = {"off", "false", "no", "0"};
	int which = -1, v = -1;

	for (int i = 0; i < 5; i++)
		if (strcmp(name, names[i]) == 0)
			which = i;
	if (which < 0)
		return 0;
	if (fields == NULL)
		return 1;
	for (int i = 0; i < 4; i++)
	{
		if (strcasecmp(value, yes[i]) == 0)
			v = 1;
		if (strcasecmp(value, no[i]) == 0)
			v = 0;
	}
	if (v < 0)
	{
		snprintf(err, errlen, "invalid --plugin-option %s=%s: use on or off", name, value);
		return -1;
	}
	if (which == 0)
		fields->source = v;
	else if (which == 1)
		fields->database = v;
	else if (which == 2)
		fields->lsn = v;
	else if (which == 3)
		fields->xid = v;
	else
		fields->commit_time = v;
	return 1;
}

/* --- life cycle ---------------------------------------------------------------------- */

pg_pgoutput *
pg_pgoutput_new(const pg_pgoutput_options *opt, char *err, size_t errlen)
{
	pg_pgoutput *d = calloc(1, sizeof(*d));

	if (d == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->opt = *opt;
	d->opt.aggregate_types = d->opt.event_types = NULL;
	if (s_names_parse(&d->agg_types, "aggregate-types", opt->aggregate_types, err, errlen) < 0 ||
		s_names_parse(&d->event_types, "event-types", opt->event_types, err, errlen) < 0)
	{
		pg_pgoutput_free(d);
		return NULL;
	}
	return d;
}

int
pg_pgoutput_set_database(pg_pgoutput *d, const char *name)
{
	char *copy = strdup(name ? name : "");

	if (copy == NULL)
		return -1;
	free(d->database);
	d->database = copy;
	d->txn.database = copy;
	return 0;
}

void
pg_pgoutput_reset(pg_pgoutput *d)
{
	d->in_txn = false;
	d->skip = false;
	d->begun = false;
	d->nevents = 0;
}

void
pg_pgoutput_free(pg_pgoutput *d)
{
	if (d == NULL)
		return;
	s_names_free(&d->agg_types);
	s_names_free(&d->event_types);
	free(d->database);
	free(d->others);
	free(d->vals);
	free(d->lens);
	buf_free(&d->env);
	buf_free(&d->source);
	free(d);
}
