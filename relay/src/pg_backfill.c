/*
 * pg_backfill.c
 *		The backfill and the slot-loss repair: rows of eventstore.events
 *		through the sinks beside the live stream, resumable (see
 *		pg_backfill.h, docs/backfill.md).
 */
#include "pg_backfill.h"
#include "buf.h"
#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "pg_envelope.h"
#include "pg_message.h"
#include "pg_repair.h"
#include "pg_sql.h"
#include "stop.h"

#include <poll.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAGE_ROWS		   1000 /* rows per FETCH and per sink position */
#define PAGE_ROWS_TEXT	   "1000"
#define GAP_SPARE		   100000 /* positions reserved beyond 4 per counted page */
#define PROGRESS_MS		   5000
#define INFLIGHT		   64 /* pages handed out, not yet acknowledged */
#define XID_WIDEN_LIMIT	   (1ULL << 31)
#define RESUME_WAIT_LOG_MS 10000
#define REOPEN_MS		   1000 /* a failed rows connection is opened again this often */
#define ROOM_MS			   20	/* a full pipeline is looked at again this often */
#define SAVE_MS			   1000 /* the acknowledged row is recorded at least this often */
#define POS_BLOCK		   64	/* task positions reserved in the state file at a time */
/* seq of rows put into a position of the stream: apart from the stream's own events */
#define INJECT_SEQ 0x80000000u
#define NIL_UUID   "00000000-0000-0000-0000-000000000000"

/* An aggregate the stream reached before the cursor passed it: the cursor leaves it out. */
typedef struct agg_entry
{
	char agg[40];
	uint64_t live_pos; /* its rows were put into this position of the stream (0: none) */
} agg_entry;

typedef struct page_mark
{
	uint64_t pos;
	char agg[40];
	long long version;
	unsigned long long events; /* task events once this page is acknowledged */
	/*
	 * Rows it left out were put into this position of the stream: the
	 * acknowledged row passes them once the state file has the stream
	 * confirmed past it, else a restart would lose them.
	 */
	uint64_t needs;
} page_mark;

struct pg_backfill
{
	const relay_config *cfg;
	sink_set *live; /* the relay's sinks: the stream's positions */
	sink_set sinks; /* the task's own: positions below the consistent point */
	deadletter *dl;
	pg_state *state;
	pg_sql *sql;
	uint64_t gap; /* positions reserved by before_create */
	int exit_code;
	pg_envelope_fields fields;

	/* the task beside the stream */
	bool running;		 /* from its start to its last acknowledged page */
	bool open;			 /* its transaction and cursor are open on sql */
	bool exhausted;		 /* the cursor returned its last row */
	int64_t reopen_at;	 /* when to open again after the connection failed */
	char database[256];	 /* of the rows' envelopes */
	char next_xid[32];	 /* the snapshot's xmax, for the repair's xmin widening */
	char horizon[32];	 /* the repair's horizon, as text */
	buf sel;			 /* the task's rows after a key ($1..$8) */
	buf one;			 /* the same for one aggregate ($9), a page at a time */
	char handed_agg[40]; /* the last row handed to the task's sinks */
	long long handed_version;
	void *aggs; /* tsearch tree of agg_entry */
	unsigned long long jumped_events;
	unsigned long long jumped_aggs, jumped_in_flight; /* aggregates; some rows also in flight */
	uint64_t inject_pos; /* the stream's position rows were last put into */
	uint32_t inject_seq;
	buf env;
	int64_t saved_ms; /* the state file last written */

	/* the task's positions: from a block reserved in the state file */
	uint64_t pos_next, pos_reserved;

	page_mark marks[INFLIGHT];
	int head, count;
	unsigned long long handed; /* events handed to the task's sinks (task total) */
	int64_t started_ms, last_progress_ms;
	unsigned long long started_events; /* events out when it (re)opened: for the rate logged */
	unsigned long long started_handed; /* handed then: for --backfill-rate */
};

static bool
s_opt_off(const relay_config *cfg, const char *name)
{
	int i;
	bool off = false;

	for (i = 0; i < cfg->n_plugin_opts; i++)
		if (strcmp(cfg->plugin_opts[i].key, name) == 0)
		{
			const char *v = cfg->plugin_opts[i].value;

			off = strcmp(v, "off") == 0 || strcmp(v, "false") == 0 || strcmp(v, "0") == 0 ||
				  strcmp(v, "no") == 0;
		}
	return off;
}

pg_backfill *
pg_backfill_new(const relay_config *cfg, sink_set *live, deadletter *dl, pg_state *state)
{
	pg_backfill *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->cfg = cfg;
	b->live = live;
	b->dl = dl;
	b->state = state;
	/* the plugin's include-* options shape the envelope: the same here */
	b->fields.source = !s_opt_off(cfg, "include-source");
	b->fields.database = !s_opt_off(cfg, "include-database");
	b->fields.lsn = !s_opt_off(cfg, "include-lsn");
	b->fields.xid = !s_opt_off(cfg, "include-xids");
	b->fields.commit_time = !s_opt_off(cfg, "include-timestamp");
	return b;
}

static void
s_forget_aggs(pg_backfill *b)
{
	tdestroy(b->aggs, free);
	b->aggs = NULL;
	b->jumped_events = b->jumped_aggs = b->jumped_in_flight = 0;
}

void
pg_backfill_free(pg_backfill *b)
{
	if (b == NULL)
		return;
	pg_sql_close(b->sql);
	sink_set_free(&b->sinks);
	s_forget_aggs(b);
	buf_free(&b->sel);
	buf_free(&b->one);
	buf_free(&b->env);
	free(b);
}

void
pg_backfill_set_identity(pg_backfill *b, const char *identity)
{
	snprintf(b->state->identity, sizeof(b->state->identity), "%s", identity);
}

