/*
 * pg_sql.c
 *		The plain SQL connection (see pg_sql.h).  With pg_source.c (the
 *		replication protocol) and pg_auth.c (conninfo parsing) the only file
 *		that includes libpq.
 */
#include "pg_sql.h"
#include "pg_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

struct pg_sql
{
	PGconn *conn;
	pg_auth *auth; /* --rds-iam-auth tokens, or NULL */
};

struct pg_sql_result
{
	PGresult *res;
};

void
pg_error_line(char *err, size_t errlen, const char *prefix, const char *msg)
{
	size_t n;

	snprintf(err, errlen, "%s%s", prefix, msg ? msg : "");
	n = strlen(err);
	while (n && (err[n - 1] == '\n' || err[n - 1] == ' '))
		err[--n] = '\0';
	for (char *p = err; *p; p++)
		if (*p == '\n')
			*p = ' ';
}

pg_sql *
pg_sql_connect(const relay_config *cfg, const char *application_name, char *err, size_t errlen)
{
	/*
	 * The connection string comes after connect_timeout (its own wins) and
	 * before client_encoding (ours wins), then the password of --rds-iam-auth,
	 * which wins over one in the connection string.  DateStyle and TimeZone
	 * are set once connected, not with "options", which would replace the
	 * user's own (PGOPTIONS, a service file).
	 */
	const char *keys[] = {"connect_timeout",		   "dbname", "client_encoding",
						  "fallback_application_name", NULL,	 NULL};
	const char *vals[] = {PG_SQL_CONNECT_TIMEOUT,
						  cfg->dbname ? cfg->dbname : "",
						  "SQL_ASCII",
						  application_name,
						  NULL,
						  NULL};
	pg_sql *c = calloc(1, sizeof(*c));
	char *password = NULL;
	pg_fail fail;

	if (c == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (pg_auth_password(cfg, &c->auth, &password, &fail, err, errlen) < 0)
	{
		pg_sql_close(c);
		return NULL;
	}
	keys[4] = password ? "password" : NULL;
	vals[4] = password;
	c->conn = PQconnectdbParams(keys, vals, 1);
	pg_auth_release(password);
	if (c->conn == NULL || PQstatus(c->conn) != CONNECTION_OK)
	{
		pg_error_line(err, errlen, "could not connect to PostgreSQL: ",
					  c->conn ? PQerrorMessage(c->conn) : "out of memory");
		pg_auth_explain(c->auth, err, errlen);
		pg_sql_close(c);
		return NULL;
	}
	if (pg_sql_exec(c,
					"SELECT pg_catalog.set_config('datestyle', 'ISO', false), "
					"pg_catalog.set_config('timezone', 'UTC', false)",
					err, errlen) < 0)
	{
		pg_sql_close(c);
		return NULL;
	}
	return c;
}

void
pg_sql_close(pg_sql *c)
{
	if (c == NULL)
		return;
	if (c->conn)
		PQfinish(c->conn);
	pg_auth_free(c->auth);
	free(c);
}

bool
pg_sql_ok(const pg_sql *c)
{
	return c && c->conn && PQstatus(c->conn) == CONNECTION_OK;
}

pg_sql_result *
pg_sql_query(pg_sql *c, const char *sql, int nparams, const char *const *params, char *err,
			 size_t errlen)
{
	PGresult *res = PQexecParams(c->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	pg_sql_result *r;
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
	{
		const char *msg = res ? PQresultErrorMessage(res) : NULL;

		pg_error_line(err, errlen, "", msg && *msg ? msg : PQerrorMessage(c->conn));
		PQclear(res);
		return NULL;
	}
	r = malloc(sizeof(*r));
	if (r == NULL)
	{
		PQclear(res);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->res = res;
	return r;
}

int
pg_sql_exec(pg_sql *c, const char *sql, char *err, size_t errlen)
{
	pg_sql_result *r = pg_sql_query(c, sql, 0, NULL, err, errlen);

	if (r == NULL)
		return -1;
	pg_sql_free(r);
	return 0;
}

int
pg_sql_rows(const pg_sql_result *r)
{
	return PQntuples(r->res);
}

const char *
pg_sql_value(const pg_sql_result *r, int row, int col, size_t *len)
{
	if (PQgetisnull(r->res, row, col))
	{
		if (len)
			*len = 0;
		return NULL;
	}
	if (len)
		*len = (size_t) PQgetlength(r->res, row, col);
	return PQgetvalue(r->res, row, col);
}

void
pg_sql_free(pg_sql_result *r)
{
	if (r == NULL)
		return;
	PQclear(r->res);
	free(r);
}
