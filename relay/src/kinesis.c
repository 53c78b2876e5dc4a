/*
 * kinesis.c
 *		PutRecords for Amazon Kinesis Data Streams (see kinesis.h).
 */
#include "kinesis.h"
#include "buf.h"
#include "credentials.h"
#include "http.h"
#include "log.h"
#include "sigv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#define KINESIS_TARGET "Kinesis_20131202.PutRecords"
#define KINESIS_CTYPE  "application/x-amz-json-1.1"

struct kinesis_client
{
	char *stream;
	char *region;
	char *url;
	http_url u;
	long timeout_ms;
	http_client *http;
	credentials_provider *creds;
	buf body;
	http_response resp;
};

kinesis_client *
kinesis_client_new(const kinesis_options *opt, char *err, size_t errlen)
{
	kinesis_client *k = calloc(1, sizeof(*k));
	http_options ho = {opt->ca_bundle, 5000, NULL};
	char url[512];

	if (k == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (opt->endpoint)
		snprintf(url, sizeof(url), "%s", opt->endpoint);
	else
		snprintf(url, sizeof(url), "https://kinesis.%s.amazonaws.com", opt->region);
	k->stream = strdup(opt->stream);
	k->region = strdup(opt->region);
	k->url = strdup(url);
	k->timeout_ms = opt->timeout_ms > 0 ? opt->timeout_ms : 30000;
	if (http_url_parse(url, &k->u, err, errlen) < 0)
		goto on_error;
	if (strcmp(k->u.scheme, "http") == 0 && !http_url_is_loopback(&k->u))
		log_kv(LOG_WARN, "Kinesis endpoint is plain http on a non-loopback host: no TLS",
			   "endpoint", url, NULL);
	k->http = http_client_new(&ho, err, errlen);
	if (k->http == NULL)
		goto on_error;
	k->creds = credentials_provider_new(err, errlen);
	if (k->creds == NULL)
		goto on_error;
	return k;

on_error:
	kinesis_client_free(k);
	return NULL;
}

void
kinesis_client_free(kinesis_client *k)
{
	if (k == NULL)
		return;
	http_client_free(k->http);
	credentials_provider_free(k->creds);
	http_response_free(&k->resp);
	buf_free(&k->body);
	free(k->stream);
	free(k->region);
	free(k->url);
	free(k);
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
s_base64(buf *b, const unsigned char *in, size_t len)
{
	size_t i;
	char *o;

	if (buf_reserve(b, (len + 2) / 3 * 4) < 0)
		return -1;
	o = b->data + b->len;
	for (i = 0; i + 2 < len; i += 3)
	{
		*o++ = b64chars[in[i] >> 2];
		*o++ = b64chars[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		*o++ = b64chars[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		*o++ = b64chars[in[i + 2] & 63];
	}
	if (i < len)
	{
		*o++ = b64chars[in[i] >> 2];
		if (i + 1 < len)
		{
			*o++ = b64chars[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
			*o++ = b64chars[(in[i + 1] & 15) << 2];
		}
		else
		{
			*o++ = b64chars[(in[i] & 3) << 4];
			*o++ = '=';
		}
		*o++ = '=';
	}
	b->len = (size_t) (o - b->data);
	b->data[b->len] = '\0';
	return 0;
}

static int
s_build_body(kinesis_client *k, const kinesis_entry *e, int n)
{
	buf *b = &k->body;
	int i;

	buf_reset(b);
	buf_puts(b, "{\"StreamName\":");
	buf_json_string(b, k->stream, strlen(k->stream));
	buf_puts(b, ",\"Records\":[");
	for (i = 0; i < n; i++)
	{
		buf_puts(b, i ? ",{\"Data\":\"" : "{\"Data\":\"");
		s_base64(b, (const unsigned char *) e[i].data, e[i].len);
		buf_puts(b, "\",\"PartitionKey\":");
		buf_json_string(b, e[i].key, e[i].key_len);
		buf_putc(b, '}');
	}
	return buf_puts(b, "]}");
}

/* "com.amazonaws.kinesis#ResourceNotFoundException" -> "ResourceNotFoundException" */
static const char *
s_short_type(const char *t)
{
	const char *h = strrchr(t, '#');

	return h ? h + 1 : t;
}

/*
 * The string member key of o, or NULL: json-c reports a member set to null
 * as present with a NULL string, and whatever answers may send anything.
 */
static const char *
s_member_str(json_object *o, const char *key)
{
	json_object *v;

	if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

static kinesis_status
s_classify_error(long status, const char *body, char *err, size_t errlen)
{
	json_object *o = body && *body ? json_tokener_parse(body) : NULL;
	const char *type = s_member_str(o, "__type");
	const char *msg = s_member_str(o, "message");
	char code[128];
	kinesis_status ks;

	type = type ? s_short_type(type) : "";
	if (msg == NULL)
		msg = s_member_str(o, "Message");
	if (msg == NULL)
		msg = "";
	if (!*type && body && strstr(body, "<Code>"))
	{
		/* some front ends answer auth failures in XML */
		const char *c = strstr(body, "<Code>") + 6;

		snprintf(code, sizeof(code), "%.*s", (int) strcspn(c, "<"), c);
		type = code;
	}
	if (status >= 500)
		ks = KS_RETRY;
	else if (strstr(type, "Throughput") || strstr(type, "Throttl") ||
			 strcmp(type, "LimitExceededException") == 0 ||
			 strcmp(type, "KMSThrottlingException") == 0 || status == 429)
		ks = KS_RETRY;
	else if (strncmp(type, "ExpiredToken", 12) == 0)
		ks = KS_EXPIRED;
	else if (strcmp(type, "ValidationException") == 0 ||
			 strcmp(type, "SerializationException") == 0 ||
			 strcmp(type, "InvalidArgumentException") == 0 || status == 413)
		ks = KS_INVALID;
	else if (strcmp(type, "ResourceNotFoundException") == 0 || strstr(type, "Signature") ||
			 strstr(type, "AccessDenied") || strstr(type, "Unrecognized") ||
			 strstr(type, "InvalidClientTokenId") || strstr(type, "MissingAuthentication") ||
			 strstr(type, "NotAuthorized") || strstr(type, "KMS") || status == 403)
		ks = KS_FATAL;
	else
		ks = KS_RETRY;
	snprintf(err, errlen, "PutRecords: HTTP %ld %s%s%.200s", status,
			 *type ? type : "(no error type)", *msg ? ": " : "", msg);
	if (o)
		json_object_put(o);
	return ks;
}

kinesis_status
kinesis_put_records(kinesis_client *k, const kinesis_entry *entries, int n,
					kinesis_record_status *status, int *failed, char *err, size_t errlen)
{
	const aws_credentials *c;
	char hash[65], host_h[300], date_h[64], *auth_h = NULL, *tok_h = NULL;
	sigv4_header sh[3] = {
		{"Host", k->u.host}, {"Content-Type", KINESIS_CTYPE}, {"X-Amz-Target", KINESIS_TARGET}};
	sigv4_request sr = {"POST", k->u.path, NULL, sh, 3, hash};
	sigv4_params sp;
	sigv4_result res;
	const char *hdrs[7];
	size_t nh = 0;
	http_request req;
	json_object *o = NULL, *recs, *v;
	kinesis_status ks = KS_RETRY;
	int i;

	*failed = 0;
	if (s_build_body(k, entries, n) < 0)
	{
		snprintf(err, errlen, "out of memory");
		return KS_RETRY;
	}
	if (credentials_get(k->creds, &c, err, errlen) < 0)
		return KS_FATAL;
	sigv4_sha256_hex(k->body.data, k->body.len, hash);
	memset(&sp, 0, sizeof(sp));
	sp.access_key = c->access_key;
	sp.secret_key = c->secret_key;
	sp.session_token = c->session_token;
	sp.region = k->region;
	sp.service = "kinesis";
	sp.now = time(NULL);
	sp.normalize_path = true;
	if (sigv4_sign(&sr, &sp, &res, err, errlen) < 0)
		return KS_RETRY;
	snprintf(host_h, sizeof(host_h), "Host: %s", k->u.host);
	snprintf(date_h, sizeof(date_h), "X-Amz-Date: %s", res.amz_date);
	auth_h = malloc(strlen(res.authorization) + 32);
	sprintf(auth_h, "Authorization: %s", res.authorization);
	hdrs[nh++] = host_h;
	hdrs[nh++] = "Content-Type: " KINESIS_CTYPE;
	hdrs[nh++] = "X-Amz-Target: " KINESIS_TARGET;
	hdrs[nh++] = date_h;
	hdrs[nh++] = auth_h;
	if (c->session_token)
	{
		tok_h = malloc(strlen(c->session_token) + 32);
		sprintf(tok_h, "X-Amz-Security-Token: %s", c->session_token);
		hdrs[nh++] = tok_h;
	}
	sigv4_result_free(&res);

	req.method = "POST";
	req.url = k->url;
	req.headers = hdrs;
	req.n_headers = nh;
	req.body = k->body.data;
	req.body_len = k->body.len;
	req.timeout_ms = k->timeout_ms;
	if (http_do(k->http, &req, &k->resp, err, errlen) < 0)
	{
		ks = KS_RETRY;
		goto done;
	}
	if (k->resp.status != 200)
	{
		ks = s_classify_error(k->resp.status, k->resp.body, err, errlen);
		if (ks == KS_EXPIRED)
			credentials_invalidate(k->creds);
		goto done;
	}
	o = json_tokener_parse(k->resp.body);
	if (o == NULL || !json_object_object_get_ex(o, "Records", &recs) ||
		!json_object_is_type(recs, json_type_array) || (int) json_object_array_length(recs) != n)
	{
		snprintf(err, errlen, "PutRecords: unexpected response (HTTP 200, %zu bytes)",
				 k->resp.body_len);
		ks = KS_RETRY;
		goto done;
	}
	err[0] = '\0';
	for (i = 0; i < n; i++)
	{
		json_object *r = json_object_array_get_idx(recs, (size_t) i);

		status[i] = KR_OK;
		if (json_object_object_get_ex(r, "ErrorCode", &v) &&
			!json_object_is_type(v, json_type_null))
		{
			const char *code = json_object_get_string(v);

			(*failed)++;
			if (strncmp(code, "KMS", 3) == 0 && strcmp(code, "KMSThrottlingException") != 0)
				status[i] = KR_FATAL;
			else
				status[i] = KR_RETRY;
			if (!err[0])
			{
				const char *m = s_member_str(r, "ErrorMessage");

				snprintf(err, errlen, "PutRecords: record %d: %s%s%.200s", i, code, m ? ": " : "",
						 m ? m : "");
			}
		}
		else if (s_member_str(r, "SequenceNumber") == NULL)
		{
			/* neither stored nor refused: not proof of delivery, send it again */
			(*failed)++;
			status[i] = KR_RETRY;
			if (!err[0])
				snprintf(
					err, errlen,
					"PutRecords: record %d: neither SequenceNumber nor ErrorCode in the answer", i);
		}
	}
	ks = KS_OK;

done:
	if (o)
		json_object_put(o);
	if (auth_h)
		free(auth_h);
	if (tok_h)
	{
		memset(tok_h, 0, strlen(tok_h));
		free(tok_h);
	}
	return ks;
}
