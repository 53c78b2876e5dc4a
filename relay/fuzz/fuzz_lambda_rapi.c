/*
 * fuzz_lambda_rapi.c
 *		Fuzz target: the Lambda Runtime API's answers as bytes on the wire
 *		(status line, headers, Content-Length or chunked body), read by
 *		ddb_rapi_request (http.c, libcurl) from a loopback server thread
 *		that sends the input
 *		as the whole response; a 200 body then goes through
 *		ddb_lambda_handle as the invocation payload (stdout sink), whose
 *		answer must be one JSON object ({"batchItemFailures":[...]}).
 */
#include "config.h"
#include "ddb_lambda.h"
#include "ddb.h"
#include "stop.h"
#include "ddb_out.h"
#include "ddb_rapi.h"
#include "fz.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int s_listen = -1;
static char s_api[64];
static pthread_mutex_t s_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t s_cv = PTHREAD_COND_INITIALIZER;
static const uint8_t *s_data;
static size_t s_size;
static bool s_pending; /* an input waits to be served */
static bool s_served;  /* ... and has been */
static relay_config s_cfg;
static ddb_out s_out;

/* One connection per input: read the request head, send the input, drain. */
static void *
s_server(void *arg)
{
	(void) arg;
	for (;;)
	{
		int fd = accept(s_listen, NULL, NULL);
		char req[8192];
		size_t got = 0;
		ssize_t n;
		const uint8_t *p;
		size_t left;

		if (fd < 0)
			continue;
		while (got < sizeof(req) - 1 && (n = recv(fd, req + got, sizeof(req) - 1 - got, 0)) > 0)
		{
			got += (size_t) n;
			req[got] = '\0';
			if (strstr(req, "\r\n\r\n"))
				break;
		}
		pthread_mutex_lock(&s_mu);
		while (!s_pending)
			pthread_cond_wait(&s_cv, &s_mu);
		p = s_data;
		left = s_size;
		pthread_mutex_unlock(&s_mu);
		while (left > 0 && (n = send(fd, p, left, MSG_NOSIGNAL)) > 0)
		{
			p += n;
			left -= (size_t) n;
		}
		shutdown(fd, SHUT_WR);
		while (recv(fd, req, sizeof(req), 0) > 0)
			;
		close(fd);
		pthread_mutex_lock(&s_mu);
		s_pending = false;
		s_served = true;
		pthread_cond_broadcast(&s_cv);
		pthread_mutex_unlock(&s_mu);
	}
	return NULL;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *args[] = {"dynamodb", "--sink=stdout", "--dead-letter=/dev/null", NULL};
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	pthread_t th;
	char err[256];

	(void) argc;
	(void) argv;
	fz_quiet();
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s_listen = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s_listen < 0 || bind(s_listen, (struct sockaddr *) &a, sizeof(a)) != 0 ||
		listen(s_listen, 8) != 0 || getsockname(s_listen, (struct sockaddr *) &a, &alen) != 0)
		fz_fail("cannot listen on 127.0.0.1");
	snprintf(s_api, sizeof(s_api), "127.0.0.1:%d", ntohs(a.sin_port));
	if (pthread_create(&th, NULL, s_server, NULL) != 0)
		fz_fail("pthread_create");
	pthread_detach(th);
	/* the answer comes over a real socket, read by libcurl: no scripted http_do */
	fz_http_passthrough = true;
	setenv("AWS_ACCESS_KEY_ID", "AKIDFUZZ", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
	if (config_parse(&s_cfg, 3, args, err, sizeof(err)) != 0)
		fz_fail("config_parse: %s", err);
	if (ddb_out_open(&s_out, &s_cfg, err, sizeof(err)) != 0)
		fz_fail("ddb_out_open: %s", err);
	return 0;
}

static void
s_handle(ddb_rapi_resp *r)
{
	ddb_options o;
	ddb_stats st;
	buf ans;
	char err[256];

	memset(&o, 0, sizeof(o));
	ddb_record_opts_default(&o.rec);
	o.input = "lambda";
	o.publish_timeout_ms = 1000;
	o.on_error = DDB_ON_ERROR_STOP;
	o.cfg = &s_cfg;
	memset(&st, 0, sizeof(st));
	buf_init(&ans);
	if (ddb_lambda_handle(&o, &s_out, r->body.data, r->body.len, 1000, &ans, &st, err,
						  sizeof(err)) == 0)
	{
		if (buf_failed(&ans))
			fz_fail("out of memory");
		fz_check_json_object("Lambda response", ans.data, ans.len);
	}
	buf_free(&ans);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ddb_rapi_resp r;
	char err[256];
	int rc;

	pthread_mutex_lock(&s_mu);
	s_data = data;
	s_size = size;
	s_pending = true;
	s_served = false;
	pthread_cond_broadcast(&s_cv);
	pthread_mutex_unlock(&s_mu);
	ddb_rapi_resp_init(&r);
	rc = ddb_rapi_request(s_api, "GET", "/2018-06-01/runtime/invocation/next", NULL, NULL, 0, &r,
						  NULL, err, sizeof(err));
	/* the server must be done with data before libFuzzer reuses it */
	pthread_mutex_lock(&s_mu);
	while (!s_served)
		pthread_cond_wait(&s_cv, &s_mu);
	pthread_mutex_unlock(&s_mu);
	if (rc == 0)
	{
		if (buf_failed(&r.body) || (r.body.data && r.body.data[r.body.len] != '\0'))
			fz_fail("body not terminated");
		if (memchr(r.request_id, '\0', sizeof(r.request_id)) == NULL ||
			memchr(r.deadline_ms, '\0', sizeof(r.deadline_ms)) == NULL ||
			memchr(r.trace_id, '\0', sizeof(r.trace_id)) == NULL)
			fz_fail("header value not terminated");
		if (r.status == 200 && r.body.data)
			s_handle(&r);
	}
	else if (err[0] == '\0')
		fz_fail("failure without an error text");
	ddb_rapi_resp_free(&r);
	return 0;
}
