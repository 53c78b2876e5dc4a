/*
 * test_pg_auth.c
 *		The password of --rds-iam-auth connections: the flags and the
 *		variable, host/port/user read from the conninfo (and the PG*
 *		variables libpq would use), the refusals (weak sslmode, local socket,
 *		several hosts, no region), and a token signed for what was read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "pg_auth.h"

static int
setup(void **state)
{
	(void) state;
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	unsetenv("EVENTRELAY_RDS_IAM_AUTH");
	unsetenv("EVENTRELAY_RDS_REGION");
	unsetenv("PGHOST");
	unsetenv("PGPORT");
	unsetenv("PGUSER");
	unsetenv("PGSSLMODE");
	unsetenv("AWS_SESSION_TOKEN");
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 1);
	return 0;
}

static int
parse(relay_config *cfg, char *err, const char *dbname, const char *extra)
{
	char *argv[8];
	int argc = 0;

	argv[argc++] = "eventrelay";
	argv[argc++] = "--sink=stdout";
	argv[argc++] = "--dbname";
	argv[argc++] = (char *) dbname;
	if (extra)
		argv[argc++] = (char *) extra;
	argv[argc] = NULL;
	return config_parse(cfg, argc, argv, err, 256);
}

/* The password pg_auth gives for dbname (NULL), with *fail and err on failure. */
static char *
password(const char *dbname, const char *extra, pg_fail *fail, char *err)
{
	relay_config cfg;
	pg_auth *a = NULL;
	char *pw = NULL;

	assert_int_equal(parse(&cfg, err, dbname, extra), 0);
	if (pg_auth_password(&cfg, &a, &pw, fail, err, 512) < 0)
		pw = NULL;
	pg_auth_free(a);
	config_free(&cfg);
	return pw;
}

static void
test_flags(void **state)
{
	relay_config cfg;
	char err[256];

	(void) state;
	assert_int_equal(parse(&cfg, err, "x", NULL), 0);
	assert_false(cfg.rds_iam_auth);
	config_free(&cfg);
	/* no region anywhere: refused at parse time */
	assert_int_equal(parse(&cfg, err, "x", "--rds-iam-auth"), -1);
	assert_non_null(strstr(err, "region"));
	config_free(&cfg);
	setenv("AWS_REGION", "eu-west-1", 1);
	assert_int_equal(parse(&cfg, err, "x", "--rds-iam-auth"), 0);
	assert_true(cfg.rds_iam_auth);
	assert_null(cfg.rds_region);
	config_free(&cfg);
	setenv("EVENTRELAY_RDS_IAM_AUTH", "true", 1);
	setenv("EVENTRELAY_RDS_REGION", "us-west-2", 1);
	assert_int_equal(parse(&cfg, err, "x", NULL), 0);
	assert_true(cfg.rds_iam_auth);
	assert_string_equal(cfg.rds_region, "us-west-2");
	config_free(&cfg);
	setenv("EVENTRELAY_RDS_IAM_AUTH", "false", 1);
	assert_int_equal(parse(&cfg, err, "x", NULL), 0);
	assert_false(cfg.rds_iam_auth);
	config_free(&cfg);
	setenv("EVENTRELAY_RDS_IAM_AUTH", "maybe", 1);
	assert_int_equal(parse(&cfg, err, "x", NULL), -1);
	assert_non_null(strstr(err, "EVENTRELAY_RDS_IAM_AUTH"));
	config_free(&cfg);
	unsetenv("EVENTRELAY_RDS_IAM_AUTH");
	assert_int_equal(parse(&cfg, err, "x", "--rds-region="), -1);
	config_free(&cfg);
}

static void
test_no_iam_no_password(void **state)
{
	pg_fail f;
	char err[512];

	(void) state;
	assert_null(password("host=/tmp dbname=x", NULL, &f, err));
}

static void
test_token_for_conninfo(void **state)
{
	pg_fail f;
	char err[512];
	char *pw;

	(void) state;
	setenv("AWS_REGION", "eu-west-1", 1);
	pw = password("host=db.example.com port=6543 user=relay sslmode=verify-full dbname=app",
				  "--rds-iam-auth", &f, err);
	assert_non_null(pw);
	assert_true(strncmp(pw, "db.example.com:6543/?Action=connect&DBUser=relay&", 49) == 0);
	assert_non_null(strstr(pw, "%2Feu-west-1%2Frds-db%2Faws4_request"));
	assert_non_null(strstr(pw, "X-Amz-Expires=900&"));
	assert_null(strstr(pw, "X-Amz-Security-Token"));
	pg_auth_release(pw);

	/* a URI, the default port, temporary credentials, --rds-region over AWS_REGION */
	setenv("AWS_SESSION_TOKEN", "sess/token+1=", 1);
	setenv("EVENTRELAY_RDS_REGION", "ap-south-1", 1);
	pw = password("postgresql://relay@db.example.com/app?sslmode=verify-full", "--rds-iam-auth", &f,
				  err);
	assert_non_null(pw);
	assert_true(strncmp(pw, "db.example.com:5432/?Action=connect&DBUser=relay&", 49) == 0);
	assert_non_null(strstr(pw, "%2Fap-south-1%2F"));
	assert_non_null(strstr(pw, "&X-Amz-Security-Token=sess%2Ftoken%2B1%3D&X-Amz-Signature="));
	pg_auth_release(pw);

	/* a plain dbname: host, user, sslmode from the PG* variables, as libpq would */
	setenv("PGHOST", "other.example.com", 1);
	setenv("PGUSER", "iam_relay", 1);
	setenv("PGSSLMODE", "verify-full", 1);
	pw = password("app", "--rds-iam-auth", &f, err);
	assert_non_null(pw);
	assert_true(strncmp(pw, "other.example.com:5432/?Action=connect&DBUser=iam_relay&", 56) == 0);
	pg_auth_release(pw);
}

