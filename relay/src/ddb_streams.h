/*
 * ddb_streams.h
 *		Streams-API mode of `eventrelay dynamodb`: read a table's DynamoDB
 *		stream directly (DescribeStream, GetShardIterator, GetRecords), as a
 *		service without Lambda, with durable per-shard checkpoints.
 */
#ifndef DDB_STREAMS_H
#define DDB_STREAMS_H

#include "ddb.h"
#include "ddb_out.h"

/* Run until SIGTERM, --idle-exit-ms, or a fatal error; exit status. */
int ddb_streams_run(const ddb_options *opt, ddb_out *out, ddb_stats *stats);

#endif /* DDB_STREAMS_H */
