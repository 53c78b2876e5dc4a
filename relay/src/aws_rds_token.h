/*
 * aws_rds_token.h
 *		The IAM database authentication token of Amazon RDS and Aurora: the
 *		password a role granted rds_iam logs in with.  It is a SigV4 presigned
 *		GET of https://HOST:PORT/?Action=connect&DBUser=USER for the service
 *		"rds-db", valid 15 minutes (X-Amz-Expires=900), written without the
 *		scheme: "HOST:PORT/?Action=connect&DBUser=...&X-Amz-Signature=...".
 *		Temporary credentials add X-Amz-Security-Token (signed).
 *
 * The same bytes as botocore's generate_db_auth_token (`aws rds
 * generate-db-auth-token`), and the same parameters and signature as
 * @aws-sdk/rds-signer (which sorts them all, X-Amz-Signature included):
 * tests/t_rds_iam_token.sh checks both.  (For an upper-case host name or
 * port 443 the two SDKs sign different Host headers; this follows botocore.)  Signing is
 *aws_sigv4.c's; this file only shapes the request. The token is a secret for 15 minutes: never log
 *it, wipe it when done.
 */
#ifndef RELAY_AWS_RDS_TOKEN_H
#define RELAY_AWS_RDS_TOKEN_H

#include <stddef.h>
#include <time.h>

#include "aws_credentials.h"

#define RDS_TOKEN_EXPIRES 900 /* seconds: what the AWS tools use, and RDS's maximum */

typedef struct rds_token_target
{
	const char *host;	/* the DB endpoint name as the client connects to it */
	int port;			/* 5432 usually */
	const char *user;	/* the database role (DBUser) */
	const char *region; /* region of the DB instance or cluster */
} rds_token_target;

/*
 * The token for t, signed with c at time now (UTC); malloc'd (free it with
 * rds_token_free), or NULL with a one-line err.
 */
char *rds_token_generate(const rds_token_target *t, const aws_credentials *c, time_t now, char *err,
						 size_t errlen);
/* Wipe and free a token (NULL is fine). */
void rds_token_free(char *token);

#endif