static void
test_refusals(void **state)
{
	pg_fail f;
	char err[512];
	char *pw;

	(void) state;
	setenv("AWS_REGION", "eu-west-1", 1);
	f = PGF_RETRY;
	assert_null(
		password("host=db.example.com user=relay sslmode=require", "--rds-iam-auth", &f, err));
	assert_int_equal(f, PGF_CONFIG);
	assert_non_null(strstr(err, "sslmode=verify-full"));
	assert_non_null(strstr(err, "not sslmode=require"));
	/* no sslmode at all is libpq's prefer: refused too */
	assert_null(password("host=db.example.com user=relay", "--rds-iam-auth", &f, err));
	assert_non_null(strstr(err, "not sslmode=prefer"));
	assert_null(
		password("host=db.example.com user=relay sslmode=verify-ca", "--rds-iam-auth", &f, err));
	/* ... unless explicitly allowed */
	{
		relay_config cfg;
		pg_auth *a = NULL;
		char *argv[] = {"eventrelay",
						"--sink=stdout",
						"--dbname=host=db.example.com user=relay sslmode=disable",
						"--rds-iam-auth",
						"--rds-iam-allow-weak-sslmode",
						NULL};

		assert_int_equal(config_parse(&cfg, 5, argv, err, 256), 0);
		assert_int_equal(pg_auth_password(&cfg, &a, &pw, &f, err, sizeof(err)), 0);
		assert_non_null(pw);
		pg_auth_release(pw);
		/* the next connection gets a token of its own */
		assert_int_equal(pg_auth_password(&cfg, &a, &pw, &f, err, sizeof(err)), 0);
		assert_non_null(pw);
		pg_auth_release(pw);
		pg_auth_free(a);
		config_free(&cfg);
	}
	assert_null(password("host=/var/run/postgresql user=relay sslmode=verify-full",
						 "--rds-iam-auth", &f, err));
	assert_int_equal(f, PGF_CONFIG);
	assert_non_null(strstr(err, "host name"));
	assert_null(password("host=a.example.com,b.example.com user=relay sslmode=verify-full",
						 "--rds-iam-auth", &f, err));
	assert_non_null(strstr(err, "one host"));
	assert_null(password("host=a.example.com port=99999 user=relay sslmode=verify-full",
						 "--rds-iam-auth", &f, err));
	assert_non_null(strstr(err, "port"));
	assert_null(password("host=a.example.com user=relay sslmode=verify-full bogus=1",
						 "--rds-iam-auth", &f, err));
	assert_non_null(strstr(err, "invalid --dbname"));
	/* no credentials in any source: a configuration error */
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	assert_null(
		password("host=a.example.com user=relay sslmode=verify-full", "--rds-iam-auth", &f, err));
	assert_int_equal(f, PGF_CONFIG);
	assert_non_null(strstr(err, "no AWS credentials"));
}

/* The hint added to a refused login names the role, endpoint and policy resource. */
static void
test_explain(void **state)
{
	relay_config cfg;
	pg_auth *a = NULL;
	char *pw, err[1024];
	pg_fail f;
	char *argv[] = {"eventrelay", "--sink=stdout",
					"--dbname=host=db.example.com user=relay sslmode=verify-full", "--rds-iam-auth",
					NULL};

	(void) state;
	setenv("AWS_REGION", "eu-west-1", 1);
	assert_int_equal(config_parse(&cfg, 4, argv, err, 256), 0);
	assert_int_equal(pg_auth_password(&cfg, &a, &pw, &f, err, sizeof(err)), 0);
	pg_auth_release(pw);
	snprintf(err, sizeof(err), "could not connect: FATAL: PAM authentication failed for user");
	pg_auth_explain(a, err, sizeof(err));
	assert_non_null(strstr(err, "GRANT rds_iam"));
	assert_non_null(strstr(err, "arn:aws:rds-db:eu-west-1:ACCOUNT:dbuser:DBI_RESOURCE_ID/relay"));
	snprintf(err, sizeof(err), "could not connect: connection refused");
	pg_auth_explain(a, err, sizeof(err));
	assert_string_equal(err, "could not connect: connection refused");
	pg_auth_free(a);
	config_free(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_flags, setup),
		cmocka_unit_test_setup(test_no_iam_no_password, setup),
		cmocka_unit_test_setup(test_token_for_conninfo, setup),
		cmocka_unit_test_setup(test_refusals, setup),
		cmocka_unit_test_setup(test_explain, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
