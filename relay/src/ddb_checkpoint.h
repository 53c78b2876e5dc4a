/*
 * ddb_checkpoint.h
 *		Durable per-shard positions of the DynamoDB Streams reader: the
 *		sequence number of the last record whose events every sink
 *		acknowledged, and whether a closed shard was read to its end.
 *
 * One small JSON file, replaced atomically (write, fsync, rename, fsync the
 * directory) after every acknowledged batch:
 *   {"stream_arn":"arn:...","shards":{"shardId-...":{"sequence_number":"...","finished":false}}}
 */
#ifndef DDB_CHECKPOINT_H
#define DDB_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ddb_ckpt_shard
{
	char *id;
	char *seq;	   /* last fully published record, or NULL */
	bool finished; /* closed shard read to its end */
} ddb_ckpt_shard;

typedef struct ddb_ckpt
{
	char *path;
	char *stream_arn;
	ddb_ckpt_shard *s;
	size_t n;
	size_t cap;
} ddb_ckpt;

/* Load path (a missing file is an empty checkpoint); -1 if unreadable. */
int ddb_ckpt_load(ddb_ckpt *c, const char *path, char *err, size_t errlen);
ddb_ckpt_shard *ddb_ckpt_find(ddb_ckpt *c, const char *shard_id);
/* Record progress of a shard (seq may be NULL to keep the old one). */
int ddb_ckpt_set(ddb_ckpt *c, const char *shard_id, const char *seq, bool finished);
/* Forget every shard (a checkpoint of another stream). */
void ddb_ckpt_clear(ddb_ckpt *c, const char *stream_arn);
int ddb_ckpt_save(const ddb_ckpt *c, char *err, size_t errlen);
void ddb_ckpt_free(ddb_ckpt *c);

#endif /* DDB_CHECKPOINT_H */
