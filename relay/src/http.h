/*
 * http.h
 *		A small HTTP client over libcurl (the only file that includes curl).
 *		One http_client keeps one connection alive across requests, so a sink
 *		that sends a PutRecords every few milliseconds does not pay a TCP and
 *		TLS handshake each time.  Not thread-safe: one client per thread.
 *		Used by every HTTP caller: the AWS clients, the credential chain and
 *		the Lambda Runtime API loop (which needs response headers, no
 *		timeout on a long poll, and to stop on SIGTERM).
 *
 * TLS certificates are always verified (ca_bundle overrides the system
 * store).  Plain http is accepted; callers warn when it is not loopback
 * (http_url_is_loopback).
 */
#ifndef RELAY_HTTP_H
#define RELAY_HTTP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

typedef struct http_client http_client;

typedef struct http_options
{
	const char *ca_bundle;	 /* NULL: system default */
	long connect_timeout_ms; /* 0: 5000 */
	const char *user_agent;	 /* NULL: "eventrelay" */
} http_options;

typedef struct http_request
{
	const char *method; /* "GET", "PUT", "POST", ... */
	const char *url;
	const char *const *headers; /* "Name: value" lines */
	size_t n_headers;
	const void *body;
	size_t body_len;
	long timeout_ms; /* whole request; 0: 30000; < 0: none (long polls) */
	/* if set, a request in progress is abandoned (-1) once *stop is set */
	volatile sig_atomic_t *stop;
} http_request;

/* Why a request got no response (http_do returned -1). */
typedef enum http_failure
{
	HTTP_FAIL_NONE = 0,
	HTTP_FAIL_CONNECT,	  /* name resolution or TCP connect */
	HTTP_FAIL_TLS_VERIFY, /* the server's certificate cannot be verified: no retry helps */
	HTTP_FAIL_TIMEOUT,
	HTTP_FAIL_STOPPED, /* *req->stop was set */
	HTTP_FAIL_OTHER	   /* anything else: dropped connection, malformed response, ... */
} http_failure;

typedef struct http_response
{
	long status; /* 0 if no response arrived */
	buf body;	 /* NUL-terminated (data never NULL after http_do) */
	buf headers; /* the response's header lines, "Name: value\r\n" each */
	http_failure failure;
} http_response;

typedef struct http_url
{
	char scheme[8];		/* "http" / "https" */
	char host[256];		/* host[:port] as sent in the Host header */
	char hostname[256]; /* without port */
	int port;			/* explicit port or 0 */
	char path[1024];	/* "/..." (decoded form as given) */
} http_url;

http_client *http_client_new(const http_options *opt, char *err, size_t errlen);
void http_client_free(http_client *c);

/*
 * Send one request and read the whole response into resp (reused across
 * calls).  Returns 0 when a response arrived (any status), -1 on a transport
 * error (connect, timeout, TLS), with the reason in err and resp->failure.
 */
int http_do(http_client *c, const http_request *req, http_response *resp, char *err, size_t errlen);
void http_response_free(http_response *resp);

/*
 * Copy the value of response header name (any case, blanks trimmed) into
 * out; false (out = "") if the response had no such header.
 */
bool http_response_header(const http_response *resp, const char *name, char *out, size_t outlen);

int http_url_parse(const char *url, http_url *out, char *err, size_t errlen);
bool http_url_is_loopback(const http_url *u);

#endif
