/*
 * s3_object.c
 *		The archive object builder: streaming gzip of NDJSON envelopes, the
 *		cut decision and the position-derived keys (see s3_object.h).  This
 *		file and nothing else in the relay includes zlib.
 */
#include "s3_object.h"

#include "codec.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#define S3_GZ_LEVEL 6 /* zlib's default: good ratio on JSON, cheap */
#define S3_GZ_CHUNK 16384

void
s3_object_init(s3_object *o)
{
	memset(o, 0, sizeof(*o));
}

void
s3_object_free(s3_object *o)
{
	if (o->zs)
	{
		deflateEnd((z_stream *) o->zs);
		free(o->zs);
	}
	buf_free(&o->gz);
	memset(o, 0, sizeof(*o));
}

/* Run deflate over the pending input with the given flush mode. */
static int
s_deflate(s3_object *o, int flush, char *err, size_t errlen)
{
	z_stream *zs = o->zs;
	int rc;

	do
	{
		if (buf_reserve(&o->gz, S3_GZ_CHUNK) < 0)
		{
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		zs->next_out = (Bytef *) o->gz.data + o->gz.len;
		zs->avail_out = S3_GZ_CHUNK;
		rc = deflate(zs, flush);
		if (rc == Z_STREAM_ERROR)
		{
			snprintf(err, errlen, "gzip: deflate failed");
			return -1;
		}
		o->gz.len += S3_GZ_CHUNK - zs->avail_out;
		o->gz.data[o->gz.len] = '\0';
	} while (zs->avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
	return 0;
}

static int
s_start(s3_object *o, char *err, size_t errlen)
{
	z_stream *zs = calloc(1, sizeof(*zs));

	/* windowBits 15 + 16: a gzip wrapper with mtime 0 and no name */
	if (zs == NULL ||
		deflateInit2(zs, S3_GZ_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
	{
		free(zs);
		snprintf(err, errlen, "gzip: could not initialise deflate");
		return -1;
	}
	o->zs = zs;
	return 0;
}

int
s3_object_append(s3_object *o, const char *data, size_t len, int64_t now_ms, char *err,
				 size_t errlen)
{
	z_stream *zs;
	static const char nl = '\n';

	if (o->finished)
	{
		snprintf(err, errlen, "append to a finished archive object");
		return -1;
	}
	if (o->zs == NULL && s_start(o, err, errlen) < 0)
		return -1;
	if (o->events == 0)
		o->opened_ms = now_ms;
	zs = o->zs;
	zs->next_in = (Bytef *) data;
	zs->avail_in = (uInt) len;
	if (s_deflate(o, Z_NO_FLUSH, err, errlen) < 0)
		return -1;
	zs->next_in = (Bytef *) &nl;
	zs->avail_in = 1;
	if (s_deflate(o, Z_NO_FLUSH, err, errlen) < 0)
		return -1;
	o->raw_bytes += len + 1;
	o->events++;
	return 0;
}

int
s3_object_finish(s3_object *o, char *err, size_t errlen)
{
	if (o->finished)
		return 0;
	if (o->zs == NULL && s_start(o, err, errlen) < 0)
		return -1;
	((z_stream *) o->zs)->avail_in = 0;
	if (s_deflate(o, Z_FINISH, err, errlen) < 0)
		return -1;
	deflateEnd((z_stream *) o->zs);
	free(o->zs);
	o->zs = NULL;
	o->finished = true;
	return 0;
}

bool
s3_object_due(const s3_object *o, const s3_limits *l, int64_t now_ms)
{
	if (o->events == 0)
		return false;
	if (o->raw_bytes >= l->max_bytes)
		return true;
	return now_ms - o->opened_ms >= l->max_age_ms;
}

/* ---- time ------------------------------------------------------------- */

time_t
s3_hour(time_t t)
{
	return t - t % 3600;
}

/* Last occurrence of needle in hay (the source object comes last). */
static const char *
s_memrmem(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	size_t i;

	if (len < n)
		return NULL;
	for (i = len - n + 1; i-- > 0;)
		if (hay[i] == needle[0] && memcmp(hay + i, needle, n) == 0)
			return hay + i;
	return NULL;
}

bool
s3_event_time(const char *data, size_t len, time_t *out)
{
	static const char *const fields[] = {"\"commit_time\":\"", "\"recorded_at\":\""};
	size_t i;

	for (i = 0; i < 2; i++)
	{
		const char *p = s_memrmem(data, len, fields[i]);
		time_t t;

		if (p == NULL)
			continue;
		p += strlen(fields[i]);
		t = codec_iso8601(p, len - (size_t) (p - data), NULL);
		if (t != (time_t) -1)
		{
			*out = t;
			return true;
		}
	}
	return false;
}

/* ---- keys ------------------------------------------------------------- */

int
s3_partition_prefix(const char *prefix, time_t partition, char *out, size_t outlen)
{
	struct tm tm;
	size_t plen = prefix ? strlen(prefix) : 0;
	int n;

	gmtime_r(&partition, &tm);
	n = snprintf(out, outlen, "%s%s%04d/%02d/%02d/%02d/", plen ? prefix : "",
				 plen && prefix[plen - 1] != '/' ? "/" : "", tm.tm_year + 1900, tm.tm_mon + 1,
				 tm.tm_mday, tm.tm_hour);
	return n < 0 || (size_t) n >= outlen ? -1 : 0;
}

int
s3_object_key_run(const char *prefix, time_t partition, uint64_t run, uint64_t first_pos,
				  uint64_t last_pos, char *out, size_t outlen)
{
	size_t n;
	int m;

	if (s3_partition_prefix(prefix, partition, out, outlen) < 0)
		return -1;
	n = strlen(out);
	if (run)
		m = snprintf(out + n, outlen - n, "r%016" PRIX64 "-%016" PRIX64 "_%016" PRIX64 ".ndjson.gz",
					 run, first_pos, last_pos);
	else
		m = snprintf(out + n, outlen - n, "%016" PRIX64 "_%016" PRIX64 ".ndjson.gz", first_pos,
					 last_pos);
	return m < 0 || (size_t) m >= outlen - n ? -1 : 0;
}

int
s3_object_key(const char *prefix, time_t partition, uint64_t first_pos, uint64_t last_pos,
			  char *out, size_t outlen)
{
	return s3_object_key_run(prefix, partition, 0, first_pos, last_pos, out, outlen);
}

static bool
s_hex16(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	int i;

	/* keys are written in upper case (%016llX): anything else is not ours */
	for (i = 0; i < 16; i++)
	{
		int h = codec_hex_digit(s[i]);

		if (h < 0 || (s[i] >= 'a' && s[i] <= 'f'))
			return false;
		v = v << 4 | (uint64_t) h;
	}
	*out = v;
	return true;
}

bool
s3_key_parse_run(const char *key, time_t *partition, uint64_t *run, uint64_t *first_pos,
				 uint64_t *last_pos)
{
	static const char suffix[] = ".ndjson.gz";
	size_t len = strlen(key);
	const char *name, *seg;
	char when[20];

	/* .../YYYY/MM/DD/HH/[r<16 hex>-]<16 hex>_<16 hex>.ndjson.gz */
	if (len < 14 + 33 + sizeof(suffix) - 1 || strcmp(key + len - (sizeof(suffix) - 1), suffix) != 0)
		return false;
	name = key + len - (sizeof(suffix) - 1) - 33;
	if (name[16] != '_' || !s_hex16(name, first_pos) || !s_hex16(name + 17, last_pos))
		return false;
	*run = 0;
	seg = name;
	if (name[-1] == '-' && name - key >= 18 && name[-18] == 'r' && s_hex16(name - 17, run) && *run)
		seg = name - 18;
	if (seg - key < 14 || seg[-1] != '/')
		return false;
	/* seg - 14 = "YYYY/MM/DD/HH/" */
	memcpy(when, seg - 14, 13);
	if (when[4] != '/' || when[7] != '/' || when[10] != '/')
		return false;
	when[4] = '-';
	when[7] = '-';
	when[10] = 'T';
	memcpy(when + 13, ":00:00", 6);
	*partition = codec_iso8601(when, 19, NULL);
	if (*partition == (time_t) -1)
		return false;
	/* the year must start the segment */
	return seg - key == 14 || seg[-15] == '/';
}

bool
s3_key_parse(const char *key, time_t *partition, uint64_t *first_pos, uint64_t *last_pos)
{
	uint64_t run;

	return s3_key_parse_run(key, partition, &run, first_pos, last_pos);
}

/* ---- envelopes -------------------------------------------------------- */

bool
s3_event_has_lsn(const char *data, size_t len)
{
	const char *src = s_memrmem(data, len, "\"source\":{");

	return src && s_memrmem(src, len - (size_t) (src - data), "\"lsn\":\"") != NULL;
}

/* ---- reading back ----------------------------------------------------- */

int
s3_gunzip(const void *in, size_t len, buf *out, char *err, size_t errlen)
{
	return s3_gunzip_max(in, len, S3_GUNZIP_MAX_BYTES, out, err, errlen);
}

int
s3_gunzip_max(const void *in, size_t len, uint64_t max, buf *out, char *err, size_t errlen)
{
	z_stream zs;
	int rc = Z_OK;
	size_t start = out->len, room;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
	{
		snprintf(err, errlen, "gzip: could not initialise inflate");
		return -1;
	}
	zs.next_in = (Bytef *) in;
	zs.avail_in = (uInt) len;
	while (zs.avail_in > 0 || rc != Z_STREAM_END)
	{
		if (buf_reserve(out, S3_GZ_CHUNK) < 0)
		{
			inflateEnd(&zs);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		/* one byte more than max may come out: that is how a bomb is told apart */
		room = S3_GZ_CHUNK;
		if ((uint64_t) (out->len - start) + room > max + 1)
			room = (size_t) (max + 1 - (uint64_t) (out->len - start));
		zs.next_out = (Bytef *) out->data + out->len;
		zs.avail_out = (uInt) room;
		rc = inflate(&zs, Z_NO_FLUSH);
		out->len += room - zs.avail_out;
		out->data[out->len] = '\0';
		if ((uint64_t) (out->len - start) > max)
		{
			inflateEnd(&zs);
			snprintf(err, errlen,
					 "gzip: decompresses to more than %llu bytes (the most an archive object "
					 "holds); not read",
					 (unsigned long long) max);
			return -1;
		}
		if (rc == Z_STREAM_END && zs.avail_in > 0)
		{
			/* another gzip member follows (concatenated files) */
			if (inflateReset(&zs) != Z_OK)
				break;
			rc = Z_OK;
			continue;
		}
		if (rc == Z_STREAM_END)
			break;
		if (rc != Z_OK && !(rc == Z_BUF_ERROR && zs.avail_out == 0))
		{
			inflateEnd(&zs);
			snprintf(err, errlen, "gzip: %s",
					 rc == Z_BUF_ERROR ? "truncated data"
					 : zs.msg		   ? zs.msg
									   : "corrupt data");
			return -1;
		}
	}
	inflateEnd(&zs);
	return 0;
}
