/*
 * test_credentials.c
 *		The credential chain against a canned HTTP server standing in for the
 *		ECS credentials endpoint and EC2 instance metadata (IMDSv2), plus the
 *		URL helper of http.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <pthread.h>

#include <cmocka.h>

#include "aws_credentials.h"
#include "http.h"
#include "th_util.h"

static void
clear_env(void)
{
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	unsetenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

static void
test_env(void **state)
{
	credentials_provider *p;
	const aws_credentials *c;
	char err[512];

	(void) state;
	clear_env();
	setenv("AWS_ACCESS_KEY_ID", "AKID", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "SECRET", 1);
	setenv("AWS_SESSION_TOKEN", "TOKEN", 1);
	p = credentials_provider_new(err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(credentials_get(p, &c, err, sizeof(err)), 0);
	assert_string_equal(c->access_key, "AKID");
	assert_string_equal(c->secret_key, "SECRET");
	assert_string_equal(c->session_token, "TOKEN");
	assert_string_equal(c->source, "environment");
	credentials_provider_free(p);
}

static void
test_none(void **state)
{
	credentials_provider *p;
	const aws_credentials *c;
	char err[512];

	(void) state;
	clear_env();
	p = credentials_provider_new(err, sizeof(err));
	assert_int_equal(credentials_get(p, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no AWS credentials"));
	credentials_provider_free(p);
}

static void
test_container(void **state)
{
	th_http *srv = th_http_start();
	credentials_provider *p;
	const aws_credentials *c;
	char err[512], url[128];

	(void) state;
	clear_env();
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v2/credentials/abc", th_http_port(srv));
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer xyz", 1);
	th_http_push(srv, 200, "",
				 "{\"AccessKeyId\":\"ASIAC\",\"SecretAccessKey\":\"sc\",\"Token\":\"tc\","
				 "\"Expiration\":\"2099-01-01T00:00:00Z\"}");
	p = credentials_provider_new(err, sizeof(err));
	assert_int_equal(credentials_get(p, &c, err, sizeof(err)), 0);
	assert_string_equal(c->access_key, "ASIAC");
	assert_string_equal(c->session_token, "tc");
	assert_string_equal(c->source, "container");
	assert_true(c->expiration > 4000000000);
	assert_int_equal(th_http_count(srv), 1);
	assert_non_null(strstr(th_http_request(srv, 0), "GET /v2/credentials/abc "));
	assert_non_null(strcasestr(th_http_request(srv, 0), "\r\nAuthorization: Bearer xyz\r\n"));
	/* cached: no second request */
	assert_int_equal(credentials_get(p, &c, err, sizeof(err)), 0);
	assert_int_equal(th_http_count(srv), 1);
	credentials_provider_free(p);
	th_http_stop(srv);
}

static void
test_imds(void **state)
{
	th_http *srv = th_http_start();
	credentials_provider *p;
	const aws_credentials *c;
	char err[512], url[128];

	(void) state;
	clear_env();
	unsetenv("AWS_EC2_METADATA_DISABLED");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", th_http_port(srv));
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
	/* credentials that expire within the refresh margin: fetched again next time */
	th_http_push(srv, 200, "", "imds-session-token");
	th_http_push(srv, 200, "", "my-role\n");
	th_http_push(srv, 200, "",
				 "{\"Code\":\"Success\",\"AccessKeyId\":\"ASIAI\",\"SecretAccessKey\":\"si\","
				 "\"Token\":\"ti\",\"Expiration\":\"2000-01-01T00:00:00Z\"}");
	th_http_push(srv, 200, "", "imds-session-token-2");
	th_http_push(srv, 200, "", "my-role");
	th_http_push(srv, 200, "",
				 "{\"Code\":\"Success\",\"AccessKeyId\":\"ASIAJ\",\"SecretAccessKey\":\"sj\","
				 "\"Token\":\"tj\",\"Expiration\":\"2099-01-01T00:00:00Z\"}");
	p = credentials_provider_new(err, sizeof(err));
	assert_int_equal(credentials_get(p, &c, err, sizeof(err)), 0);
	assert_string_equal(c->access_key, "ASIAI");
	assert_string_equal(c->source, "imds");
	assert_int_equal(th_http_count(srv), 3);
	assert_non_null(strstr(th_http_request(srv, 0), "PUT /latest/api/token "));
	assert_non_null(
		strcasestr(th_http_request(srv, 0), "X-aws-ec2-metadata-token-ttl-seconds: 21600"));
	assert_non_null(
		strstr(th_http_request(srv, 1), "GET /latest/meta-data/iam/security-credentials/ "));
	assert_non_null(
		strcasestr(th_http_request(srv, 1), "X-aws-ec2-metadata-token: imds-session-token"));
	assert_non_null(
		strstr(th_http_request(srv, 2), "GET /latest/meta-data/iam/security-credentials/my-role "));
	assert_int_equal(credentials_get(p, &c, err, sizeof(err)), 0);
	assert_string_equal(c->access_key, "ASIAJ");
	assert_int_equal(th_http_count(srv), 6);
	credentials_provider_free(p);
	th_http_stop(srv);
}

