/*
 * ddb_rapi.c
 *		Lambda Runtime API requests over http.c (see ddb_rapi.h).
 */
#include "ddb_rapi.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http.h"

void
ddb_rapi_resp_init(ddb_rapi_resp *r)
{
	memset(r, 0, sizeof(*r));
}

void
ddb_rapi_resp_free(ddb_rapi_resp *r)
{
	buf_free(&r->body);
}

int
ddb_rapi_request(const char *api, const char *method, const char *path, const char *extra_header,
				 const char *body, size_t body_len, ddb_rapi_resp *resp,
				 volatile sig_atomic_t *stop, char *err, size_t errlen)
{
	const char *colon = strrchr(api, ':');
	const char *hdrs[2];
	char url[512], herr[512], te[64];
	http_client *c;
	http_request req;
	http_response hr;
	int rc;

	resp->status = 0;
	resp->request_id[0] = resp->deadline_ms[0] = resp->trace_id[0] = '\0';
	buf_reset(&resp->body);
	if (colon == NULL || colon == api || colon[1] == '\0')
	{
		snprintf(err, errlen, "AWS_LAMBDA_RUNTIME_API \"%s\" is not host:port", api);
		return -1;
	}
	snprintf(url, sizeof(url), "http://%s%s", api, path);
	c = http_client_new(NULL, err, errlen);
	if (c == NULL)
		return -1;
	memset(&req, 0, sizeof(req));
	memset(&hr, 0, sizeof(hr));
	req.method = method;
	req.url = url;
	req.headers = hdrs;
	if (body)
		hdrs[req.n_headers++] = "Content-Type: application/json";
	if (extra_header)
		hdrs[req.n_headers++] = extra_header;
	req.body = body;
	req.body_len = body_len;
	req.timeout_ms = -1;
	req.stop = stop;
	rc = http_do(c, &req, &hr, herr, sizeof(herr));
	if (rc != 0 && http_response_header(&hr, "Transfer-Encoding", te, sizeof(te)) &&
		strcasecmp(te, "chunked") == 0 && hr.failure == HTTP_FAIL_OTHER)
		snprintf(err, errlen, "malformed chunked response from the Runtime API");
	else if (rc != 0)
		snprintf(err, errlen, "%s the Runtime API at %s: %s",
				 hr.failure == HTTP_FAIL_CONNECT ? "connecting to" : "calling", api, herr);
	else
	{
		resp->status = (int) hr.status;
		http_response_header(&hr, "Lambda-Runtime-Aws-Request-Id", resp->request_id,
							 sizeof(resp->request_id));
		http_response_header(&hr, "Lambda-Runtime-Deadline-Ms", resp->deadline_ms,
							 sizeof(resp->deadline_ms));
		http_response_header(&hr, "Lambda-Runtime-Trace-Id", resp->trace_id,
							 sizeof(resp->trace_id));
		buf_append(&resp->body, hr.body.data, hr.body.len);
		if (buf_failed(&resp->body))
		{
			snprintf(err, errlen, "out of memory");
			rc = -1;
		}
	}
	http_response_free(&hr);
	http_client_free(c);
	return rc;
}
