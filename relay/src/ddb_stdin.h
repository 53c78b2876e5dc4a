/*
 * ddb_stdin.h
 *		Standard-input mode of `eventrelay dynamodb`: Lambda-style events or
 *		single records, one per line (or pretty-printed), to the sinks.
 */
#ifndef DDB_STDIN_H
#define DDB_STDIN_H

#include "ddb.h"
#include "ddb_out.h"

/* Returns 0 when every input record was handled, -1 otherwise. */
int ddb_stdin_run(const ddb_options *opt, int fd, ddb_out *out, ddb_stats *stats);

#endif /* DDB_STDIN_H */
