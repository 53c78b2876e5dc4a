/*
 * ddb_lambda.h
 *		Lambda mode of `eventrelay dynamodb`: the binary is the bootstrap of
 *		a custom-runtime (provided.al2023) Lambda whose event source is a
 *		DynamoDB stream with ReportBatchItemFailures.
 */
#ifndef DDB_LAMBDA_H
#define DDB_LAMBDA_H

#include "ddb.h"
#include "ddb_out.h"

/* Serve invocations until SIGTERM or a Runtime API failure; exit status. */
int ddb_lambda_run(const ddb_options *opt, ddb_out *out, ddb_stats *stats);

/* Report a configuration failure to the Runtime API (init/error), if any. */
void ddb_lambda_init_error(const char *msg);

/*
 * Handle one invocation payload (parsed in place): pluck, publish, and write the response
 * ({"batchItemFailures":[...]}) to resp.  Returns 0, or -1 with err when
 * the payload is not a DynamoDB event at all (an invocation error).
 * budget_ms is how long the sinks may take.
 */
int ddb_lambda_handle(const ddb_options *opt, ddb_out *out, char *payload, size_t len,
					  int64_t budget_ms, buf *resp, ddb_stats *stats, char *err, size_t errlen);

#endif /* DDB_LAMBDA_H */