/* Three clients (Kinesis sink, S3 sink, S3 dead letter), one IMDS session. */
typedef struct get_arg
{
	credentials_provider *p;
	int rc;
	char key[32];
} get_arg;

static void *
get_in_thread(void *arg)
{
	get_arg *g = arg;
	const aws_credentials *c;
	char err[256];

	g->rc = credentials_get(g->p, &c, err, sizeof(err));
	if (g->rc == 0)
		snprintf(g->key, sizeof(g->key), "%s", c->access_key);
	return NULL;
}

static void
test_shared_between_clients(void **state)
{
	th_http *srv = th_http_start();
	get_arg g[3];
	pthread_t t[3];
	char err[512], url[128];
	int i;

	(void) state;
	clear_env();
	unsetenv("AWS_EC2_METADATA_DISABLED");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", th_http_port(srv));
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
	th_http_push(srv, 200, "", "imds-session-token");
	th_http_push(srv, 200, "", "my-role");
	th_http_push(srv, 200, "",
				 "{\"Code\":\"Success\",\"AccessKeyId\":\"ASIAS\",\"SecretAccessKey\":\"ss\","
				 "\"Token\":\"ts\",\"Expiration\":\"2099-01-01T00:00:00Z\"}");
	for (i = 0; i < 3; i++)
	{
		g[i].p = credentials_provider_new(err, sizeof(err));
		assert_non_null(g[i].p);
	}
	for (i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, get_in_thread, &g[i]);
	for (i = 0; i < 3; i++)
	{
		pthread_join(t[i], NULL);
		assert_int_equal(g[i].rc, 0);
		assert_string_equal(g[i].key, "ASIAS");
	}
	/* token, role, credentials: once for all three */
	assert_int_equal(th_http_count(srv), 3);
	for (i = 0; i < 3; i++)
		credentials_provider_free(g[i].p);
	th_http_stop(srv);
}

static void
test_url_parse(void **state)
{
	http_url u;
	char err[128];

	(void) state;
	assert_int_equal(http_url_parse("http://127.0.0.1:4567", &u, err, sizeof(err)), 0);
	assert_string_equal(u.host, "127.0.0.1:4567");
	assert_string_equal(u.hostname, "127.0.0.1");
	assert_int_equal(u.port, 4567);
	assert_string_equal(u.path, "/");
	assert_true(http_url_is_loopback(&u));
	assert_int_equal(
		http_url_parse("https://kinesis.eu-west-1.amazonaws.com/x?y", &u, err, sizeof(err)), 0);
	assert_string_equal(u.host, "kinesis.eu-west-1.amazonaws.com");
	assert_string_equal(u.path, "/x");
	assert_false(http_url_is_loopback(&u));
	assert_int_equal(http_url_parse("ftp://x", &u, err, sizeof(err)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_env),		  cmocka_unit_test(test_none),
		cmocka_unit_test(test_container), cmocka_unit_test(test_imds),
		cmocka_unit_test(test_url_parse), cmocka_unit_test(test_shared_between_clients),
	};

	return cmocka_run_group_tests_name("credentials", tests, NULL, NULL);
}
