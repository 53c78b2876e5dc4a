/*
 * aws_request.c
 *		One signed AWS request and the error classifier (see aws_request.h).
 */
#include "aws_request.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int
aws_request_send(http_client *http, credentials_provider *creds, const aws_request *r,
				 http_response *resp, buf *scratch, aws_status *st, char *err, size_t errlen)
{
	const aws_credentials *c;
	sigv4_header sh[16];
	char hash[65], cerr[512];
	sigv4_request sr;
	sigv4_params sp;
	sigv4_result res;
	const char *lines[20];
	size_t off[20], nh = 0, i, url_off;
	http_request req = {0};
	int rc;

	if (r->n_headers > 12)
	{
		snprintf(err, errlen, "too many headers");
		*st = AWS_FATAL;
		return -1;
	}
	if (credentials_get(creds, &c, cerr, sizeof(cerr)) < 0)
	{
		snprintf(err, errlen, "%s", cerr);
		/* nothing configured is a configuration error; a failed fetch may pass */
		*st = credentials_configured() ? AWS_RETRY : AWS_FATAL;
		return -1;
	}
	sh[0] = (sigv4_header){"Host", r->host};
	for (i = 0; i < r->n_headers; i++)
		sh[i + 1] = r->headers[i];
	sigv4_sha256_hex(r->body ? r->body : "", r->body ? r->len : 0, hash);
	memset(&sr, 0, sizeof(sr));
	sr.method = r->method;
	sr.path = r->path;
	sr.query = r->query;
	sr.headers = sh;
	sr.n_headers = r->n_headers + 1;
	sr.payload_hash = hash;
	memset(&sp, 0, sizeof(sp));
	sp.access_key = c->access_key;
	sp.secret_key = c->secret_key;
	sp.session_token = c->session_token;
	sp.region = r->region;
	sp.service = r->service;
	sp.now = time(NULL);
	sp.normalize_path = !r->s3;
	sp.sign_body = r->s3;
	if (sigv4_sign(&sr, &sp, &res, cerr, sizeof(cerr)) < 0)
	{
		snprintf(err, errlen, "%s", cerr);
		*st = AWS_FATAL;
		return -1;
	}

	/* the URL and the header lines in one buffer, pointed into afterwards */
	buf_reset(scratch);
	url_off = scratch->len;
	buf_printf(scratch, "%s://%s%s%s%s", r->scheme, r->host, res.canonical_path,
			   r->query && *r->query ? "?" : "", r->query && *r->query ? r->query : "");
	buf_putc(scratch, '\0');
#define LINE(...)                                                                                  \
	do                                                                                             \
	{                                                                                              \
		off[nh++] = scratch->len;                                                                  \
		buf_printf(scratch, __VA_ARGS__);                                                          \
		buf_putc(scratch, '\0');                                                                   \
	} while (0)
	LINE("Host: %s", r->host);
	for (i = 0; i < r->n_headers; i++)
		LINE("%s: %s", r->headers[i].name, r->headers[i].value);
	LINE("X-Amz-Date: %s", res.amz_date);
	LINE("Authorization: %s", res.authorization);
	if (r->s3)
		LINE("x-amz-content-sha256: %s", hash);
	if (c->session_token)
		LINE("X-Amz-Security-Token: %s", c->session_token);
#undef LINE
	sigv4_result_free(&res);
	if (buf_failed(scratch))
	{
		snprintf(err, errlen, "out of memory");
		*st = AWS_RETRY;
		return -1;
	}
	for (i = 0; i < nh; i++)
		lines[i] = scratch->data + off[i];
	req.method = r->method;
	req.url = scratch->data + url_off;
	req.headers = lines;
	req.n_headers = nh;
	req.body = r->body;
	req.body_len = r->len;
	req.timeout_ms = r->timeout_ms;
	rc = http_do(http, &req, resp, err, errlen);
	/* the signature and the token must not linger in memory */
	memset(scratch->data, 0, scratch->len);
	if (rc < 0)
	{
		/* a certificate we cannot verify stays so: no retry helps */
		*st = resp->failure == HTTP_FAIL_TLS_VERIFY ? AWS_FATAL : AWS_RETRY;
		return -1;
	}
	return 0;
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