int
pg_backfill_exit_code(const pg_backfill *b)
{
	return b->exit_code;
}

static int
s_connect(pg_backfill *b, char *err, size_t errlen)
{
	if (b->sql && !pg_sql_ok(b->sql))
	{
		pg_sql_close(b->sql);
		b->sql = NULL;
	}
	if (b->sql == NULL)
		b->sql = pg_sql_connect(b->cfg, "eventrelay", err, errlen);
	return b->sql ? 0 : -1;
}

/* One value of a one-row query; -1 with err.  out gets the text ("" for NULL). */
static int
s_value(pg_backfill *b, const char *sql, int n, const char *const *params, char *out, size_t outlen,
		char *err, size_t errlen)
{
	pg_sql_result *r = pg_sql_query(b->sql, sql, n, params, err, errlen);
	const char *v;

	if (r == NULL)
		return -1;
	v = pg_sql_rows(r) > 0 ? pg_sql_value(r, 0, 0, NULL) : NULL;
	snprintf(out, outlen, "%s", v ? v : "");
	pg_sql_free(r);
	return 0;
}

static int
s_save(pg_backfill *b, char *err, size_t errlen)
{
	return pg_state_save(b->cfg->state_file, b->cfg->slot, b->state, err, errlen);
}

/* Does a task start now: a backfill of a new slot, or a repair of a replaced one? */
static bool
s_task_wanted(const pg_backfill *b, bool recreate)
{
	return recreate ? b->cfg->repair_slot : b->cfg->backfill;
}

/* What no retry fixes: a role that may not read the table, a missing table. */
static int
s_fail_kind(pg_fail *fail, char *err, size_t errlen)
{
	if (*fail == PGF_RETRY && strstr(err, "does not exist"))
		*fail = PGF_CONFIG;
	else if (*fail == PGF_RETRY && strstr(err, "permission denied"))
	{
		char tmp[512];

		*fail = PGF_CONFIG;
		snprintf(tmp, sizeof(tmp), "%s", err);
		snprintf(err, errlen,
				 "the backfill/repair cannot read eventstore.events (grant the role "
				 "eventstore_relay): %s",
				 tmp);
	}
	return -1;
}

int
pg_backfill_before_create(void *ctx, bool recreate, pg_fail *fail, char *err, size_t errlen)
{
	pg_backfill *b = ctx;
	char v[64], gap[32];
	const char *params[1];
	unsigned long long rows;

	*fail = PGF_RETRY;
	b->gap = 0;
	if (!s_task_wanted(b, recreate))
		return 0;
	if (s_connect(b, err, errlen) < 0)
		return s_fail_kind(fail, err, errlen);
	if (s_value(b, "SELECT count(*) FROM eventstore.events", 0, NULL, v, sizeof(v), err, errlen) <
		0)
		return s_fail_kind(fail, err, errlen);
	rows = strtoull(v, NULL, 10);
	/*
	 * Reserve sink positions: a message of gap bytes is written to WAL
	 * before the slot is created, so [consistent point - gap, consistent
	 * point) holds no position any sink ever had (every commit before it
	 * ends before the message) and none the slot will stream (all after).
	 */
	b->gap = 4 * (rows / PAGE_ROWS + 1) + GAP_SPARE;
	if (!recreate)
	{
		/* a crash before the task is recorded must not stream the new slot without it */
		memset(&b->state->task, 0, sizeof(b->state->task));
		snprintf(b->state->task.kind, sizeof(b->state->task.kind), "backfill");
		if (s_save(b, err, errlen) < 0)
		{
			b->exit_code = 1;
			return -1;
		}
	}
	snprintf(gap, sizeof(gap), "%llu", (unsigned long long) b->gap);
	params[0] = gap;
	if (s_value(b,
				"SELECT pg_catalog.pg_logical_emit_message(false, 'eventrelay', "
				"pg_catalog.repeat(' ', $1::int))::text",
				1, params, v, sizeof(v), err, errlen) < 0)
		return s_fail_kind(fail, err, errlen);
	return 0;
}

/* ---- the task's sinks ------------------------------------------------- */

static void
s_mark_acked(pg_backfill *b)
{
	uint64_t acked = sink_set_acked(&b->sinks);
	pg_state_task *t = &b->state->task;

	while (b->count > 0 && b->marks[b->head].pos <= acked &&
		   (b->marks[b->head].needs == 0 || b->marks[b->head].needs < b->state->lsn))
	{
		page_mark *m = &b->marks[b->head];

		snprintf(t->key_agg, sizeof(t->key_agg), "%s", m->agg);
		t->key_version = m->version;
		t->events = m->events;
		b->head = (b->head + 1) % INFLIGHT;
		b->count--;
	}
	metrics.table_events = t->events + b->jumped_events;
}

static void
s_progress(pg_backfill *b, bool force)
{
	int64_t now = relay_now_ms();
	pg_state_task *t = &b->state->task;
	char done[32], total[32], rate[32], pct[16], jumped[32];
	unsigned long long events = t->events + b->jumped_events;
	double secs;

	if (!force && now < b->last_progress_ms + PROGRESS_MS)
		return;
	b->last_progress_ms = now;
	secs = (double) (now - b->started_ms) / 1000.0;
	snprintf(done, sizeof(done), "%llu", events);
	snprintf(total, sizeof(total), "%llu", t->expected);
	snprintf(jumped, sizeof(jumped), "%llu", b->jumped_events);
	snprintf(rate, sizeof(rate), "%.0f",
			 secs > 0 ? (double) (events - b->started_events) / secs : 0.0);
	snprintf(pct, sizeof(pct), "%.1f",
			 t->expected && events < t->expected ? 100.0 * (double) events / (double) t->expected
												 : 100.0);
	log_kv(LOG_INFO, strcmp(t->kind, "repair") == 0 ? "repair progress" : "backfill progress",
		   "events", done, "expected", total, "percent", pct, "events_per_second", rate,
		   "for_the_stream", jumped, NULL);
}

