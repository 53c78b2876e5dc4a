/*
 * credentials.c
 *		The AWS credential chain (see credentials.h).
 */
#include "credentials.h"
#include "config.h"
#include "http.h"
#include "log.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json.h>

#define CRED_REFRESH_MARGIN 300 /* seconds before expiry */
#define CRED_HTTP_TIMEOUT	2000

struct credentials_provider
{
	aws_credentials cur;
	bool have;
	http_client *http;
};

static void
s_clear(aws_credentials *c)
{
	if (c->secret_key)
		memset(c->secret_key, 0, strlen(c->secret_key));
	if (c->session_token)
		memset(c->session_token, 0, strlen(c->session_token));
	free(c->access_key);
	free(c->secret_key);
	free(c->session_token);
	memset(c, 0, sizeof(*c));
}

credentials_provider *
credentials_provider_new(char *err, size_t errlen)
{
	credentials_provider *p = calloc(1, sizeof(*p));
	http_options opt = {NULL, 1000, NULL};

	if (p == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->http = http_client_new(&opt, err, errlen);
	if (p->http == NULL)
	{
		free(p);
		return NULL;
	}
	return p;
}

void
credentials_provider_free(credentials_provider *p)
{
	if (p == NULL)
		return;
	s_clear(&p->cur);
	http_client_free(p->http);
	free(p);
}

void
credentials_invalidate(credentials_provider *p)
{
	s_clear(&p->cur);
	p->have = false;
}

static time_t
s_parse_time(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
		return 0;
	return timegm(&tm);
}

static const char *
s_json_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* The JSON both the container endpoint and IMDS return. */
static int
s_from_json(const char *body, aws_credentials *c, const char *source, char *err, size_t errlen)
{
	json_object *o = json_tokener_parse(body);
	const char *ak, *sk, *tok, *code;

	if (o == NULL)
	{
		snprintf(err, errlen, "%s credentials: response is not JSON", source);
		return -1;
	}
	code = s_json_str(o, "Code");
	ak = s_json_str(o, "AccessKeyId");
	sk = s_json_str(o, "SecretAccessKey");
	tok = s_json_str(o, "Token");
	if ((code && strcmp(code, "Success") != 0) || ak == NULL || sk == NULL)
	{
		snprintf(err, errlen, "%s credentials: no AccessKeyId/SecretAccessKey in the response%s%s",
				 source, code ? ", Code " : "", code ? code : "");
		json_object_put(o);
		return -1;
	}
	c->access_key = strdup(ak);
	c->secret_key = strdup(sk);
	c->session_token = tok ? strdup(tok) : NULL;
	c->expiration = s_parse_time(s_json_str(o, "Expiration"));
	c->source = source;
	json_object_put(o);
	return 0;
}

static int
s_from_env(aws_credentials *c)
{
	const char *ak = config_env("AWS_ACCESS_KEY_ID");
	const char *sk = config_env("AWS_SECRET_ACCESS_KEY");
	const char *tok = config_env("AWS_SESSION_TOKEN");

	if (ak == NULL || sk == NULL)
		return 1;
	c->access_key = strdup(ak);
	c->secret_key = strdup(sk);
	c->session_token = tok ? strdup(tok) : NULL;
	c->expiration = 0;
	c->source = "environment";
	return 0;
}

static char *
s_read_token_file(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[8192];
	size_t n;

	if (f == NULL)
	{
		snprintf(err, errlen, "could not read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \"%s\"", path);
		return NULL;
	}
	n = fread(line, 1, sizeof(line) - 1, f);
	fclose(f);
	line[n] = '\0';
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
		line[--n] = '\0';
	return strdup(line);
}

/* 1 = not configured, 0 = got them, -1 = configured but failed. */
static int
s_from_container(credentials_provider *p, aws_credentials *c, char *err, size_t errlen)
{
	const char *rel = config_env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = config_env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *tokfile = config_env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *tokenv = config_env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	char url[2048];
	char *token = NULL;
	char *hdr = NULL;
	const char *hdrs[1];
	http_request req = {"GET", url, hdrs, 0, NULL, 0, CRED_HTTP_TIMEOUT, NULL};
	http_response resp = {0};
	int rc = -1;

	if (rel)
		snprintf(url, sizeof(url), "http://169.254.170.2%s", rel);
	else if (full)
		snprintf(url, sizeof(url), "%s", full);
	else
		return 1;
	if (tokfile)
	{
		token = s_read_token_file(tokfile, err, errlen);
		if (token == NULL)
			return -1;
	}
	else if (tokenv)
		token = strdup(tokenv);
	if (token)
	{
		hdr = malloc(strlen(token) + 32);
		sprintf(hdr, "Authorization: %s", token);
		hdrs[0] = hdr;
		req.n_headers = 1;
	}
	if (http_do(p->http, &req, &resp, err, errlen) < 0)
		goto done;
	if (resp.status != 200)
	{
		snprintf(err, errlen, "container credentials: HTTP %ld from the credentials endpoint",
				 resp.status);
		goto done;
	}
	rc = s_from_json(resp.body.data, c, "container", err, errlen);

done:
	if (hdr)
		memset(hdr, 0, strlen(hdr));
	if (token)
		memset(token, 0, strlen(token));
	free(hdr);
	free(token);
	http_response_free(&resp);
	return rc;
}

static int
s_from_imds(credentials_provider *p, aws_credentials *c, char *err, size_t errlen)
{
	const char *dis = config_env("AWS_EC2_METADATA_DISABLED");
	const char *base = config_env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	char url[1024], tokhdr[1200], role[256];
	const char *h_ttl[] = {"X-aws-ec2-metadata-token-ttl-seconds: 21600"};
	const char *h_tok[] = {tokhdr};
	http_request req = {"PUT", url, h_ttl, 1, "", 0, CRED_HTTP_TIMEOUT, NULL};
	http_response resp = {0};
	size_t blen;
	int rc = -1;

	if (dis && strcasecmp(dis, "true") == 0)
		return 1;
	if (base == NULL)
		base = "http://169.254.169.254";
	blen = strlen(base);
	while (blen && base[blen - 1] == '/')
		blen--;

	snprintf(url, sizeof(url), "%.*s/latest/api/token", (int) blen, base);
	if (http_do(p->http, &req, &resp, err, errlen) < 0)
		goto done;
	if (resp.status != 200 || resp.body.len == 0 || resp.body.len > 1000)
	{
		snprintf(err, errlen, "instance metadata: HTTP %ld for the IMDSv2 session token",
				 resp.status);
		goto done;
	}
	snprintf(tokhdr, sizeof(tokhdr), "X-aws-ec2-metadata-token: %s", resp.body.data);

	req.method = "GET";
	req.headers = h_tok;
	req.body = NULL;
	snprintf(url, sizeof(url), "%.*s/latest/meta-data/iam/security-credentials/", (int) blen, base);
	if (http_do(p->http, &req, &resp, err, errlen) < 0)
		goto done;
	if (resp.status != 200 || resp.body.len == 0)
	{
		snprintf(err, errlen,
				 "instance metadata: HTTP %ld listing the instance role (no role attached?)",
				 resp.status);
		goto done;
	}
	snprintf(role, sizeof(role), "%.*s", (int) strcspn(resp.body.data, "\r\n"), resp.body.data);
	snprintf(url, sizeof(url), "%.*s/latest/meta-data/iam/security-credentials/%s", (int) blen,
			 base, role);
	if (http_do(p->http, &req, &resp, err, errlen) < 0)
		goto done;
	if (resp.status != 200)
	{
		snprintf(err, errlen, "instance metadata: HTTP %ld for the role's credentials",
				 resp.status);
		goto done;
	}
	rc = s_from_json(resp.body.data, c, "imds", err, errlen);

done:
	memset(tokhdr, 0, sizeof(tokhdr));
	http_response_free(&resp);
	return rc;
}

int
credentials_get(credentials_provider *p, const aws_credentials **out, char *err, size_t errlen)
{
	aws_credentials c = {0};
	char e2[512] = "", e3[512] = "";
	int rc;

	if (p->have && (p->cur.expiration == 0 || time(NULL) < p->cur.expiration - CRED_REFRESH_MARGIN))
	{
		*out = &p->cur;
		return 0;
	}
	rc = s_from_env(&c);
	if (rc == 1)
		rc = s_from_container(p, &c, e2, sizeof(e2));
	if (rc == 1)
		rc = s_from_imds(p, &c, e3, sizeof(e3));
	if (rc != 0)
	{
		s_clear(&c);
		/* keep still-valid old credentials if a refresh failed */
		if (p->have && (p->cur.expiration == 0 || time(NULL) < p->cur.expiration))
		{
			log_warn("could not refresh AWS credentials, using the current ones: %s",
					 e2[0] ? e2 : e3);
			*out = &p->cur;
			return 0;
		}
		snprintf(err, errlen, "no AWS credentials: %s",
				 e2[0]	 ? e2
				 : e3[0] ? e3
						 : "set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run with container "
						   "or instance credentials");
		return -1;
	}
	if (!p->have || p->cur.source != c.source)
		log_kv(LOG_INFO, "AWS credentials loaded", "source", c.source, NULL);
	s_clear(&p->cur);
	p->cur = c;
	p->have = true;
	*out = &p->cur;
	return 0;
}
