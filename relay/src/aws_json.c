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

#include "aws_credentials.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "aws_sigv4.h"

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

aws_status
aws_classify(long st, const char *t)
{
	if (st >= 500 || st == 429 || st == 408 || strstr(t, "Throughput") || strstr(t, "Throttl") ||
		strcmp(t, "LimitExceededException") == 0 || strcmp(t, "SlowDown") == 0 ||
		strcmp(t, "InternalError") == 0 || strcmp(t, "InternalFailure") == 0 ||
		strcmp(t, "RequestTimeout") == 0 || strcmp(t, "RequestTimeTooSkewed") == 0)
		return AWS_RETRY;
	if (strncmp(t, "ExpiredToken", 12) == 0 || strcmp(t, "TokenRefreshRequired") == 0)
		return AWS_EXPIRED;
	if (strcmp(t, "ValidationException") == 0 || strcmp(t, "SerializationException") == 0 ||
		strcmp(t, "InvalidArgumentException") == 0 || st == 413)
		return AWS_INVALID;
	if (strcmp(t, "ResourceNotFoundException") == 0 || strcmp(t, "NoSuchBucket") == 0 ||
		strstr(t, "Signature") || strstr(t, "AccessDenied") || strstr(t, "Unrecognized") ||
		strstr(t, "InvalidClientTokenId") || strcmp(t, "InvalidAccessKeyId") == 0 ||
		strcmp(t, "InvalidToken") == 0 || strstr(t, "MissingAuthentication") ||
		strstr(t, "NotAuthorized") || strncmp(t, "KMS", 3) == 0 ||
		strcmp(t, "PermanentRedirect") == 0 || strcmp(t, "AuthorizationHeaderMalformed") == 0 ||
		st == 403)
		return AWS_FATAL;
	return AWS_OTHER;
}

/* Sign and send; -1 (with *st) when no answer arrived. */
static int
s_send(aws_json *a, const char *op, const char *body, size_t len, aws_status *st, char *err,
	   size_t errlen)
{
	const aws_credentials *c;
	char hash[65], target[128], cerr[512];
	const char *path = a->u.path[0] ? a->u.path : "/";
	sigv4_header sh[3] = {
		{"Host", a->u.host}, {"Content-Type", a->ctype}, {"X-Amz-Target", target}};
	sigv4_request sr = {"POST", path, NULL, sh, 3, hash};
	sigv4_params sp = {0};
	sigv4_result res;
	const char *lines[7];
	size_t off[7], nh = 0, i;
	http_request req = {0};
	int rc;

	snprintf(target, sizeof(target), "%s.%s", a->target, op);
	rc = credentials_get(a->creds, &c, cerr, sizeof(cerr));
	if (rc < 0)
	{
		snprintf(err, errlen, "%s: %s", op, cerr);
		/* nothing configured is a configuration error; a failed fetch may pass */
		*st = credentials_configured() ? AWS_RETRY : AWS_FATAL;
		return -1;
	}
	sigv4_sha256_hex(body, len, hash);
	sp.access_key = c->access_key;
	sp.secret_key = c->secret_key;
	sp.session_token = c->session_token;
	sp.region = a->region;
	sp.service = a->service;
	sp.now = time(NULL);
	sp.normalize_path = true;
	if (sigv4_sign(&sr, &sp, &res, cerr, sizeof(cerr)) < 0)
	{
		snprintf(err, errlen, "%s: %s", op, cerr);
		*st = AWS_FATAL;
		return -1;
	}
	buf_reset(&a->hdr);
#define LINE(...)                                                                                  \
	do                                                                                             \
	{                                                                                              \
		off[nh++] = a->hdr.len;                                                                    \
		buf_printf(&a->hdr, __VA_ARGS__);                                                          \
		buf_putc(&a->hdr, '\0');                                                                   \
	} while (0)
	LINE("Host: %s", a->u.host);
	LINE("Content-Type: %s", a->ctype);
	LINE("X-Amz-Target: %s", target);
	LINE("X-Amz-Date: %s", res.amz_date);
	LINE("Authorization: %s", res.authorization);
	if (c->session_token)
		LINE("X-Amz-Security-Token: %s", c->session_token);
#undef LINE
	sigv4_result_free(&res);
	if (buf_failed(&a->hdr))
	{
		snprintf(err, errlen, "%s: out of memory", op);
		*st = AWS_RETRY;
		return -1;
	}
	for (i = 0; i < nh; i++)
		lines[i] = a->hdr.data + off[i];
	req.method = "POST";
	req.url = a->url;
	req.headers = lines;
	req.n_headers = nh;
	req.body = body;
	req.body_len = len;
	req.timeout_ms = a->timeout_ms;
	rc = http_do(a->http, &req, &a->resp, cerr, sizeof(cerr));
	/* the signature and the token must not linger in memory */
	memset(a->hdr.data, 0, a->hdr.len);
	if (rc < 0)
	{
		snprintf(err, errlen, "%s: %s", op, cerr);
		*st = a->resp.failure == HTTP_FAIL_TLS_VERIFY ? AWS_FATAL : AWS_RETRY;
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
