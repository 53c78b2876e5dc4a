/*
 * fuzz_ddb_record.c
 *		Fuzz target: the DynamoDB record path, one input value (a Lambda
 *		event, a GetRecords answer or one record) through parse
 *		(ddb_parse_doc), typed-JSON conversion (ddb_json_map of every image)
 *		and pluck.  Every envelope emitted must be valid UTF-8 JSON with a
 *		valid ISO 8601 recorded_at, and its partition key valid UTF-8.
 */
#include "ddb_input.h"
#include "ddb_json.h"
#include "ddb_record.h"
#include "fz.h"

#include <stdlib.h>
#include <string.h>

static jv_doc s_doc;
static ddb_events s_out;
static buf s_img;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	fz_quiet();
	jv_doc_init(&s_doc);
	ddb_events_init(&s_out);
	buf_init(&s_img);
	return 0;
}

/* The images of a record convert to one JSON object each, or fail cleanly. */
static void
s_images(const jv *rec)
{
	static const char *const names[] = {"NewImage", "OldImage", "Keys", NULL};
	const jv *ddb = jv_get(rec, "dynamodb");
	char err[256];
	int i;

	for (i = 0; names[i]; i++)
	{
		const jv *img = jv_get(ddb, names[i]);

		if (img == NULL)
			continue;
		buf_reset(&s_img);
		if (ddb_json_map(img, &s_img, err, sizeof(err)) == 0 && !buf_failed(&s_img))
			fz_check_json_object(names[i], s_img.data, s_img.len);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size ? size : 1);
	char err[256];
	const jv *root;
	ddb_recs recs;
	ddb_record_opts o;
	ddb_stats st;
	size_t i;

	memcpy(text, data, size);
	jv_doc_reset(&s_doc);
	ddb_events_reset(&s_out);
	memset(&st, 0, sizeof(st));
	ddb_record_opts_default(&o);
	root = ddb_parse_doc(&s_doc, text, size, err, sizeof(err));
	if (root && ddb_recs_from_value(root, &recs, err, sizeof(err)) == 0)
	{
		for (i = 0; i < recs.n; i++)
		{
			const jv *rec = ddb_recs_get(&recs, i);
			size_t before = s_out.n;
			ddb_outcome oc = ddb_record_pluck(rec, &o, i, &s_out, &st, err, sizeof(err));

			if (oc < DDB_OUT_EVENTS || oc >= DDB_OUT__COUNT)
				fz_fail("outcome %d", (int) oc);
			if (oc != DDB_OUT_EVENTS && s_out.n != before)
				fz_fail("outcome %s but %zu envelopes", ddb_outcome_name(oc), s_out.n - before);
			if (oc == DDB_OUT_EVENTS && s_out.n == before)
				fz_fail("events outcome without an envelope");
			s_images(rec);
		}
		if (buf_failed(&s_out.text) || buf_failed(&s_out.keys))
			fz_fail("out of memory");
		for (i = 0; i < s_out.n; i++)
		{
			const ddb_event *e = &s_out.ev[i];
			const char *key = s_out.keys.data + e->key_off;

			if (e->off + e->len >= s_out.text.len || s_out.text.data[e->off + e->len] != '\n')
				fz_fail("envelope %zu not followed by a newline", i);
			fz_check_envelope(s_out.text.data + e->off, e->len);
			if (e->key_off + e->key_len >= s_out.keys.len || key[e->key_len] != '\0')
				fz_fail("key %zu not NUL-terminated", i);
			if (!jv_utf8_valid(key, e->key_len))
				fz_fail("partition key %zu is not valid UTF-8", i);
		}
	}
	free(text);
	return 0;
}
