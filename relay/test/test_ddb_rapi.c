/*
 * test_ddb_rapi.c
 *		The Lambda Runtime API calls (ddb_rapi.c) against canned HTTP
 *		servers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ddb_rapi.h"
#include "th_util.h"

static void
test_rapi_next_and_response(void **state)
{
	th_http *s = th_http_start();
	char api[64];
	char err[256];
	ddb_rapi_resp r;

	(void) state;
	snprintf(api, sizeof(api), "127.0.0.1:%d", th_http_port(s));
	th_http_push(s, 200,
				 "Lambda-Runtime-Aws-Request-Id: 8476a536-e9f4-11e8-9739-2dfe598c3fcd\r\n"
				 "lambda-runtime-deadline-ms: 1542409706888\r\n"
				 "Lambda-Runtime-Trace-Id: Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700\r\n",
				 "{\"Records\":[]}");
	th_http_push(s, 202, "", "");
	ddb_rapi_resp_init(&r);
	assert_int_equal(ddb_rapi_request(api, "GET", "/2018-06-01/runtime/invocation/next", NULL, NULL,
									  0, &r, NULL, err, sizeof(err)),
					 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.request_id, "8476a536-e9f4-11e8-9739-2dfe598c3fcd");
	assert_string_equal(r.deadline_ms, "1542409706888");
	assert_string_equal(r.trace_id, "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700");
	assert_string_equal(r.body.data, "{\"Records\":[]}");

	assert_int_equal(ddb_rapi_request(api, "POST", "/2018-06-01/runtime/invocation/x/response",
									  "Lambda-Runtime-Function-Error-Type: T", "{\"a\":1}", 7, &r,
									  NULL, err, sizeof(err)),
					 0);
	assert_int_equal(r.status, 202);
	assert_int_equal(th_http_count(s), 2);
	assert_non_null(
		strstr(th_http_request(s, 0), "GET /2018-06-01/runtime/invocation/next HTTP/1.1"));
	assert_non_null(strstr(th_http_request(s, 1), "Content-Length: 7\r\n"));
	assert_non_null(strstr(th_http_request(s, 1), "Lambda-Runtime-Function-Error-Type: T\r\n"));
	assert_non_null(strstr(th_http_request(s, 1), "\r\n\r\n{\"a\":1}"));
	ddb_rapi_resp_free(&r);
	th_http_stop(s);
}

/* A one-shot server sending a canned raw response, then closing. */
typedef struct raw_server
{
	int fd;
	const char *resp;
} raw_server;

static void *
raw_serve(void *arg)
{
	raw_server *rs = arg;
	int c = accept(rs->fd, NULL, NULL);
	char buf[4096];

	if (c >= 0)
	{
		ssize_t n = read(c, buf, sizeof(buf));

		(void) n;
		n = write(c, rs->resp, strlen(rs->resp));
		(void) n;
		close(c);
	}
	return NULL;
}

static int
raw_request(const char *canned, ddb_rapi_resp *r, char *err, size_t errlen)
{
	raw_server rs;
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	pthread_t t;
	char api[64];
	int rc;

	rs.fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(rs.fd, (struct sockaddr *) &a, sizeof(a)), 0);
	assert_int_equal(listen(rs.fd, 1), 0);
	getsockname(rs.fd, (struct sockaddr *) &a, &alen);
	rs.resp = canned;
	pthread_create(&t, NULL, raw_serve, &rs);
	snprintf(api, sizeof(api), "127.0.0.1:%d", ntohs(a.sin_port));
	rc = ddb_rapi_request(api, "GET", "/next", NULL, NULL, 0, r, NULL, err, errlen);
	pthread_join(t, NULL);
	close(rs.fd);
	return rc;
}

static void
test_rapi_chunked_and_close_delimited(void **state)
{
	ddb_rapi_resp r;
	char err[256];

	(void) state;
	ddb_rapi_resp_init(&r);
	assert_int_equal(raw_request("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
								 "Lambda-Runtime-Aws-Request-Id: abc\r\n\r\n"
								 "5\r\n{\"Rec\r\n9\r\nords\":[]}\r\n0\r\n\r\n",
								 &r, err, sizeof(err)),
					 0);
	assert_string_equal(r.request_id, "abc");
	assert_string_equal(r.body.data, "{\"Records\":[]}");
	/* No length at all: the body runs to the close. */
	assert_int_equal(
		raw_request("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{\"x\":1}", &r, err, sizeof(err)),
		0);
	assert_string_equal(r.body.data, "{\"x\":1}");
	/* Shorter than announced: an error, not a truncated event. */
	assert_int_equal(
		raw_request("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{\"x\":1}", &r, err, sizeof(err)),
		-1);
	assert_non_null(strstr(err, "ended early"));
	assert_int_equal(raw_request("garbage", &r, err, sizeof(err)), -1);
	ddb_rapi_resp_free(&r);
}

static void
test_rapi_unreachable(void **state)
{
	ddb_rapi_resp r;
	char err[256];

	(void) state;
	ddb_rapi_resp_init(&r);
	assert_int_equal(
		ddb_rapi_request("127.0.0.1:1", "GET", "/", NULL, NULL, 0, &r, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "connecting to the Runtime API"));
	assert_int_equal(
		ddb_rapi_request("no-port", "GET", "/", NULL, NULL, 0, &r, NULL, err, sizeof(err)), -1);
	ddb_rapi_resp_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rapi_next_and_response),
		cmocka_unit_test(test_rapi_chunked_and_close_delimited),
		cmocka_unit_test(test_rapi_unreachable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