static int
s_sink_fail(pg_backfill *b, bool fatal)
{
	b->exit_code = fatal ? EXIT_CONFIG : 1;
	return -1;
}

/* Let the task's sinks work for up to wait_ms (and answer metrics scrapes); -1 on a sink failure.
 */
static int
s_pump(pg_backfill *b, int wait_ms, char *err, size_t errlen)
{
	bool fatal = false;
	int64_t now = relay_now_ms(), due;
	struct pollfd pfd;
	int timeout = wait_ms;

	if (sink_set_poll(&b->sinks, now, true, err, errlen, &fatal) < 0)
		return s_sink_fail(b, fatal);
	s_mark_acked(b);
	s_progress(b, false);
	if (wait_ms <= 0)
		return 0;
	due = sink_set_next_due(&b->sinks);
	if (due != INT64_MAX && due - now < timeout)
		timeout = due <= now ? 0 : (int) (due - now);
	pfd.fd = metrics_serve_fd();
	pfd.events = POLLIN;
	if (poll(&pfd, pfd.fd >= 0 ? 1 : 0, timeout) > 0 && (pfd.revents & POLLIN))
		metrics_serve_handle();
	return 0;
}

static int
s_open_sinks(pg_backfill *b, char *err, size_t errlen)
{
	if (b->sinks.n > 0)
		return 0;
	for (int i = 0; i < b->cfg->n_sinks; i++)
	{
		sink *s = sink_open(b->cfg->sinks[i], b->cfg, b->dl, err, errlen);

		if (s == NULL)
		{
			sink_set_free(&b->sinks);
			b->exit_code = EXIT_CONFIG;
			return -1;
		}
		b->sinks.s[b->sinks.n++] = s;
	}
	return 0;
}

/* ---- the rows ---------------------------------------------------------- */

/* e.aggregate_type/type in a comma-separated list ($n), as the plugin splits it. */
static void
s_list_filter(buf *q, const char *col, int n)
{
	buf_printf(q,
			   " AND ($%d::text IS NULL OR %s = ANY (SELECT pg_catalog.btrim(x, E' \\t') FROM "
			   "pg_catalog.unnest(pg_catalog.string_to_array($%d::text, ',')) x))",
			   n, col, n);
}

/*
 * The task's rows after the row ($1, $2), in (aggregate_id, version)
 * order: $3 --aggregate-types, $4 --backfill-aggregate-types, $5
 * --event-types, $6 --backfill-since, $7/$8 the repair's horizon and next
 * xid (pg_repair.h).  one: only aggregate $9, a page at a time (the rows
 * of one aggregate the stream is about to need, by its primary key).
 */
static void
s_rows_sql(buf *q, bool repair, bool since, bool commit_ts, bool one)
{
	buf_printf(
		q, "SELECT aggregate_id::text, aggregate_type, "
		   "version::text, event_id::text, type, data::text, metadata::text, recorded_at::text, "
		   "x::text, CASE WHEN pg_catalog.isfinite(t) THEN (EXTRACT(epoch FROM t) * "
		   "1000000)::int8::text END FROM (SELECT e.*, e.xmin AS x, ");
	if (commit_ts)
		buf_printf(q, "COALESCE(pg_catalog.pg_xact_commit_timestamp(e.xmin), e.recorded_at) AS t");
	else
		buf_printf(q, "e.recorded_at AS t");
	if (since)
		buf_printf(q, ", bool_or(e.recorded_at >= $6::timestamptz) OVER (PARTITION BY "
					  "e.aggregate_id ORDER BY e.version) AS started");
	buf_printf(q, " FROM eventstore.events e");
	if (repair)
	{
		buf f = BUF_INIT;

		s_list_filter(&f, "f.aggregate_type", 3);
		if (one)
			buf_printf(&f, " AND f.aggregate_id = $9::uuid");
		pg_repair_rows_sql(q, f.data ? f.data : "");
		buf_free(&f);
	}
	buf_printf(q, " WHERE (e.aggregate_id, e.version) > ($1::uuid, $2::bigint)");
	if (one)
		buf_printf(q, " AND e.aggregate_id = $9::uuid");
	s_list_filter(q, "e.aggregate_type", 3);
	s_list_filter(q, "e.aggregate_type", 4);
	s_list_filter(q, "e.type", 5);
	if (!since)
		buf_printf(q, " AND $6::text IS NULL");
	if (!repair)
		buf_printf(q, " AND $7::text IS NULL AND $8::text IS NULL");
	buf_printf(q, " ORDER BY e.aggregate_id, e.version) r");
	/* the aggregate of the key ($1) was started: some of its rows went out */
	if (since)
		buf_printf(q, " WHERE r.started OR r.aggregate_id = $1::uuid");
	/* r.: the bare names would be the text columns of the select list */
	buf_printf(q, " ORDER BY r.aggregate_id, r.version");
	if (one)
		buf_printf(q, " LIMIT " PAGE_ROWS_TEXT);
}

/* The parameters of s_rows_sql after (agg, version), version in ver[32]. */
static void
s_params(pg_backfill *b, const char *params[9], const char *agg, long long version, char ver[32],
		 const char *one)
{
	bool repair = strcmp(b->state->task.kind, "repair") == 0;

	snprintf(ver, 32, "%lld", version);
	params[0] = agg && agg[0] ? agg : NIL_UUID;
	params[1] = ver;
	params[2] = b->cfg->aggregate_types;
	params[3] = b->cfg->backfill_aggregate_types;
	params[4] = b->cfg->event_types;
	params[5] = !repair ? b->cfg->backfill_since : NULL;
	params[6] = repair ? b->horizon : NULL;
	params[7] = repair ? b->next_xid : NULL;
	params[8] = one;
}

