/*
 * test_aws_rds_token.c
 *		The RDS IAM token against vectors that botocore's
 *		generate_db_auth_token (the AWS CLI) produced for the same inputs at a
 *		fixed clock (tests/rds_iam/botocore_token.py), byte for byte: plain
 *		and temporary credentials, upper-case host and port 443 (where the
 *		signed Host header differs from the token's host), a role name that
 *		needs percent-encoding.  With RDS_TOKEN_VECTORS=FILE it also checks
 *		every line of FILE (tests/t_rds_iam_token.sh writes it from botocore
 *		and @aws-sdk/rds-signer).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aws_rds_token.h"

typedef struct vector
{
	time_t now;
	const char *host;
	int port;
	const char *user;
	const char *region;
	const char *akid;
	const char *secret;
	const char *token; /* session token or NULL */
	const char *want;
} vector;

static const vector vectors[] = {
	{1767225600, "mydb.abc123.us-east-1.rds.amazonaws.com", 5432, "relay", "us-east-1",
	 "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL,
	 "mydb.abc123.us-east-1.rds.amazonaws.com:5432/?Action=connect&DBUser=relay&X-Amz-Algorithm="
	 "AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20260101%2Fus-east-1%2Frds-db%2Faws4_"
	 "request&X-Amz-Date=20260101T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-"
	 "Signature=4a2fc313f95d0f1d46871d4413f3cfe43757c6afab547a166faa03ac717730b1"},
	{1709164799, "orders.cluster-ro-c9xyz.eu-west-1.rds.amazonaws.com", 6543, "event_relay",
	 "eu-west-1", "ASIAQEXAMPLE7",
	 "Secret/With+Slash=", "IQoJb3JpZ2luX2VjEHoaCXVz+/ZWFzdC0xIkcwRQ==",
	 "orders.cluster-ro-c9xyz.eu-west-1.rds.amazonaws.com:6543/?Action=connect&DBUser=event_"
	 "relay&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAQEXAMPLE7%2F20240228%2Feu-west-"
	 "1%2Frds-db%2Faws4_request&X-Amz-Date=20240228T235959Z&X-Amz-Expires=900&X-Amz-"
	 "SignedHeaders=host&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEHoaCXVz%2B%2FZWFzdC0xIkcwRQ%3D%3D&"
	 "X-Amz-Signature=6094c8862a3f2c3a419db97199d77d0b3fa041bbb78a830e1c444079bbae7ab5"},
	{1767225600, "MyDB.ABC123.us-east-1.rds.amazonaws.com", 443, "relay", "us-east-1",
	 "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL,
	 "MyDB.ABC123.us-east-1.rds.amazonaws.com:443/?Action=connect&DBUser=relay&X-Amz-Algorithm="
	 "AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20260101%2Fus-east-1%2Frds-db%2Faws4_"
	 "request&X-Amz-Date=20260101T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-"
	 "Signature=9b93123de3f4d0e0f862a8e04629abcc7fab4091fb103f488d08062baaeeb5a0"},
	{1800000000, "10.0.0.5", 5432, "iam user&x=y@\xc3\xbc", "ap-southeast-2", "AKIDEXAMPLE",
	 "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "tok~en.-_",
	 "10.0.0.5:5432/?Action=connect&DBUser=iam%20user%26x%3Dy%40%C3%BC&X-Amz-Algorithm=AWS4-"
	 "HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20270115%2Fap-southeast-2%2Frds-db%2Faws4_"
	 "request&X-Amz-Date=20270115T080000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-"
	 "Security-Token=tok~en.-_&X-Amz-Signature="
	 "a19ccd1ef50da1a746c1d514b80a4c44d338b7b996b54ce2e68142895c100262"},
};

static char *
s_generate(const vector *v, char *err, size_t errlen)
{
	rds_token_target t = {v->host, v->port, v->user, v->region};
	aws_credentials c = {(char *) v->akid, (char *) v->secret, (char *) v->token, 0, "test"};

	return rds_token_generate(&t, &c, v->now, err, errlen);
}

