/*
 * fuzz_s3_key.c
 *		Fuzz target: an S3 object key as ListObjectsV2 lists it (anyone who
 *		can write to the bucket chooses it): s3_key_parse_run.  A key that
 *		parses must be the key the relay would have written for the same
 *		partition, run and positions.
 */
#include "fz.h"
#include "s3_object.h"

#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *key = fz_strndup(data, size);
	time_t part;
	uint64_t run, a, b;

	if (s3_key_parse_run(key, &part, &run, &a, &b))
	{
		size_t len = strlen(key);
		const char *tail;
		char back[600];

		if (part % 3600 != 0)
			fz_fail("partition %lld is not an hour", (long long) part);
		/* rebuild the name from the parsed fields: the key must end with it */
		if (s3_object_key_run("", part, run, a, b, back, sizeof(back)) != 0)
			fz_fail("cannot rebuild the key of %s", key);
		tail = back[0] == '/' ? back + 1 : back;
		if (len < strlen(tail) || strcasecmp(key + len - strlen(tail), tail) != 0)
			fz_fail("key %s parsed as %s", key, tail);
	}
	free(key);
	return 0;
}
