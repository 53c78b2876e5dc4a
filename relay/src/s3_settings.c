/*
 * s3_settings.c
 *		Resolution of the archive's location and limits (see s3_settings.h).
 */
#include "s3_settings.h"
#include "config.h"
#include "s3_object.h"

#include <ctype.h>
#include <stdint.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The option engine's number parser (config_number), for a size_t. */
int
s3_parse_size(const char *s, size_t *out)
{
	long long v;
	char err[256];

	if (s == NULL || config_number("size", s, 0, LLONG_MAX, true, &v, err, sizeof(err)) < 0)
		return -1;
	*out = (size_t) v;
	return 0;
}

int
s3_parse_duration(const char *s, int64_t *out_ms)
{
	char *end;
	double v;

	errno = 0;
	if (s == NULL || !(isdigit((unsigned char) *s) || *s == '.'))
		return -1;
	v = strtod(s, &end);
	if (errno || v < 0)
		return -1;
	if (strcmp(end, "ms") == 0)
		;
	else if (*end == '\0' || strcmp(end, "s") == 0)
		v *= 1000;
	else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
		v *= 60000;
	else if (strcmp(end, "h") == 0)
		v *= 3600000;
	else
		return -1;
	/* the cast of a larger double is undefined (1e30h) */
	if (!(v < 9e18))
		return -1;
	*out_ms = (int64_t) v;
	return 0;
}

static const char *
s_opt(const relay_config *cfg, const char *key, const char *env1, const char *env2)
{
	const char *v = cfg ? config_sink_opt(cfg, key) : NULL;

	if (v == NULL && env1)
		v = config_env(env1);
	if (v == NULL && env2)
		v = config_env(env2);
	return v;
}

static int
s_copy(char *dst, size_t dstlen, const char *v, const char *what, char *err, size_t errlen)
{
	if (strlen(v) >= dstlen)
	{
		snprintf(err, errlen, "%s is too long", what);
		return -1;
	}
	strcpy(dst, v);
	return 0;
}

