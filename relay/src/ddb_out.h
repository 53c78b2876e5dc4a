/*
 * ddb_out.h
 *		The DynamoDB path's side of the relay's sinks (sink.h): envelopes of
 *		a batch of stream records are put and committed one *position* per
 *		record, so the sinks' acknowledged position says how many leading
 *		records are fully published, which is what Lambda's
 *		batchItemFailures and the Streams checkpoints need.
 */
#ifndef DDB_OUT_H
#define DDB_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ddb_record.h"
#include "sink.h"

struct relay_config;
struct deadletter;

typedef struct ddb_out
{
	sink_set set;
	struct deadletter *dl;
	const struct relay_config *cfg;
	uint64_t base; /* positions used so far (one per record) */
} ddb_out;

/* Open every sink named in cfg (--sink), with its dead letter. */
int ddb_out_open(ddb_out *o, const struct relay_config *cfg, char *err, size_t errlen);

/*
 * Publish the events of records [first, first + nrec) (ev's record numbers)
 * and wait until deadline_ms (relay_now_ms clock) for the sinks.  Returns
 * the number of leading records whose events were all acknowledged (nrec
 * when everything was); err says why when fewer.  *fatal is set when a sink
 * reported a configuration error.
 */
size_t ddb_out_publish(ddb_out *o, const ddb_events *ev, size_t first, size_t nrec,
					   int64_t deadline_ms, bool *fatal, char *err, size_t errlen);

/*
 * After a publish that did not finish: drop what the sinks still hold (the
 * source delivers those records again) and start from clean sinks.
 */
int ddb_out_reset(ddb_out *o, char *err, size_t errlen);

void ddb_out_close(ddb_out *o);

#endif /* DDB_OUT_H */
