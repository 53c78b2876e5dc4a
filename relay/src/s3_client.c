/*
 * s3_client.c
 *		The S3 client: one signed request (SigV4) over the relay's HTTP
 *		client, its error classification, and the reads (GetObject,
 *		ListObjectsV2).  The writes are in s3_upload.c (see s3_client.h).
 */
#include "s3_client.h"
#include "s3_request.h"
#include "codec.h"
#include "aws_request.h"
#include "aws_credentials.h"
#include "http.h"
#include "log.h"
#include "s3_object.h"
#include "s3_xml.h"
#include "aws_sigv4.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- failures ------------------------------------------------------- */

int
s3_fail(s3_client *c, bool retryable, bool config, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	c->retryable = retryable;
	c->config_error = config;
	return -1;
}

/*
 * Classify a non-2xx answer (or a 2xx carrying an <Error> body) and fill
 * err with "what: status Code: Message (request id)".
 */
int
s3_http_error(s3_client *c, const char *what, char *err, size_t errlen)
{
	char code[64] = "", msg[256] = "", rid[128];
	long st = c->resp.status;
	bool retry, config;
	aws_status cls;

	if (!http_response_header(&c->resp, "x-amz-request-id", rid, sizeof(rid)))
		http_response_header(&c->resp, "x-amzn-RequestId", rid, sizeof(rid));

	s3_xml_error(c->resp.body.data, code, sizeof(code), msg, sizeof(msg));
	cls = aws_classify(st, code);
	if (cls == AWS_EXPIRED)
		credentials_invalidate(c->creds);
	retry = cls == AWS_RETRY || cls == AWS_EXPIRED;
	config = cls == AWS_FATAL;
	return s3_fail(c, retry, config, err, errlen, "%s: HTTP %ld%s%s%s%s%s%s%s", what, st,
				   code[0] ? " " : "", code, msg[0] ? ": " : "", msg, rid[0] ? " (request id " : "",
				   rid, rid[0] ? ")" : "");
}

/* ---- one signed request ----------------------------------------------- */

/*
 * Send method on key (NULL: the bucket) with query (already encoded the AWS
 * way, or NULL) and extra headers (sigv4_header pairs).  The answer is in
 * c->resp; returns -1 only when no answer arrived.
 */
int
s3_request(s3_client *c, const char *method, const char *key, const char *query,
		   const sigv4_header *extra, size_t n_extra, const void *body, size_t len,
		   const char *what, char *err, size_t errlen)
{
	buf path = BUF_INIT;
	char herr[512];
	aws_request r;
	aws_status st;
	int rc;

	/* decoded path: the signer encodes it once, and that encoding is sent */
	if (c->path_style)
		buf_printf(&path, "/%s/%s", c->bucket, key ? key : "");
	else
		buf_printf(&path, "/%s", key ? key : "");
	if (buf_failed(&path))
		return s3_fail(c, true, false, err, errlen, "%s: out of memory", what);
	memset(&r, 0, sizeof(r));
	r.method = method;
	r.scheme = c->scheme;
	r.host = c->host;
	r.path = path.data;
	r.query = query;
	r.headers = extra;
	r.n_headers = n_extra;
	r.body = body;
	r.len = body ? len : 0;
	r.service = "s3";
	r.region = c->region;
	r.s3 = true;
	r.timeout_ms = c->cfg.timeout_ms;
	c->stats.requests++;
	rc = aws_request_send(c->http, c->creds, &r, &c->resp, &c->hdr, &st, herr, sizeof(herr));
	buf_free(&path);
	if (rc < 0)
		return s3_fail(c, st != AWS_FATAL, st == AWS_FATAL, err, errlen, "%s: %s", what, herr);
	return 0;
}

/* ---- client ----------------------------------------------------------- */

