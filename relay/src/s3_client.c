/*
 * s3_client.c
 *		The S3 client: one signed request (SigV4) over the relay's HTTP
 *		client, its error classification, and the reads (GetObject,
 *		ListObjectsV2).  The writes are in s3_upload.c (see s3_client.h).
 */
#include "s3_client.h"
#include "s3_request.h"
#include "codec.h"
#include "aws_json.h"
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
	const aws_credentials *cr;
	sigv4_header hdr[S3_MAX_HEADERS];
	const char *lines[S3_MAX_HEADERS + 4];
	char hash[65];
	sigv4_request rq;
	sigv4_params pp;
	sigv4_result res;
	http_request hr = {0};
	buf path = BUF_INIT, url = BUF_INIT, hl = BUF_INIT;
	size_t nh = 0, i, off[S3_MAX_HEADERS + 4];
	int rc = -1;
	char cerr[256];

	memset(&res, 0, sizeof(res));
	if (credentials_get(c->creds, &cr, cerr, sizeof(cerr)) < 0)
		return s3_fail(c, true, false, err, errlen, "%s: %s", what, cerr);
	if (n_extra > S3_MAX_HEADERS - 1)
		return s3_fail(c, false, false, err, errlen, "%s: too many headers", what);

	/* decoded path: the signer encodes it once, and we send that encoding */
	if (c->path_style)
		buf_printf(&path, "/%s/%s", c->bucket, key ? key : "");
	else
		buf_printf(&path, "/%s", key ? key : "");

	hdr[nh++] = (sigv4_header){"host", c->host};
	for (i = 0; i < n_extra; i++)
		hdr[nh++] = extra[i];
	sigv4_sha256_hex(body ? body : "", body ? len : 0, hash);

	memset(&rq, 0, sizeof(rq));
	rq.method = method;
	rq.path = path.data;
	rq.query = query;
	rq.headers = hdr;
	rq.n_headers = nh;
	rq.payload_hash = hash;
	memset(&pp, 0, sizeof(pp));
	pp.access_key = cr->access_key;
	pp.secret_key = cr->secret_key;
	pp.session_token = cr->session_token;
	pp.region = c->region;
	pp.service = "s3";
	pp.now = time(NULL);
	pp.normalize_path = false;
	pp.sign_body = true;
	if (sigv4_sign(&rq, &pp, &res, cerr, sizeof(cerr)) < 0)
	{
		buf_free(&path);
		return s3_fail(c, false, false, err, errlen, "%s: %s", what, cerr);
	}

	buf_printf(&url, "%s://%s%s%s%s", c->scheme, c->host, res.canonical_path,
			   query && *query ? "?" : "", query && *query ? query : "");
	/* header lines, built in one buffer and pointed into afterwards */
	nh = 0;
	for (i = 0; i < n_extra; i++)
	{
		off[nh++] = hl.len;
		buf_printf(&hl, "%s: %s", extra[i].name, extra[i].value);
		buf_putc(&hl, '\0');
	}
	off[nh++] = hl.len;
	buf_printf(&hl, "Authorization: %s", res.authorization);
	buf_putc(&hl, '\0');
	off[nh++] = hl.len;
	buf_printf(&hl, "X-Amz-Date: %s", res.amz_date);
	buf_putc(&hl, '\0');
	off[nh++] = hl.len;
	buf_printf(&hl, "x-amz-content-sha256: %s", hash);
	buf_putc(&hl, '\0');
	if (cr->session_token)
	{
		off[nh++] = hl.len;
		buf_printf(&hl, "x-amz-security-token: %s", cr->session_token);
		buf_putc(&hl, '\0');
	}
	if (buf_failed(&url) || buf_failed(&hl) || url.data == NULL || hl.data == NULL)
	{
		s3_fail(c, true, false, err, errlen, "%s: out of memory", what);
		goto done;
	}
	for (i = 0; i < nh; i++)
		lines[i] = hl.data + off[i];

	memset(&hr, 0, sizeof(hr));
	hr.method = method;
	hr.url = url.data;
	hr.headers = lines;
	hr.n_headers = nh;
	hr.body = body;
	hr.body_len = len;
	hr.timeout_ms = c->cfg.timeout_ms;
	c->stats.requests++;
	if (http_do(c->http, &hr, &c->resp, cerr, sizeof(cerr)) < 0)
	{
		/* a certificate we cannot verify stays so: no retry, a configuration error */
		bool tls = c->resp.failure == HTTP_FAIL_TLS_VERIFY;

		s3_fail(c, !tls, tls, err, errlen, "%s: %s", what, cerr);
		goto done;
	}
	rc = 0;

done:
	/* the signature and the security token must not linger in freed memory */
	if (hl.data)
		memset(hl.data, 0, hl.len);
	buf_free(&hl);
	buf_free(&url);
	buf_free(&path);
	sigv4_result_free(&res);
	return rc;
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
	char what[600];
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
