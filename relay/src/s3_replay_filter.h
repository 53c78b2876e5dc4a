/*
 * s3_replay_filter.h
 *		Which archived envelopes `eventrelay replay` passes on: a time range
 *		(on the event's commit time, recorded_at when absent: the time that
 *		also names the object's hour partition), an aggregate type and an
 *		aggregate id.  Also extracts the partition key (aggregate_id).
 */
#ifndef RELAY_S3_REPLAY_FILTER_H
#define RELAY_S3_REPLAY_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

typedef struct replay_filter
{
	bool has_since;
	time_t since; /* inclusive */
	bool has_until;
	time_t until;				/* exclusive */
	const char *aggregate_type; /* NULL: any */
	const char *aggregate_id;	/* NULL: any */
} replay_filter;

/*
 * The value of a top-level string member of a JSON object, JSON escapes
 * decoded into out (NUL-terminated).  Returns false if absent, not a
 * string, or longer than outlen - 1.
 */
bool replay_json_string(const char *json, size_t len, const char *name, char *out, size_t outlen);
/* Does the envelope pass the filter?  Malformed envelopes do not. */
bool replay_filter_match(const replay_filter *f, const char *json, size_t len);
/* Could an object of this hour partition hold matching events? */
bool replay_filter_partition(const replay_filter *f, time_t partition);
/* Parse "2026-11-23", "2026-11-23T09", "2026-11-23T09:14[:03[.123]]Z". */
int replay_parse_time(const char *s, time_t *out);

#endif
