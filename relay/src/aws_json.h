/*
 * aws_json.h
 *		One signed call of an AWS JSON-protocol API (Kinesis PutRecords,
 *		DynamoDB Streams): POST of a JSON body with X-Amz-Target, SigV4,
 *		credentials from the shared chain, one kept-alive connection.  And
 *		the relay's one classification of AWS errors (aws_classify), which
 *		the S3 client uses for its XML error codes too.
 *
 * Thread-compatible: one aws_json per thread.
 */
#ifndef RELAY_AWS_JSON_H
#define RELAY_AWS_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

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

typedef struct aws_json_options
{
	const char *service;	  /* signing name: "kinesis", "dynamodb" */
	const char *target;		  /* X-Amz-Target prefix: "Kinesis_20131202" */
	const char *content_type; /* "application/x-amz-json-1.1" */
	const char *region;
	const char *endpoint;  /* URL */
	const char *ca_bundle; /* NULL: system store */
	long timeout_ms;	   /* per request; 0: 30000 */
} aws_json_options;

typedef struct aws_json aws_json;

aws_json *aws_json_new(const aws_json_options *opt, char *err, size_t errlen);
void aws_json_free(aws_json *a);

/*
 * Call operation op ("PutRecords") with a JSON body.  On AWS_OK, *answer is
 * the response body (valid until the next call; the caller may parse it in
 * place).  Otherwise type holds the
 * short error type ("ResourceNotFoundException", "" if none) and err says
 * what happened in one line ("op: HTTP 400 Type: message").
 */
aws_status aws_json_call(aws_json *a, const char *op, const char *body, size_t len, buf **answer,
						 char *type, size_t typelen, char *err, size_t errlen);

/*
 * Classify an AWS error: HTTP status (0 for a per-record error code) and
 * the short error type or S3 <Code> ("" if none).
 */
aws_status aws_classify(long http_status, const char *type);

#endif
