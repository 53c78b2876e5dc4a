/*
 * kinesis_batch.h
 *		The batcher behind the Kinesis sink: holds records until they are
 *		acknowledged, cuts them into PutRecords-sized batches and tracks which
 *		positions (transactions) are complete.  Pure logic, no I/O, so that
 *		limits, ordering and acknowledgement are unit-tested directly.
 *
 * Ordering rule: a batch holds at most one record per partition key, and no
 * record whose key has an earlier record still unacknowledged (in flight,
 * or waiting out a retry backoff) is taken.  Kinesis processes each record of
 * a PutRecords independently, so two records of one aggregate in one request
 * could land in the wrong order if only the first failed; with this rule a
 * later event of an aggregate is sent only after the earlier one succeeded.
 * Different aggregates still share batches, up to the record and byte limits.
 *
 * Positions: records are put under the open position; batch_commit(pos)
 * closes it.  b->acked is the highest position whose records, and those of all
 * earlier positions, are done (delivered or set aside).
 */
#ifndef RELAY_KINESIS_BATCH_H
#define RELAY_KINESIS_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum batch_state
{
	BR_PENDING = 0,
	BR_INFLIGHT
} batch_state;

typedef struct batch_record
{
	struct batch_record *prev, *next; /* arrival order */
	char *data;						  /* envelope (points into this allocation) */
	size_t len;
	char *key; /* partition key, NUL-terminated */
	size_t key_len;
	uint64_t pos;
	uint32_t seq;
	uint64_t txn;		/* position slot id */
	int64_t enq_ms;		/* when it was put */
	int64_t not_before; /* retry backoff: not sent before this time */
	int attempts;		/* failed sends so far */
	batch_state state;
} batch_record;

typedef struct batch_limits
{
	int max_records;		 /* per request (500) */
	size_t max_bytes;		 /* per request, data + keys (5 MiB) */
	size_t max_record_bytes; /* per record, data + key (1 MiB) */
	int linger_ms;
	int retry_base_ms;
	int retry_max_ms;
} batch_limits;

typedef struct batch_txn
{
	uint64_t pos;
	uint32_t outstanding;
	bool committed;
} batch_txn;

typedef struct batcher
{
	batch_limits lim;
	batch_record *head, *tail;
	size_t n_records; /* held (pending + in flight) */
	size_t bytes;	  /* held */
	batch_txn *txns;  /* ring of open positions */
	size_t txn_cap, txn_start, txn_count;
	uint64_t txn_base;	   /* id of txns[txn_start] */
	uint64_t acked;		   /* highest fully done position */
	int64_t blocked_until; /* nothing eligible before this (set by batch_take) */
	unsigned int rand_state;
} batcher;

/* Result of one record of a sent batch. */
typedef enum batch_outcome
{
	BO_OK = 0, /* delivered */
	BO_RETRY,  /* retry later (throttled, internal error, network) */
	BO_DROPPED /* set aside (dead letter) by the caller */
} batch_outcome;

void batch_init(batcher *b, const batch_limits *lim);
void batch_free(batcher *b);

/*
 * Queue one record under the open position.  Returns 0, 1 if the record
 * exceeds max_record_bytes or has an empty/oversized (>256) key (not queued:
 * the caller sets it aside), -1 out of memory.
 */
int batch_put(batcher *b, const char *data, size_t len, const char *key, size_t key_len,
			  uint64_t pos, uint32_t seq, int64_t now_ms);
void batch_commit(batcher *b, uint64_t pos);

/* Is a request due now (full batch ready, or the oldest record lingered)? */
bool batch_due(const batcher *b, int64_t now_ms);
/* When to look again (INT64_MAX: nothing held). */
int64_t batch_next_due(const batcher *b);

/*
 * Select the next batch (marks the records in flight).  Returns the number
 * of records written to out (capacity lim.max_records); 0 if nothing is
 * eligible (then b->blocked_until says when something will be).
 */
int batch_take(batcher *b, int64_t now_ms, batch_record **out);
/* Report the outcome of each record of a batch taken with batch_take. */
void batch_done(batcher *b, batch_record **recs, const batch_outcome *outcome, int n,
				int64_t now_ms);

#endif
