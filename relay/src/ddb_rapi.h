/*
 * ddb_rapi.h
 *		The AWS Lambda Runtime API calls of `eventrelay dynamodb
 *		--input=lambda`: one request to http://$AWS_LAMBDA_RUNTIME_API over
 *		http.c, with the Lambda-Runtime-* response headers picked out.
 *
 * invocation/next is a long poll: no timeout, but a signal that sets *stop
 * ends it.
 */
#ifndef DDB_RAPI_H
#define DDB_RAPI_H

#include <signal.h>
#include <stddef.h>

#include "buf.h"

typedef struct ddb_rapi_resp
{
	int status;
	char request_id[128]; /* Lambda-Runtime-Aws-Request-Id */
	char deadline_ms[32]; /* Lambda-Runtime-Deadline-Ms */
	char trace_id[256];	  /* Lambda-Runtime-Trace-Id */
	buf body;
} ddb_rapi_resp;

/*
 * One request to http://<api><path> (api is "host:port").  body may be NULL
 * (GET).  extra_header is one "Name: value" line without CRLF, or NULL.
 * Returns 0 when a response arrived (any status), -1 with err otherwise.
 */
int ddb_rapi_request(const char *api, const char *method, const char *path,
					 const char *extra_header, const char *body, size_t body_len,
					 ddb_rapi_resp *resp, volatile sig_atomic_t *stop, char *err, size_t errlen);

void ddb_rapi_resp_init(ddb_rapi_resp *r);
void ddb_rapi_resp_free(ddb_rapi_resp *r);

#endif /* DDB_RAPI_H */