/*
 * The rows' transaction stays open, idle between pages, as long as the
 * task runs: a server-wide idle_in_transaction_session_timeout would end
 * it (the task would resume, but in a new snapshot, with duplicates).
 */
static int
s_keep_open(pg_backfill *b, char *err, size_t errlen)
{
	return pg_sql_exec(b->sql, "SET LOCAL idle_in_transaction_session_timeout = 0", err, errlen);
}

/*
 * Open the transaction the rows are read in: the exported snapshot, or
 * after a crash a fresh one whose xmin reached the exported snapshot's
 * xmax (then it sees every transaction the exported one saw as committed).
 */
static int
s_begin(pg_backfill *b, const char *snapshot, char *err, size_t errlen)
{
	pg_state_task *t = &b->state->task;
	char v[64], xmax[32];
	const char *params[1];
	int64_t first = relay_now_ms(), logged = 0;

	if (snapshot)
	{
		buf q = BUF_INIT;
		int rc;

		buf_printf(&q, "SET TRANSACTION SNAPSHOT '%s'", snapshot);
		rc = pg_sql_exec(b->sql, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err, errlen) <
						 0 ||
					 pg_sql_exec(b->sql, q.data, err, errlen) < 0 || s_keep_open(b, err, errlen) < 0
				 ? -1
				 : 0;
		buf_free(&q);
		return rc;
	}
	snprintf(xmax, sizeof(xmax), "%llu", (unsigned long long) t->snap_xmax);
	params[0] = xmax;
	for (;;)
	{
		if (pg_sql_exec(b->sql, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err, errlen) <
				0 ||
			s_value(b,
					"SELECT pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot()) >= "
					"$1::text::xid8",
					1, params, v, sizeof(v), err, errlen) < 0)
			return -1;
		if (strcmp(v, "t") == 0)
			return s_keep_open(b, err, errlen);
		if (pg_sql_exec(b->sql, "ROLLBACK", err, errlen) < 0)
			return -1;
		if (relay_now_ms() - first > RESUME_WAIT_LOG_MS && logged == 0)
		{
			log_kv(LOG_WARN,
				   "resuming waits for transactions older than the slot to end (xmin horizon)",
				   "snapshot_xmax", xmax, NULL);
			logged = 1;
		}
		if (relay_stop_requested)
		{
			snprintf(err, errlen, "stopped");
			return -1;
		}
		if (s_pump(b, 200, err, errlen) < 0)
			return -1;
	}
}

/*
 * Row i of r as an event of position pos in sinks, those of them `which`
 * says (seq, commit_time: what the position's other events have).  -1
 * with err and exit_code.
 */
static int
s_put_row(pg_backfill *b, sink_set *sinks, sink_which which, pg_sql_result *r, int i, uint64_t pos,
		  uint32_t seq, time_t commit_time, char *err, size_t errlen)
{
	pg_state_task *t = &b->state->task;
	pg_envelope_row row;
	pg_envelope_txn txn;
	relay_event ev;
	const char *x = pg_sql_value(r, i, 8, NULL);
	const char *ct = pg_sql_value(r, i, 9, NULL);
	bool fatal = false;

	for (int c = 0; c < PGE_NCOLUMNS; c++)
	{
		row.val[c] = pg_sql_value(r, i, c, &row.len[c]);
		if (row.val[c] == NULL)
		{
			snprintf(err, errlen, "eventstore.events has a NULL %s", pg_envelope_column_names[c]);
			b->exit_code = 1;
			return -1;
		}
	}
	txn.database = b->database;
	txn.lsn = t->slot_lsn;
	txn.end_lsn = t->slot_lsn;
	txn.xid = x ? (uint32_t) strtoul(x, NULL, 10) : 0;
	txn.commit_time = ct ? strtoll(ct, NULL, 10) : PG_ENVELOPE_NO_TIME;
	buf_reset(&b->env);
	if (pg_envelope_event(&b->env, &row, &txn, &b->fields, err, errlen) < 0 || buf_failed(&b->env))
	{
		if (buf_failed(&b->env))
			snprintf(err, errlen, "out of memory");
		b->exit_code = 1;
		return -1;
	}
	ev.data = b->env.data;
	ev.len = b->env.len;
	ev.key = row.val[PGE_AGGREGATE_ID];
	ev.key_len = row.len[PGE_AGGREGATE_ID];
	ev.pos = pos;
	ev.seq = seq;
	ev.commit_time = commit_time;
	if (sink_set_put_to(sinks, which, &ev, err, errlen, &fatal) < 0)
		return s_sink_fail(b, fatal);
	return 0;
}

static int
s_agg_cmp(const void *a, const void *b)
{
	return strcmp(((const agg_entry *) a)->agg, ((const agg_entry *) b)->agg);
}

static agg_entry *
s_agg_find(pg_backfill *b, const char *agg)
{
	agg_entry k;
	void *node;

	if (b->aggs == NULL)
		return NULL;
	snprintf(k.agg, sizeof(k.agg), "%s", agg);
	node = tfind(&k, &b->aggs, s_agg_cmp);
	return node ? *(agg_entry **) node : NULL;
}

/* Record agg (see agg_entry); -1 with err when out of memory. */
static int
s_agg_set(pg_backfill *b, const char *agg, uint64_t live_pos, char *err, size_t errlen)
{
	agg_entry *e = calloc(1, sizeof(*e));
	void *node;

	if (e)
		snprintf(e->agg, sizeof(e->agg), "%s", agg);
	node = e ? tsearch(e, &b->aggs, s_agg_cmp) : NULL;
	if (node == NULL)
	{
		free(e);
		snprintf(err, errlen, "out of memory");
		b->exit_code = 1;
		return -1;
	}
	if (*(agg_entry **) node != e)
		free(e); /* was there */
	(*(agg_entry **) node)->live_pos = live_pos;
	return 0;
}

