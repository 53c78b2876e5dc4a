/*
 * test_sigv4.c
 *		Runs every case of the AWS SigV4 test suite (relay/testdata/sigv4, see
 *		its SOURCE.md) through sigv4_sign and sigv4_presign at the suite's
 *		fixed clock, comparing canonical request, string to sign and
 *		signature byte for byte.
 *
 * Two layouts: aws-c-auth's <case>/context.json + request.txt (header and
 * query signing) and botocore's classic <case>.req/.creq/.sts/.authz.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "aws_sigv4.h"
#include "th_util.h"

#define SUITE	"../testdata/sigv4"
#define MAXCASE 128

typedef struct parsed_req
{
	char *method;
	char *path;
	char *query;
	sigv4_header hdr[32];
	size_t n_hdr;
	char *body;
	size_t body_len;
	char *text;
} parsed_req;

/* Parse "METHOD URI HTTP/1.1\nName:value\n folded\n\nbody". */
static void
parse_request(const char *text, parsed_req *r)
{
	char *line, *p, *nl, *sp;

	memset(r, 0, sizeof(*r));
	r->text = strdup(text);
	p = r->text;
	nl = strchr(p, '\n');
	if (nl)
		*nl = '\0';
	sp = strchr(p, ' ');
	*sp = '\0';
	r->method = p;
	r->path = sp + 1;
	sp = strstr(r->path, " HTTP/");
	if (sp)
		*sp = '\0';
	if ((sp = strchr(r->path, '?')) != NULL)
	{
		*sp = '\0';
		r->query = sp + 1;
	}
	p = nl ? nl + 1 : NULL;
	while (p && *p && *p != '\n')
	{
		line = p;
		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		p = nl ? nl + 1 : NULL;
		if ((line[0] == ' ' || line[0] == '\t') && r->n_hdr > 0)
		{
			/* obs-fold: continuation of the previous value */
			char *joined;
			const char *prev = r->hdr[r->n_hdr - 1].value;

			joined = malloc(strlen(prev) + strlen(line) + 2);
			sprintf(joined, "%s\n%s", prev, line);
			r->hdr[r->n_hdr - 1].value = joined; /* leaked: test only */
			continue;
		}
		sp = strchr(line, ':');
		assert_non_null(sp);
		*sp = '\0';
		r->hdr[r->n_hdr].name = line;
		r->hdr[r->n_hdr].value = sp + 1;
		r->n_hdr++;
	}
	if (p && *p == '\n')
		p++;
	r->body = p ? p : "";
	r->body_len = strlen(r->body);
}

static char *
fixture(const char *dir, const char *name)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return th_read_file(path, NULL);
}

