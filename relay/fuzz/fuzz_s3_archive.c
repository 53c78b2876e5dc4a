/*
 * fuzz_s3_archive.c
 *		Fuzz target: an archive object as `eventrelay replay` reads it back
 *		(anyone who can write to the bucket can put one there): s3_gunzip,
 *		then per line what replay does (the filter, the aggregate_id, the
 *		event time) and what the S3 sink asks of an envelope.  An input that
 *		is not gzip goes through the line checks as it is, so those get
 *		fuzzed directly too.  Each line is handed over in a buffer of
 *		exactly its length.
 */
#include "buf.h"
#include "fz.h"
#include "s3_replay_filter.h"
#include "s3_object.h"

#include <stdlib.h>
#include <string.h>

#define FZ_GUNZIP_MAX (4 << 20)

static void
s_line(const char *p, size_t len)
{
	static const replay_filter flt = {true, 1795424400, true, 1795428000, "cart", NULL};
	char *l = malloc(len ? len : 1);
	char agg[512];
	time_t t;

	memcpy(l, p, len);
	replay_filter_match(&flt, l, len);
	if (replay_json_string(l, len, "aggregate_id", agg, sizeof(agg)) &&
		memchr(agg, '\0', sizeof(agg)) == NULL)
		fz_fail("aggregate_id not terminated");
	if (s3_event_time(l, len, &t) && t < 0)
		fz_fail("event time %lld", (long long) t);
	s3_event_has_lsn(l, len);
	free(l);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	buf raw = BUF_INIT;
	char err[256];
	const char *p, *end;

	/* replay's cap is S3_GUNZIP_MAX_BYTES; a small one keeps bombs within the fuzzer's memory */
	if (s3_gunzip_max(data, size, FZ_GUNZIP_MAX, &raw, err, sizeof(err)) == 0)
	{
		if (raw.data && raw.data[raw.len] != '\0')
			fz_fail("gunzip output not terminated");
		if (raw.len > FZ_GUNZIP_MAX)
			fz_fail("gunzip gave %zu bytes, over its cap", raw.len);
		p = raw.data ? raw.data : "";
		end = p + raw.len;
	}
	else
	{
		if (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0')
			fz_fail("gunzip failed without a message");
		p = (const char *) data;
		end = p + size;
	}
	while (p < end)
	{
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		size_t len = nl ? (size_t) (nl - p) : (size_t) (end - p);

		if (len > 0)
			s_line(p, len);
		p += len + 1;
	}
	buf_free(&raw);
	return 0;
}
