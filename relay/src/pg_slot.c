/*
 * pg_slot.c
 *		Failover slots on PostgreSQL 17+ (see pg_slot.h).
 */
#include "pg_slot.h"
#include "log.h"
#include "pg_sql.h"

#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

/* The option list of CREATE_REPLICATION_SLOT (and its SNAPSHOT option) came in 15. */
#define PG_SLOT_OPTIONS_VERSION 150000

void
pg_slot_create_command(buf *q, const relay_config *cfg, int server_version, bool export_snapshot)
{
	const char *snap = export_snapshot ? "export" : "nothing";

	buf_printf(q, "CREATE_REPLICATION_SLOT \"%s\" LOGICAL \"%s\"", cfg->slot, cfg->plugin);
	if (server_version < PG_SLOT_OPTIONS_VERSION)
		buf_printf(q, export_snapshot ? " EXPORT_SNAPSHOT" : " NOEXPORT_SNAPSHOT");
	else if (server_version >= PG_SLOT_FAILOVER_VERSION &&
			 cfg->slot_failover != CONFIG_FAILOVER_OFF)
		buf_printf(q, " (SNAPSHOT '%s', FAILOVER true)", snap);
	else
		buf_printf(q, " (SNAPSHOT '%s')", snap);
}

int
pg_slot_check_failover(struct pg_conn *conn, const relay_config *cfg, pg_fail *fail, char *err,
					   size_t errlen)
{
	char *lit;
	buf q = BUF_INIT;
	PGresult *res;
	bool failover;

	if (PQserverVersion(conn) < PG_SLOT_FAILOVER_VERSION ||
		cfg->slot_failover == CONFIG_FAILOVER_OFF)
		return 0;
	lit = PQescapeLiteral(conn, cfg->slot, strlen(cfg->slot));
	if (lit == NULL)
	{
		*fail = PGF_RETRY;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	buf_printf(&q, "SELECT failover FROM pg_catalog.pg_replication_slots WHERE slot_name = %s",
			   lit);
	PQfreemem(lit);
	res = PQexec(conn, q.data);
	buf_free(&q);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
	{
		/* the slot check before this one has seen it: not worth stopping for */
		log_kv(LOG_WARN, "could not read the slot's failover flag", "slot", cfg->slot, "detail",
			   PQresultErrorMessage(res), NULL);
		PQclear(res);
		return 0;
	}
	failover = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (failover)
		return 0;
	if (cfg->slot_failover != CONFIG_FAILOVER_ALTER)
	{
		log_kv(LOG_WARN,
			   "the replication slot is not a failover slot: a standby does not keep it, so a "
			   "promotion loses it (--slot-failover alter makes it one; docs/failover.md)",
			   "slot", cfg->slot, NULL);
		return 0;
	}
	buf_printf(&q, "ALTER_REPLICATION_SLOT \"%s\" (FAILOVER true)", cfg->slot);
	res = PQexec(conn, q.data);
	buf_free(&q);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		char prefix[160];

		*fail = state && strcmp(state, PG_SQLSTATE_OBJECT_IN_USE) == 0 ? PGF_BUSY : PGF_CONFIG;
		snprintf(prefix, sizeof(prefix), "could not make slot \"%s\" a failover slot: ", cfg->slot);
		pg_error_line(err, errlen, prefix, PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	log_kv(LOG_INFO, "the replication slot is now a failover slot", "slot", cfg->slot, NULL);
	return 0;
}
