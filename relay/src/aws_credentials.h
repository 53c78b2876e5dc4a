/*
 * aws_credentials.h
 *		AWS credentials from the standard chain, first source that has them:
 *
 *		1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the
 *		   optional AWS_SESSION_TOKEN
 *		2. container credentials (ECS, EKS Pod Identity):
 *		   AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on http://169.254.170.2) or
 *		   AWS_CONTAINER_CREDENTIALS_FULL_URI, with the Authorization header from
 *		   AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or AWS_CONTAINER_AUTHORIZATION_TOKEN
 *		3. EC2 instance metadata, IMDSv2 (session token first), unless
 *		   AWS_EC2_METADATA_DISABLED=true; AWS_EC2_METADATA_SERVICE_ENDPOINT
 *		   overrides http://169.254.169.254
 *
 * Temporary credentials are cached and fetched again five minutes before
 * they expire, or after credentials_invalidate() (an ExpiredToken answer).
 * Nothing here logs a key, secret or token.
 *
 * Thread-safe: every client takes its own provider handle (one thread
 * each), and all handles share one cache, so a relay with several AWS
 * clients fetches (and opens one IMDS session) once.
 */
#ifndef RELAY_AWS_CREDENTIALS_H
#define RELAY_AWS_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

typedef struct aws_credentials
{
	char *access_key;
	char *secret_key;
	char *session_token; /* NULL if none */
	time_t expiration;	 /* 0: does not expire */
	const char *source;	 /* "environment", "container", "imds" */
} aws_credentials;

typedef struct credentials_provider credentials_provider;

credentials_provider *credentials_provider_new(char *err, size_t errlen);
/* Current credentials (the handle's copy, valid until its next call); 0 or -1. */
int credentials_get(credentials_provider *p, const aws_credentials **out, char *err, size_t errlen);
/*
 * Whether any source is configured: when none is, a failed get is a
 * configuration error; otherwise it may pass (metadata endpoint hiccup).
 */
bool credentials_configured(void);
/* Forget cached credentials so that the next get fetches new ones. */
void credentials_invalidate(credentials_provider *p);
void credentials_provider_free(credentials_provider *p);

#endif
