/*
 * pg_sql.c
 *		The plain SQL connection (see pg_sql.h).  With pg_source.c the only
 *		file that includes libpq: that one speaks the replication protocol,
 *		this one runs ordinary queries.
 */
#include "pg_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

struct pg_sql
{
	PGconn *conn;
};

struct pg_sql_result
{
	PGresult *res;
};

/* The server's message on one line. */
static void
s_message(char *err, size_t errlen, const char *prefix, const char *msg)
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
pg_sql_connect(const char *dbname, char *err, size_t errlen)
{
	/* later keywords override what the connection string says */
	const char *keys[] = {"dbname", "options", "client_encoding", "fallback_application_name",
						  NULL};
	const char *vals[] = {dbname ? dbname : "", "-c DateStyle=ISO -c TimeZone=UTC", "SQL_ASCII",
						  "eventrelay", NULL};
	pg_sql *c = calloc(1, sizeof(*c));

	if (c == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->conn = PQconnectdbParams(keys, vals, 1);
	if (c->conn == NULL || PQstatus(c->conn) != CONNECTION_OK)
	{
		s_message(err, errlen, "could not connect to PostgreSQL: ",
				  c->conn ? PQerrorMessage(c->conn) : "out of memory");
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

		s_message(err, errlen, "", msg && *msg ? msg : PQerrorMessage(c->conn));
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
