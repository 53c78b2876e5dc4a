/*
 * s3_client.c
 *		S3 PutObject / multipart upload / GetObject / ListObjectsV2 over the
 *		relay's HTTP client, signed with SigV4 (see s3_client.h).
 *
 * Every write is create-only (If-None-Match: *): archive keys are derived
 * from their content's positions, so a key that already exists was written
 * by an earlier run from the same events.  A 412 is then checked by reading
 * the object back and comparing, never assumed.
 */
#include "s3_client.h"
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

#define S3_MAX_HEADERS 12

struct s3_client
{
	s3_client_config cfg;
	char *bucket;
	char *region;
	char scheme[8];
	char host[300]; /* Host header */
	bool path_style;
	http_client *http;
	credentials_provider *creds;
	http_response resp;
	bool retryable;	   /* of the last failure */
	bool config_error; /* of the last failure */
	s3_stats stats;
};

/* ---- small helpers ---------------------------------------------------- */

int
s3_multipart_plan(size_t len, size_t threshold, size_t part_size, size_t *out_part_size)
{
	size_t parts;

	if (threshold == 0 || len < threshold || len == 0)
		return 0;
	if (part_size < S3_MIN_PART_SIZE)
		part_size = S3_MIN_PART_SIZE;
	/* grow the part size in whole MiB until the object fits in 10,000 parts */
	while ((len + part_size - 1) / part_size > S3_MAX_PARTS)
		part_size += 1024 * 1024;
	parts = (len + part_size - 1) / part_size;
	if (parts < 2)
		return 0; /* one part: a plain PUT is cheaper */
	*out_part_size = part_size;
	return (int) parts;
}

static int s_fail(s3_client *c, bool retryable, bool config, char *err, size_t errlen,
				  const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int
s_fail(s3_client *c, bool retryable, bool config, char *err, size_t errlen, const char *fmt, ...)
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
static int
s_http_error(s3_client *c, const char *what, char *err, size_t errlen)
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
	return s_fail(c, retry, config, err, errlen, "%s: HTTP %ld%s%s%s%s%s%s%s", what, st,
				  code[0] ? " " : "", code, msg[0] ? ": " : "", msg, rid[0] ? " (request id " : "",
				  rid, rid[0] ? ")" : "");
}

/* ---- one signed request ----------------------------------------------- */

/*
 * Send method on key (NULL: the bucket) with query (already encoded the AWS
 * way, or NULL) and extra headers (sigv4_header pairs).  The answer is in
 * c->resp; returns -1 only when no answer arrived.
 */
