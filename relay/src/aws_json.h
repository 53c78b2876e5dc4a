/*
 * aws_json.h
 *		One call of an AWS JSON-protocol API (Kinesis PutRecords, DynamoDB
 *		Streams): POST of a JSON body with X-Amz-Target, signed and sent by
 *		aws_request.c over one kept-alive connection, the error body read
 *		and classified (aws_classify).
 *
 * Thread-compatible: one aws_json per thread.
 */
#ifndef RELAY_AWS_JSON_H
#define RELAY_AWS_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "aws_request.h"
#include "buf.h"

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

#endif
