/*
 * pg_sql.h
 *		A plain SQL connection to the source database (libpq, not the
 *		replication protocol of pg_source.h), for the readers of
 *		eventstore.events: the backfill, the slot-loss repair and its xmin
 *		horizon samples (pg_backfill.h, pg_repair.h), and the WAL safety
 *		check (pg_wal_safety.h).  It logs in as the replication connection
 *		does, with an --rds-iam-auth token if asked (pg_auth.h).
 *
 * The session is fixed so that the server's settings never change the text
 * the envelope writer reads (pg_envelope.h): DateStyle ISO, TimeZone UTC,
 * client_encoding SQL_ASCII (no conversion: text arrives as stored).
 * Values are text; a result is freed by pg_sql_free.
 */
#ifndef RELAY_PG_SQL_H
#define RELAY_PG_SQL_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* Seconds; a connection string's own connect_timeout wins. */
#define PG_SQL_CONNECT_TIMEOUT "10"

typedef struct pg_sql pg_sql;
typedef struct pg_sql_result pg_sql_result;

/*
 * Connect with the relay's connection string (cfg->dbname) and credentials;
 * application_name is the fallback one (a connection string's wins).  NULL
 * with err.
 */
pg_sql *pg_sql_connect(const relay_config *cfg, const char *application_name, char *err,
					   size_t errlen);
void pg_sql_close(pg_sql *c);

/*
 * Run one statement with text parameters (NULL entries are SQL NULL).
 * Returns its result (rows or none), or NULL with err (one line, the
 * server's message).
 */
pg_sql_result *pg_sql_query(pg_sql *c, const char *sql, int nparams, const char *const *params,
							char *err, size_t errlen);
/* pg_sql_query without rows to read: 0, or -1 with err. */
int pg_sql_exec(pg_sql *c, const char *sql, char *err, size_t errlen);
/* Is the connection still usable? */
bool pg_sql_ok(const pg_sql *c);

int pg_sql_rows(const pg_sql_result *r);
/* Column col of row: its text (NUL-terminated) and length; NULL for SQL NULL. */
const char *pg_sql_value(const pg_sql_result *r, int row, int col, size_t *len);
void pg_sql_free(pg_sql_result *r);

/*
 * prefix + a server or libpq message (multi-line, ending in a newline) as
 * one line in err: the form every PostgreSQL error of the relay is logged in.
 */
void pg_error_line(char *err, size_t errlen, const char *prefix, const char *msg);

#endif
