/*
 * ddb_aws.c
 *		Signed JSON 1.0 calls to DynamoDB Streams (see ddb_aws.h).  The
 *		signing follows kinesis.c: the same headers, service "dynamodb"
 *		(DynamoDB Streams signs as dynamodb).
 */
#include "ddb_aws.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "credentials.h"
#include "http.h"
#include "log.h"
#include "sigv4.h"

#define DDB_AWS_CTYPE "application/x-amz-json-1.0"

struct ddb_aws
{
	http_client *http;
	credentials_provider *creds;
	http_response resp;
	http_url u;
	char *url;
	char *region;
	long timeout_ms;
};

ddb_aws *
ddb_aws_new(const char *endpoint, const char *region, const char *ca_bundle, long timeout_ms,
			char *err, size_t errlen)
{
	ddb_aws *a = calloc(1, sizeof(*a));
	http_options ho;
	char def[256];

	if (a == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (endpoint == NULL || *endpoint == '\0')
	{
		snprintf(def, sizeof(def), "https://streams.dynamodb.%s.amazonaws.com", region);
		endpoint = def;
	}
	memset(&ho, 0, sizeof(ho));
	ho.ca_bundle = ca_bundle;
	a->url = strdup(endpoint);
	a->region = strdup(region);
	a->timeout_ms = timeout_ms;
	if (a->url == NULL || a->region == NULL || http_url_parse(endpoint, &a->u, err, errlen) < 0 ||
		(a->http = http_client_new(&ho, err, errlen)) == NULL ||
		(a->creds = credentials_provider_new(err, errlen)) == NULL)
	{
		ddb_aws_free(a);
		return NULL;
	}
	if (strcmp(a->u.scheme, "http") == 0 && !http_url_is_loopback(&a->u))
		log_kv(LOG_WARN, "DynamoDB Streams endpoint is plain http", "endpoint", endpoint, NULL);
	return a;
}

void
ddb_aws_free(ddb_aws *a)
{
	if (a == NULL)
		return;
	if (a->http)
		http_client_free(a->http);
	if (a->creds)
		credentials_provider_free(a->creds);
	http_response_free(&a->resp);
	free(a->url);
	free(a->region);
	free(a);
}

/* One signed call: the answer parsed (out) or as text (text, len), whichever is asked. */
static ddb_aws_status
s_call(ddb_aws *a, const char *op, const char *body, struct json_object **out, char **text,
	   size_t *text_len, char *type, size_t typelen, char *err, size_t errlen)
{
	const aws_credentials *c;
	char hash[65], target[96], target_h[128], host_h[300], date_h[64];
	char *auth_h = NULL, *tok_h = NULL;
	const char *path = a->u.path[0] ? a->u.path : "/";
	sigv4_header sh[3] = {
		{"Host", a->u.host}, {"Content-Type", DDB_AWS_CTYPE}, {"X-Amz-Target", target}};
	sigv4_request sr = {"POST", path, NULL, sh, 3, hash};
	sigv4_params sp;
	sigv4_result res;
	const char *hdrs[7];
	size_t nh = 0;
	http_request req;
	ddb_aws_status st = DDB_AWS_RETRY;
	struct json_object *o = NULL, *v;

	if (out)
		*out = NULL;
	if (text)
		*text = NULL;
	type[0] = '\0';
	snprintf(target, sizeof(target), "DynamoDBStreams_20120810.%s", op);
	if (credentials_get(a->creds, &c, err, errlen) < 0)
		return DDB_AWS_RETRY;
	sigv4_sha256_hex(body, strlen(body), hash);
	memset(&sp, 0, sizeof(sp));
	sp.access_key = c->access_key;
	sp.secret_key = c->secret_key;
	sp.session_token = c->session_token;
	sp.region = a->region;
	sp.service = "dynamodb";
	sp.now = time(NULL);
	sp.normalize_path = true;
	if (sigv4_sign(&sr, &sp, &res, err, errlen) < 0)
		return DDB_AWS_RETRY;
	snprintf(host_h, sizeof(host_h), "Host: %s", a->u.host);
	snprintf(date_h, sizeof(date_h), "X-Amz-Date: %s", res.amz_date);
	snprintf(target_h, sizeof(target_h), "X-Amz-Target: %s", target);
	auth_h = malloc(strlen(res.authorization) + 32);
	if (auth_h)
		sprintf(auth_h, "Authorization: %s", res.authorization);
	sigv4_result_free(&res);
	if (auth_h == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return DDB_AWS_RETRY;
	}
	hdrs[nh++] = host_h;
	hdrs[nh++] = "Content-Type: " DDB_AWS_CTYPE;
	hdrs[nh++] = target_h;
	hdrs[nh++] = date_h;
	hdrs[nh++] = auth_h;
	if (c->session_token)
	{
		tok_h = malloc(strlen(c->session_token) + 32);
		if (tok_h)
		{
			sprintf(tok_h, "X-Amz-Security-Token: %s", c->session_token);
			hdrs[nh++] = tok_h;
		}
	}
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = a->url;
	req.headers = hdrs;
	req.n_headers = nh;
	req.body = body;
	req.body_len = strlen(body);
	req.timeout_ms = a->timeout_ms;
	if (http_do(a->http, &req, &a->resp, err, errlen) < 0)
		goto done;
	if (a->resp.status == 200 && text)
	{
		*text = malloc(a->resp.body_len + 1);
		if (*text == NULL)
		{
			snprintf(err, errlen, "out of memory");
			goto done;
		}
		memcpy(*text, a->resp.body ? a->resp.body : "", a->resp.body_len);
		(*text)[a->resp.body_len] = '\0';
		*text_len = a->resp.body_len;
		st = DDB_AWS_OK;
		goto done;
	}
	o = a->resp.body ? json_tokener_parse(a->resp.body) : NULL;
	if (a->resp.status == 200)
	{
		if (o == NULL || !json_object_is_type(o, json_type_object))
		{
			snprintf(err, errlen, "%s: unexpected response (HTTP 200, %zu bytes)", op,
					 a->resp.body_len);
			goto done;
		}
		*out = o;
		o = NULL;
		st = DDB_AWS_OK;
		goto done;
	}
	/* {"__type":"com.amazonaws.dynamodb.v20120810#ExpiredIteratorException","message":"..."} */
	if (o && json_object_object_get_ex(o, "__type", &v) && json_object_is_type(v, json_type_string))
	{
		const char *t = json_object_get_string(v);
		const char *h = strrchr(t, '#');

		snprintf(type, typelen, "%s", h ? h + 1 : t);
	}
	{
		const char *msg = "";

		/* a member set to null is present with a NULL string */
		if (o && ((json_object_object_get_ex(o, "message", &v) &&
				   json_object_is_type(v, json_type_string)) ||
				  (json_object_object_get_ex(o, "Message", &v) &&
				   json_object_is_type(v, json_type_string))))
			msg = json_object_get_string(v);
		snprintf(err, errlen, "%s: HTTP %ld %s%s%.200s", op, a->resp.status,
				 type[0] ? type : "(no error type)", *msg ? ": " : "", msg);
	}
	if (a->resp.status >= 500 || strstr(type, "Throttl") ||
		strcmp(type, "LimitExceededException") == 0)
		st = DDB_AWS_RETRY;
	else
	{
		if (strcmp(type, "ExpiredTokenException") == 0 ||
			strcmp(type, "UnrecognizedClientException") == 0)
			credentials_invalidate(a->creds);
		st = DDB_AWS_ERROR;
	}
done:
	if (o)
		json_object_put(o);
	free(auth_h);
	free(tok_h);
	return st;
}

ddb_aws_status
ddb_aws_call(ddb_aws *a, const char *op, const char *body, struct json_object **out, char *type,
			 size_t typelen, char *err, size_t errlen)
{
	return s_call(a, op, body, out, NULL, NULL, type, typelen, err, errlen);
}

ddb_aws_status
ddb_aws_call_text(ddb_aws *a, const char *op, const char *body, char **text, size_t *len,
				  char *type, size_t typelen, char *err, size_t errlen)
{
	return s_call(a, op, body, NULL, text, len, type, typelen, err, errlen);
}
