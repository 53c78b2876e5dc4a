/*
 * kinesis.h
 *		Amazon Kinesis Data Streams client: one signed PutRecords request
 *		(JSON 1.1 protocol, SigV4) over a persistent HTTP connection, with
 *		the response classified per record.  No retry policy here: that is
 *		the caller's (sink_kinesis.c with batch.c).
 *
 * Reused by the DynamoDB path; thread-compatible (one client per thread).
 */
#ifndef RELAY_KINESIS_H
#define RELAY_KINESIS_H

#include <stdbool.h>
#include <stddef.h>

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

/* Outcome of a whole request. */
typedef enum kinesis_status
{
	KS_OK = 0,	/* response parsed: see per-record codes */
	KS_RETRY,	/* network error, 5xx, throttling: send again later */
	KS_INVALID, /* the request was rejected as invalid (a bad record) */
	KS_EXPIRED, /* credentials expired: refresh and retry */
	KS_FATAL	/* configuration: unknown stream, access denied, bad signature */
} kinesis_status;

/* Per record, after KS_OK. */
typedef enum kinesis_record_status
{
	KR_OK = 0,
	KR_RETRY, /* ProvisionedThroughputExceeded, InternalFailure, KMS throttling */
	KR_FATAL  /* KMS configuration errors */
} kinesis_record_status;

kinesis_client *kinesis_client_new(const kinesis_options *opt, char *err, size_t errlen);
void kinesis_client_free(kinesis_client *k);

/*
 * Send one PutRecords.  Returns the request outcome; for KS_OK, status[i] is
 * the outcome of entries[i] and *failed the FailedRecordCount.  err holds a
 * one-line description for anything but a clean KS_OK (the first record
 * error code for partial failures).
 */
kinesis_status kinesis_put_records(kinesis_client *k, const kinesis_entry *entries, int n,
								   kinesis_record_status *status, int *failed, char *err,
								   size_t errlen);

#endif
