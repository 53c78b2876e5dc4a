/*
 * aws_credentials.c
 *		The AWS credential chain (see aws_credentials.h).
 */
#include "aws_credentials.h"
#include "json.h"
#include "codec.h"
#include "config.h"
#include "http.h"
#include "log.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CRED_REFRESH_MARGIN 300 /* seconds before expiry */
#define CRED_HTTP_TIMEOUT	2000

/*
 * One cache per process, shared by every client's provider handle: the
 * Kinesis sink, the S3 sink and an S3 dead letter ask once, not three times
 * (one IMDS session).  The lock is held while fetching, so threads that ask
 * at the same time wait for that one fetch.
 */
typedef struct credentials_cache
{
	aws_credentials cur;
	bool have;
	unsigned gen; /* bumped whenever cur changes */
	int refs;
	http_client *http;
} credentials_cache;

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static credentials_cache *cache;

/* A handle: its own copy of the credentials, valid until its next get. */
struct credentials_provider
{
	aws_credentials cur;
	unsigned gen;
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
	pthread_mutex_lock(&cache_mu);
	if (cache == NULL && (cache = calloc(1, sizeof(*cache))) != NULL &&
		(cache->http = http_client_new(&opt, err, errlen)) == NULL)
	{
		free(cache);
		cache = NULL;
	}
	else if (cache == NULL)
		snprintf(err, errlen, "out of memory");
	if (cache)
		cache->refs++;
	pthread_mutex_unlock(&cache_mu);
	if (cache == NULL)
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
	free(p);
	pthread_mutex_lock(&cache_mu);
	if (--cache->refs == 0)
	{
		s_clear(&cache->cur);
		http_client_free(cache->http);
		free(cache);
		cache = NULL;
	}
	pthread_mutex_unlock(&cache_mu);
}

void
credentials_invalidate(credentials_provider *p)
{
	pthread_mutex_lock(&cache_mu);
	/* only if nobody has fetched newer ones since p got its copy */
	if (cache->gen == p->gen)
	{
		s_clear(&cache->cur);
		cache->have = false;
		cache->gen++;
	}
	pthread_mutex_unlock(&cache_mu);
}

bool
credentials_configured(void)
{
	const char *dis = config_env("AWS_EC2_METADATA_DISABLED");

	return (config_env("AWS_ACCESS_KEY_ID") && config_env("AWS_SECRET_ACCESS_KEY")) ||
		   config_env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") ||
		   config_env("AWS_CONTAINER_CREDENTIALS_FULL_URI") || dis == NULL ||
		   strcasecmp(dis, "true") != 0;
}

static time_t
s_parse_time(const char *s)
{
	time_t t = s ? codec_iso8601(s, strlen(s), NULL) : -1;

	return t < 0 ? 0 : t;
}

/* The JSON both the container endpoint and IMDS return (parsed in place). */
static int
s_from_json(buf *body, aws_credentials *c, const char *source, char *err, size_t errlen)
{
	jv_doc d;
	const char *ak, *sk, *tok, *code;
	char perr[128];
	int rc = -1;

	jv_doc_init(&d);
	if (jv_parse(&d, body->data, body->len, perr, sizeof(perr)) != 0 || !jv_is(d.root, JV_OBJECT))
	{
		snprintf(err, errlen, "%s credentials: response is not a JSON object", source);
		goto done;
	}
	code = jv_str(jv_get(d.root, "Code"));
	ak = jv_str(jv_get(d.root, "AccessKeyId"));
	sk = jv_str(jv_get(d.root, "SecretAccessKey"));
	tok = jv_str(jv_get(d.root, "Token"));
	if ((code && strcmp(code, "Success") != 0) || ak == NULL || sk == NULL)
	{
		snprintf(err, errlen, "%s credentials: no AccessKeyId/SecretAccessKey in the response%s%s",
				 source, code ? ", Code " : "", code ? code : "");
		goto done;
	}
	c->access_key = strdup(ak);
	c->secret_key = strdup(sk);
	c->session_token = tok ? strdup(tok) : NULL;
	c->expiration = s_parse_time(jv_str(jv_get(d.root, "Expiration")));
	c->source = source;
	rc = 0;
done:
	jv_doc_free(&d);
	return rc;
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
s_from_container(credentials_cache *p, aws_credentials *c, char *err, size_t errlen)
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
	rc = s_from_json(&resp.body, c, "container", err, errlen);

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
s_from_imds(credentials_cache *p, aws_credentials *c, char *err, size_t errlen)
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
	rc = s_from_json(&resp.body, c, "imds", err, errlen);

done:
	memset(tokhdr, 0, sizeof(tokhdr));
	http_response_free(&resp);
	return rc;
}

static bool
s_fresh(const credentials_cache *k)
{
	return k->have &&
		   (k->cur.expiration == 0 || time(NULL) < k->cur.expiration - CRED_REFRESH_MARGIN);
}

/* Refresh the shared cache (cache_mu held). */
static int
s_refresh(credentials_cache *k, char *err, size_t errlen)
{
	aws_credentials c = {0};
	char e2[512] = "", e3[512] = "";
	int rc;

	rc = s_from_env(&c);
	if (rc == 1)
		rc = s_from_container(k, &c, e2, sizeof(e2));
	if (rc == 1)
		rc = s_from_imds(k, &c, e3, sizeof(e3));
	if (rc != 0)
	{
		s_clear(&c);
		/* keep still-valid old credentials if a refresh failed */
		if (k->have && (k->cur.expiration == 0 || time(NULL) < k->cur.expiration))
		{
			log_warn("could not refresh AWS credentials, using the current ones: %s",
					 e2[0] ? e2 : e3);
			return 0;
		}
		snprintf(err, errlen, "no AWS credentials: %s",
				 e2[0]	 ? e2
				 : e3[0] ? e3
						 : "set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run with container "
						   "or instance credentials");
		return -1;
	}
	/* debug the first time: a configuration error found at startup is then one line */
	if (!k->have || k->cur.source != c.source)
		log_kv(k->cur.source ? LOG_INFO : LOG_DEBUG, "AWS credentials loaded", "source", c.source,
			   NULL);
	s_clear(&k->cur);
	k->cur = c;
	k->have = true;
	k->gen++;
	return 0;
}

static char *
s_dup(const char *s)
{
	return s ? strdup(s) : NULL;
}

int
credentials_get(credentials_provider *p, const aws_credentials **out, char *err, size_t errlen)
{
	int rc = 0;

	pthread_mutex_lock(&cache_mu);
	if (!s_fresh(cache))
		rc = s_refresh(cache, err, errlen);
	if (rc == 0 && (p->gen != cache->gen || p->cur.access_key == NULL))
	{
		s_clear(&p->cur);
		p->cur.access_key = s_dup(cache->cur.access_key);
		p->cur.secret_key = s_dup(cache->cur.secret_key);
		p->cur.session_token = s_dup(cache->cur.session_token);
		p->cur.expiration = cache->cur.expiration;
		p->cur.source = cache->cur.source;
		p->gen = cache->gen;
		if (p->cur.access_key == NULL || p->cur.secret_key == NULL ||
			(cache->cur.session_token && p->cur.session_token == NULL))
		{
			s_clear(&p->cur);
			snprintf(err, errlen, "out of memory");
			rc = -1;
		}
	}
	pthread_mutex_unlock(&cache_mu);
	*out = &p->cur;
	return rc;
}