static int
s_request(s3_client *c, const char *method, const char *key, const char *query,
		  const sigv4_header *extra, size_t n_extra, const void *body, size_t len, const char *what,
		  char *err, size_t errlen)
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
		return s_fail(c, true, false, err, errlen, "%s: %s", what, cerr);
	if (n_extra > S3_MAX_HEADERS - 1)
		return s_fail(c, false, false, err, errlen, "%s: too many headers", what);

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
		return s_fail(c, false, false, err, errlen, "%s: %s", what, cerr);
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
		s_fail(c, true, false, err, errlen, "%s: out of memory", what);
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

		s_fail(c, !tls, tls, err, errlen, "%s: %s", what, cerr);
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
	if (s_request(c, "GET", key, NULL, NULL, 0, NULL, 0, what, err, errlen) < 0)
		return -1;
	if (c->resp.status == 404)
	{
		char code[64] = "";

		s3_xml_error(c->resp.body.data, code, sizeof(code), NULL, 0);
		if (strcmp(code, "NoSuchBucket") == 0)
			return s_http_error(c, what, err, errlen);
		*missing = true;
		return 0;
	}
	if (c->resp.status != 200)
		return s_http_error(c, what, err, errlen);
	buf_reset(out);
	buf_append(out, c->resp.body.data, c->resp.body.len);
	if (buf_failed(out))
		return s_fail(c, true, false, err, errlen, "%s: out of memory", what);
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
	if (s_request(c, "GET", NULL, q.data, NULL, 0, NULL, 0, what, err, errlen) < 0)
	{
		buf_free(&q);
		return -1;
	}
	buf_free(&q);
	if (c->resp.status != 200 || s3_xml_error(c->resp.body.data, NULL, 0, NULL, 0))
		return s_http_error(c, what, err, errlen);

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
				return s_fail(c, true, false, err, errlen, "%s: out of memory", what);
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
			return s_fail(c, false, false, err, errlen,
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

/* ---- writes ----------------------------------------------------------- */

static void
s_checksum(const void *data, size_t len, char out[45])
{
	unsigned char d[32];

	sigv4_sha256(data, len, d);
	codec_base64_to(d, 32, out);
}

/*
 * A create-only write found the key taken: read it back and compare.  Equal
 * bytes, or equal content once decompressed (a relay built against another
 * zlib), mean an earlier run wrote this very object.
 */
static int
s_compare_existing(s3_client *c, const char *key, const void *body, size_t len, char *err,
				   size_t errlen)
{
	buf have = BUF_INIT, a = BUF_INIT, b = BUF_INIT;
	bool missing = false, same;
	char zerr[128];

	if (s3_get_object(c, key, &have, &missing, err, errlen) < 0)
	{
		buf_free(&have);
		return -1;
	}
	if (missing)
	{
		/* deleted between the two requests: retrying the write is right */
		buf_free(&have);
		return s_fail(c, true, false, err, errlen,
					  "s3://%s/%s answered 412 but is gone; will write it again", c->bucket, key);
	}
	same = have.len == len && memcmp(have.data, body, len) == 0;
	if (!same && len > 2 && have.len > 2 && ((const unsigned char *) body)[0] == 0x1f &&
		((const unsigned char *) body)[1] == 0x8b &&
		s3_gunzip(have.data, have.len, &a, zerr, sizeof(zerr)) == 0 &&
		s3_gunzip(body, len, &b, zerr, sizeof(zerr)) == 0)
		same = a.len == b.len && memcmp(a.data, b.data, a.len) == 0;
	buf_free(&have);
	buf_free(&a);
	buf_free(&b);
	if (!same)
		return s_fail(c, false, false, err, errlen,
					  "s3://%s/%s already exists with different content (%zu bytes to write); "
					  "refusing to overwrite it",
					  c->bucket, key, len);
	c->stats.existed++;
	log_kv(LOG_INFO, "S3 object already present with the same content", "bucket", c->bucket, "key",
		   key, NULL);
	return 0;
}

static int
s_put_single(s3_client *c, const char *key, const void *body, size_t len, const char *ctype,
			 char *err, size_t errlen)
{
	char sum[45], what[600];
	sigv4_header h[4];

	snprintf(what, sizeof(what), "PutObject s3://%s/%s", c->bucket, key);
	s_checksum(body, len, sum);
	h[0] = (sigv4_header){"content-type", ctype};
	h[1] = (sigv4_header){"if-none-match", "*"};
	h[2] = (sigv4_header){"x-amz-checksum-sha256", sum};
	h[3] = (sigv4_header){"x-amz-sdk-checksum-algorithm", "SHA256"};
	if (s_request(c, "PUT", key, NULL, h, 4, body, len, what, err, errlen) < 0)
		return -1;
	if (c->resp.status == 412)
		return s_compare_existing(c, key, body, len, err, errlen);
	if (c->resp.status != 200)
		return s_http_error(c, what, err, errlen);
	c->stats.puts++;
	return 0;
}

static void
s_abort(s3_client *c, const char *key, const char *upload_id)
{
	char *enc = sigv4_uri_encode(upload_id, strlen(upload_id), false);
	buf q = BUF_INIT;
	char err[256];

	buf_printf(&q, "uploadId=%s", enc);
	if (s_request(c, "DELETE", key, q.data, NULL, 0, NULL, 0, "AbortMultipartUpload", err,
				  sizeof(err)) < 0 ||
		(c->resp.status != 204 && c->resp.status != 200 && c->resp.status != 404))
		log_kv(LOG_WARN, "could not abort a multipart upload (a lifecycle rule cleans it up)",
			   "key", key, NULL);
	free(enc);
	buf_free(&q);
}

/* An upload in progress (see s3_upload_begin). */
struct s3_upload
{
	char *key;
	const char *body; /* not owned */
	size_t len;
	char *ctype;
	int parts; /* 0: a single PutObject */
	size_t part_size;
	int next_part;	 /* multipart: parts stored so far */
	char *upload_id; /* multipart: after CreateMultipartUpload */
	buf done;		 /* the CompleteMultipartUpload body so far */
};

s3_upload *
s3_upload_begin(s3_client *c, const char *key, const void *body, size_t len,
				const char *content_type)
{
	s3_upload *u = calloc(1, sizeof(*u));

	if (u == NULL)
		return NULL;
	u->key = strdup(key);
	u->ctype = strdup(content_type ? content_type : "application/octet-stream");
	u->body = body;
	u->len = len;
	u->parts = s3_multipart_plan(len, c->cfg.multipart_threshold, c->cfg.part_size, &u->part_size);
	if (u->key == NULL || u->ctype == NULL)
	{
		s3_upload_free(c, u);
		return NULL;
	}
	return u;
}

/* Forget a multipart upload (aborting it) so that the next step starts over. */
static void
s_upload_reset(s3_client *c, s3_upload *u)
{
	bool retry = c->retryable, config = c->config_error;

	if (u->upload_id)
		s_abort(c, u->key, u->upload_id);
	c->retryable = retry;
	c->config_error = config;
	free(u->upload_id);
	u->upload_id = NULL;
	u->next_part = 0;
	buf_free(&u->done);
}

void
s3_upload_free(s3_client *c, s3_upload *u)
{
	if (u == NULL)
		return;
	s_upload_reset(c, u);
	free(u->key);
	free(u->ctype);
	free(u);
}

/*
 * One request of a multipart upload: create, one part, or complete.  A
 * failed part is sent again by the next step (the upload stays open); a
 * failed completion starts the whole upload over.
 */
static int
s_step_multipart(s3_client *c, s3_upload *u, char *err, size_t errlen)
{
	char what[600], sum[45], etag[128];
	sigv4_header h[2];
	buf q = BUF_INIT;
	char *enc;
	int rc = -1;

	if (u->upload_id == NULL)
	{
		const char *cur;

		snprintf(what, sizeof(what), "CreateMultipartUpload s3://%s/%s", c->bucket, u->key);
		h[0] = (sigv4_header){"content-type", u->ctype};
		h[1] = (sigv4_header){"x-amz-checksum-algorithm", "SHA256"};
		if (s_request(c, "POST", u->key, "uploads=", h, 2, NULL, 0, what, err, errlen) < 0)
			return -1;
		cur = c->resp.body.data;
		if (c->resp.status != 200 || s3_xml_error(c->resp.body.data, NULL, 0, NULL, 0))
			return s_http_error(c, what, err, errlen);
		u->upload_id = s3_xml_next(&cur, NULL, "UploadId");
		if (u->upload_id == NULL)
			return s_fail(c, true, false, err, errlen, "%s: no UploadId in the answer", what);
		buf_reset(&u->done);
		buf_puts(&u->done,
				 "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
		return 1;
	}
	enc = sigv4_uri_encode(u->upload_id, strlen(u->upload_id), false);
	if (u->next_part < u->parts)
	{
		size_t off = (size_t) u->next_part * u->part_size;
		size_t n = u->len - off < u->part_size ? u->len - off : u->part_size;
		int pn = u->next_part + 1;

		snprintf(what, sizeof(what), "UploadPart %d/%d s3://%s/%s", pn, u->parts, c->bucket,
				 u->key);
		s_checksum(u->body + off, n, sum);
		buf_printf(&q, "partNumber=%d&uploadId=%s", pn, enc);
		h[0] = (sigv4_header){"content-type", "application/octet-stream"};
		h[1] = (sigv4_header){"x-amz-checksum-sha256", sum};
		if (s_request(c, "PUT", u->key, q.data, h, 2, u->body + off, n, what, err, errlen) < 0)
			goto out;
		if (c->resp.status != 200)
		{
			s_http_error(c, what, err, errlen);
			if (c->resp.status == 404)
			{
				/* NoSuchUpload: aborted behind our back; start over */
				s_upload_reset(c, u);
				c->retryable = true;
			}
			goto out;
		}
		if (!http_response_header(&c->resp, "ETag", etag, sizeof(etag)) || etag[0] == '\0')
		{
			s_fail(c, true, false, err, errlen, "%s: no ETag in the answer", what);
			goto out;
		}
		c->stats.parts++;
		buf_printf(&u->done,
				   "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag>"
				   "<ChecksumSHA256>%s</ChecksumSHA256></Part>",
				   pn, etag, sum);
		u->next_part++;
		rc = 1;
		goto out;
	}

	snprintf(what, sizeof(what), "CompleteMultipartUpload s3://%s/%s", c->bucket, u->key);
	buf_printf(&q, "uploadId=%s", enc);
	{
		buf body = BUF_INIT;

		buf_append(&body, u->done.data, u->done.len);
		buf_puts(&body, "</CompleteMultipartUpload>");
		h[0] = (sigv4_header){"content-type", "application/xml"};
		h[1] = (sigv4_header){"if-none-match", "*"};
		rc = s_request(c, "POST", u->key, q.data, h, 2, body.data, body.len, what, err, errlen);
		buf_free(&body);
	}
	if (rc < 0)
		goto out; /* no answer: completing again is safe (same parts) */
	rc = -1;
	if (c->resp.status == 412)
	{
		rc = s_compare_existing(c, u->key, u->body, u->len, err, errlen);
		s_upload_reset(c, u); /* the upload is not needed either way */
		goto out;
	}
	/*
	 * S3 answers 200 before it has finished combining the parts and reports
	 * a failure in that case as an <Error> document in the 200's body.  The
	 * root of a success is <CompleteMultipartUploadResult> (some emulators
	 * say ...Response).
	 */
	if (c->resp.status != 200 || s3_xml_error(c->resp.body.data, NULL, 0, NULL, 0) ||
		strstr(c->resp.body.data, "<CompleteMultipartUpload") == NULL)
	{
		if (c->resp.status == 200 && !s3_xml_error(c->resp.body.data, NULL, 0, NULL, 0))
			s_fail(c, true, false, err, errlen, "%s: unexpected answer: %.200s", what,
				   c->resp.body.data);
		else
		{
			s_http_error(c, what, err, errlen);
			if (c->resp.status == 200)
				c->retryable = true; /* InternalError and kin: try the whole upload again */
		}
		s_upload_reset(c, u);
		goto out;
	}
	free(u->upload_id);
	u->upload_id = NULL; /* completed: nothing to abort */
	c->stats.puts++;
	c->stats.multipart++;
	rc = 0;
out:
	free(enc);
	buf_free(&q);
	return rc;
}

int
s3_upload_step(s3_client *c, s3_upload *u, char *err, size_t errlen)
{
	c->retryable = c->config_error = false;
	if (u->parts > 0)
		return s_step_multipart(c, u, err, errlen);
	return s_put_single(c, u->key, u->body, u->len, u->ctype, err, errlen);
}

int
s3_put_object(s3_client *c, const char *key, const void *body, size_t len, const char *content_type,
			  char *err, size_t errlen)
{
	s3_upload *u = s3_upload_begin(c, key, body, len, content_type);
	int rc;

	if (u == NULL)
		return s_fail(c, true, false, err, errlen, "out of memory");
	while ((rc = s3_upload_step(c, u, err, errlen)) > 0)
		;
	s3_upload_free(c, u);
	return rc;
}
