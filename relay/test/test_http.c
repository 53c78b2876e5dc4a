/*
 * test_http.c
 *		The one HTTP client: response headers of the last response, a long
 *		poll without timeout that a stop flag ends, and the failure classes
 *		callers act on (connect, unverifiable TLS certificate).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "http.h"
#include "th_util.h"

static void
test_response_headers(void **state)
{
	th_http *s = th_http_start();
	http_client *c;
	http_response r = {0};
	http_request req = {0};
	char url[64], err[256], v[64];

	(void) state;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", th_http_port(s));
	th_http_push(s, 201, "X-One:  first \r\nETag: \"abc\"\r\n", "hello");
	c = http_client_new(NULL, err, sizeof(err));
	assert_non_null(c);
	req.method = "GET";
	req.url = url;
	assert_int_equal(http_do(c, &req, &r, err, sizeof(err)), 0);
	assert_int_equal(r.status, 201);
	assert_string_equal(r.body.data, "hello");
	assert_true(http_response_header(&r, "x-one", v, sizeof(v)));
	assert_string_equal(v, "first");
	assert_true(http_response_header(&r, "etag", v, sizeof(v)));
	assert_string_equal(v, "\"abc\"");
	assert_false(http_response_header(&r, "X-Missing", v, sizeof(v)));
	assert_string_equal(v, "");
	http_response_free(&r);
	http_client_free(c);
	th_http_stop(s);
}

/* A server that accepts and never answers. */
static int
silent_server(int *port)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *) &a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 1), 0);
	getsockname(fd, (struct sockaddr *) &a, &alen);
	*port = ntohs(a.sin_port);
	return fd;
}

static volatile sig_atomic_t stop_flag;

static void *
set_stop_later(void *arg)
{
	(void) arg;
	usleep(300 * 1000);
	stop_flag = 1;
	return NULL;
}

static void
test_long_poll_ends_on_stop(void **state)
{
	int port, fd = silent_server(&port);
	http_client *c;
	http_response r = {0};
	http_request req = {0};
	char url[64], err[256];
	pthread_t t;
	struct timespec t0, t1;
	double secs;

	(void) state;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/next", port);
	c = http_client_new(NULL, err, sizeof(err));
	req.method = "GET";
	req.url = url;
	req.timeout_ms = -1; /* none: only the flag ends it */
	req.stop = &stop_flag;
	stop_flag = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_create(&t, NULL, set_stop_later, NULL);
	assert_int_equal(http_do(c, &req, &r, err, sizeof(err)), -1);
	pthread_join(t, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_int_equal(r.failure, HTTP_FAIL_STOPPED);
	assert_non_null(strstr(err, "interrupted"));
	assert_true(secs >= 0.29 && secs < 3.0);
	http_response_free(&r);
	http_client_free(c);
	close(fd);
}

static void
test_failure_classes(void **state)
{
	int port, fd = silent_server(&port);
	http_client *c;
	http_response r = {0};
	http_request req = {0};
	char url[64], err[256];

	(void) state;
	c = http_client_new(NULL, err, sizeof(err));
	req.method = "GET";
	req.url = "http://127.0.0.1:1/";
	assert_int_equal(http_do(c, &req, &r, err, sizeof(err)), -1);
	assert_int_equal(r.failure, HTTP_FAIL_CONNECT);
	/* accepted, never answered */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	req.url = url;
	req.timeout_ms = 200;
	assert_int_equal(http_do(c, &req, &r, err, sizeof(err)), -1);
	assert_int_equal(r.failure, HTTP_FAIL_TIMEOUT);
	http_response_free(&r);
	http_client_free(c);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_response_headers),
		cmocka_unit_test(test_long_poll_ends_on_stop),
		cmocka_unit_test(test_failure_classes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
