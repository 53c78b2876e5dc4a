/*
 * kinesis_batch.h
 *		The batcher behind the Kinesis sink: holds records until they are
 *		acknowledged, cuts them into PutRecords-sized batches and tracks which
 *		positions (transactions) are complete.  Pure logic, no I/O, so that
 *		limits, ordering and acknowledgement are unit-tested directly.
 *
 * Records are queued per partition key (aggregate), in event order.  A key
 * whose records can be sent waits in a FIFO "ready" list; a key with a request
 * in flight or waiting out a retry backoff is not in it.  Forming a request
 * pops keys off the ready list and takes a run of each key's oldest records,
 * so its cost is the number of records taken, whatever is queued behind them.
 *
 * Ordering rule (see "Ordering" in relay/README.md):
 *   - a key is in at most one request in flight, with at most
 *     lim.max_per_key of its oldest unacknowledged records, consecutive and
 *     in event order (several requests may be in flight, for other keys);
 *   - with one record per key (the default) a later event of an aggregate
 *     is sent only after the earlier one is stored: the stream holds every
 *     aggregate's first deliveries in version order;
 *   - with runs (max_per_key > 1), when a record of a run fails, it and
 *     every later record of that key from the same request are sent again
 *     in the next request of that key (even those Kinesis stored: they may be
 *     in the stream ahead of the failed one) and count as acknowledged only
 *     from that re-send; the records before it are done.  A consumer applying
 *     an aggregate's events by version (apply version last+1, skip any other)
 *     sees them all, once, in order.  To bound what is sent twice, a failure
 *     halves the key's next run and a run without failure doubles it again,
 *     up to max_per_key.
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

struct batch_key;

typedef struct batch_record
{
	struct batch_record *next; /* next record of the same key */
	struct batch_key *bkey;
	char *data; /* envelope (points into this allocation) */
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

/* One partition key with records held: its queue and where it waits. */
typedef struct batch_key
{
	struct batch_key *hnext;		 /* hash chain */
	struct batch_key *rprev, *rnext; /* ready list */
	struct batch_key *dnext;		 /* scratch list of batch_done */
	batch_record *head, *tail;		 /* held records, oldest first */
	size_t n_pending;				 /* records not in flight */
	size_t pending_bytes;
	int64_t not_before; /* backoff: not sent before */
	size_t heap_idx;	/* position in the backoff heap, or SIZE_MAX */
	int run_cap;		/* records of this key in its next request (halved by a failure) */
	int run_len;		/* records of this key in the request in flight */
	uint64_t hash;
	bool ready;	   /* in the ready list */
	bool inflight; /* in a request now */
	bool failed;   /* scratch of batch_done: the rest of its run goes again */
	bool backoff;  /* scratch of batch_done: wait out not_before first */
} batch_key;

typedef struct batch_limits
{
	int max_records;		 /* per request (500) */
	size_t max_bytes;		 /* per request, data + keys (5 MiB) */
	size_t max_record_bytes; /* per record, data + key (1 MiB) */
	int linger_ms;
	int retry_base_ms;
	int retry_max_ms;
	int max_per_key; /* records of one key per request (1; 0 counts as 1) */
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
	size_t n_records; /* held (pending + in flight) */
	size_t bytes;	  /* held */
	/* keys: hash table (chained), ready FIFO, backoff min-heap by not_before */
	batch_key **table;
	size_t table_cap, n_keys;
	batch_key *ready_head, *ready_tail;
	size_t ready_records, ready_bytes; /* pending records of ready keys */
	batch_key **heap;
	size_t heap_len, heap_cap;
	size_t resent;	 /* stored records sent again to keep a run in order */
	batch_txn *txns; /* ring of open positions */
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
	BO_AGAIN,  /* send again at once, not a failure (isolating an invalid record) */
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

/* Is a request due now (full batch ready, the oldest ready record lingered, a backoff over)? */
bool batch_due(const batcher *b, int64_t now_ms);
/* Is anything sendable at all, linger aside (drain)? */
bool batch_sendable(const batcher *b, int64_t now_ms);
/* When to look again (INT64_MAX: nothing to send until a request completes or a put). */
int64_t batch_next_due(const batcher *b);

/*
 * Select the next batch (marks the records in flight).  Returns the number
 * of records written to out (capacity lim.max_records), each key's run
 * consecutive and in order; 0 if nothing is eligible (then b->blocked_until
 * says when something will be, 0 if only a completion or a put can help).
 */
int batch_take(batcher *b, int64_t now_ms, batch_record **out);
/*
 * Report the outcome of each record of a batch taken with batch_take (any
 * number of batches may be in flight; each is reported once, whole).
 */
void batch_done(batcher *b, batch_record **recs, const batch_outcome *outcome, int n,
				int64_t now_ms);

#endif
