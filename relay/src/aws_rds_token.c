/*
 * aws_rds_token.c
 *		The RDS IAM authentication token (see aws_rds_token.h): a presigned
 *		request shaped as the AWS SDKs shape it, signed by sigv4_presign.
 */
#include "aws_rds_token.h"
#include "aws_sigv4.h"
#include "buf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *
rds_token_generate(const rds_token_target *t, const aws_credentials *c, time_t now, char *err,
				   size_t errlen)
{
	char host_header[300], empty_hash[65];
	char *user = NULL, *token = NULL;
	buf query = BUF_INIT, out = BUF_INIT;
	sigv4_header hdr;
	sigv4_request req;
	sigv4_params p;
	sigv4_result res;
	size_t i;
	int n;

	if (t->host == NULL || !*t->host || t->user == NULL || !*t->user || t->region == NULL ||
		!*t->region || t->port <= 0 || t->port > 65535)
	{
		snprintf(err, errlen, "rds token: host, port, user and region are required");
		return NULL;
	}
	if (c == NULL || c->access_key == NULL || c->secret_key == NULL)
	{
		snprintf(err, errlen, "rds token: no AWS credentials");
		return NULL;
	}

	/*
	 * The signed Host header is the host name in lower case (DNS names are
	 * case-insensitive and botocore lowers them), with the port unless it is
	 * https's default 443, as botocore writes it.  The token itself keeps
	 * the host as given, always with the port.
	 */
	n = snprintf(host_header, sizeof(host_header), "%s", t->host);
	if (n < 0 || (size_t) n >= sizeof(host_header) - 8)
	{
		snprintf(err, errlen, "rds token: host name too long");
		return NULL;
	}
	for (i = 0; i < (size_t) n; i++)
		host_header[i] = (char) tolower((unsigned char) host_header[i]);
	if (t->port != 443)
		snprintf(host_header + n, sizeof(host_header) - n, ":%d", t->port);

	/* the query as the signer reads it: encoded, so that "&" or "=" in a role name survive */
	user = sigv4_uri_encode(t->user, strlen(t->user), false);
	if (user == NULL)
		goto on_oom;
	buf_printf(&query, "Action=connect&DBUser=%s", user);
	if (buf_failed(&query))
		goto on_oom;

	hdr.name = "host";
	hdr.value = host_header;
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.path = "/";
	req.query = query.data;
	req.headers = &hdr;
	req.n_headers = 1;
	/* the SDKs sign the hash of the empty body here, not UNSIGNED-PAYLOAD */
	sigv4_sha256_hex("", 0, empty_hash);
	req.payload_hash = empty_hash;
	memset(&p, 0, sizeof(p));
	p.access_key = c->access_key;
	p.secret_key = c->secret_key;
	p.session_token = c->session_token;
	p.region = t->region;
	p.service = "rds-db";
	p.now = now;
	p.normalize_path = true;
	p.expires = RDS_TOKEN_EXPIRES;
	if (sigv4_presign(&req, &p, &res, err, errlen) < 0)
		goto on_error;

	buf_printf(&out, "%s:%d/?%s", t->host, t->port, res.query);
	/* the query holds the signature (a password for 15 minutes): wipe it before freeing */
	explicit_bzero(res.query, strlen(res.query));
	explicit_bzero(res.signature, sizeof(res.signature));
	sigv4_result_free(&res);
	token = buf_steal(&out);
	if (token == NULL)
		goto on_oom;
	free(user);
	buf_free(&query);
	return token;

on_oom:
	snprintf(err, errlen, "rds token: out of memory");
on_error:
	free(user);
	buf_free(&query);
	buf_free(&out);
	return NULL;
}

void
rds_token_free(char *token)
{
	if (token == NULL)
		return;
	explicit_bzero(token, strlen(token));
	free(token);
}
