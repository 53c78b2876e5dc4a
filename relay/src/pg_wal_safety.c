/*
 * pg_wal_safety.c
 *		Polling the slot's WAL retention (see pg_wal_safety.h).
 */
#include "pg_wal_safety.h"
#include "log.h"
#include "metrics.h"
#include "pg_sql.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pg_wal_safety
{
	const relay_config *cfg;
	pg_sql *conn;
	int64_t next_ms;
	int level;		 /* last warning level logged */
	bool failing;	 /* the last look failed (logged once) */
	char status[16]; /* last wal_status seen */
};

static const char *const s_levels[] = {"", "half", "a quarter", "a tenth"};

pg_wal_safety *
pg_wal_safety_new(const relay_config *cfg)
{
	pg_wal_safety *w;

	if (cfg->wal_check_interval_ms <= 0)
		return NULL;
	w = calloc(1, sizeof(*w));
	if (w)
		w->cfg = cfg;
	return w;
}

void
pg_wal_safety_free(pg_wal_safety *w)
{
	if (w == NULL)
		return;
	pg_sql_close(w->conn);
	free(w);
}

int
pg_wal_safety_level(int64_t safe_bytes, int64_t keep_bytes)
{
	if (keep_bytes <= 0 || safe_bytes < 0)
		return safe_bytes < 0 && keep_bytes > 0 ? 3 : 0;
	if (safe_bytes * 10 < keep_bytes)
		return 3;
	if (safe_bytes * 4 < keep_bytes)
		return 2;
	if (safe_bytes * 2 < keep_bytes)
		return 1;
	return 0;
}

/* detail: one line (pg_sql's errors are). */
static void
s_fail(pg_wal_safety *w, const char *what, const char *detail)
{
	if (!w->failing)
		log_kv(LOG_WARN, what, "detail", detail, NULL);
	w->failing = true;
	pg_sql_close(w->conn);
	w->conn = NULL;
}

/* A normal connection; a look must not hold the relay's loop for long. */
static bool
s_connect(pg_wal_safety *w)
{
	char err[512];

	w->conn = pg_sql_connect(w->cfg, "eventrelay-walcheck", err, sizeof(err));
	if (w->conn == NULL ||
		pg_sql_exec(w->conn, "SELECT pg_catalog.set_config('statement_timeout', '5000', false)",
					err, sizeof(err)) < 0)
	{
		s_fail(w, "WAL safety check: could not connect", err);
		return false;
	}
	return true;
}

static void
s_report(pg_wal_safety *w, const char *status, int64_t retained, int64_t safe, bool safe_known,
		 int64_t keep)
{
	char rb[32], sb[32], kb[32];
	int level = safe_known ? pg_wal_safety_level(safe, keep) : 0;

	snprintf(metrics.slot_wal_status, sizeof(metrics.slot_wal_status), "%s", status);
	metrics.slot_retained_wal_bytes = retained;
	metrics.slot_safe_wal_bytes = safe_known ? safe : -1;
	metrics.slot_wal_keep_bytes = keep;
	metrics.slot_wal_checked = 1;
	snprintf(rb, sizeof(rb), "%lld", (long long) retained);
	snprintf(sb, sizeof(sb), "%lld", (long long) safe);
	snprintf(kb, sizeof(kb), "%lld", (long long) keep);
	if (strcmp(status, w->status) != 0 &&
		(strcmp(status, "unreserved") == 0 || strcmp(status, "lost") == 0))
		log_kv(LOG_ERROR,
			   "the slot retains more WAL than max_slot_wal_keep_size allows: the next checkpoint "
			   "may remove WAL it needs (the slot is then invalidated, exit 3)",
			   "slot", w->cfg->slot, "wal_status", status, "retained_wal_bytes", rb, NULL);
	else if (level > w->level)
		log_kv(LOG_WARN, "safe_wal_size of the slot is shrinking: the relay is falling behind",
			   "slot", w->cfg->slot, "below", s_levels[level], "safe_wal_size", sb,
			   "max_slot_wal_keep_size", kb, "retained_wal_bytes", rb, NULL);
	else if (level == 0 && w->level > 0)
		log_kv(LOG_INFO, "safe_wal_size of the slot recovered", "slot", w->cfg->slot,
			   "safe_wal_size", sb, NULL);
	w->level = level;
	snprintf(w->status, sizeof(w->status), "%s", status);
}

void
pg_wal_safety_poll(pg_wal_safety *w, int64_t now_ms)
{
	const char *params[1];
	pg_sql_result *res;
	char err[512];

	if (w == NULL || now_ms < w->next_ms)
		return;
	w->next_ms = now_ms + w->cfg->wal_check_interval_ms;
	if (w->conn && !pg_sql_ok(w->conn))
	{
		pg_sql_close(w->conn);
		w->conn = NULL;
	}
	if (w->conn == NULL && !s_connect(w))
		return;
	params[0] = w->cfg->slot;
	res = pg_sql_query(
		w->conn,
		"SELECT COALESCE(wal_status, ''), "
		"COALESCE(pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), "
		"restart_lsn)::bigint, 0), safe_wal_size, "
		"pg_catalog.pg_size_bytes(pg_catalog.current_setting('max_slot_wal_keep_size')) "
		"FROM pg_catalog.pg_replication_slots WHERE slot_name = $1",
		1, params, err, sizeof(err));
	if (res == NULL)
	{
		s_fail(w, "WAL safety check failed", err);
		return;
	}
	if (pg_sql_rows(res) == 1)
	{
		const char *safe = pg_sql_value(res, 0, 2, NULL);

		w->failing = false;
		s_report(w, pg_sql_value(res, 0, 0, NULL), strtoll(pg_sql_value(res, 0, 1, NULL), NULL, 10),
				 safe ? strtoll(safe, NULL, 10) : 0, safe != NULL,
				 strtoll(pg_sql_value(res, 0, 3, NULL), NULL, 10));
	}
	pg_sql_free(res);
}
