/*
 * ddb_rapi.c
 *		HTTP/1.1 over a TCP socket for the Lambda Runtime API (see
 *		ddb_rapi.h for why this is not http.c).
 */
#include "ddb_rapi.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

void
ddb_rapi_resp_init(ddb_rapi_resp *r)
{
	memset(r, 0, sizeof(*r));
	ddb_buf_init(&r->body);
}

void
ddb_rapi_resp_free(ddb_rapi_resp *r)
{
	ddb_buf_free(&r->body);
}

static int
s_connect(const char *api, char *err, size_t errlen)
{
	char host[256];
	const char *colon = strrchr(api, ':');
	struct addrinfo hints, *res, *ai;
	int fd = -1;
	int rc;

	if (colon == NULL || (size_t) (colon - api) >= sizeof(host) || colon[1] == '\0')
	{
		snprintf(err, errlen, "AWS_LAMBDA_RUNTIME_API \"%s\" is not host:port", api);
		return -1;
	}
	memcpy(host, api, (size_t) (colon - api));
	host[colon - api] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, colon + 1, &hints, &res);
	if (rc != 0)
	{
		snprintf(err, errlen, "resolving %s: %s", api, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next)
	{
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errlen, "connecting to the Runtime API at %s: %s", api, strerror(errno));
	return fd;
}

static int
s_send_all(int fd, const char *p, size_t n, volatile sig_atomic_t *stop, char *err, size_t errlen)
{
	while (n > 0)
	{
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR && !(stop && *stop))
			continue;
		if (w < 0)
		{
			snprintf(err, errlen, "sending to the Runtime API: %s", strerror(errno));
			return -1;
		}
		p += w;
		n -= (size_t) w;
	}
	return 0;
}

/* Copy the value of header `name` if line is that header. */
static void
s_header(const char *line, size_t len, const char *name, char *out, size_t outlen)
{
	size_t n = strlen(name);
	size_t vlen;

	if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
		return;
	line += n + 1;
	len -= n + 1;
	while (len && (*line == ' ' || *line == '\t'))
		line++, len--;
	while (len && (line[len - 1] == ' ' || line[len - 1] == '\r'))
		len--;
	vlen = len < outlen - 1 ? len : outlen - 1;
	memcpy(out, line, vlen);
	out[vlen] = '\0';
}

/*
 * Decode a chunked body in place; -1 if malformed.  Sizes are parsed by hand
 * (strtoul takes "-1" as ULONG_MAX and lets a size run past the body).
 */
