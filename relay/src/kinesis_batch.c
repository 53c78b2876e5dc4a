/*
 * kinesis_batch.c
 *		PutRecords batching with per-key queues and ordering (see kinesis_batch.h).
 */
#include "kinesis_batch.h"

#include <stdlib.h>
#include <string.h>

#define KINESIS_MAX_KEY 256

void
batch_init(batcher *b, const batch_limits *lim)
{
	memset(b, 0, sizeof(*b));
	b->lim = *lim;
	if (b->lim.max_per_key < 1)
		b->lim.max_per_key = 1;
	b->rand_state = 0x2545F491u ^ (unsigned int) (uintptr_t) b;
}

void
batch_free(batcher *b)
{
	size_t i;

	for (i = 0; i < b->table_cap; i++)
	{
		batch_key *kq = b->table[i];

		while (kq)
		{
			batch_key *kn = kq->hnext;
			batch_record *r = kq->head;

			while (r)
			{
				batch_record *n = r->next;

				free(r);
				r = n;
			}
			free(kq);
			kq = kn;
		}
	}
	free(b->table);
	free(b->heap);
	free(b->txns);
	memset(b, 0, sizeof(*b));
}

static batch_txn *
s_txn(batcher *b, uint64_t id)
{
	return &b->txns[(b->txn_start + (size_t) (id - b->txn_base)) % b->txn_cap];
}

static int
s_txn_push(batcher *b)
{
	if (b->txn_count == b->txn_cap)
	{
		size_t cap = b->txn_cap ? b->txn_cap * 2 : 64;
		batch_txn *t = malloc(cap * sizeof(batch_txn));
		size_t i;

		if (t == NULL)
			return -1;
		for (i = 0; i < b->txn_count; i++)
			t[i] = b->txns[(b->txn_start + i) % b->txn_cap];
		free(b->txns);
		b->txns = t;
		b->txn_cap = cap;
		b->txn_start = 0;
	}
	b->txn_count++;
	memset(s_txn(b, b->txn_base + b->txn_count - 1), 0, sizeof(batch_txn));
	return 0;
}

/* Pop completed positions from the front. */
static void
s_advance(batcher *b)
{
	while (b->txn_count > 0)
	{
		batch_txn *t = &b->txns[b->txn_start];

		if (!t->committed || t->outstanding > 0)
			break;
		if (t->pos > b->acked)
			b->acked = t->pos;
		b->txn_start = (b->txn_start + 1) % b->txn_cap;
		b->txn_count--;
		b->txn_base++;
	}
}

static bool
s_open_txn(batcher *b)
{
	return b->txn_count > 0 && !s_txn(b, b->txn_base + b->txn_count - 1)->committed;
}

static uint64_t
s_hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char) s[i]) * 1099511628211ULL;
	return h;
}

/* The key's name lives in its first record; a key exists only while it holds one. */
static bool
s_key_is(const batch_key *kq, uint64_t h, const char *key, size_t key_len)
{
	return kq->hash == h && kq->head->key_len == key_len &&
		   memcmp(kq->head->key, key, key_len) == 0;
}

static int
s_table_grow(batcher *b)
{
	size_t cap = b->table_cap ? b->table_cap * 2 : 1024, i;
	batch_key **t = calloc(cap, sizeof(*t));

	if (t == NULL)
		return -1;
	for (i = 0; i < b->table_cap; i++)
	{
		batch_key *kq = b->table[i];

		while (kq)
		{
			batch_key *kn = kq->hnext;
			size_t j = (size_t) kq->hash & (cap - 1);

			kq->hnext = t[j];
			t[j] = kq;
			kq = kn;
		}
	}
	free(b->table);
	b->table = t;
	b->table_cap = cap;
	return 0;
}

static void
s_key_unlink(batcher *b, batch_key *kq)
{
	batch_key **p = &b->table[(size_t) kq->hash & (b->table_cap - 1)];

	while (*p != kq)
		p = &(*p)->hnext;
	*p = kq->hnext;
	b->n_keys--;
	free(kq);
}