int
s3_settings_resolve(const relay_config *cfg, s3_settings *st, bool require_bucket, char *err,
					size_t errlen)
{
	const char *v;

	memset(st, 0, sizeof(*st));
	st->max_object_bytes = S3_DEFAULT_MAX_OBJECT_BYTES;
	st->max_object_age_ms = S3_DEFAULT_MAX_OBJECT_AGE_MS;
	st->multipart_threshold = S3_DEFAULT_MULTIPART_THRESHOLD;
	st->part_size = S3_DEFAULT_PART_SIZE;
	st->request_timeout_ms = cfg && cfg->request_timeout_ms ? cfg->request_timeout_ms : 30000;
	st->retry_base_ms = cfg && cfg->retry_base_ms ? cfg->retry_base_ms : 100;
	st->retry_max_ms = cfg && cfg->retry_max_ms ? cfg->retry_max_ms : 5000;

	if ((v = s_opt(cfg, "s3-bucket", "EVENTRELAY_S3_BUCKET", NULL)) != NULL &&
		s_copy(st->bucket, sizeof(st->bucket), v, "--s3-bucket", err, errlen) < 0)
		return -1;
	if (require_bucket && st->bucket[0] == '\0')
	{
		snprintf(err, errlen, "no S3 bucket: set --s3-bucket or EVENTRELAY_S3_BUCKET");
		return -1;
	}
	v = s_opt(cfg, "s3-prefix", "EVENTRELAY_S3_PREFIX", NULL);
	if (s_copy(st->prefix, sizeof(st->prefix), v ? v : "events", "--s3-prefix", err, errlen) < 0)
		return -1;
	/* keys never start with '/': S3 would store an empty first segment */
	while (st->prefix[0] == '/')
		memmove(st->prefix, st->prefix + 1, strlen(st->prefix));

	v = s_opt(cfg, "s3-region", NULL, NULL);
	if (v == NULL && cfg)
		v = cfg->region;
	if (v == NULL)
		v = config_env("AWS_REGION");
	if (v == NULL)
		v = config_env("AWS_DEFAULT_REGION");
	if (v == NULL)
	{
		snprintf(err, errlen, "no AWS region for S3: set --s3-region, --region or AWS_REGION");
		return -1;
	}
	if (*v == '\0')
	{
		snprintf(err, errlen, "--s3-region is empty: give an AWS region such as us-east-1");
		return -1;
	}
	if (s_copy(st->region, sizeof(st->region), v, "--s3-region", err, errlen) < 0)
		return -1;

	v = s_opt(cfg, "s3-endpoint-url", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL");
	if (v)
	{
		if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
		{
			snprintf(err, errlen, "invalid S3 endpoint \"%s\": must start with http:// or https://",
					 v);
			return -1;
		}
		if (s_copy(st->endpoint, sizeof(st->endpoint), v, "--s3-endpoint-url", err, errlen) < 0)
			return -1;
		/* "http://host:port/" and "http://host:port" are the same endpoint */
		while (strlen(st->endpoint) > 8 && st->endpoint[strlen(st->endpoint) - 1] == '/')
			st->endpoint[strlen(st->endpoint) - 1] = '\0';
		st->path_style = true;
	}
	if ((v = s_opt(cfg, "s3-path-style", NULL, NULL)) != NULL)
	{
		if (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "on") == 0)
			st->path_style = true;
		else if (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcasecmp(v, "off") == 0)
			st->path_style = false;
		else
		{
			snprintf(err, errlen, "invalid value \"%s\" for --s3-path-style (true or false)", v);
			return -1;
		}
	}
	if ((v = s_opt(cfg, "s3-max-object-bytes", NULL, NULL)) != NULL &&
		(s3_parse_size(v, &st->max_object_bytes) < 0 || st->max_object_bytes < 1024 ||
		 st->max_object_bytes > S3_MAX_OBJECT_BYTES))
	{
		snprintf(err, errlen, "invalid value \"%s\" for --s3-max-object-bytes (1K..5G)", v);
		return -1;
	}
	if ((v = s_opt(cfg, "s3-max-object-age", NULL, NULL)) != NULL &&
		(s3_parse_duration(v, &st->max_object_age_ms) < 0 || st->max_object_age_ms < 100 ||
		 st->max_object_age_ms > 3600 * 1000))
	{
		snprintf(err, errlen, "invalid value \"%s\" for --s3-max-object-age (100ms..1h)", v);
		return -1;
	}
	if ((v = s_opt(cfg, "s3-multipart-threshold", NULL, NULL)) != NULL &&
		(s3_parse_size(v, &st->multipart_threshold) < 0 ||
		 st->multipart_threshold < S3_MIN_PART_SIZE))
	{
		snprintf(err, errlen, "invalid value \"%s\" for --s3-multipart-threshold (at least 5M)", v);
		return -1;
	}
	if ((v = s_opt(cfg, "s3-part-size", NULL, NULL)) != NULL &&
		(s3_parse_size(v, &st->part_size) < 0 || st->part_size < S3_MIN_PART_SIZE ||
		 st->part_size > ((size_t) 5 << 30)))
	{
		snprintf(err, errlen, "invalid value \"%s\" for --s3-part-size (5M..5G)", v);
		return -1;
	}
	if (cfg && cfg->ca_bundle &&
		s_copy(st->ca_bundle, sizeof(st->ca_bundle), cfg->ca_bundle, "--ca-bundle", err, errlen) <
			0)
		return -1;
	return 0;
}

void
s3_settings_client(const s3_settings *st, s3_client_config *out)
{
	memset(out, 0, sizeof(*out));
	out->bucket = st->bucket;
	out->region = st->region;
	out->endpoint = st->endpoint[0] ? st->endpoint : NULL;
	out->path_style = st->path_style;
	out->ca_bundle = st->ca_bundle[0] ? st->ca_bundle : NULL;
	out->timeout_ms = st->request_timeout_ms;
	out->multipart_threshold = st->multipart_threshold;
	out->part_size = st->part_size;
}
