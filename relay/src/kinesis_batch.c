/*
 * kinesis_batch.c
 *		PutRecords batching with per-key ordering (see kinesis_batch.h).
 */
#include "kinesis_batch.h"

#include <stdlib.h>
#include <string.h>

#define BATCH_SCAN_LIMIT 50000 /* records examined per batch_take */
#define KINESIS_MAX_KEY	 256

void
batch_init(batcher *b, const batch_limits *lim)
{
	memset(b, 0, sizeof(*b));
	b->lim = *lim;
	b->rand_state = 0x2545F491u ^ (unsigned int) (uintptr_t) b;
}

void
batch_free(batcher *b)
{
	batch_record *r = b->head;

	while (r)
	{
		batch_record *n = r->next;

		free(r);
		r = n;
	}
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

int
batch_put(batcher *b, const char *data, size_t len, const char *key, size_t key_len, uint64_t pos,
		  uint32_t seq, int64_t now_ms)
{
	batch_record *r;

	if (len + key_len > b->lim.max_record_bytes || key_len == 0 || key_len > KINESIS_MAX_KEY)
		return 1;
	if (!s_open_txn(b) && s_txn_push(b) < 0)
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
	s_txn(b, r->txn)->outstanding++;
	r->prev = b->tail;
	if (b->tail)
		b->tail->next = r;
	else
		b->head = r;
	b->tail = r;
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
batch_due(const batcher *b, int64_t now_ms)
{
	if (b->head == NULL || now_ms < b->blocked_until)
		return false;
	if (b->n_records >= (size_t) b->lim.max_records || b->bytes >= b->lim.max_bytes)
		return true;
	return now_ms >= b->head->enq_ms + b->lim.linger_ms;
}

int64_t
batch_next_due(const batcher *b)
{
	int64_t due;

	if (b->head == NULL)
		return INT64_MAX;
	due = b->head->enq_ms + b->lim.linger_ms;
	if (b->n_records >= (size_t) b->lim.max_records || b->bytes >= b->lim.max_bytes)
		due = 0;
	return due > b->blocked_until ? due : b->blocked_until;
}

/*
 * Open-addressing set of keys (pointers into records) for one batch_take;
 * sized for the records examined.
 */
typedef struct keyset
{
	const char **slot;
	size_t mask;
} keyset;

static uint64_t
s_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char) *s++) * 1099511628211ULL;
	return h;
}

/* Insert; returns true if it was already present. */
static bool
s_keyset_add(keyset *ks, const char *key)
{
	size_t i = (size_t) s_hash(key) & ks->mask;

	while (ks->slot[i])
	{
		if (strcmp(ks->slot[i], key) == 0)
			return true;
		i = (i + 1) & ks->mask;
	}
	ks->slot[i] = key;
	return false;
}

static bool
s_keyset_has(const keyset *ks, const char *key)
{
	size_t i = (size_t) s_hash(key) & ks->mask;

	while (ks->slot[i])
	{
		if (strcmp(ks->slot[i], key) == 0)
			return true;
		i = (i + 1) & ks->mask;
	}
	return false;
}

int
batch_take(batcher *b, int64_t now_ms, batch_record **out)
{
	keyset ks;
	size_t cap = 1024, scanned = 0,
		   limit = b->n_records < BATCH_SCAN_LIMIT ? b->n_records : BATCH_SCAN_LIMIT;
	size_t bytes = 0;
	int n = 0;
	int64_t next = INT64_MAX;
	batch_record *r;

	while (cap < limit * 2)
		cap *= 2;
	ks.slot = calloc(cap, sizeof(char *));
	if (ks.slot == NULL)
		return 0;
	ks.mask = cap - 1;

	for (r = b->head; r && scanned < limit; r = r->next, scanned++)
	{
		size_t sz = r->len + r->key_len;

		if (r->state == BR_INFLIGHT || r->not_before > now_ms)
		{
			/* an earlier record of this key is unresolved: hold the later ones */
			if (r->state == BR_PENDING && r->not_before < next)
				next = r->not_before;
			s_keyset_add(&ks, r->key);
			continue;
		}
		if (s_keyset_has(&ks, r->key))
			continue;
		if (bytes + sz > b->lim.max_bytes)
			break;
		s_keyset_add(&ks, r->key);
		r->state = BR_INFLIGHT;
		out[n++] = r;
		bytes += sz;
		if (n >= b->lim.max_records)
			break;
	}
	free(ks.slot);
	b->blocked_until = n == 0 && next != INT64_MAX ? next : 0;
	return n;
}

static void
s_remove(batcher *b, batch_record *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		b->head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		b->tail = r->prev;
	b->n_records--;
	b->bytes -= r->len + r->key_len;
	s_txn(b, r->txn)->outstanding--;
	free(r);
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

void
batch_done(batcher *b, batch_record **recs, const batch_outcome *outcome, int n, int64_t now_ms)
{
	int i;

	for (i = 0; i < n; i++)
	{
		batch_record *r = recs[i];

		if (outcome[i] == BO_RETRY)
		{
			r->state = BR_PENDING;
			r->attempts++;
			r->not_before = now_ms + s_backoff(b, r->attempts);
		}
		else
			s_remove(b, r);
	}
	b->blocked_until = 0;
	s_advance(b);
}
