/*
 * pg_repair.c
 *		The repair's xmin horizon samples and the rows it re-publishes (see
 *		pg_repair.h and docs/backfill.md for the proof).
 */
#include "pg_repair.h"
#include "clock.h"
#include "log.h"
#include "pg_message.h"
#include "pg_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HORIZON_INTERVAL_MS 5000
#define HORIZON_SAMPLES		64

typedef struct horizon_sample
{
	uint64_t xmin; /* H */
	uint64_t lsn;  /* W */
} horizon_sample;

struct pg_horizon
{
	const relay_config *cfg;
	pg_sql *sql;
	int64_t next_ms;
	horizon_sample s[HORIZON_SAMPLES]; /* oldest first */
	int n;
	bool warned;
};

pg_horizon *
pg_horizon_new(const relay_config *cfg)
{
	pg_horizon *h = calloc(1, sizeof(*h));

	if (h)
		h->cfg = cfg;
	return h;
}

void
pg_horizon_free(pg_horizon *h)
{
	if (h == NULL)
		return;
	pg_sql_close(h->sql);
	free(h);
}

void
pg_horizon_tick(pg_horizon *h, int64_t now_ms)
{
	char err[512];
	pg_sql_result *r;
	horizon_sample x = {0, 0};
	const char *v;

	if (h == NULL || now_ms < h->next_ms)
		return;
	h->next_ms = now_ms + HORIZON_INTERVAL_MS;
	if (h->sql && !pg_sql_ok(h->sql))
	{
		pg_sql_close(h->sql);
		h->sql = NULL;
	}
	if (h->sql == NULL && (h->sql = pg_sql_connect(h->cfg, "eventrelay", err, sizeof(err))) == NULL)
		goto fail;
	/* one statement: its snapshot is taken before the WAL position is read */
	r = pg_sql_query(h->sql,
					 "SELECT pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())::text, "
					 "pg_catalog.pg_current_wal_insert_lsn()::text",
					 0, NULL, err, sizeof(err));
	if (r == NULL)
		goto fail;
	v = pg_sql_value(r, 0, 0, NULL);
	if (v)
		x.xmin = strtoull(v, NULL, 10);
	v = pg_sql_value(r, 0, 1, NULL);
	if (v == NULL || lsn_parse(v, strlen(v), &x.lsn) < 0)
		x.xmin = 0;
	pg_sql_free(r);
	if (x.xmin == 0)
		return;
	if (h->n > 0 && h->s[h->n - 1].xmin == x.xmin)
		return; /* nothing ended since the last sample */
	if (h->n == HORIZON_SAMPLES)
	{
		/* full (confirmation stalls): keep the older ones, they are what is used first */
		h->s[h->n - 1] = x;
		return;
	}
	h->s[h->n++] = x;
	h->warned = false;
	return;

fail:
	if (!h->warned)
		log_kv(LOG_WARN, "could not sample the xmin horizon for --repair-slot; will retry",
			   "detail", err, NULL);
	h->warned = true;
}

uint64_t
pg_horizon_at(pg_horizon *h, uint64_t confirmed)
{
	uint64_t best = 0;
	int i = 0, j;

	if (h == NULL)
		return 0;
	while (i < h->n && h->s[i].lsn <= confirmed)
	{
		if (h->s[i].xmin > best)
			best = h->s[i].xmin;
		i++;
	}
	for (j = 0; i + j < h->n; j++)
		h->s[j] = h->s[i + j];
	h->n = j;
	return best;
}

void
pg_repair_rows_sql(buf *q, const char *filter_f)
{
	/*
	 * xmin is 32 bits: widened against the snapshot's next xid ($8), which
	 * is exact for every xid of the last 2^32 (pg_backfill.c refuses a
	 * horizon older than 2^31).  An older frozen row may widen into the
	 * range by mistake: that only re-publishes more of its aggregate.
	 */
	buf_printf(q,
			   " JOIN (SELECT f.aggregate_id, min(f.version) AS v FROM eventstore.events f "
			   "WHERE $8::bigint - ((($8::bigint %% 4294967296) - f.xmin::text::bigint) %% "
			   "4294967296 + 4294967296) %% 4294967296 >= $7::bigint%s GROUP BY f.aggregate_id) m "
			   "ON m.aggregate_id = e.aggregate_id AND e.version >= m.v",
			   filter_f);
}
