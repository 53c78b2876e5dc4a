/*
 * pg_auth.c
 *		Passwords for the relay's PostgreSQL connections: RDS IAM tokens (see
 *		pg_auth.h).
 */
#include "pg_auth.h"
#include "aws_credentials.h"
#include "aws_rds_token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libpq-fe.h>

struct pg_auth
{
	credentials_provider *creds;
	char *host;
	int port;
	char *user;
	const char *region; /* cfg's */
};

/* sslmode values from weakest to strongest; only the last verifies the host name. */
static const char *const s_sslmodes[] = {"disable", "allow",	 "prefer",
										 "require", "verify-ca", "verify-full"};

/* The value of key: from the conninfo if given there, else libpq's default (PG* variables). */
static const char *
s_value(PQconninfoOption *given, PQconninfoOption *defaults, const char *key)
{
	PQconninfoOption *o;

	for (o = given; o && o->keyword; o++)
		if (strcmp(o->keyword, key) == 0 && o->val && *o->val)
			return o->val;
	for (o = defaults; o && o->keyword; o++)
		if (strcmp(o->keyword, key) == 0 && o->val && *o->val)
			return o->val;
	return NULL;
}

/* Read and check host, port, user and sslmode of the conninfo. */
static int
s_target(const relay_config *cfg, pg_auth *a, char *err, size_t errlen)
{
	const char *dbname = cfg->dbname ? cfg->dbname : "";
	PQconninfoOption *given = NULL, *defaults = PQconndefaults();
	const char *host, *port, *user, *sslmode;
	char *perr = NULL;
	long portnum;
	char *end;
	int rc = -1;
	size_t i;

	/* as libpq does with expand_dbname: a string with '=' or a URI is a conninfo */
	if (strchr(dbname, '=') || strncmp(dbname, "postgresql://", 13) == 0 ||
		strncmp(dbname, "postgres://", 11) == 0)
	{
		given = PQconninfoParse(dbname, &perr);
		if (given == NULL)
		{
			snprintf(err, errlen, "invalid --dbname connection string: %s",
					 perr ? perr : "out of memory");
			for (end = err; *end; end++)
				if (*end == '\n')
					*end = ' ';
			PQfreemem(perr);
			goto done;
		}
	}
	host = s_value(given, defaults, "host");
	port = s_value(given, defaults, "port");
	user = s_value(given, defaults, "user");
	sslmode = s_value(given, defaults, "sslmode");
	if (host == NULL || host[0] == '/' || host[0] == '@')
	{
		snprintf(err, errlen,
				 "--rds-iam-auth needs the database's host name in --dbname (host=...), not a "
				 "local socket");
		goto done;
	}
	if (strchr(host, ',') || (port && strchr(port, ',')))
	{
		snprintf(err, errlen,
				 "--rds-iam-auth signs its token for one host: give a single host in --dbname");
		goto done;
	}
	portnum = port ? strtol(port, &end, 10) : 5432;
	if (port && (*end != '\0' || portnum <= 0 || portnum > 65535))
	{
		snprintf(err, errlen, "invalid port \"%s\" in --dbname", port);
		goto done;
	}
	if (user == NULL)
	{
		snprintf(err, errlen, "--rds-iam-auth needs the database user in --dbname (user=...)");
		goto done;
	}
	if (sslmode == NULL)
		sslmode = "prefer";
	for (i = 0; i < sizeof(s_sslmodes) / sizeof(s_sslmodes[0]); i++)
		if (strcmp(sslmode, s_sslmodes[i]) == 0)
			break;
	if (strcmp(sslmode, "verify-full") != 0 && !cfg->rds_iam_weak_tls)
	{
		snprintf(err, errlen,
				 "--rds-iam-auth sends a password token: the connection needs sslmode=verify-full "
				 "(and sslrootcert=the RDS CA bundle) in --dbname, not sslmode=%s%s",
				 sslmode, i == sizeof(s_sslmodes) / sizeof(s_sslmodes[0]) ? " (unknown)" : "");
		goto done;
	}
	a->host = strdup(host);
	a->user = strdup(user);
	a->port = (int) portnum;
	if (a->host == NULL || a->user == NULL)
	{
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	rc = 0;

done:
	if (given)
		PQconninfoFree(given);
	if (defaults)
		PQconninfoFree(defaults);
	return rc;
}

static pg_auth *
s_new(const relay_config *cfg, pg_fail *fail, char *err, size_t errlen)
{
	pg_auth *a = calloc(1, sizeof(*a));

	*fail = PGF_CONFIG;
	if (a == NULL)
	{
		*fail = PGF_RETRY;
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->region = cfg->rds_region ? cfg->rds_region : cfg->region;
	if (s_target(cfg, a, err, errlen) < 0)
	{
		pg_auth_free(a);
		return NULL;
	}
	a->creds = credentials_provider_new(err, errlen);
	if (a->creds == NULL)
	{
		pg_auth_free(a);
		return NULL;
	}
	return a;
}

int
pg_auth_password(const relay_config *cfg, pg_auth **auth, char **password, pg_fail *fail, char *err,
				 size_t errlen)
{
	const aws_credentials *c;
	rds_token_target t;
	char cerr[512];

	*password = NULL;
	if (!cfg->rds_iam_auth)
		return 0;
	if (*auth == NULL && (*auth = s_new(cfg, fail, err, errlen)) == NULL)
		return -1;
	if (credentials_get((*auth)->creds, &c, cerr, sizeof(cerr)) < 0)
	{
		/* no source at all will not change; a metadata endpoint hiccup may */
		*fail = credentials_configured() ? PGF_RETRY : PGF_CONFIG;
		snprintf(err, errlen, "no AWS credentials for the IAM database token: %s", cerr);
		return -1;
	}
	t.host = (*auth)->host;
	t.port = (*auth)->port;
	t.user = (*auth)->user;
	t.region = (*auth)->region;
	/* the wall clock: the token is valid from its X-Amz-Date for 15 minutes */
	*password = rds_token_generate(&t, c, time(NULL), err, errlen);
	if (*password == NULL)
	{
		*fail = PGF_RETRY;
		return -1;
	}
	return 0;
}

void
pg_auth_release(char *password)
{
	rds_token_free(password);
}

void
pg_auth_explain(const pg_auth *auth, char *err, size_t errlen)
{
	size_t n = strlen(err);

	if (auth == NULL || (!strstr(err, "authentication failed") && !strstr(err, "PAM")))
		return;
	snprintf(err + n, errlen - n,
			 " (IAM database authentication for user \"%s\" at %s:%d in %s: the role needs "
			 "GRANT rds_iam, the AWS identity an IAM policy allowing rds-db:connect on "
			 "arn:aws:rds-db:%s:ACCOUNT:dbuser:DBI_RESOURCE_ID/%s, and the clock must be right)",
			 auth->user, auth->host, auth->port, auth->region, auth->region, auth->user);
}

void
pg_auth_free(pg_auth *auth)
{
	if (auth == NULL)
		return;
	credentials_provider_free(auth->creds);
	free(auth->host);
	free(auth->user);
	free(auth);
}
