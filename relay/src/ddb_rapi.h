/*
 * ddb_rapi.h
 *		A minimal HTTP/1.1 client for the AWS Lambda Runtime API.
 *
 * The Runtime API is plain HTTP on a local address (AWS_LAMBDA_RUNTIME_API,
 * "host:port"), and the one thing the runtime needs from a response besides
 * the body is a header (Lambda-Runtime-Aws-Request-Id, -Deadline-Ms).  The
 * relay's http.c (libcurl) does not expose response headers, and a Lambda
 * cold start gains from not initialising curl for a loopback call, so this
 * file speaks just enough HTTP itself: one request per connection
 * (Connection: close), Content-Length or chunked responses.
 */
#ifndef DDB_RAPI_H
#define DDB_RAPI_H

#include <signal.h>
#include <stddef.h>

#include "ddb_buf.h"

typedef struct ddb_rapi_resp
{
	int status;
	char request_id[128]; /* Lambda-Runtime-Aws-Request-Id */
	char deadline_ms[32]; /* Lambda-Runtime-Deadline-Ms */
	char trace_id[256];	  /* Lambda-Runtime-Trace-Id */
	ddb_buf body;
} ddb_rapi_resp;

/*
 * One request to http://<api><path>.  body may be NULL (GET).  extra_header
 * is one "Name: value" line without CRLF, or NULL.  Returns 0 when a
 * response arrived (any status), -1 with err otherwise.  A signal that sets
 * *stop ends a blocked call with -1.
 */
int ddb_rapi_request(const char *api, const char *method, const char *path,
					 const char *extra_header, const char *body, size_t body_len,
					 ddb_rapi_resp *resp, volatile sig_atomic_t *stop, char *err, size_t errlen);

void ddb_rapi_resp_init(ddb_rapi_resp *r);
void ddb_rapi_resp_free(ddb_rapi_resp *r);

#endif /* DDB_RAPI_H */
