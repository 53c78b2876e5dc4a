/*
 * ddb_batch.h
 *		A batch of DynamoDB Streams records through the pluck, stopping at
 *		the first bad record (or skipping it), so that "from which record on
 *		must the batch be retried?" has one answer.
 */
#ifndef DDB_BATCH_H
#define DDB_BATCH_H

#include <stddef.h>

#include "ddb_input.h"
#include "ddb_record.h"

typedef enum ddb_on_error
{
	DDB_ON_ERROR_STOP = 0, /* a bad record stops the batch there (retried, then DLQ) */
	DDB_ON_ERROR_SKIP	   /* log, count and go on */
} ddb_on_error;

/*
 * Pluck records [0, recs->n) into ev (appending), logging skips and errors.
 * Returns the index of the first record that failed (recs->n if none, or
 * always with DDB_ON_ERROR_SKIP); records from there on were not plucked.
 */
size_t ddb_batch_pluck(const ddb_recs *recs, const ddb_record_opts *o, ddb_on_error on_error,
					   size_t base_index, ddb_events *ev, ddb_stats *stats);

#endif /* DDB_BATCH_H */