static const char *
jstr(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static int
jbool(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_boolean(v) : 0;
}

static void
expect_file(const char *dir, const char *name, const char *actual)
{
	char *want = fixture(dir, name);

	assert_non_null(want);
	if (strcmp(want, actual) != 0)
		print_error("%s/%s:\n--- expected\n%s\n--- actual\n%s\n", dir, name, want, actual);
	assert_string_equal(want, actual);
	free(want);
}

/* aws-c-auth layout: header and query signing. */
static void
test_awsc_case(void **state)
{
	const char *dir = *state;
	char *ctxtext = fixture(dir, "context.json");
	char *reqtext = fixture(dir, "request.txt");
	json_object *ctx, *cred;
	parsed_req r;
	sigv4_request req;
	sigv4_params p;
	sigv4_result res;
	char hash[65], err[256];
	struct tm tm;
	char *want, *auth;
	size_t n;

	assert_non_null(ctxtext);
	assert_non_null(reqtext);
	ctx = json_tokener_parse(ctxtext);
	assert_non_null(ctx);
	assert_true(json_object_object_get_ex(ctx, "credentials", &cred));
	parse_request(reqtext, &r);
	sigv4_sha256_hex(r.body, r.body_len, hash);

	memset(&p, 0, sizeof(p));
	p.access_key = jstr(cred, "access_key_id");
	p.secret_key = jstr(cred, "secret_access_key");
	p.session_token = jstr(cred, "token");
	p.region = jstr(ctx, "region");
	p.service = jstr(ctx, "service");
	p.normalize_path = jbool(ctx, "normalize");
	p.sign_body = jbool(ctx, "sign_body");
	p.omit_session_token = jbool(ctx, "omit_session_token");
	p.expires = 3600;
	memset(&tm, 0, sizeof(tm));
	assert_non_null(strptime(jstr(ctx, "timestamp"), "%Y-%m-%dT%H:%M:%SZ", &tm));
	p.now = timegm(&tm);

	req.method = r.method;
	req.path = r.path;
	req.query = r.query;
	req.headers = r.hdr;
	req.n_headers = r.n_hdr;
	req.payload_hash = hash;

	assert_int_equal(sigv4_sign(&req, &p, &res, err, sizeof(err)), 0);
	expect_file(dir, "header-canonical-request.txt", res.canonical_request);
	expect_file(dir, "header-string-to-sign.txt", res.string_to_sign);
	expect_file(dir, "header-signature.txt", res.signature);
	/* the Authorization line of the signed request must match too */
	want = fixture(dir, "header-signed-request.txt");
	n = strlen(res.authorization) + 32;
	auth = malloc(n);
	if (auth == NULL)
		abort();
	snprintf(auth, n, "\nAuthorization:%s\n", res.authorization);
	assert_non_null(strstr(want, auth));
	free(auth);
	free(want);
	sigv4_result_free(&res);

	/* presigned (query) form; the body is still hashed when sign_body is off */
	p.sign_body = 0;
	assert_int_equal(sigv4_presign(&req, &p, &res, err, sizeof(err)), 0);
	expect_file(dir, "query-canonical-request.txt", res.canonical_request);
	expect_file(dir, "query-string-to-sign.txt", res.string_to_sign);
	expect_file(dir, "query-signature.txt", res.signature);
	sigv4_result_free(&res);

	json_object_put(ctx);
	free(ctxtext);
	free(reqtext);
	free(r.text);
}

/* botocore classic layout: <dir>/<name>.{req,creq,sts,authz}. */
static void
test_classic_case(void **state)
{
	const char *dir = *state;
	const char *name = strrchr(dir, '/') + 1;
	char fn[512], hash[65], err[256];
	char *reqtext;
	parsed_req r;
	sigv4_request req;
	sigv4_params p;
	sigv4_result res;

	snprintf(fn, sizeof(fn), "%s.req", name);
	reqtext = fixture(dir, fn);
	assert_non_null(reqtext);
	parse_request(reqtext, &r);
	sigv4_sha256_hex(r.body, r.body_len, hash);
	memset(&p, 0, sizeof(p));
	p.access_key = "AKIDEXAMPLE";
	p.secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
	p.region = "us-east-1";
	p.service = "service";
	p.normalize_path = 1;
	p.now = 1440938160; /* 2015-08-30T12:36:00Z */
	/* the one classic case whose token is not in the .req file */
	if (strcmp(name, "get-vanilla-with-session-token") == 0)
		p.session_token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
	req.method = r.method;
	req.path = r.path;
	req.query = r.query;
	req.headers = r.hdr;
	req.n_headers = r.n_hdr;
	req.payload_hash = hash;
	assert_int_equal(sigv4_sign(&req, &p, &res, err, sizeof(err)), 0);
	snprintf(fn, sizeof(fn), "%s.creq", name);
	expect_file(dir, fn, res.canonical_request);
	snprintf(fn, sizeof(fn), "%s.sts", name);
	expect_file(dir, fn, res.string_to_sign);
	snprintf(fn, sizeof(fn), "%s.authz", name);
	expect_file(dir, fn, res.authorization);
	sigv4_result_free(&res);
	free(reqtext);
	free(r.text);
}

static void
test_uri_encode(void **state)
{
	char *e;

	(void) state;
	e = sigv4_uri_encode("a b/c~d+é", strlen("a b/c~d+é"), true);
	assert_string_equal(e, "a%20b/c~d%2B%C3%A9");
	free(e);
	e = sigv4_uri_encode("a/b", 3, false);
	assert_string_equal(e, "a%2Fb");
	free(e);
}

/* Empty query keys and values, which the suite's names promise but lack. */
static void
test_empty_query_parts(void **state)
{
	sigv4_header h[] = {{"Host", "example.amazonaws.com"}};
	sigv4_request req = {"GET", "/", "b=&a", h, 1, "UNSIGNED-PAYLOAD"};
	sigv4_params p = {"AK", "SK", NULL, "us-east-1", "service", 0, 1, 0, 0, 0};
	sigv4_result res;
	char err[128];

	(void) state;
	assert_int_equal(sigv4_sign(&req, &p, &res, err, sizeof(err)), 0);
	if (strstr(res.canonical_request, "\na=&b=\n") == NULL)
		print_error("%s\n", res.canonical_request);
	assert_non_null(strstr(res.canonical_request, "\na=&b=\n"));
	sigv4_result_free(&res);
}

static char *cases[MAXCASE];
static int n_cases;

static void
find_classic(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[1024], req[2400];
	struct stat st;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL)
	{
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		snprintf(req, sizeof(req), "%s/%s.req", path, e->d_name);
		if (stat(req, &st) == 0 && n_cases < MAXCASE)
			cases[n_cases++] = strdup(path);
		else
			find_classic(path);
	}
	closedir(d);
}

int
main(void)
{
	struct CMUnitTest tests[2 * MAXCASE + 2];
	int n = 0, i, n_awsc, n_classic;
	DIR *d = opendir(SUITE);
	struct dirent *e;
	struct stat st;
	char path[1024];

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
	{
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), SUITE "/%s/context.json", e->d_name);
		if (stat(path, &st) == 0 && n_cases < MAXCASE)
		{
			snprintf(path, sizeof(path), SUITE "/%s", e->d_name);
			cases[n_cases++] = strdup(path);
		}
	}
	closedir(d);
	n_awsc = n_cases;
	find_classic(SUITE "/aws4_testsuite");
	n_classic = n_cases - n_awsc;
	for (i = 0; i < n_cases; i++)
	{
		struct CMUnitTest t = {strrchr(cases[i], '/') + 1,
							   i < n_awsc ? test_awsc_case : test_classic_case, NULL, NULL,
							   cases[i]};

		tests[n++] = t;
	}
	tests[n++] = (struct CMUnitTest) cmocka_unit_test(test_uri_encode);
	tests[n++] = (struct CMUnitTest) cmocka_unit_test(test_empty_query_parts);
	/* the suite must really be there: 38 + 34 cases */
	if (n_awsc != 38 || n_classic != 34)
	{
		fprintf(stderr, "expected 38 + 34 SigV4 cases, found %d + %d\n", n_awsc, n_classic);
		return 1;
	}
	return _cmocka_run_group_tests("sigv4", tests, (size_t) n, NULL, NULL);
}
