/*
 * sink_deadletter.h
 *		Where records go that a sink can never deliver (too large, rejected as
 *		invalid): they are written here with the reason, and the stream goes
 *		on.  The default is an NDJSON file, one line per record:
 *
 *		  {"ts":"...","sink":"kinesis","reason":"record larger than 1048576 bytes",
 *		   "partition_key":"...","pos":"0/16B3780","seq":0,"data":"<envelope as a string>"}
 *
 * deadletter_open() picks the implementation from the --dead-letter value: a
 * plain path or file:PATH is a file (fsync'd per record, so a dead letter is
 * durable before the sink acknowledges it).  Other schemes (s3://bucket/prefix)
 * are added by their own module: add one line to the table in sink_deadletter.c.
 */
#ifndef RELAY_SINK_DEADLETTER_H
#define RELAY_SINK_DEADLETTER_H

#include <stddef.h>

#include "sink.h"

typedef struct deadletter deadletter;

typedef struct deadletter_ops
{
	int (*put)(deadletter *dl, const char *sink_name, const relay_event *ev, const char *reason,
			   char *err, size_t errlen);
	void (*free)(deadletter *dl);
} deadletter_ops;

struct deadletter
{
	const deadletter_ops *ops;
	unsigned long count; /* records set aside so far */
};

typedef struct deadletter_scheme
{
	const char *prefix; /* "s3://" */
	deadletter *(*open)(const char *uri, const struct relay_config *cfg, char *err, size_t errlen);
} deadletter_scheme;

deadletter *deadletter_open(const char *uri, const struct relay_config *cfg, char *err,
							size_t errlen);
deadletter *deadletter_file_open(const char *path, char *err, size_t errlen);
int deadletter_put(deadletter *dl, const char *sink_name, const relay_event *ev, const char *reason,
				   char *err, size_t errlen);
void deadletter_free(deadletter *dl);

#endif