s3_client *
s3_client_new(const s3_client_config *cfg, char *err, size_t errlen)
{
	s3_client *c = calloc(1, sizeof(*c));
	http_options ho;
	http_url u;
	char ep[512];

	if (c == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (cfg->bucket == NULL || !*cfg->bucket || cfg->region == NULL || !*cfg->region)
	{
		snprintf(err, errlen, "S3 needs a bucket and a region");
		free(c);
		return NULL;
	}
	c->cfg = *cfg;
	c->bucket = strdup(cfg->bucket);
	c->region = strdup(cfg->region);
	/* an endpoint override (emulators, VPC endpoints) means path-style */
	c->path_style = cfg->path_style || cfg->endpoint != NULL || strchr(cfg->bucket, '.') != NULL;
	if (cfg->endpoint)
		snprintf(ep, sizeof(ep), "%s", cfg->endpoint);
	else if (c->path_style)
		snprintf(ep, sizeof(ep), "https://s3.%s.amazonaws.com", cfg->region);
	else
		snprintf(ep, sizeof(ep), "https://%s.s3.%s.amazonaws.com", cfg->bucket, cfg->region);
	if (http_url_parse(ep, &u, err, errlen) < 0)
	{
		s3_client_free(c);
		return NULL;
	}
	snprintf(c->scheme, sizeof(c->scheme), "%s", u.scheme);
	snprintf(c->host, sizeof(c->host), "%s", u.host);
	if (strcmp(u.scheme, "http") == 0 && !http_url_is_loopback(&u))
		log_kv(LOG_WARN, "S3 endpoint is plain http on a non-loopback address", "endpoint", ep,
			   NULL);
	memset(&ho, 0, sizeof(ho));
	ho.ca_bundle = cfg->ca_bundle;
	c->http = http_client_new(&ho, err, errlen);
	c->creds = c->http ? credentials_provider_new(err, errlen) : NULL;
	if (c->creds == NULL)
	{
		s3_client_free(c);
		return NULL;
	}
	return c;
}

void
s3_client_free(s3_client *c)
{
	if (c == NULL)
		return;
	http_client_free(c->http);
	credentials_provider_free(c->creds);
	http_response_free(&c->resp);
	buf_free(&c->hdr);
	free(c->bucket);
	free(c->region);
	free(c);
}

bool
s3_client_retryable(const s3_client *c)
{
	return c->retryable;
}

bool
s3_client_config_error(const s3_client *c)
{
	return c->config_error;
}

const s3_stats *
s3_client_stats(const s3_client *c)
{
	return &c->stats;
}

const char *
s3_client_bucket(const s3_client *c)
{
	return c->bucket;
}

/* ---- reads ------------------------------------------------------------ */

int
s3_get_object(s3_client *c, const char *key, buf *out, bool *missing, char *err, size_t errlen)
{
	char what[600];

	snprintf(what, sizeof(what), "GetObject s3://%s/%s", c->bucket, key);
	*missing = false;
	if (s3_request(c, "GET", key, NULL, NULL, 0, NULL, 0, what, err, errlen) < 0)
		return -1;
	if (c->resp.status == 404)
	{
		char code[64] = "";

		s3_xml_error(c->resp.body.data, code, sizeof(code), NULL, 0);
		if (strcmp(code, "NoSuchBucket") == 0)
			return s3_http_error(c, what, err, errlen);
		*missing = true;
		return 0;
	}
	if (c->resp.status != 200)
		return s3_http_error(c, what, err, errlen);
	buf_reset(out);
	buf_append(out, c->resp.body.data, c->resp.body.len);
	if (buf_failed(out))
		return s3_fail(c, true, false, err, errlen, "%s: out of memory", what);
	return 0;
}

int
s3_list_page(s3_client *c, const char *prefix, const char *start_after, const char *token,
			 int max_keys, s3_list *out, char *err, size_t errlen)
{
	buf q = BUF_INIT;
	char what[600], xerr[64];
	const char *cur, *end;
	char *enc, *tr;
	int cap = 0;

	memset(out, 0, sizeof(*out));
	snprintf(what, sizeof(what), "ListObjectsV2 s3://%s/%s", c->bucket, prefix ? prefix : "");
	/* parameters in sorted order, each value encoded once the AWS way */
	if (token)
	{
		enc = sigv4_uri_encode(token, strlen(token), false);
		buf_printf(&q, "continuation-token=%s&", enc);
		free(enc);
	}
	buf_printf(&q, "list-type=2&max-keys=%d", max_keys > 0 ? max_keys : 1000);
	enc = sigv4_uri_encode(prefix ? prefix : "", prefix ? strlen(prefix) : 0, false);
	buf_printf(&q, "&prefix=%s", enc);
	free(enc);
	if (start_after && !token)
	{
		enc = sigv4_uri_encode(start_after, strlen(start_after), false);
		buf_printf(&q, "&start-after=%s", enc);
		free(enc);
	}
	if (s3_request(c, "GET", NULL, q.data, NULL, 0, NULL, 0, what, err, errlen) < 0)
	{
		buf_free(&q);
		return -1;
	}
	buf_free(&q);
	if (c->resp.status != 200 || s3_xml_error(c->resp.body.data, NULL, 0, NULL, 0))
		return s3_http_error(c, what, err, errlen);
	if (!s3_xml_check(c->resp.body.data, xerr, sizeof(xerr)))
		return s3_fail(c, false, false, err, errlen, "%s: %s", what, xerr);

	cur = c->resp.body.data;
	while ((cur = strstr(cur, "<Contents>")) != NULL)
	{
		const char *k;
		char *key, *size;

		end = strstr(cur, "</Contents>");
		if (end == NULL)
			break;
		k = cur;
		key = s3_xml_next(&k, end, "Key");
		k = cur;
		size = s3_xml_next(&k, end, "Size");
		cur = end + 11;
		if (key == NULL)
		{
			free(size);
			continue;
		}
		if (out->n == cap)
		{
			int ncap = cap ? cap * 2 : 64;
			char **nk = realloc(out->keys, sizeof(char *) * (size_t) ncap);
			size_t *ns;

			if (nk)
				out->keys = nk;
			ns = nk ? realloc(out->sizes, sizeof(size_t) * (size_t) ncap) : NULL;
			if (ns == NULL)
			{
				free(key);
				free(size);
				s3_list_free(out);
				return s3_fail(c, true, false, err, errlen, "%s: out of memory", what);
			}
			out->sizes = ns;
			cap = ncap;
		}
		out->keys[out->n] = key;
		out->sizes[out->n] = size ? (size_t) strtoull(size, NULL, 10) : 0;
		out->n++;
		free(size);
	}
	cur = c->resp.body.data;
	tr = s3_xml_next(&cur, NULL, "IsTruncated");
	out->truncated = tr && strcmp(tr, "true") == 0;
	free(tr);
	if (out->truncated)
	{
		cur = c->resp.body.data;
		out->next_token = s3_xml_next(&cur, NULL, "NextContinuationToken");
		if (out->next_token == NULL)
		{
			s3_list_free(out);
			return s3_fail(c, false, false, err, errlen,
						   "%s: truncated listing without a continuation token", what);
		}
	}
	return 0;
}

void
s3_list_free(s3_list *l)
{
	int i;

	for (i = 0; i < l->n; i++)
		free(l->keys[i]);
	free(l->keys);
	free(l->sizes);
	free(l->next_token);
	memset(l, 0, sizeof(*l));
}
