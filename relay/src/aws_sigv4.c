/*
 * aws_sigv4.c
 *		AWS Signature Version 4 (see aws_sigv4.h), written as the tasks AWS
 *		documents.  Checked against the AWS test suite in relay/testdata/sigv4.
 */
#include "aws_sigv4.h"
#include "codec.h"
#include "buf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"

typedef struct s_kv
{
	char *k;
	char *v;
} s_kv;

/* ---- hashing helpers ---------------------------------------------------- */

void
sigv4_sha256(const void *data, size_t len, unsigned char out[32])
{
	SHA256((const unsigned char *) data, len, out);
}

void
sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];

	sigv4_sha256(data, len, md);
	codec_hex(md, 32, out);
}

void
sigv4_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
				  unsigned char out[32])
{
	unsigned int outlen = 32;

	HMAC(EVP_sha256(), key, (int) keylen, (const unsigned char *) data, len, out, &outlen);
}

/* ---- encoding ------------------------------------------------------------ */

static bool
s_unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

char *
sigv4_uri_encode(const char *s, size_t len, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	buf b = BUF_INIT;
	size_t i;

	if (buf_reserve(&b, len * 3) < 0)
		return NULL;
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (s_unreserved(c) || (keep_slash && c == '/'))
			buf_putc(&b, (char) c);
		else
		{
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};

			buf_append(&b, e, 3);
		}
	}
	return buf_steal(&b);
}

/* Decode %XX escapes (a query parameter as found on the wire). */
static char *
s_uri_decode(const char *s, size_t len, size_t *outlen)
{
	char *out = malloc(len + 1);
	size_t i, n = 0;

	if (out == NULL)
		return NULL;
	for (i = 0; i < len; i++)
	{
		if (s[i] == '%' && i + 2 < len && codec_hex_digit(s[i + 1]) >= 0 &&
			codec_hex_digit(s[i + 2]) >= 0)
		{
			out[n++] = (char) (codec_hex_digit(s[i + 1]) * 16 + codec_hex_digit(s[i + 2]));
			i += 2;
		}
		else
			out[n++] = s[i];
	}
	out[n] = '\0';
	*outlen = n;
	return out;
}

/* ---- Task 1: canonical request ------------------------------------------ */

/* Canonical URI: optionally remove "." / ".." segments and empty segments. */
static char *
s_canonical_path(const char *path, bool normalize)
{
	char *norm, *res;
	size_t plen;

	if (path == NULL || *path == '\0')
		path = "/";
	plen = strlen(path);
	if (!normalize)
		return sigv4_uri_encode(path, plen, true);

	{
		/* segment stack as offsets into a copy */
		const char **segs = calloc(plen + 1, sizeof(char *));
		size_t *lens = calloc(plen + 1, sizeof(size_t));
		size_t nseg = 0, i = 0;
		bool trailing = plen > 1 && path[plen - 1] == '/';
		buf b = BUF_INIT;

		if (segs == NULL || lens == NULL)
		{
			free(segs);
			free(lens);
			return NULL;
		}
		while (i < plen)
		{
			size_t j = i;

			while (j < plen && path[j] != '/')
				j++;
			if (j == i || (j - i == 1 && path[i] == '.'))
				; /* empty or "." */
			else if (j - i == 2 && path[i] == '.' && path[i + 1] == '.')
			{
				if (nseg)
					nseg--;
			}
			else
			{
				segs[nseg] = path + i;
				lens[nseg++] = j - i;
			}
			i = j + 1;
		}
		for (i = 0; i < nseg; i++)
		{
			buf_putc(&b, '/');
			buf_append(&b, segs[i], lens[i]);
		}
		if (nseg == 0)
			buf_putc(&b, '/');
		else if (trailing)
			buf_putc(&b, '/');
		free(segs);
		free(lens);
		norm = buf_steal(&b);
	}
	if (norm == NULL)
		return NULL;
	res = sigv4_uri_encode(norm, strlen(norm), true);
	free(norm);
	return res;
}

static int
s_kv_cmp(const void *a, const void *b)
{
	const s_kv *x = a, *y = b;
	int c = strcmp(x->k, y->k);

	return c ? c : strcmp(x->v, y->v);
}

static void
s_kv_free(s_kv *kv, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
	{
		free(kv[i].k);
		free(kv[i].v);
	}
	free(kv);
}

