/*
 * http.c
 *		libcurl wrapper (see http.h).  One easy handle per client: libcurl
 *		keeps its connection open between requests.
 */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

struct http_client
{
	CURL *curl;
	http_options opt;
	char *ca_bundle;
	char errbuf[CURL_ERROR_SIZE];
};

static int curl_ready = 0;

http_client *
http_client_new(const http_options *opt, char *err, size_t errlen)
{
	http_client *c;

	if (!curl_ready)
	{
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		{
			snprintf(err, errlen, "could not initialise libcurl");
			return NULL;
		}
		curl_ready = 1;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL || (c->curl = curl_easy_init()) == NULL)
	{
		free(c);
		snprintf(err, errlen, "could not create a libcurl handle");
		return NULL;
	}
	if (opt)
		c->opt = *opt;
	if (c->opt.ca_bundle)
		c->ca_bundle = strdup(c->opt.ca_bundle);
	return c;
}

void
http_client_free(http_client *c)
{
	if (c == NULL)
		return;
	curl_easy_cleanup(c->curl);
	free(c->ca_bundle);
	free(c);
}

static size_t
s_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	buf *b = userdata;

	buf_append(b, ptr, size * nmemb);
	return buf_failed(b) ? 0 : size * nmemb;
}

static size_t
s_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	buf *b = userdata;
	size_t n = size * nmemb;

	/* a new status line (redirect, 100 Continue): only the last response counts */
	if (n > 5 && strncmp(ptr, "HTTP/", 5) == 0)
		buf_reset(b);
	buf_append(b, ptr, n);
	return buf_failed(b) ? 0 : n;
}

static int
s_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		   curl_off_t ulnow)
{
	volatile sig_atomic_t *stop = userdata;

	(void) dltotal, (void) dlnow, (void) ultotal, (void) ulnow;
	return *stop ? 1 : 0;
}

static http_failure
s_failure(CURLcode rc)
{
	switch (rc)
	{
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_RESOLVE_PROXY:
		case CURLE_COULDNT_CONNECT:
			return HTTP_FAIL_CONNECT;
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
			return HTTP_FAIL_TLS_VERIFY;
		case CURLE_OPERATION_TIMEDOUT:
			return HTTP_FAIL_TIMEOUT;
		case CURLE_ABORTED_BY_CALLBACK:
			return HTTP_FAIL_STOPPED;
		default:
			return HTTP_FAIL_OTHER;
	}
}

bool
http_response_header(const http_response *resp, const char *name, char *out, size_t outlen)
{
	size_t nlen = strlen(name);
	const char *p = resp->headers.data;

	out[0] = '\0';
	while (p && *p)
	{
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t) (eol - p) : strlen(p);

		if (len > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0)
		{
			const char *v = p + nlen + 1;
			size_t vlen = len - nlen - 1;

			while (vlen && (*v == ' ' || *v == '\t'))
				v++, vlen--;
			while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
				vlen--;
			if (vlen >= outlen)
				vlen = outlen - 1;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return true;
		}
		p += len + (eol != NULL);
	}
	return false;
}

int
http_do(http_client *c, const http_request *req, http_response *resp, char *err, size_t errlen)
{
	CURL *h = c->curl;
	struct curl_slist *hdrs = NULL;
	CURLcode rc;
	size_t i;

	resp->status = 0;
	resp->failure = HTTP_FAIL_NONE;
	buf_reset(&resp->body);
	buf_reset(&resp->headers);

	curl_easy_reset(h); /* keeps the connection cache */
	for (i = 0; i < req->n_headers; i++)
	{
		struct curl_slist *n = curl_slist_append(hdrs, req->headers[i]);

		if (n == NULL)
		{
			curl_slist_free_all(hdrs);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		hdrs = n;
	}
	/* never send "Expect: 100-continue": it costs a round trip */
	hdrs = curl_slist_append(hdrs, "Expect:");
	c->errbuf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
	if (strcmp(req->method, "HEAD") == 0)
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	if (req->body || strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0)
	{
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) req->body_len);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, s_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp->body);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, s_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &resp->headers);
	if (req->stop)
	{
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, s_progress);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *) req->stop);
	}
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
					 req->timeout_ms > 0   ? req->timeout_ms
					 : req->timeout_ms < 0 ? 0L
										   : 30000L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
					 c->opt.connect_timeout_ms > 0 ? c->opt.connect_timeout_ms : 5000L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, c->opt.user_agent ? c->opt.user_agent : "eventrelay");
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	/* no proxy from the environment for loopback emulators and metadata endpoints */
	curl_easy_setopt(h, CURLOPT_NOPROXY, "127.0.0.1,localhost,::1,169.254.169.254,169.254.170.2");
	if (c->ca_bundle)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_bundle);

	rc = curl_easy_perform(h);
	curl_slist_free_all(hdrs);
	if (rc == CURLE_OK && (buf_failed(&resp->body) || buf_failed(&resp->headers)))
		rc = CURLE_OUT_OF_MEMORY;
	if (rc != CURLE_OK)
	{
		resp->failure = s_failure(rc);
		snprintf(err, errlen, "%s: %s", req->url,
				 rc == CURLE_ABORTED_BY_CALLBACK ? "interrupted"
				 : rc == CURLE_PARTIAL_FILE		 ? "response ended early"
				 : c->errbuf[0]					 ? c->errbuf
												 : curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	buf_puts(&resp->body, "");
	buf_puts(&resp->headers, "");
	if (buf_failed(&resp->body) || buf_failed(&resp->headers))
	{
		snprintf(err, errlen, "%s: out of memory", req->url);
		return -1;
	}
	return 0;
}

void
http_response_free(http_response *resp)
{
	buf_free(&resp->body);
	buf_free(&resp->headers);
	resp->status = 0;
}

int
http_url_parse(const char *url, http_url *out, char *err, size_t errlen)
{
	const char *p = strstr(url, "://");
	const char *host, *slash;
	size_t hlen;

	memset(out, 0, sizeof(*out));
	if (p == NULL || (size_t) (p - url) >= sizeof(out->scheme))
	{
		snprintf(err, errlen, "invalid URL \"%s\"", url);
		return -1;
	}
	memcpy(out->scheme, url, (size_t) (p - url));
	if (strcmp(out->scheme, "http") != 0 && strcmp(out->scheme, "https") != 0)
	{
		snprintf(err, errlen, "invalid URL \"%s\": only http and https", url);
		return -1;
	}
	host = p + 3;
	slash = host + strcspn(host, "/?#");
	hlen = (size_t) (slash - host);
	if (hlen == 0 || hlen >= sizeof(out->host) || memchr(host, '@', hlen))
	{
		snprintf(err, errlen, "invalid URL \"%s\": bad host", url);
		return -1;
	}
	memcpy(out->host, host, hlen);
	memcpy(out->hostname, host, hlen);
	{
		char *colon = strrchr(out->hostname, ':');
		char *bracket = strrchr(out->hostname, ']');

		if (colon && (bracket == NULL || colon > bracket))
		{
			out->port = atoi(colon + 1);
			*colon = '\0';
		}
	}
	if (*slash == '/')
		snprintf(out->path, sizeof(out->path), "%.*s", (int) strcspn(slash, "?#"), slash);
	else
		strcpy(out->path, "/");
	return 0;
}

bool
http_url_is_loopback(const http_url *u)
{
	return strcmp(u->hostname, "localhost") == 0 || strncmp(u->hostname, "127.", 4) == 0 ||
		   strcmp(u->hostname, "[::1]") == 0;
}