/* A position of the task's sinks, from the block the state file reserved. */
static int
s_take_pos(pg_backfill *b, uint64_t *pos, char *err, size_t errlen)
{
	pg_state_task *t = &b->state->task;

	if (b->pos_next >= b->pos_reserved)
	{
		uint64_t end = b->pos_next + POS_BLOCK;

		if (b->pos_next >= t->end_pos)
		{
			snprintf(err, errlen,
					 "the %s used every sink position reserved below the slot's consistent "
					 "point; drop the slot and start it again",
					 t->kind);
			b->exit_code = 1;
			return -1;
		}
		if (end > t->end_pos)
			end = t->end_pos;
		/* durable before use: a restart never hands out a position twice */
		s_mark_acked(b);
		t->next_pos = end;
		if (s_save(b, err, errlen) < 0)
		{
			b->exit_code = 1;
			return -1;
		}
		b->saved_ms = relay_now_ms();
		b->pos_reserved = end;
	}
	*pos = b->pos_next++;
	return 0;
}

/*
 * Hand one fetched page to the task's sinks as position pos.  The rows of
 * aggregates the stream reached first (its sinks by arrival have them
 * already) go only to the sinks ordered by position (the archive: there
 * the task's objects sort first).
 */
static int
s_put_page(pg_backfill *b, pg_sql_result *r, uint64_t pos, char *err, size_t errlen)
{
	pg_state_task *t = &b->state->task;
	int n = pg_sql_rows(r), put = 0;
	uint32_t seq = 0;
	bool fatal = false, by_position = sink_set_has(&b->sinks, SINKS_BY_POSITION);
	uint64_t needs = 0;
	page_mark *m;

	for (int i = 0; i < n; i++)
	{
		agg_entry *e = s_agg_find(b, pg_sql_value(r, i, PGE_AGGREGATE_ID, NULL));

		if (e && e->live_pos > needs)
			needs = e->live_pos;
		if (e && !by_position)
			continue;
		/* archive partition: the task's start, so the task's objects sort before the stream's */
		if (s_put_row(b, &b->sinks, e ? SINKS_BY_POSITION : SINKS_ALL, r, i, pos, seq++,
					  (time_t) t->time, err, errlen) < 0)
			return -1;
		if (e == NULL)
			put++;
	}
	if (sink_set_commit(&b->sinks, pos, err, errlen, &fatal) < 0)
		return s_sink_fail(b, fatal);
	b->handed += (unsigned long long) put;
	m = &b->marks[(b->head + b->count) % INFLIGHT];
	m->pos = pos;
	snprintf(m->agg, sizeof(m->agg), "%s", pg_sql_value(r, n - 1, PGE_AGGREGATE_ID, NULL));
	m->version = strtoll(pg_sql_value(r, n - 1, PGE_VERSION, NULL), NULL, 10);
	m->events = b->handed;
	m->needs = needs;
	b->count++;
	snprintf(b->handed_agg, sizeof(b->handed_agg), "%s", m->agg);
	b->handed_version = m->version;
	return 0;
}

/*
 * May a page go out now?  The live stream first: not while its sinks hold
 * more than half their buffer; then --backfill-rate, the task's own
 * back-pressure and the in-flight limit.  *due: when to ask again.
 */
static bool
s_room(pg_backfill *b, int64_t now, int64_t *due)
{
	*due = now + ROOM_MS;
	if (b->cfg->backfill_rate > 0)
	{
		int64_t at = b->started_ms + (int64_t) ((double) (b->handed - b->started_handed) * 1000.0 /
												b->cfg->backfill_rate);

		if (at > now)
		{
			*due = at;
			return false;
		}
	}
	if (b->count >= INFLIGHT || sink_set_pending_bytes(&b->sinks) >= b->cfg->max_buffer_bytes ||
		sink_set_pending_bytes(b->live) >= b->cfg->max_buffer_bytes / 2)
		return false;
	*due = now;
	return true;
}

/* The rows connection failed: the stream waits for it (pg_backfill_gate) until it is back. */
static void
s_rows_lost(pg_backfill *b, const char *err)
{
	log_kv(LOG_WARN,
		   strcmp(b->state->task.kind, "repair") == 0
			   ? "the repair lost its connection; resuming after the last acknowledged row"
			   : "the backfill lost its connection; resuming after the last acknowledged row",
		   "detail", err, NULL);
	b->open = false;
	b->reopen_at = relay_now_ms() + REOPEN_MS;
	if (b->sql && pg_sql_ok(b->sql))
	{
		char e2[256];

		pg_sql_exec(b->sql, "ROLLBACK", e2, sizeof(e2)); /* a failed statement aborted it */
	}
	else if (b->sql)
	{
		pg_sql_close(b->sql);
		b->sql = NULL;
	}
}

/*
 * Open the task's rows on the plain connection: in the exported snapshot
 * (a task just started) or in a fresh one (resumed), after the last
 * acknowledged row.  The transaction stays open while the stream runs.
 */
