/*
 * kinesis_client.h
 *		Amazon Kinesis Data Streams client: the PutRecords body (base64
 *		data, partition keys), one signed call (aws_json.c), and the answer
 *		classified per record.  No retry policy here: that is the caller's
 *		(sink_kinesis.c with kinesis_batch.c).
 *
 * Reused by the DynamoDB path; thread-compatible (one client per thread).
 */
#ifndef RELAY_KINESIS_CLIENT_H
#define RELAY_KINESIS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "aws_json.h"

typedef struct kinesis_client kinesis_client;

typedef struct kinesis_options
{
	const char *stream; /* stream name */
	const char *region;
	const char *endpoint;  /* NULL: https://kinesis.<region>.amazonaws.com */
	const char *ca_bundle; /* NULL: system store */
	long timeout_ms;	   /* per request */
} kinesis_options;

typedef struct kinesis_entry
{
	const char *data;
	size_t len;
	const char *key;
	size_t key_len;
} kinesis_entry;

kinesis_client *kinesis_client_new(const kinesis_options *opt, char *err, size_t errlen);
void kinesis_client_free(kinesis_client *k);

/*
 * Send one PutRecords.  Returns the request outcome (AWS_OTHER is reported
 * as AWS_RETRY); for AWS_OK, status[i] is the outcome of entries[i]
 * (AWS_OK, AWS_RETRY, or AWS_FATAL for KMS configuration errors) and
 * *failed the FailedRecordCount.  err holds a one-line description for
 * anything but a clean AWS_OK (the first record error for partial failures).
 */
/*
 * At startup: does the stream exist and take our signature?
 * (DescribeStreamSummary, which the relay's IAM policy grants).  Returns
 * AWS_FATAL with err for what no retry fixes: unknown stream, rejected key,
 * unverifiable certificate.  Anything else, AccessDenied on this one call
 * included (a policy without it), is not a verdict: PutRecords decides.
 */
aws_status kinesis_check_stream(kinesis_client *k, char *err, size_t errlen);

aws_status kinesis_put_records(kinesis_client *k, const kinesis_entry *entries, int n,
							   aws_status *status, int *failed, char *err, size_t errlen);

#endif
