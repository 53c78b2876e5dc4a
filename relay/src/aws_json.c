/*
 * aws_json.c
 *		Signed AWS JSON-protocol calls and the error classifier (see
 *		aws_json.h).
 */
#include "aws_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "log.h"

struct aws_json
{
	char *service;
	char *target;
	char *ctype;
	char *region;
	char *url;
	http_url u;
	long timeout_ms;
	http_client *http;
	credentials_provider *creds;
	http_response resp;
	buf hdr; /* header lines, NUL-separated */
};

static char *
s_dup(const char *s, bool *ok)
{
	char *d = strdup(s ? s : "");

	if (d == NULL)
		*ok = false;
	return d;
}

aws_json *
aws_json_new(const aws_json_options *opt, char *err, size_t errlen)
{
	aws_json *a = calloc(1, sizeof(*a));
	http_options ho = {opt->ca_bundle, 5000, NULL};
	bool ok = true;

	if (a == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->service = s_dup(opt->service, &ok);
	a->target = s_dup(opt->target, &ok);
	a->ctype = s_dup(opt->content_type, &ok);
	a->region = s_dup(opt->region, &ok);
	a->url = s_dup(opt->endpoint, &ok);
	a->timeout_ms = opt->timeout_ms > 0 ? opt->timeout_ms : 30000;
	if (!ok)
	{
		snprintf(err, errlen, "out of memory");
		goto on_error;
	}
	if (http_url_parse(a->url, &a->u, err, errlen) < 0)
		goto on_error;
	if (strcmp(a->u.scheme, "http") == 0 && !http_url_is_loopback(&a->u))
		log_kv(LOG_WARN, "AWS endpoint is plain http on a non-loopback host: no TLS", "endpoint",
			   a->url, NULL);
	if ((a->http = http_client_new(&ho, err, errlen)) == NULL ||
		(a->creds = credentials_provider_new(err, errlen)) == NULL)
		goto on_error;
	return a;

on_error:
	aws_json_free(a);
	return NULL;
}

void
aws_json_free(aws_json *a)
{
	if (a == NULL)
		return;
	http_client_free(a->http);
	credentials_provider_free(a->creds);
	http_response_free(&a->resp);
	buf_free(&a->hdr);
	free(a->service);
	free(a->target);
	free(a->ctype);
	free(a->region);
	free(a->url);
	free(a);
}

/* Sign and send; -1 (with *st) when no answer arrived. */
static int
s_send(aws_json *a, const char *op, const char *body, size_t len, aws_status *st, char *err,
	   size_t errlen)
{
	char target[128], herr[512];
	sigv4_header sh[2] = {{"Content-Type", a->ctype}, {"X-Amz-Target", target}};
	aws_request r = {"POST",	   a->u.scheme, a->u.host, a->u.path[0] ? a->u.path : "/",
					 NULL,		   sh,			2,		   body,
					 len,		   a->service,	a->region, false,
					 a->timeout_ms};

	snprintf(target, sizeof(target), "%s.%s", a->target, op);
	if (aws_request_send(a->http, a->creds, &r, &a->resp, &a->hdr, st, herr, sizeof(herr)) < 0)
	{
		snprintf(err, errlen, "%s: %s", op, herr);
		return -1;
	}
	return 0;
}
aws_status
aws_json_call(aws_json *a, const char *op, const char *body, size_t len, buf **answer, char *type,
			  size_t typelen, char *err, size_t errlen)
{
	buf *rb = &a->resp.body;
	const char *msg = NULL, *t;
	char perr[128];
	jv_doc d;
	aws_status st;

	type[0] = '\0';
	*answer = NULL;
	if (s_send(a, op, body, len, &st, err, errlen) < 0)
		return st;
	if (a->resp.status == 200)
	{
		*answer = rb;
		return AWS_OK;
	}
	/* {"__type":"com.amazonaws.kinesis#ResourceNotFoundException","message":"..."} */
	jv_doc_init(&d);
	if (rb->len && strstr(rb->data, "<Code>"))
	{
		/* some front ends answer auth failures in XML */
		const char *c = strstr(rb->data, "<Code>") + 6;

		snprintf(type, typelen, "%.*s", (int) strcspn(c, "<"), c);
	}
	else if (rb->len && jv_parse(&d, rb->data, rb->len, perr, sizeof(perr)) == 0)
	{
		/* members of another type (null included) are absent */
		if ((t = jv_str(jv_get(d.root, "__type"))) != NULL)
			snprintf(type, typelen, "%s", strrchr(t, '#') ? strrchr(t, '#') + 1 : t);
		if ((msg = jv_str(jv_get(d.root, "message"))) == NULL)
			msg = jv_str(jv_get(d.root, "Message"));
	}
	snprintf(err, errlen, "%s: HTTP %ld %s%s%.200s", op, a->resp.status,
			 type[0] ? type : "(no error type)", msg && *msg ? ": " : "", msg ? msg : "");
	jv_doc_free(&d);
	st = aws_classify(a->resp.status, type);
	if (st == AWS_EXPIRED)
		credentials_invalidate(a->creds);
	return st;
}