static int
s_open_rows(pg_backfill *b, const char *snapshot, char *err, size_t errlen)
{
	pg_state_task *t = &b->state->task;
	bool repair = strcmp(t->kind, "repair") == 0;
	bool since = !repair && b->cfg->backfill_since;
	char commit_ts[16], ver[32];
	const char *params[9];
	buf q = BUF_INIT;
	pg_sql_result *r;
	int rc = -1;

	b->open = b->exhausted = false;
	if (s_connect(b, err, errlen) < 0)
		return -1;
	b->head = b->count = 0;
	b->handed = t->events;
	b->started_ms = b->last_progress_ms = relay_now_ms();
	b->started_events = t->events + b->jumped_events;
	b->started_handed = b->handed;
	snprintf(b->handed_agg, sizeof(b->handed_agg), "%s", t->key_agg);
	b->handed_version = t->key_version;
	/* a new task, or a restart: positions from the state file's next block on */
	if (b->pos_reserved != t->next_pos)
		b->pos_next = b->pos_reserved = t->next_pos;
	b->saved_ms = relay_now_ms();
	metrics.table_task = repair ? 2 : 1;
	metrics.table_expected = t->expected;
	metrics.table_events = t->events + b->jumped_events;
	if (s_begin(b, snapshot, err, errlen) < 0 ||
		s_value(b, "SELECT pg_catalog.current_database()", 0, NULL, b->database,
				sizeof(b->database), err, errlen) < 0 ||
		s_value(b, "SELECT pg_catalog.current_setting('track_commit_timestamp')", 0, NULL,
				commit_ts, sizeof(commit_ts), err, errlen) < 0 ||
		s_value(b, "SELECT pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot())::text", 0,
				NULL, b->next_xid, sizeof(b->next_xid), err, errlen) < 0)
		goto done;
	if (repair && t->horizon && strtoull(b->next_xid, NULL, 10) - t->horizon >= XID_WIDEN_LIMIT)
	{
		snprintf(err, errlen,
				 "the state file's xmin horizon %llu is more than 2^31 transactions old: the "
				 "repair cannot tell rows apart by xmin; backfill instead (--backfill with a "
				 "new slot)",
				 (unsigned long long) t->horizon);
		b->exit_code = EXIT_SLOT;
		goto done;
	}
	snprintf(b->horizon, sizeof(b->horizon), "%llu", (unsigned long long) t->horizon);
	buf_reset(&b->sel);
	buf_reset(&b->one);
	s_rows_sql(&b->sel, repair, since, strcmp(commit_ts, "on") == 0, false);
	s_rows_sql(&b->one, repair, since, strcmp(commit_ts, "on") == 0, true);
	if (buf_failed(&b->sel) || buf_failed(&b->one))
	{
		snprintf(err, errlen, "out of memory");
		b->exit_code = 1;
		goto done;
	}
	s_params(b, params, t->key_agg, t->key_version, ver, NULL);
	if (t->expected == 0 && t->events == 0)
	{
		/* count once, for progress: the same rows through the same query */
		buf_printf(&q, "SELECT count(*) FROM (%s) c", b->sel.data);
		r = pg_sql_query(b->sql, q.data, 8, params, err, errlen);
		if (r == NULL)
			goto done;
		t->expected = strtoull(pg_sql_value(r, 0, 0, NULL), NULL, 10);
		pg_sql_free(r);
		metrics.table_expected = t->expected;
	}
	buf_reset(&q);
	buf_printf(&q, "DECLARE eventrelay_rows NO SCROLL CURSOR FOR %s", b->sel.data);
	r = pg_sql_query(b->sql, q.data, 8, params, err, errlen);
	if (r == NULL)
		goto done;
	pg_sql_free(r);
	b->open = true;
	rc = 0;
	s_progress(b, true);
done:
	if (rc < 0 && b->sql && pg_sql_ok(b->sql))
	{
		char e2[256];

		pg_sql_exec(b->sql, "ROLLBACK", e2, sizeof(e2));
	}
	buf_free(&q);
	return rc;
}

/* One page of the cursor to the task's sinks, if there is room. */
static int
s_next_page(pg_backfill *b, int64_t now, char *err, size_t errlen)
{
	pg_sql_result *r;
	uint64_t pos;
	int64_t due;
	int n;

	if (!b->open || b->exhausted || !s_room(b, now, &due))
		return 0;
	r = pg_sql_query(b->sql, "FETCH FORWARD " PAGE_ROWS_TEXT " FROM eventrelay_rows", 0, NULL, err,
					 errlen);
	if (r == NULL)
	{
		s_rows_lost(b, err);
		return 0;
	}
	n = pg_sql_rows(r);
	if (n == 0)
	{
		pg_sql_free(r);
		b->exhausted = true;
		return 0;
	}
	n = s_take_pos(b, &pos, err, errlen) < 0 ? -1 : s_put_page(b, r, pos, err, errlen);
	pg_sql_free(r);
	return n;
}

/* Every row is acknowledged: the task is done, the stream alone goes on. */
static int
s_finish(pg_backfill *b, char *err, size_t errlen)
{
	pg_state_task *t = &b->state->task;
	bool repair = strcmp(t->kind, "repair") == 0;
	char n[32], j[32], a[32], f[32], e2[256];

	if (b->sql && pg_sql_ok(b->sql))
		pg_sql_exec(b->sql, "COMMIT", e2, sizeof(e2)); /* the snapshot is no longer needed */
	s_progress(b, true);
	snprintf(n, sizeof(n), "%llu", t->events + b->jumped_events);
	snprintf(j, sizeof(j), "%llu", b->jumped_events);
	snprintf(a, sizeof(a), "%llu", b->jumped_aggs);
	snprintf(f, sizeof(f), "%llu", b->jumped_in_flight);
	/* for_the_stream: rows put ahead of the stream's events, of aggregates (some in flight) */
	log_kv(LOG_INFO, repair ? "repair done" : "backfill done", "events", n, "for_the_stream", j,
		   "aggregates", a, "in_flight", f, NULL);
	/* every transaction below the exported snapshot's xmin is now delivered */
	b->state->horizon = t->snap_xmin;
	memset(t, 0, sizeof(*t));
	b->running = b->open = b->exhausted = false;
	s_forget_aggs(b);
	metrics.table_task = 0;
	if (s_save(b, err, errlen) < 0)
	{
		b->exit_code = 1;
		return -1;
	}
	/* everything is acknowledged: nothing is left in them */
	sink_set_free(&b->sinks);
	return 0;
}

