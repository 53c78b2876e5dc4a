/*
 * s3_settings.h
 *		Where the archive lives and how objects are cut, resolved once from
 *		the --s3-* flags, the environment and defaults.  Shared by the S3
 *		sink, the s3:// dead letter and `eventrelay replay`, so that all
 *		three find the same bucket the same way:
 *
 *		  bucket    --s3-bucket, EVENTRELAY_S3_BUCKET
 *		  prefix    --s3-prefix, EVENTRELAY_S3_PREFIX (default "events")
 *		  region    --s3-region, then --region / AWS_REGION / AWS_DEFAULT_REGION
 *		  endpoint  --s3-endpoint-url, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL
 *		            (path-style requests whenever an endpoint is given)
 */
#ifndef RELAY_S3_SETTINGS_H
#define RELAY_S3_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "s3_client.h"

struct relay_config;

#define S3_DEFAULT_MAX_OBJECT_BYTES	   (5 * 1024 * 1024) /* Firehose's default buffer size */
#define S3_DEFAULT_MAX_OBJECT_AGE_MS   (300 * 1000)		 /* Firehose's default buffer interval */
#define S3_DEFAULT_MULTIPART_THRESHOLD (16 * 1024 * 1024)
#define S3_DEFAULT_PART_SIZE		   (8 * 1024 * 1024)

typedef struct s3_settings
{
	char bucket[256];
	char prefix[512];
	char region[64];
	char endpoint[512]; /* "" = AWS */
	bool path_style;
	size_t max_object_bytes;
	int64_t max_object_age_ms;
	size_t multipart_threshold;
	size_t part_size;
	int request_timeout_ms;
	int retry_base_ms;
	int retry_max_ms;
	char ca_bundle[512];
} s3_settings;

/*
 * Fill st from cfg (sink options, --region, timeouts) and the environment.
 * require_bucket: fail when no bucket is configured.
 */
int s3_settings_resolve(const struct relay_config *cfg, s3_settings *st, bool require_bucket,
						char *err, size_t errlen);
/* The client configuration for st (pointers into st). */
void s3_settings_client(const s3_settings *st, s3_client_config *out);
/* Parse a size with an optional k/M/G suffix (powers of 1024): config_number
 * for a size_t. */
int s3_parse_size(const char *s, size_t *out);
/* Parse a duration: seconds, or with a suffix ms/s/m/h; to milliseconds. */
int s3_parse_duration(const char *s, int64_t *out_ms);

#endif
