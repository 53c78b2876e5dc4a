#!/usr/bin/env bash
#
# json_ab.sh - A/B of the relay's two JSON readers, to decide which one stays
# (issue 10): the arena parser (relay/src/json.c) vs json-c, in one run, on
# the documents the relay reads:
#
#   ddb-batch   a DynamoDB Streams / Lambda batch of typed records
#               (relay/testdata/dynamodb/carts/batch.json), parsed whole and
#               walked to every Records[i].dynamodb.NewImage
#   envelope    one event envelope (a Kinesis / S3 record), parsed and its
#               aggregate_id read
#
# Each reader parses the same bytes ITERS times (best of REPEATS); prints
# documents/s and the ratio jv / json-c.  No services needed.
#
#   bench/json_ab.sh            ITERS=20000 REPEATS=5 by default
set -Eeuo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ITERS=${ITERS:-20000}
REPEATS=${REPEATS:-5}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/json-ab.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
make -s -C "$ROOT/relay" eventrelay >/dev/null

cat >"$TMP/ab.c" <<'C'
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"

static double
s_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static size_t sink; /* keeps the work from being optimised away */

static void
s_jv(const char *doc, size_t len, char *scratch, jv_doc *d, int batch)
{
	char err[128];
	const jv *recs;
	size_t i;

	memcpy(scratch, doc, len + 1); /* jv parses in place */
	if (jv_parse(d, scratch, len, err, sizeof(err)) != 0)
		abort();
	if (batch)
	{
		recs = jv_get(d->root, "Records");
		for (i = 0; i < recs->len; i++)
			sink += jv_get(jv_get(jv_at(recs, i), "dynamodb"), "NewImage") != NULL;
	}
	else
		sink += strlen(jv_str(jv_get(d->root, "aggregate_id")));
	jv_doc_reset(d);
}

static void
s_jc(const char *doc, size_t len, int batch)
{
	json_object *o = json_tokener_parse(doc), *recs, *r, *v;
	size_t i;

	(void) len;
	if (o == NULL)
		abort();
	if (batch)
	{
		json_object_object_get_ex(o, "Records", &recs);
		for (i = 0; i < json_object_array_length(recs); i++)
		{
			r = json_object_array_get_idx(recs, i);
			sink += json_object_object_get_ex(r, "dynamodb", &v) &&
					json_object_object_get_ex(v, "NewImage", &v);
		}
	}
	else if (json_object_object_get_ex(o, "aggregate_id", &v))
		sink += strlen(json_object_get_string(v));
	json_object_put(o);
}

int
main(int argc, char **argv)
{
	const char *names[2] = {"ddb-batch", "envelope"};
	const char *env = "{\"aggregate_id\":\"5f0c2a9e-1111-4c4c-8d8d-000000000001\","
					  "\"aggregate_type\":\"cart\",\"version\":7,\"event_type\":\"ItemAdded\","
					  "\"event_id\":\"0c4e6a2b-9d1f-4f0e-a3b5-7c8d9e0f1a2b\","
					  "\"recorded_at\":\"2026-11-23T09:14:03.123456Z\","
					  "\"data\":{\"sku\":\"A-1\",\"qty\":2,\"price\":{\"amount\":\"12.50\","
					  "\"currency\":\"EUR\"}},\"metadata\":{\"user\":\"u-42\"},"
					  "\"commit_time\":\"2026-11-23T09:14:03.124001Z\"}";
	int iters = atoi(argv[2]), repeats = atoi(argv[3]);
	FILE *f = fopen(argv[1], "rb");
	char *docs[2], *scratch;
	size_t lens[2];
	jv_doc d;

	(void) argc;
	docs[0] = malloc(1 << 20);
	lens[0] = fread(docs[0], 1, (1 << 20) - 1, f);
	docs[0][lens[0]] = '\0';
	fclose(f);
	docs[1] = (char *) env;
	lens[1] = strlen(env);
	scratch = malloc(1 << 20);
	jv_doc_init(&d);
	printf("| document | bytes | jv docs/s | json-c docs/s | jv / json-c |\n");
	printf("| --- | ---: | ---: | ---: | ---: |\n");
	for (int k = 0; k < 2; k++)
	{
		double best_jv = 1e9, best_jc = 1e9;

		for (int r = 0; r < repeats; r++)
		{
			double t0 = s_now(), t1;

			for (int i = 0; i < iters; i++)
				s_jv(docs[k], lens[k], scratch, &d, k == 0);
			t1 = s_now();
			if (t1 - t0 < best_jv)
				best_jv = t1 - t0;
			t0 = s_now();
			for (int i = 0; i < iters; i++)
				s_jc(docs[k], lens[k], k == 0);
			t1 = s_now();
			if (t1 - t0 < best_jc)
				best_jc = t1 - t0;
		}
		printf("| %s | %zu | %.0f | %.0f | %.2f |\n", names[k], lens[k], iters / best_jv,
			   iters / best_jc, best_jc / best_jv);
	}
	jv_doc_free(&d);
	return sink == 0;
}
C
# the relay's own objects: the reader exactly as the relay builds it
OBJS=$(for c in "$ROOT"/relay/src/*.c; do
	n=$(basename "$c" .c)
	[[ $n == main ]] || echo "$ROOT/relay/build/$n.o"
done)
cc -std=c11 -D_GNU_SOURCE -O2 -I"$ROOT/relay/src" $(pkg-config --cflags libpq) -o "$TMP/ab" "$TMP/ab.c" \
	$OBJS $(pkg-config --libs libpq libcurl json-c openssl zlib) -lpthread -lm
echo "== json_ab $(date -u +%FT%TZ) $(nproc) cores, commit $(git -C "$ROOT" rev-parse --short HEAD), ITERS=$ITERS"
"$TMP/ab" "$ROOT/relay/testdata/dynamodb/carts/batch.json" "$ITERS" "$REPEATS"