static int
s_dechunk(ddb_buf *b)
{
	size_t in = 0;
	size_t out = 0;

	for (;;)
	{
		size_t sz = 0;
		size_t i = in;
		char *crlf;

		for (; i < b->len && isxdigit((unsigned char) b->data[i]); i++)
		{
			char c = b->data[i];

			if (sz > (SIZE_MAX >> 4))
				return -1;
			sz = sz * 16 + (size_t) (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
		}
		/* then an optional ;extension up to the CRLF */
		crlf = i > in ? strstr(b->data + i, "\r\n") : NULL;
		if (crlf == NULL)
			return -1;
		in = (size_t) (crlf - b->data) + 2;
		if (sz == 0)
			break;
		if (sz > b->len - in || b->len - in - sz < 2 || memcmp(b->data + in + sz, "\r\n", 2) != 0)
			return -1;
		memmove(b->data + out, b->data + in, sz);
		out += sz;
		in += sz + 2;
	}
	b->len = out;
	b->data[out] = '\0';
	return 0;
}

int
ddb_rapi_request(const char *api, const char *method, const char *path, const char *extra_header,
				 const char *body, size_t body_len, ddb_rapi_resp *resp,
				 volatile sig_atomic_t *stop, char *err, size_t errlen)
{
	ddb_buf req;
	ddb_buf raw;
	int fd;
	int rc = -1;
	char *hdr_end;
	char *line;
	char clen[32] = "";
	char te[64] = "";
	size_t hlen;

	resp->status = 0;
	resp->request_id[0] = resp->deadline_ms[0] = resp->trace_id[0] = '\0';
	ddb_buf_reset(&resp->body);
	fd = s_connect(api, err, errlen);
	if (fd < 0)
		return -1;
	ddb_buf_init(&req);
	ddb_buf_init(&raw);
	ddb_buf_printf(&req,
				   "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: eventrelay\r\nConnection: close\r\n",
				   method, path, api);
	if (extra_header)
		ddb_buf_printf(&req, "%s\r\n", extra_header);
	if (body)
		ddb_buf_printf(&req, "Content-Type: application/json\r\nContent-Length: %zu\r\n", body_len);
	ddb_buf_puts(&req, "\r\n");
	if (body)
		ddb_buf_append(&req, body, body_len);
	if (ddb_buf_failed(&req))
	{
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	if (s_send_all(fd, req.data, req.len, stop, err, errlen) != 0)
		goto done;

	/* Read to EOF: the server closes after the response (Connection: close). */
	for (;;)
	{
		ssize_t n;

		if (ddb_buf_reserve(&raw, 65536) != 0)
		{
			snprintf(err, errlen, "out of memory");
			goto done;
		}
		n = recv(fd, raw.data + raw.len, 65536, 0);
		if (n < 0 && errno == EINTR && !(stop && *stop))
			continue;
		if (n < 0)
		{
			snprintf(err, errlen, "reading from the Runtime API: %s",
					 errno == EINTR ? "interrupted" : strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		raw.len += (size_t) n;
		raw.data[raw.len] = '\0';
		/* Stop early once a Content-Length body is complete. */
		hdr_end = strstr(raw.data, "\r\n\r\n");
		if (hdr_end && clen[0] == '\0')
		{
			char *p = strcasestr(raw.data, "\r\ncontent-length:");

			if (p && p < hdr_end)
				s_header(p + 2, (size_t) (strchr(p + 2, '\r') - (p + 2)), "Content-Length", clen,
						 sizeof(clen));
		}
		if (hdr_end && clen[0] &&
			raw.len >= (size_t) (hdr_end + 4 - raw.data) + strtoul(clen, NULL, 10))
			break;
	}
	if (raw.len == 0 || (hdr_end = strstr(raw.data, "\r\n\r\n")) == NULL ||
		sscanf(raw.data, "HTTP/1.%*d %d", &resp->status) != 1)
	{
		snprintf(err, errlen, "malformed response from the Runtime API");
		goto done;
	}
	hlen = (size_t) (hdr_end - raw.data) + 4;
	for (line = strstr(raw.data, "\r\n") + 2; line < hdr_end;)
	{
		char *eol = strstr(line, "\r\n");
		size_t len = (size_t) (eol - line);

		s_header(line, len, "Lambda-Runtime-Aws-Request-Id", resp->request_id,
				 sizeof(resp->request_id));
		s_header(line, len, "Lambda-Runtime-Deadline-Ms", resp->deadline_ms,
				 sizeof(resp->deadline_ms));
		s_header(line, len, "Lambda-Runtime-Trace-Id", resp->trace_id, sizeof(resp->trace_id));
		s_header(line, len, "Transfer-Encoding", te, sizeof(te));
		line = eol + 2;
	}
	{
		size_t blen = raw.len - hlen;

		if (clen[0])
		{
			if (strtoul(clen, NULL, 10) > blen)
			{
				snprintf(err, errlen, "response from the Runtime API ended early");
				goto done;
			}
			blen = strtoul(clen, NULL, 10);
		}
		ddb_buf_append(&resp->body, raw.data + hlen, blen);
	}
	if (strcasecmp(te, "chunked") == 0 && s_dechunk(&resp->body) != 0)
	{
		snprintf(err, errlen, "malformed chunked response from the Runtime API");
		goto done;
	}
	if (ddb_buf_failed(&resp->body))
	{
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	rc = 0;
done:
	close(fd);
	ddb_buf_free(&req);
	ddb_buf_free(&raw);
	return rc;
}