static void
s_ready_push(batcher *b, batch_key *kq)
{
	kq->ready = true;
	kq->rnext = NULL;
	kq->rprev = b->ready_tail;
	if (b->ready_tail)
		b->ready_tail->rnext = kq;
	else
		b->ready_head = kq;
	b->ready_tail = kq;
	b->ready_records += kq->n_pending;
	b->ready_bytes += kq->pending_bytes;
}

static void
s_ready_remove(batcher *b, batch_key *kq)
{
	if (kq->rprev)
		kq->rprev->rnext = kq->rnext;
	else
		b->ready_head = kq->rnext;
	if (kq->rnext)
		kq->rnext->rprev = kq->rprev;
	else
		b->ready_tail = kq->rprev;
	kq->ready = false;
	kq->rprev = kq->rnext = NULL;
	b->ready_records -= kq->n_pending;
	b->ready_bytes -= kq->pending_bytes;
}

/* Backoff heap: keys waiting out a retry, earliest not_before on top. */
static void
s_heap_set(batcher *b, size_t i, batch_key *kq)
{
	b->heap[i] = kq;
	kq->heap_idx = i;
}

static void
s_heap_up(batcher *b, size_t i)
{
	batch_key *kq = b->heap[i];

	while (i > 0 && b->heap[(i - 1) / 2]->not_before > kq->not_before)
	{
		s_heap_set(b, i, b->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	s_heap_set(b, i, kq);
}

static void
s_heap_down(batcher *b, size_t i)
{
	batch_key *kq = b->heap[i];

	for (;;)
	{
		size_t c = 2 * i + 1;

		if (c >= b->heap_len)
			break;
		if (c + 1 < b->heap_len && b->heap[c + 1]->not_before < b->heap[c]->not_before)
			c++;
		if (b->heap[c]->not_before >= kq->not_before)
			break;
		s_heap_set(b, i, b->heap[c]);
		i = c;
	}
	s_heap_set(b, i, kq);
}

static int
s_heap_push(batcher *b, batch_key *kq)
{
	if (b->heap_len == b->heap_cap)
	{
		size_t cap = b->heap_cap ? b->heap_cap * 2 : 64;
		batch_key **h = realloc(b->heap, cap * sizeof(*h));

		if (h == NULL)
			return -1;
		b->heap = h;
		b->heap_cap = cap;
	}
	b->heap[b->heap_len++] = kq;
	s_heap_up(b, b->heap_len - 1);
	return 0;
}

static batch_key *
s_heap_pop(batcher *b)
{
	batch_key *top = b->heap[0];

	b->heap_len--;
	if (b->heap_len > 0)
	{
		b->heap[0] = b->heap[b->heap_len];
		s_heap_down(b, 0);
	}
	top->heap_idx = SIZE_MAX;
	return top;
}

int
batch_put(batcher *b, const char *data, size_t len, const char *key, size_t key_len, uint64_t pos,
		  uint32_t seq, int64_t now_ms)
{
	batch_record *r;
	batch_key *kq;
	uint64_t h;

	if (len + key_len > b->lim.max_record_bytes || key_len == 0 || key_len > KINESIS_MAX_KEY)
		return 1;
	if (!s_open_txn(b) && s_txn_push(b) < 0)
		return -1;
	if (b->n_keys >= b->table_cap && s_table_grow(b) < 0)
		return -1;
	r = malloc(sizeof(*r) + len + key_len + 2);
	if (r == NULL)
		return -1;
	memset(r, 0, sizeof(*r));
	r->data = (char *) (r + 1);
	memcpy(r->data, data, len);
	r->data[len] = '\0';
	r->len = len;
	r->key = r->data + len + 1;
	memcpy(r->key, key, key_len);
	r->key[key_len] = '\0';
	r->key_len = key_len;
	r->pos = pos;
	r->seq = seq;
	r->txn = b->txn_base + b->txn_count - 1;
	r->enq_ms = now_ms;
	r->state = BR_PENDING;

	h = s_hash(key, key_len);
	for (kq = b->table[(size_t) h & (b->table_cap - 1)]; kq; kq = kq->hnext)
		if (s_key_is(kq, h, key, key_len))
			break;
	if (kq == NULL)
	{
		size_t j = (size_t) h & (b->table_cap - 1);

		kq = calloc(1, sizeof(*kq));
		if (kq == NULL)
		{
			free(r);
			return -1;
		}
		kq->hash = h;
		kq->heap_idx = SIZE_MAX;
		kq->run_cap = b->lim.max_per_key;
		kq->hnext = b->table[j];
		b->table[j] = kq;
		b->n_keys++;
	}
	r->bkey = kq;
	if (kq->tail)
		kq->tail->next = r;
	else
		kq->head = r;
	kq->tail = r;
	kq->n_pending++;
	kq->pending_bytes += len + key_len;
	if (kq->ready)
	{
		b->ready_records++;
		b->ready_bytes += len + key_len;
	}
	else if (!kq->inflight && kq->heap_idx == SIZE_MAX)
		s_ready_push(b, kq); /* a new key, or one with nothing else waiting */
	s_txn(b, r->txn)->outstanding++;
	b->n_records++;
	b->bytes += len + key_len;
	b->blocked_until = 0; /* a new key may be eligible at once */
	return 0;
}

void
batch_commit(batcher *b, uint64_t pos)
{
	batch_txn *t;

	if (!s_open_txn(b) && s_txn_push(b) < 0)
		return; /* out of memory: the position is simply never acked */
	t = s_txn(b, b->txn_base + b->txn_count - 1);
	t->pos = pos;
	t->committed = true;
	s_advance(b);
}

bool
batch_sendable(const batcher *b, int64_t now_ms)
{
	return b->ready_head != NULL || (b->heap_len > 0 && b->heap[0]->not_before <= now_ms);
}

bool
batch_due(const batcher *b, int64_t now_ms)
{
	if (now_ms < b->blocked_until)
		return false;
	if (b->heap_len > 0 && b->heap[0]->not_before <= now_ms)
		return true; /* a retry: its linger is long over */
	if (b->ready_head == NULL)
		return false;
	if (b->ready_records >= (size_t) b->lim.max_records || b->ready_bytes >= b->lim.max_bytes)
		return true;
	return now_ms >= b->ready_head->head->enq_ms + b->lim.linger_ms;
}

int64_t
batch_next_due(const batcher *b)
{
	int64_t due = INT64_MAX;

	if (b->ready_head)
	{
		if (b->ready_records >= (size_t) b->lim.max_records || b->ready_bytes >= b->lim.max_bytes)
			due = 0;
		else
			due = b->ready_head->head->enq_ms + b->lim.linger_ms;
	}
	if (b->heap_len > 0 && b->heap[0]->not_before < due)
		due = b->heap[0]->not_before;
	return due;
}

int
batch_take(batcher *b, int64_t now_ms, batch_record **out)
{
	size_t bytes = 0;
	int n = 0;

	/* keys whose backoff is over queue up again (behind the ones already ready) */
	while (b->heap_len > 0 && b->heap[0]->not_before <= now_ms)
		s_ready_push(b, s_heap_pop(b));

	while (b->ready_head && n < b->lim.max_records)
	{
		batch_key *kq = b->ready_head;
		batch_record *r = kq->head; /* a ready key has nothing in flight */
		int run = 0;

		if (bytes + r->len + r->key_len > b->lim.max_bytes)
			break;
		s_ready_remove(b, kq);
		kq->inflight = true;
		while (r && run < kq->run_cap && n < b->lim.max_records &&
			   bytes + r->len + r->key_len <= b->lim.max_bytes)
		{
			r->state = BR_INFLIGHT;
			out[n++] = r;
			bytes += r->len + r->key_len;
			kq->n_pending--;
			kq->pending_bytes -= r->len + r->key_len;
			run++;
			r = r->next;
		}
		kq->run_len = run;
	}
	b->blocked_until =
		n == 0 && b->ready_head == NULL && b->heap_len > 0 ? b->heap[0]->not_before : 0;
	return n;
}

/* Exponential backoff with jitter: uniformly in [d/2, d], d = base * 2^(attempts-1). */
static int64_t
s_backoff(batcher *b, int attempts)
{
	int64_t d = b->lim.retry_base_ms;
	int i;

	for (i = 1; i < attempts && d < b->lim.retry_max_ms; i++)
		d *= 2;
	if (d > b->lim.retry_max_ms)
		d = b->lim.retry_max_ms;
	b->rand_state = b->rand_state * 1103515245u + 12345u;
	return d / 2 + (int64_t) ((b->rand_state >> 8) % (unsigned int) (d / 2 + 1));
}

/* A record done (delivered or set aside): always the oldest of its key. */
static void
s_remove_head(batcher *b, batch_key *kq)
{
	batch_record *r = kq->head;

	kq->head = r->next;
	if (kq->head == NULL)
		kq->tail = NULL;
	b->n_records--;
	b->bytes -= r->len + r->key_len;
	s_txn(b, r->txn)->outstanding--;
	free(r);
}

/* Back to waiting: r goes out again in the next request of its key. */
static void
s_requeue(batch_key *kq, batch_record *r)
{
	r->state = BR_PENDING;
	kq->n_pending++;
	kq->pending_bytes += r->len + r->key_len;
}

void
batch_done(batcher *b, batch_record **recs, const batch_outcome *outcome, int n, int64_t now_ms)
{
	batch_key *touched = NULL, *last = NULL;
	int i;

	/*
	 * A key's records sit in recs in its own order; the first failure ends
	 * its acknowledged prefix, and everything of that key after it goes
	 * out again (kinesis_batch.h).
	 */
	for (i = 0; i < n; i++)
	{
		batch_record *r = recs[i];
		batch_key *kq = r->bkey;

		if (kq->inflight)
		{
			kq->inflight = false; /* first record of this key: list it, in batch order */
			kq->dnext = NULL;
			if (last)
				last->dnext = kq;
			else
				touched = kq;
			last = kq;
		}
		if (outcome[i] == BO_RETRY && !kq->failed)
		{
			/* the first failure of the key's run: it holds the aggregate back */
			r->attempts++;
			r->not_before = now_ms + s_backoff(b, r->attempts);
			kq->not_before = r->not_before;
			kq->failed = kq->backoff = true;
			s_requeue(kq, r);
		}
		else if (outcome[i] == BO_AGAIN)
		{
			kq->failed = true;
			s_requeue(kq, r);
		}
		else if (kq->failed)
		{
			/* the rest of the run goes again, failed or not; stored ones may be ahead */
			if (outcome[i] == BO_OK)
				b->resent++;
			s_requeue(kq, r);
		}
		else
			s_remove_head(b, kq); /* the prefix: done, in order */
	}
	while (touched)
	{
		batch_key *kq = touched;

		touched = kq->dnext;
		if (kq->head == NULL)
			s_key_unlink(b, kq);
		else if (kq->backoff)
		{
			/* a failure inside a run: send less of this key at once next time */
			kq->run_cap = kq->run_len > 1 ? kq->run_len / 2 : 1;
			if (s_heap_push(b, kq) < 0)
				s_ready_push(b, kq); /* out of memory: retry without a backoff */
		}
		else
		{
			if (!kq->failed && kq->run_cap < b->lim.max_per_key)
				kq->run_cap =
					kq->run_cap * 2 < b->lim.max_per_key ? kq->run_cap * 2 : b->lim.max_per_key;
			s_ready_push(b, kq);
		}
		kq->failed = kq->backoff = false;
	}
	b->blocked_until = 0;
	s_advance(b);
}
