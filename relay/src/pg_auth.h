/*
 * pg_auth.h
 *		The password of each connection the relay opens to PostgreSQL.
 *		Without --rds-iam-auth there is none to add (libpq takes it from the
 *		conninfo, PGPASSWORD or ~/.pgpass).  With it, every connection and
 *		reconnection gets a fresh RDS IAM token (aws_rds_token.h), signed with
 *		the relay's AWS credential chain (aws_credentials.h) for the host,
 *		port and user the conninfo names.
 *
 * The first call also checks the conninfo once: one host, a user, and
 * sslmode=verify-full (the token is a password; it may only go to a server
 * whose certificate was verified), unless --rds-iam-allow-weak-sslmode.
 * With pg_source.c and pg_sql.c the files that include libpq (here for
 * PQconninfoParse and PQconndefaults only).
 */
#ifndef RELAY_PG_AUTH_H
#define RELAY_PG_AUTH_H

#include <stddef.h>

#include "config.h"
#include "pg_source.h"

typedef struct pg_auth pg_auth;

/*
 * The password for the next connection: *password is NULL when the relay
 * adds none, else a token to pass as libpq's "password" and release with
 * pg_auth_release.  *auth holds the state between calls (NULL at first).
 * 0, or -1 with *fail (PGF_CONFIG: a conninfo or region that cannot work;
 * PGF_RETRY: credentials not available right now) and err.
 */
int pg_auth_password(const relay_config *cfg, pg_auth **auth, char **password, pg_fail *fail,
					 char *err, size_t errlen);
void pg_auth_release(char *password);
/* Add what an IAM login failure usually means to a connection error. */
void pg_auth_explain(const pg_auth *auth, char *err, size_t errlen);
void pg_auth_free(pg_auth *auth);

#endif
