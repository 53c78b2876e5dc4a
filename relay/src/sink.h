/*
 * sink.h
 *		The sink interface: where events go after the source decoded them,
 *		and how a sink says they are durable.
 *
 * Model
 * -----
 * The source (pg_source.c for PostgreSQL, the DynamoDB and replay paths for
 * theirs) hands every sink the same sequence of events, grouped into
 * *positions*: for PostgreSQL a position is a transaction and its value is
 * the transaction's end LSN; other sources may use any strictly increasing
 * 64-bit number (a record index, an archive offset).
 *
 *     for each position:  put(ev) ... put(ev)  commit(pos)
 *
 * A sink acknowledges by raising s->acked to pos once *every* event put
 * before commit(pos) is durable downstream (or was set aside in the dead
 * letter, see below).  acked only grows, and only to values passed to
 * commit(); a sink may acknowledge several positions at once.  The caller
 * (sink_set_acked) takes the minimum over all sinks, so with
 * --sink kinesis --sink s3 the PostgreSQL flush LSN moves only when both
 * have the transaction.  Events of one position may be acknowledged in any
 * internal order, but a sink must never deliver a later event of one
 * partition key (aggregate) before an earlier one.
 *
 * Driving a sink
 * --------------
 * Everything is single-threaded and poll-driven: put/commit only buffer (they
 * may send if a batch is full), poll() does what is due (linger expired,
 * retry backoff over), next_due() says when poll() wants to run again, and
 * drain() sends everything and waits for it, up to a deadline (shutdown,
 * end of a Lambda invocation).  A sink may block inside poll/put for the
 * length of one request (bounded by its timeout).  pending_bytes() lets the
 * source stop reading when sinks fall behind (back-pressure).
 *
 * Errors: a method returns -1 with a one-line message in err only for a
 * condition retrying cannot fix (unknown stream, rejected credentials,
 * unwritable output); set *fatal_config when it is a configuration error
 * (the relay then exits with EXIT_CONFIG).  Transient failures are retried
 * inside the sink and counted in metrics.
 *
 * Dead letters
 * ------------
 * A record the destination can never accept (larger than the record limit,
 * rejected as invalid) is handed to s->dead_letter (sink_deadletter.h) with a
 * reason, then counts as acknowledged, and the stream goes on.
 *
 * Adding a sink
 * -------------
 * Write sink_<name>.c exporting a `const sink_type sink_type_<name>` and add
 * one line to the registry table in sink.c.  Options for it arrive as
 * --<name>-<option>=VALUE in cfg->sink_opts (config_sink_opt()); list the
 * accepted keys in sink_type.options (config rejects others) and document
 * them in sink_type.help.  Construct sinks with sink_open().
 */
#ifndef RELAY_SINK_H
#define RELAY_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "clock.h"

struct relay_config;
struct deadletter;

/* One event: the envelope bytes and what sinks need to route it. */
typedef struct relay_event
{
	const char *data; /* envelope: one JSON object, no newline */
	size_t len;
	const char *key; /* partition key (aggregate_id), not NUL-terminated */
	size_t key_len;
	uint64_t pos; /* position (PostgreSQL: commit LSN of the txn) */
	uint32_t seq; /* index of the event within its position, from 0 */
	/*
	 * When the event was committed (seconds since the epoch, UTC): the
	 * transaction's commit time (PostgreSQL), the stream record's creation
	 * time (DynamoDB); 0 if the source does not know (replay), and then a
	 * sink that needs a time reads the envelope.
	 */
	time_t commit_time;
} relay_event;

typedef struct sink sink;

typedef struct sink_ops
{
	/* Take one event of the current position (copy what you keep). */
	int (*put)(sink *s, const relay_event *ev, char *err, size_t errlen);
	/* All events of position pos were put. */
	int (*commit)(sink *s, uint64_t pos, char *err, size_t errlen);
	/* Do due work; idle = the source has nothing to read right now. */
	int (*poll)(sink *s, int64_t now_ms, bool idle, char *err, size_t errlen);
	/* Monotonic ms when poll() should run next; INT64_MAX if nothing is due. */
	int64_t (*next_due)(sink *s);
	/* Bytes held but not yet acknowledged. */
	size_t (*pending_bytes)(sink *s);
	/* Deliver everything before deadline_ms (monotonic); 0 if all acked. */
	int (*drain)(sink *s, int64_t deadline_ms, char *err, size_t errlen);
	void (*free)(sink *s);
	/*
	 * May be NULL.  At startup, before anything is streamed: is the
	 * destination usable at all?  -1 with err only for what no retry fixes
	 * (unknown stream or bucket, rejected key, unverifiable certificate).
	 */
	int (*check)(sink *s, char *err, size_t errlen);
} sink_ops;

struct sink
{
	const sink_ops *ops;
	const char *name; /* "kinesis", "stdout", ... */
	/*
	 * Its destination orders events by position, not by arrival (the S3
	 * archive's keys): an event of a lower position sorts first whenever it
	 * is delivered.  The backfill (pg_backfill.h) relies on it.
	 */
	bool by_position;
	uint64_t acked;					/* highest fully durable position (see above) */
	bool fatal_config;				/* set with a -1 return: a configuration error */
	struct deadletter *dead_letter; /* not owned */
};

typedef struct sink_type
{
	const char *name;
	const char *help;	 /* lines for --help, each starting with two spaces */
	const char *options; /* accepted --<name>-<opt> keys, space-separated ("s3-bucket s3-prefix") */
	sink *(*open)(const struct relay_config *cfg, struct deadletter *dl, char *err, size_t errlen);
} sink_type;

/* The registry (sink.c). */
const sink_type *sink_type_find(const char *name, size_t len);
const sink_type *const *sink_types(void);

sink *sink_open(const char *name, const struct relay_config *cfg, struct deadletter *dl, char *err,
				size_t errlen);

/* A group of sinks fed the same stream. */
typedef struct sink_set
{
	sink *s[8];
	int n;
} sink_set;

int sink_set_put(sink_set *set, const relay_event *ev, char *err, size_t errlen,
				 bool *fatal_config);
/* Which sinks of a set sink_set_put_to feeds: every one, or by sink.by_position. */
typedef enum sink_which
{
	SINKS_ALL,
	SINKS_BY_ARRIVAL, /* by_position false: Kinesis, stdout */
	SINKS_BY_POSITION /* by_position true: S3 */
} sink_which;
int sink_set_put_to(sink_set *set, sink_which which, const relay_event *ev, char *err,
					size_t errlen, bool *fatal_config);
/* Has the set a sink of that kind? */
bool sink_set_has(const sink_set *set, sink_which which);
int sink_set_commit(sink_set *set, uint64_t pos, char *err, size_t errlen, bool *fatal_config);
int sink_set_poll(sink_set *set, int64_t now_ms, bool idle, char *err, size_t errlen,
				  bool *fatal_config);
int64_t sink_set_next_due(sink_set *set);
size_t sink_set_pending_bytes(sink_set *set);
int sink_set_drain(sink_set *set, int64_t deadline_ms, char *err, size_t errlen);
/* min(acked) over the sinks: what may be confirmed upstream. */
uint64_t sink_set_acked(const sink_set *set);
void sink_set_free(sink_set *set);

#endif
