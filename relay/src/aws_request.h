/*
 * aws_request.h
 *		One signed AWS request, for every AWS client of the relay (the JSON
 *		APIs through aws_json.c, S3 through s3_client.c): credentials from
 *		the shared chain, Signature V4, the header lines, one http.c call.
 *		And the relay's one classification of AWS errors (aws_classify).
 */
#ifndef RELAY_AWS_REQUEST_H
#define RELAY_AWS_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "aws_credentials.h"
#include "aws_sigv4.h"
#include "buf.h"
#include "http.h"

/* How a call ended, and what the caller can do about it. */
typedef enum aws_status
{
	AWS_OK = 0,
	AWS_RETRY,	 /* network error, 5xx, throttling: try again later */
	AWS_EXPIRED, /* credentials expired (already invalidated): try again */
	AWS_INVALID, /* the request's content was rejected (a bad record) */
	AWS_FATAL,	 /* configuration: unknown resource, access denied, bad key,
				  * unverifiable TLS certificate; no retry can help */
	AWS_OTHER	 /* another 4xx: the caller decides by the error type */
} aws_status;

typedef struct aws_request
{
	const char *method;
	const char *scheme;			 /* "https" or "http" */
	const char *host;			 /* host[:port], sent and signed as Host */
	const char *path;			 /* decoded; the signer encodes it, and that is sent */
	const char *query;			 /* encoded the AWS way, or NULL */
	const sigv4_header *headers; /* every other header, all signed */
	size_t n_headers;
	const void *body;
	size_t len;
	const char *service; /* signing name: "kinesis", "dynamodb", "s3" */
	const char *region;
	bool s3;		 /* S3's rules: x-amz-content-sha256, no path normalisation */
	long timeout_ms; /* 0: 30000 */
} aws_request;

/*
 * Sign and send r.  Returns 0 when an answer arrived (any status, in resp),
 * or -1 with err and *st: AWS_FATAL when no retry helps (no credentials
 * configured, a request that cannot be signed, an unverifiable
 * certificate), AWS_RETRY otherwise.  scratch holds the header lines
 * (wiped after the call: they carry the signature and the token).
 */
int aws_request_send(http_client *http, credentials_provider *creds, const aws_request *r,
					 http_response *resp, buf *scratch, aws_status *st, char *err, size_t errlen);

/*
 * Classify an AWS error: HTTP status (0 for a per-record error code) and
 * the short error type or S3 <Code> ("" if none).
 */
aws_status aws_classify(long http_status, const char *type);

#endif
