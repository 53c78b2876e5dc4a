/*
 * aws_sigv4.h
 *		AWS Signature Version 4: signs an HTTP request with an Authorization
 *		header (sigv4_sign) or a presigned query string (sigv4_presign).
 *
 * The steps are the ones AWS documents (canonical request, string to sign,
 * signing key, signature).  Inputs are the request as it will be sent:
 *
 *   path     the *decoded* path ("/", "/my key"); the signer percent-encodes it
 *            (sigv4_uri_encode) and the HTTP layer must send that same encoding
 *   query    raw query string without '?', may be NULL or ""; parameters are
 *            decoded and re-encoded the AWS way, then sorted
 *   headers  every header that is sent and must be signed (Host included);
 *            names in any case, values are trimmed and folded by the signer
 *
 * The signer adds x-amz-date (and x-amz-security-token when a session token
 * is given, x-amz-content-sha256 when sign_body is set) to what it signs; the
 * caller must send those too: sigv4_result carries their values.
 *
 * sigv4_presign's query is the URL's: the caller's parameters in their
 * order, then X-Amz-Algorithm, -Credential, -Date, -Expires, -SignedHeaders,
 * -Security-Token and -Signature, the bytes botocore (the AWS CLI) writes.
 *
 * Used by the Kinesis sink, the S3 sink, the RDS IAM token (aws_rds_token.c)
 * and the credential-free tests; this
 * file alone includes OpenSSL (SHA-256, HMAC) and also offers the hashing
 * helpers other modules need.
 */
#ifndef RELAY_AWS_SIGV4_H
#define RELAY_AWS_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

typedef struct sigv4_header
{
	const char *name;
	const char *value;
} sigv4_header;

typedef struct sigv4_request
{
	const char *method; /* "GET", "POST", ... */
	const char *path;	/* decoded path, "/" if empty */
	const char *query;	/* raw query, no '?', or NULL */
	const sigv4_header *headers;
	size_t n_headers;
	const char *payload_hash; /* hex SHA-256 of the body, or "UNSIGNED-PAYLOAD" */
} sigv4_request;

typedef struct sigv4_params
{
	const char *access_key;
	const char *secret_key;
	const char *session_token; /* NULL if none */
	const char *region;
	const char *service;
	time_t now;				 /* signing time (UTC) */
	bool normalize_path;	 /* remove dot segments and "//" (all but S3) */
	bool sign_body;			 /* sign x-amz-content-sha256 (S3) */
	bool omit_session_token; /* add the token after signing (not signed) */
	int expires;			 /* presign only: X-Amz-Expires in seconds */
} sigv4_params;

typedef struct sigv4_result
{
	char amz_date[17];	/* YYYYMMDDTHHMMSSZ: send as X-Amz-Date */
	char signature[65]; /* hex */
	char *canonical_request;
	char *string_to_sign;
	char *signed_headers; /* "host;x-amz-date" */
	char *authorization;  /* sigv4_sign: value of the Authorization header */
	char *query;		  /* sigv4_presign: the URL's query, X-Amz-Signature last (below) */
	char *canonical_path; /* the path as signed (percent-encoded) */
} sigv4_result;

int sigv4_sign(const sigv4_request *req, const sigv4_params *p, sigv4_result *out, char *err,
			   size_t errlen);
int sigv4_presign(const sigv4_request *req, const sigv4_params *p, sigv4_result *out, char *err,
				  size_t errlen);
void sigv4_result_free(sigv4_result *r);

/* Percent-encode everything but A-Z a-z 0-9 - . _ ~ (and '/' if keep_slash). */
char *sigv4_uri_encode(const char *s, size_t len, bool keep_slash);

/* Hex SHA-256 of data (out: 65 bytes incl. NUL). */
void sigv4_sha256_hex(const void *data, size_t len, char out[65]);
/* Raw SHA-256 (32 bytes). */
void sigv4_sha256(const void *data, size_t len, unsigned char out[32]);
/* Raw HMAC-SHA256 (32 bytes). */
void sigv4_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
					   unsigned char out[32]);

#endif