int
pg_backfill_step(pg_backfill *b, int64_t now, char *err, size_t errlen)
{
	if (!b->running)
		return 0;
	if (!b->open && !b->exhausted && now >= b->reopen_at)
	{
		if (s_open_rows(b, NULL, err, errlen) < 0)
		{
			if (b->exit_code)
				return -1;
			s_rows_lost(b, err);
		}
	}
	if (s_pump(b, 0, err, errlen) < 0)
		return -1;
	if (b->exhausted)
		return b->count == 0 ? s_finish(b, err, errlen) : 0;
	if (now >= b->saved_ms + SAVE_MS)
	{
		/* how far the task got, for a restart */
		b->saved_ms = now;
		if (s_save(b, err, errlen) < 0)
		{
			b->exit_code = 1;
			return -1;
		}
	}
	return s_next_page(b, now, err, errlen);
}

int64_t
pg_backfill_next_due(pg_backfill *b, int64_t now)
{
	int64_t due, room;

	if (!b->running)
		return INT64_MAX;
	due = sink_set_next_due(&b->sinks);
	if (!b->open && !b->exhausted && b->reopen_at < due)
		due = b->reopen_at;
	if (b->count > 0 && now + ROOM_MS < due)
		due = now + ROOM_MS; /* a page may wait for the stream's confirmation */
	if (b->exhausted && b->count == 0)
		return now;
	if (b->open && !b->exhausted)
	{
		s_room(b, now, &room);
		if (room < due)
			due = room;
	}
	return due;
}

bool
pg_backfill_running(const pg_backfill *b)
{
	return b && b->running;
}

/*
 * The rows of aggregate agg after version `after` (or all of them: at_key
 * false), a page at a time, as events of position pos in sinks.  *n_put:
 * how many.  -1 = the query failed (err), -2 = a sink failed.
 */
static int
s_rows_of(pg_backfill *b, const char *agg, bool started, long long after, sink_set *sinks,
		  uint64_t pos, uint32_t *seq, time_t commit_time, unsigned long long *n_put, char *err,
		  size_t errlen)
{
	const char *params[9];
	char ver[32];

	*n_put = 0;
	for (;;)
	{
		pg_sql_result *r;
		int n;

		/* the key's aggregate counts as started (--backfill-since): some of it went out */
		s_params(b, params, started ? agg : NULL, after, ver, agg);
		r = pg_sql_query(b->sql, b->one.data, 9, params, err, errlen);
		if (r == NULL)
			return -1;
		n = pg_sql_rows(r);
		for (int i = 0; i < n; i++)
			if (s_put_row(b, sinks, SINKS_BY_ARRIVAL, r, i, pos, (*seq)++, commit_time, err,
						  errlen) < 0)
			{
				pg_sql_free(r);
				return -2;
			}
		*n_put += (unsigned long long) n;
		if (n > 0)
			after = strtoll(pg_sql_value(r, n - 1, PGE_VERSION, NULL), NULL, 10);
		pg_sql_free(r);
		if (n < PAGE_ROWS)
			return 0;
		started = true;
	}
}

/* A failed s_rows_of: PG_GATE_WAIT (the connection is reopened) or -1 (what no retry fixes). */
static int
s_rows_failed(pg_backfill *b, int rc, const char *err)
{
	if (rc == -1 && b->sql && !pg_sql_ok(b->sql))
	{
		s_rows_lost(b, err);
		return PG_GATE_WAIT;
	}
	if (rc == -1)
		b->exit_code = 1;
	return -1;
}

/*
 * The aggregate's rows after the acknowledged row go into the stream's
 * position, ahead of ev.  Some of them may also be in flight in the task's
 * sinks: both copies start at the same row and are in order, so whichever
 * arrives first, the first occurrences of its versions stay in order (the
 * other copy is duplicates).
 */
static int
s_jump(pg_backfill *b, const char *agg, const relay_event *ev, char *err, size_t errlen)
{
	pg_state_task *t = &b->state->task;
	bool at_key = strcmp(agg, t->key_agg) == 0;
	unsigned long long n;
	int rc;

	if (ev->pos != b->inject_pos)
	{
		b->inject_pos = ev->pos;
		b->inject_seq = INJECT_SEQ;
	}
	rc = s_rows_of(b, agg, at_key, at_key ? t->key_version : 0, b->live, ev->pos, &b->inject_seq,
				   ev->commit_time, &n, err, errlen);
	if (rc < 0)
		return s_rows_failed(b, rc, err);
	b->jumped_events += n;
	b->jumped_aggs++;
	if (b->count > 0 && strcmp(agg, b->handed_agg) <= 0)
		b->jumped_in_flight++;
	metrics.table_events = t->events + b->jumped_events;
	return s_agg_set(b, agg, n > 0 ? ev->pos : 0, err, errlen) < 0 ? -1 : PG_GATE_LIVE;
}

int
pg_backfill_gate(pg_backfill *b, const relay_event *ev, char *err, size_t errlen)
{
	pg_state_task *t = &b->state->task;
	char agg[40];

	/* a sink ordered by position (the archive) needs nothing: the task's objects sort first */
	if (!b->running || !sink_set_has(b->live, SINKS_BY_ARRIVAL) || ev->key_len == 0 ||
		ev->key_len >= sizeof(agg))
		return PG_GATE_LIVE;
	memcpy(agg, ev->key, ev->key_len);
	agg[ev->key_len] = '\0';
	/* the task's sinks acknowledged all its rows, or they went ahead of the stream */
	if ((t->key_agg[0] && strcmp(agg, t->key_agg) < 0) || s_agg_find(b, agg))
		return PG_GATE_LIVE;
	/* an aggregate's first event commits after the snapshot: it has no rows there */
	if (pg_message_version(ev->data, ev->len) == 1 ||
		/* the cursor read past every row there is: it has none */
		(b->exhausted && b->handed_agg[0] && strcmp(agg, b->handed_agg) > 0))
		return s_agg_set(b, agg, 0, err, errlen) < 0 ? -1 : PG_GATE_LIVE;
	/* its rows must be read: not before the connection is back */
	if (!b->open)
		return PG_GATE_WAIT;
	return s_jump(b, agg, ev, err, errlen);
}