/* Split a raw query into encoded key/value pairs; extra slots for the caller. */
static s_kv *
s_query_params(const char *query, size_t extra, size_t *n_out)
{
	size_t cap = extra + 1, n = 0;
	const char *p;
	s_kv *kv;

	if (query)
		for (p = query; *p; p++)
			if (*p == '&')
				cap++;
	cap++;
	kv = calloc(cap, sizeof(s_kv));
	if (kv == NULL)
		return NULL;
	p = query;
	while (p && *p)
	{
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t) (amp - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		size_t klen = eq ? (size_t) (eq - p) : len;
		size_t dlen;
		char *d;

		if (len > 0)
		{
			d = s_uri_decode(p, klen, &dlen);
			kv[n].k = d ? sigv4_uri_encode(d, dlen, false) : NULL;
			free(d);
			d = eq ? s_uri_decode(eq + 1, len - klen - 1, &dlen) : strdup("");
			if (d && !eq)
				dlen = 0;
			kv[n].v = d ? sigv4_uri_encode(d, dlen, false) : NULL;
			free(d);
			if (kv[n].k == NULL || kv[n].v == NULL)
			{
				s_kv_free(kv, n + 1);
				return NULL;
			}
			n++;
		}
		p = amp ? amp + 1 : NULL;
	}
	*n_out = n;
	return kv;
}

static int
s_kv_add(s_kv *kv, size_t *n, const char *k, const char *v)
{
	kv[*n].k = sigv4_uri_encode(k, strlen(k), false);
	kv[*n].v = sigv4_uri_encode(v, strlen(v), false);
	if (kv[*n].k == NULL || kv[*n].v == NULL)
		return -1;
	(*n)++;
	return 0;
}

static char *
s_query_string(s_kv *kv, size_t n)
{
	buf b = BUF_INIT;
	size_t i;

	qsort(kv, n, sizeof(s_kv), s_kv_cmp);
	for (i = 0; i < n; i++)
		buf_printf(&b, "%s%s=%s", i ? "&" : "", kv[i].k, kv[i].v);
	return buf_steal(&b);
}