static void
test_botocore_vectors(void **state)
{
	char err[256];
	size_t i;

	(void) state;
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++)
	{
		char *tok = s_generate(&vectors[i], err, sizeof(err));

		assert_non_null(tok);
		assert_string_equal(tok, vectors[i].want);
		rds_token_free(tok);
	}
}

/* The signature depends on every input: change one, the token changes. */
static void
test_inputs_signed(void **state)
{
	char err[256];
	vector v = vectors[0];
	char *base, *tok;

	(void) state;
	base = s_generate(&v, err, sizeof(err));
	assert_non_null(base);
	v.now++;
	tok = s_generate(&v, err, sizeof(err));
	assert_string_not_equal(tok, base);
	rds_token_free(tok);
	v = vectors[0];
	v.user = "relay2";
	tok = s_generate(&v, err, sizeof(err));
	assert_string_not_equal(strrchr(tok, '='), strrchr(base, '='));
	rds_token_free(tok);
	v = vectors[0];
	v.port = 5433;
	tok = s_generate(&v, err, sizeof(err));
	assert_string_not_equal(strrchr(tok, '='), strrchr(base, '='));
	rds_token_free(tok);
	rds_token_free(base);
}

static void
test_missing_inputs(void **state)
{
	char err[256];
	vector v = vectors[0];
	rds_token_target t = {v.host, v.port, v.user, v.region};

	(void) state;
	v.region = "";
	assert_null(s_generate(&v, err, sizeof(err)));
	assert_non_null(strstr(err, "region"));
	v = vectors[0];
	v.user = NULL;
	assert_null(s_generate(&v, err, sizeof(err)));
	v = vectors[0];
	v.port = 0;
	assert_null(s_generate(&v, err, sizeof(err)));
	assert_null(rds_token_generate(&t, NULL, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "credentials"));
	rds_token_free(NULL);
}

/* Split s at tabs into at most n fields (in place); the count. */
static int
s_fields(char *s, char **f, int n)
{
	int i = 0;

	while (i < n)
	{
		f[i++] = s;
		s = strchr(s, '\t');
		if (s == NULL)
			break;
		*s++ = '\0';
	}
	return i;
}

/*
 * RDS_TOKEN_VECTORS: lines of "epoch host port user region akid secret
 * token|- botocore_token" (tab-separated): the relay's token must be
 * botocore's, byte for byte.
 */
static void
test_vector_file(void **state)
{
	const char *path = getenv("RDS_TOKEN_VECTORS");
	char line[8192], err[256];
	int n = 0;
	FILE *f;

	(void) state;
	if (path == NULL)
		skip();
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
	{
		char *fl[9];
		vector v;
		char *tok;

		line[strcspn(line, "\n")] = '\0';
		assert_int_equal(s_fields(line, fl, 9), 9);
		v.now = (time_t) strtoll(fl[0], NULL, 10);
		v.host = fl[1];
		v.port = atoi(fl[2]);
		v.user = fl[3];
		v.region = fl[4];
		v.akid = fl[5];
		v.secret = fl[6];
		v.token = strcmp(fl[7], "-") == 0 ? NULL : fl[7];
		tok = s_generate(&v, err, sizeof(err));
		assert_non_null(tok);
		if (strcmp(tok, fl[8]) != 0)
			fail_msg("vector %d (%s:%d user %s):\n relay    %s\n botocore %s", n + 1, v.host,
					 v.port, v.user, tok, fl[8]);
		rds_token_free(tok);
		n++;
	}
	fclose(f);
	assert_true(n > 0);
	printf("checked %d vectors from %s\n", n, path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_botocore_vectors),
		cmocka_unit_test(test_inputs_signed),
		cmocka_unit_test(test_missing_inputs),
		cmocka_unit_test(test_vector_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
