/*
 * s3_client.h
 *		The S3 requests the archive needs, signed with SigV4 (S3 rules:
 *		x-amz-content-sha256 on every request, the key URI-encoded exactly
 *		once, no path normalisation):
 *
 *		  s3_put_object   create-only upload (If-None-Match: *) with an
 *		                  x-amz-checksum-sha256 header; multipart above a size
 *		                  threshold; "already exists with the same content"
 *		                  counts as success, different content is an error
 *		                  that names the key
 *		  s3_get_object   read an object (replay, the exists-comparison)
 *		  s3_list_page    one page of ListObjectsV2 (replay, crash recovery)
 *
 * Errors: every call returns 0 or -1 with one line in err; after -1,
 * s3_client_retryable() says whether trying again later can help (network,
 * 5xx, throttling, expired credentials) and s3_client_config_error() whether
 * it is a configuration problem (no such bucket, access denied, bad keys).
 */
#ifndef RELAY_S3_CLIENT_H
#define RELAY_S3_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define S3_MIN_PART_SIZE (5 * 1024 * 1024) /* S3's floor for all parts but the last */
#define S3_MAX_PARTS	 10000

typedef struct s3_client_config
{
	const char *bucket;
	const char *region;
	const char *endpoint;		/* NULL: https://s3.REGION.amazonaws.com */
	bool path_style;			/* bucket in the path (implied by an endpoint override) */
	const char *ca_bundle;		/* NULL: system store */
	long timeout_ms;			/* per request; 0: 30000 */
	size_t multipart_threshold; /* objects this large go multipart; 0: never */
	size_t part_size;			/* >= S3_MIN_PART_SIZE */
} s3_client_config;

typedef struct s3_client s3_client;

typedef struct s3_list
{
	char **keys; /* in key order, as S3 lists them */
	size_t *sizes;
	int n;
	bool truncated;
	char *next_token; /* continuation token when truncated */
} s3_list;

/* Counters for metrics and tests. */
typedef struct s3_stats
{
	unsigned long puts;		 /* objects written (single or multipart) */
	unsigned long multipart; /* of which multipart */
	unsigned long parts;	 /* parts uploaded */
	unsigned long existed;	 /* create-only writes that found the same object */
	unsigned long requests;	 /* HTTP requests sent */
} s3_stats;

s3_client *s3_client_new(const s3_client_config *cfg, char *err, size_t errlen);
void s3_client_free(s3_client *c);
bool s3_client_retryable(const s3_client *c);
bool s3_client_config_error(const s3_client *c);
const s3_stats *s3_client_stats(const s3_client *c);
const char *s3_client_bucket(const s3_client *c);

int s3_put_object(s3_client *c, const char *key, const void *body, size_t len,
				  const char *content_type, char *err, size_t errlen);
/*
 * The same upload one request at a time, so that a caller in a poll loop
 * (the sink) never blocks for more than one request: step returns 1 while
 * requests remain, 0 once the object is stored (or was there with the same
 * content), -1 on a failure (then s3_client_retryable(): stepping again
 * resends the failed request; a failed completion starts over).  body must
 * stay valid until s3_upload_free, which aborts an unfinished multipart
 * upload.
 */
typedef struct s3_upload s3_upload;

s3_upload *s3_upload_begin(s3_client *c, const char *key, const void *body, size_t len,
						   const char *content_type);
int s3_upload_step(s3_client *c, s3_upload *u, char *err, size_t errlen);
void s3_upload_free(s3_client *c, s3_upload *u);

/* *missing is set (and 0 returned) when the key does not exist. */
int s3_get_object(s3_client *c, const char *key, buf *out, bool *missing, char *err, size_t errlen);
/* One page of keys under prefix, after start_after (may be NULL) or token. */
int s3_list_page(s3_client *c, const char *prefix, const char *start_after, const char *token,
				 int max_keys, s3_list *out, char *err, size_t errlen);
void s3_list_free(s3_list *l);

/*
 * The multipart decision: 0 parts means a single PutObject; otherwise the
 * number of parts and their size (the configured size, grown if needed to
 * stay within S3_MAX_PARTS).
 */
int s3_multipart_plan(size_t len, size_t threshold, size_t part_size, size_t *out_part_size);

#endif