/* Lower-case name, value trimmed with inner whitespace runs folded to one space. */
static s_kv
s_header_canon(const char *name, const char *value)
{
	s_kv h;
	size_t i, n = 0;
	bool space = false;

	h.k = strdup(name);
	h.v = malloc(strlen(value) + 1);
	if (h.k == NULL || h.v == NULL)
	{
		free(h.k);
		free(h.v);
		h.k = h.v = NULL;
		return h;
	}
	for (i = 0; h.k[i]; i++)
		h.k[i] = (char) tolower((unsigned char) h.k[i]);
	for (i = 0; value[i]; i++)
	{
		char c = value[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			space = n > 0;
		else
		{
			if (space)
				h.v[n++] = ' ';
			space = false;
			h.v[n++] = c;
		}
	}
	h.v[n] = '\0';
	return h;
}

/* Stable sort by name only: repeated headers keep request order. */
static void
s_header_sort(s_kv *h, size_t n)
{
	size_t i, j;

	for (i = 1; i < n; i++)
	{
		s_kv x = h[i];

		for (j = i; j > 0 && strcmp(h[j - 1].k, x.k) > 0; j--)
			h[j] = h[j - 1];
		h[j] = x;
	}
}

static bool
s_has_header(const sigv4_request *req, const char *lname)
{
	size_t i;

	for (i = 0; i < req->n_headers; i++)
		if (strcasecmp(req->headers[i].name, lname) == 0)
			return true;
	return false;
}

/*
 * Build canonical headers and the signed-headers list.  extra: additional
 * (lower-case name, value) pairs the signer itself adds.
 */
static int
s_canonical_headers(const sigv4_request *req, const s_kv *extra, size_t n_extra, char **headers_out,
					char **signed_out)
{
	size_t n = 0, i;
	s_kv *h = calloc(req->n_headers + n_extra + 1, sizeof(s_kv));
	buf hb = BUF_INIT, sb = BUF_INIT;

	if (h == NULL)
		return -1;
	for (i = 0; i < req->n_headers; i++)
	{
		h[n] = s_header_canon(req->headers[i].name, req->headers[i].value);
		if (h[n].k == NULL)
			goto on_error;
		n++;
	}
	for (i = 0; i < n_extra; i++)
	{
		h[n] = s_header_canon(extra[i].k, extra[i].v);
		if (h[n].k == NULL)
			goto on_error;
		n++;
	}
	s_header_sort(h, n);
	for (i = 0; i < n; i++)
	{
		if (i > 0 && strcmp(h[i].k, h[i - 1].k) == 0)
		{
			/* repeated header: values joined with commas, in request order */
			if (hb.len)
				hb.len--; /* drop the '\n' */
			buf_printf(&hb, ",%s\n", h[i].v);
			continue;
		}
		buf_printf(&hb, "%s:%s\n", h[i].k, h[i].v);
		buf_printf(&sb, "%s%s", sb.len ? ";" : "", h[i].k);
	}
	s_kv_free(h, n);
	*headers_out = buf_steal(&hb);
	*signed_out = buf_steal(&sb);
	if (*headers_out == NULL || *signed_out == NULL)
		return -1;
	return 0;

on_error:
	s_kv_free(h, n);
	return -1;
}

/* ---- Tasks 2-4: string to sign, signing key, signature ------------------ */

static void
s_sign(const sigv4_params *p, const char *scope_date, const char *sts, char sig[65])
{
	unsigned char k[32];
	size_t sklen = strlen(p->secret_key);
	char *secret = malloc(sklen + 5);

	if (secret == NULL)
	{
		sig[0] = '\0';
		return;
	}
	memcpy(secret, "AWS4", 4);
	memcpy(secret + 4, p->secret_key, sklen + 1);
	sigv4_hmac_sha256(secret, sklen + 4, scope_date, strlen(scope_date), k);
	OPENSSL_cleanse(secret, sklen + 4);
	free(secret);
	sigv4_hmac_sha256(k, 32, p->region, strlen(p->region), k);
	sigv4_hmac_sha256(k, 32, p->service, strlen(p->service), k);
	sigv4_hmac_sha256(k, 32, "aws4_request", 12, k);
	sigv4_hmac_sha256(k, 32, sts, strlen(sts), k);
	codec_hex(k, 32, sig);
}

static int
s_prepare(const sigv4_params *p, sigv4_result *out, char *scope, size_t scopelen, char *err,
		  size_t errlen)
{
	struct tm tm;

	memset(out, 0, sizeof(*out));
	if (p->access_key == NULL || p->secret_key == NULL || p->region == NULL || p->service == NULL)
	{
		snprintf(err, errlen, "sigv4: credentials, region and service are required");
		return -1;
	}
	gmtime_r(&p->now, &tm);
	strftime(out->amz_date, sizeof(out->amz_date), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(scope, scopelen, "%.8s/%s/%s/aws4_request", out->amz_date, p->region, p->service);
	return 0;
}

static int
s_finish(const sigv4_request *req, const sigv4_params *p, sigv4_result *out, const char *scope,
		 const char *query, const char *headers, char *err, size_t errlen)
{
	buf b = BUF_INIT;
	char hash[65];
	char date[9];

	buf_printf(&b, "%s\n%s\n%s\n%s\n%s\n%s", req->method, out->canonical_path, query, headers,
			   out->signed_headers, req->payload_hash ? req->payload_hash : "UNSIGNED-PAYLOAD");
	out->canonical_request = buf_steal(&b);
	if (out->canonical_request == NULL)
		goto on_oom;
	sigv4_sha256_hex(out->canonical_request, strlen(out->canonical_request), hash);
	buf_printf(&b, SIGV4_ALGORITHM "\n%s\n%s\n%s", out->amz_date, scope, hash);
	out->string_to_sign = buf_steal(&b);
	if (out->string_to_sign == NULL)
		goto on_oom;
	memcpy(date, out->amz_date, 8);
	date[8] = '\0';
	s_sign(p, date, out->string_to_sign, out->signature);
	if (out->signature[0] == '\0')
		goto on_oom;
	return 0;

on_oom:
	snprintf(err, errlen, "sigv4: out of memory");
	sigv4_result_free(out);
	return -1;
}

int
sigv4_sign(const sigv4_request *req, const sigv4_params *p, sigv4_result *out, char *err,
		   size_t errlen)
{
	char scope[256];
	s_kv extra[3];
	size_t n_extra = 0, nq = 0;
	s_kv *q = NULL;
	char *query = NULL, *headers = NULL;
	buf b = BUF_INIT;
	int rc;

	if (s_prepare(p, out, scope, sizeof(scope), err, errlen) < 0)
		return -1;
	if (!s_has_header(req, "x-amz-date"))
		extra[n_extra++] = (s_kv){"x-amz-date", out->amz_date};
	if (p->session_token && !p->omit_session_token && !s_has_header(req, "x-amz-security-token"))
		extra[n_extra++] = (s_kv){"x-amz-security-token", (char *) p->session_token};
	if (p->sign_body && !s_has_header(req, "x-amz-content-sha256"))
		extra[n_extra++] =
			(s_kv){"x-amz-content-sha256",
				   (char *) (req->payload_hash ? req->payload_hash : "UNSIGNED-PAYLOAD")};

	out->canonical_path = s_canonical_path(req->path, p->normalize_path);
	q = s_query_params(req->query, 0, &nq);
	if (out->canonical_path == NULL || q == NULL)
		goto on_oom;
	query = s_query_string(q, nq);
	if (query == NULL ||
		s_canonical_headers(req, extra, n_extra, &headers, &out->signed_headers) < 0)
		goto on_oom;
	rc = s_finish(req, p, out, scope, query, headers, err, errlen);
	free(query);
	free(headers);
	s_kv_free(q, nq);
	if (rc < 0)
		return -1;
	buf_printf(&b, SIGV4_ALGORITHM " Credential=%s/%s, SignedHeaders=%s, Signature=%s",
			   p->access_key, scope, out->signed_headers, out->signature);
	out->authorization = buf_steal(&b);
	if (out->authorization == NULL)
	{
		sigv4_result_free(out);
		snprintf(err, errlen, "sigv4: out of memory");
		return -1;
	}
	return 0;

on_oom:
	free(query);
	free(headers);
	if (q)
		s_kv_free(q, nq);
	sigv4_result_free(out);
	snprintf(err, errlen, "sigv4: out of memory");
	return -1;
}

int
sigv4_presign(const sigv4_request *req, const sigv4_params *p, sigv4_result *out, char *err,
			  size_t errlen)
{
	char scope[256], cred[512], expires[32];
	size_t nq = 0, i;
	s_kv *q = NULL;
	char *query = NULL, *headers = NULL, *signed_headers = NULL;
	buf b = BUF_INIT;
	int rc;

	if (s_prepare(p, out, scope, sizeof(scope), err, errlen) < 0)
		return -1;
	out->canonical_path = s_canonical_path(req->path, p->normalize_path);
	q = s_query_params(req->query, 6, &nq);
	if (out->canonical_path == NULL || q == NULL)
		goto on_oom;
	if (s_canonical_headers(req, NULL, 0, &headers, &signed_headers) < 0)
		goto on_oom;
	snprintf(cred, sizeof(cred), "%s/%s", p->access_key, scope);
	snprintf(expires, sizeof(expires), "%d", p->expires > 0 ? p->expires : 3600);
	if (s_kv_add(q, &nq, "X-Amz-Algorithm", SIGV4_ALGORITHM) < 0 ||
		s_kv_add(q, &nq, "X-Amz-Credential", cred) < 0 ||
		s_kv_add(q, &nq, "X-Amz-Date", out->amz_date) < 0 ||
		s_kv_add(q, &nq, "X-Amz-Expires", expires) < 0 ||
		s_kv_add(q, &nq, "X-Amz-SignedHeaders", signed_headers) < 0)
		goto on_oom;
	if (p->session_token && !p->omit_session_token &&
		s_kv_add(q, &nq, "X-Amz-Security-Token", p->session_token) < 0)
		goto on_oom;
	/*
	 * The URL keeps the caller's parameters first, then the X-Amz-* ones in
	 * the order above, as botocore writes them (the AWS CLI's presigned URLs
	 * and RDS tokens); only the canonical query is sorted.
	 */
	for (i = 0; i < nq; i++)
		buf_printf(&b, "%s%s=%s", i ? "&" : "", q[i].k, q[i].v);
	query = s_query_string(q, nq);
	if (query == NULL || buf_failed(&b))
		goto on_oom;
	out->signed_headers = signed_headers;
	signed_headers = NULL;
	rc = s_finish(req, p, out, scope, query, headers, err, errlen);
	free(headers);
	s_kv_free(q, nq);
	if (rc < 0)
	{
		free(query);
		buf_free(&b);
		return -1;
	}
	buf_printf(&b, "&X-Amz-Signature=%s", out->signature);
	free(query);
	if (p->session_token && p->omit_session_token)
	{
		char *tok = sigv4_uri_encode(p->session_token, strlen(p->session_token), false);

		if (tok)
			buf_printf(&b, "&X-Amz-Security-Token=%s", tok);
		free(tok);
	}
	out->query = buf_steal(&b);
	if (out->query == NULL)
	{
		sigv4_result_free(out);
		snprintf(err, errlen, "sigv4: out of memory");
		return -1;
	}
	return 0;

on_oom:
	buf_free(&b);
	free(query);
	free(headers);
	free(signed_headers);
	if (q)
		s_kv_free(q, nq);
	sigv4_result_free(out);
	snprintf(err, errlen, "sigv4: out of memory");
	return -1;
}

void
sigv4_result_free(sigv4_result *r)
{
	free(r->canonical_request);
	free(r->string_to_sign);
	free(r->signed_headers);
	free(r->authorization);
	free(r->query);
	free(r->canonical_path);
	r->canonical_request = r->string_to_sign = r->signed_headers = NULL;
	r->authorization = r->query = r->canonical_path = NULL;
}