int
pg_backfill_drain(pg_backfill *b, int64_t deadline_ms, char *err, size_t errlen)
{
	int rc;

	if (b == NULL || b->sinks.n == 0)
		return 0;
	rc = sink_set_drain(&b->sinks, deadline_ms, err, errlen);
	if (b->running)
	{
		char e2[256];

		s_mark_acked(b);
		if (s_save(b, e2, sizeof(e2)) < 0)
			log_kv(LOG_WARN, "could not write the state file", "detail", e2, NULL);
	}
	return rc;
}

/* A new task on the slot just created: recorded durably before any row goes out. */
static int
s_start_task(pg_backfill *b, const char *snapshot, uint64_t slot_lsn, bool repair, char *err,
			 size_t errlen)
{
	pg_state_task *t = &b->state->task;
	pg_sql_result *r;
	char q[256];

	if (b->gap == 0 || slot_lsn <= b->gap)
	{
		snprintf(err, errlen, "no sink positions reserved below the consistent point");
		return -1;
	}
	/* the exported snapshot's own bounds, read in a transaction that imports it */
	snprintf(q, sizeof(q), "SET TRANSACTION SNAPSHOT '%s'", snapshot);
	if (pg_sql_exec(b->sql, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err, errlen) < 0 ||
		pg_sql_exec(b->sql, q, err, errlen) < 0)
		return -1;
	r = pg_sql_query(b->sql,
					 "SELECT pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot())::text, "
					 "pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())::text, "
					 "EXTRACT(epoch FROM pg_catalog.now())::int8::text",
					 0, NULL, err, errlen);
	if (r == NULL)
		return -1;
	memset(t, 0, sizeof(*t));
	snprintf(t->kind, sizeof(t->kind), "%s", repair ? "repair" : "backfill");
	t->slot_lsn = slot_lsn;
	t->snap_xmax = strtoull(pg_sql_value(r, 0, 0, NULL), NULL, 10);
	t->snap_xmin = strtoull(pg_sql_value(r, 0, 1, NULL), NULL, 10);
	t->time = strtoll(pg_sql_value(r, 0, 2, NULL), NULL, 10);
	t->horizon = repair ? b->state->horizon : 0;
	t->next_pos = slot_lsn - b->gap;
	t->end_pos = slot_lsn;
	pg_sql_free(r);
	/* the snapshot stays importable: it is held by the replication connection */
	if (pg_sql_exec(b->sql, "ROLLBACK", err, errlen) < 0)
		return -1;
	if (repair)
	{
		char h[32], l[32];

		snprintf(h, sizeof(h), "%llu", (unsigned long long) t->horizon);
		lsn_format(b->state->lsn, l);
		log_kv(LOG_WARN,
			   t->horizon ? "slot recreated: re-publishing from eventstore.events what may be "
							"missing since the confirmed position"
						  : "slot recreated, but the state file has no xmin horizon yet: "
							"re-publishing every event of eventstore.events",
			   "confirmed_lsn", l, "xmin_horizon", h, NULL);
	}
	/* the new slot is where this relay stands now */
	b->state->lsn = slot_lsn;
	return s_save(b, err, errlen);
}

int
pg_backfill_before_start(void *ctx, const char *snapshot, uint64_t slot_lsn, bool recreated,
						 pg_fail *fail, char *err, size_t errlen)
{
	pg_backfill *b = ctx;
	pg_state_task *t = &b->state->task;

	*fail = PGF_RETRY;
	b->exit_code = 0;
	if (snapshot && s_task_wanted(b, recreated))
	{
		/* a task of an earlier slot (a repair while a backfill ran) gives way */
		b->running = b->open = false;
		s_forget_aggs(b);
		if (s_connect(b, err, errlen) < 0 || s_open_sinks(b, err, errlen) < 0 ||
			s_start_task(b, snapshot, slot_lsn, recreated, err, errlen) < 0)
			return s_fail_kind(fail, err, errlen);
	}
	else if (t->kind[0] == '\0')
		return 0;
	else if (t->slot_lsn == 0)
	{
		*fail = PGF_SLOT;
		snprintf(err, errlen,
				 "the backfill was interrupted while the slot was being created; drop the slot "
				 "(SELECT pg_drop_replication_slot('%s')) and start again",
				 b->cfg->slot);
		return -1;
	}
	else if (slot_lsn < t->slot_lsn)
	{
		char a[32], c[32];

		lsn_format(t->slot_lsn, a);
		lsn_format(slot_lsn, c);
		*fail = PGF_SLOT;
		snprintf(err, errlen,
				 "the state file has a %s in progress for the slot created at %s, but the slot "
				 "is at %s",
				 t->kind, a, c);
		return -1;
	}
	else if (b->running && (b->exhausted || (b->open && pg_sql_ok(b->sql))))
		return 0; /* a reconnect of the stream: the task goes on where it is */
	else
	{
		log_kv(LOG_INFO, "resuming the interrupted task after the last acknowledged row", "task",
			   t->kind, "after", t->key_agg[0] ? t->key_agg : "(start)", NULL);
		if (s_open_sinks(b, err, errlen) < 0)
			return -1;
	}
	b->running = true;
	if (s_open_rows(b, snapshot, err, errlen) < 0)
	{
		b->running = false;
		if (b->exit_code == EXIT_SLOT)
			*fail = PGF_SLOT;
		return s_fail_kind(fail, err, errlen);
	}
	return 0;
}
