/*
 * s3_object.h
 *		One archive object being built: envelopes as newline-delimited JSON,
 *		gzip-compressed as they arrive, plus what decides its key and when it
 *		is cut.
 *
 * Keys are derived from content, never from the clock of the relay:
 *
 *   <prefix>/YYYY/MM/DD/HH/<first-pos>_<last-pos>.ndjson.gz
 *
 * where the hour is the commit time (else recorded_at) of the first event,
 * and the positions are the first and last positions holding events, as 16
 * upper-case hex digits so that key order is position order.  After a crash
 * the relay is handed the same positions again and, cutting at the same
 * place, writes the same key (the sink makes sure it cuts there, see
 * sink_s3.c).  An object only ever holds whole positions, and all of its
 * events share one hour partition, so a time range maps to key prefixes.
 *
 * The gzip stream is deterministic (no mtime, no name), so rebuilding an
 * object from the same events yields the same bytes.
 */
#ifndef RELAY_S3_OBJECT_H
#define RELAY_S3_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"

typedef struct s3_object
{
	void *zs;			/* z_stream, allocated on first append */
	buf gz;				/* compressed bytes so far (complete once finished) */
	size_t raw_bytes;	/* uncompressed bytes appended */
	size_t events;		/* events appended */
	bool finished;		/* gzip trailer written, no more appends */
	bool has_pos;		/* first_pos/last_pos are set */
	uint64_t first_pos; /* first position holding events */
	uint64_t last_pos;	/* last committed position holding events */
	time_t partition;	/* start of the hour partition (UTC) */
	int64_t opened_ms;	/* monotonic ms of the first append */
} s3_object;

/* When to cut an object (Firehose-like defaults in sink_s3.c). */
typedef struct s3_limits
{
	size_t max_bytes;	/* uncompressed bytes */
	int64_t max_age_ms; /* since the first event */
} s3_limits;

void s3_object_init(s3_object *o);
void s3_object_free(s3_object *o);
/* Append one envelope (a newline is added). */
int s3_object_append(s3_object *o, const char *data, size_t len, int64_t now_ms, char *err,
					 size_t errlen);
/* Write the gzip trailer; o->gz then holds the whole object. */
int s3_object_finish(s3_object *o, char *err, size_t errlen);
/* Is the object full or old enough to be uploaded? */
bool s3_object_due(const s3_object *o, const s3_limits *l, int64_t now_ms);

/* The hour (UTC) an envelope belongs to: commit_time, else recorded_at. */
bool s3_event_time(const char *data, size_t len, time_t *out);
/* Round down to the hour. */
time_t s3_hour(time_t t);

/*
 * The key of an object; prefix may be empty or end with '/'.  Returns 0, or
 * -1 if it does not fit.
 */
int s3_object_key(const char *prefix, time_t partition, uint64_t first_pos, uint64_t last_pos,
				  char *out, size_t outlen);
/*
 * The key of an object written by a source whose positions do not survive a
 * restart (the DynamoDB path numbers records from 1 in each process): the
 * run id (start time in ms << 16 | random bits) goes before the positions,
 * "HH/r<run>-<first>_<last>.ndjson.gz", so keys of different runs never
 * collide and still sort in time order.  run 0 is s3_object_key.
 */
int s3_object_key_run(const char *prefix, time_t partition, uint64_t run, uint64_t first_pos,
					  uint64_t last_pos, char *out, size_t outlen);
/* Do the envelope's positions survive restarts (a PostgreSQL LSN in source)? */
bool s3_event_has_lsn(const char *data, size_t len);
/* The key prefix shared by every object of one hour ("p/2026/11/23/09/"). */
int s3_partition_prefix(const char *prefix, time_t partition, char *out, size_t outlen);
/*
 * Parse an archive key back: the partition hour and both positions.  Keys
 * that are not archive objects (other files under the prefix) return false.
 */
bool s3_key_parse(const char *key, time_t *partition, uint64_t *first_pos, uint64_t *last_pos);
/* The same, also returning the run id (0 for position-only keys). */
bool s3_key_parse_run(const char *key, time_t *partition, uint64_t *run, uint64_t *first_pos,
					  uint64_t *last_pos);

/* The largest --s3-max-object-bytes (uncompressed). */
#define S3_MAX_OBJECT_BYTES ((uint64_t) 5 << 30)
/*
 * The most s3_gunzip gives out: an object is cut once it holds
 * --s3-max-object-bytes, after the whole position (transaction) that crossed
 * it, so one the relay wrote holds at most 5 GiB plus one transaction; 3 GiB
 * is left for that.  Anyone who can write to the bucket can put an object
 * there, and a few MiB of gzip inflate to GiBs.
 */
#define S3_GUNZIP_MAX_BYTES (S3_MAX_OBJECT_BYTES + ((uint64_t) 3 << 30))

/*
 * Decompress a whole gzip buffer (also concatenated members) into out; more
 * than S3_GUNZIP_MAX_BYTES (s3_gunzip_max: max) of output is an error.
 */
int s3_gunzip(const void *in, size_t len, buf *out, char *err, size_t errlen);
int s3_gunzip_max(const void *in, size_t len, uint64_t max, buf *out, char *err, size_t errlen);

#endif
