/*
 * ddb.h
 *		The options of `eventrelay dynamodb` that its input modes (stdin,
 *		Lambda, Streams API) share: parsed by ddb_main.c, read by
 *		ddb_stdin.c, ddb_lambda.c and ddb_streams.c.
 */
#ifndef DDB_H
#define DDB_H

#include "ddb_batch.h"
#include "ddb_record.h"

struct relay_config;

typedef struct ddb_options
{
	const char *input;			  /* "stdin", "lambda" or "streams" */
	const char *streams_endpoint; /* DynamoDB (Streams) endpoint override */
	const char *region;			  /* for DynamoDB Streams (the relay config's) */
	const char *table;			  /* Streams mode: the table whose stream is read */
	const char *stream_arn;		  /* Streams mode: the stream (else the table's latest) */
	const char *checkpoint;		  /* Streams mode: checkpoint file */
	const char *start;			  /* Streams mode, new shards: "trim_horizon" or "latest" */
	int poll_ms;				  /* Streams mode: idle wait between GetRecords */
	int idle_exit_ms;		/* Streams mode: exit after this long without records (0 = never) */
	int publish_timeout_ms; /* longest wait for the sinks per batch */
	ddb_record_opts rec;
	ddb_on_error on_error;
	const struct relay_config *cfg; /* sinks, Kinesis, credentials, log level */
} ddb_options;

#endif /* DDB_H */
