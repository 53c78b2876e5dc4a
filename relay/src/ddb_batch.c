/*
 * ddb_batch.c
 *		Records -> envelopes, with skips and errors logged and counted (see
 *		ddb_batch.h).
 */
#include "ddb_batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

size_t
ddb_batch_pluck(const ddb_recs *recs, const ddb_record_opts *o, ddb_on_error on_error,
				size_t base_index, ddb_events *ev, ddb_stats *stats)
{
	static unsigned long seen[DDB_OUT__COUNT];
	size_t i;

	for (i = 0; i < recs->n; i++)
	{
		const jv *rec = ddb_recs_get(recs, i);
		char err[512];
		const char *seq;
		ddb_outcome oc;

		oc = ddb_record_pluck(rec, o, base_index + i, ev, stats, err, sizeof(err));
		if (oc == DDB_OUT_EVENTS)
			continue;
		seq = ddb_record_sequence(rec);
		seen[oc]++;
		if (oc == DDB_OUT_ERROR)
		{
			log_kv(LOG_ERROR, "dynamodb record rejected", "reason", err, "sequence_number",
				   seq ? seq : "", "action", on_error == DDB_ON_ERROR_STOP ? "stop" : "skip", NULL);
			if (on_error == DDB_ON_ERROR_STOP)
				return base_index + i;
			continue;
		}
		/*
		 * Skips are normal (REMOVEs, attribute-only updates): the first of
		 * each kind is logged at info, the rest at debug; all are counted.
		 */
		log_kv(seen[oc] == 1 ? LOG_INFO : LOG_DEBUG, "dynamodb record skipped", "skip",
			   ddb_outcome_name(oc), "reason", err, "sequence_number", seq ? seq : "", NULL);
	}
	return base_index + recs->n;
}
