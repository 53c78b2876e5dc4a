/*
 * test_ddb_record.c
 *		Unit tests of the DynamoDB record pluck (ddb_record.c) and input
 *		handling (ddb_input.c): every real AWS sample in
 *		relay/testdata/dynamodb parses, and the shopping-cart records in
 *		testdata/dynamodb/carts give exactly the expected envelopes, skips
 *		and errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ddb_batch.h"
#include "ddb_input.h"
#include "ddb_json.h"
#include "ddb_record.h"

static char s_dir[512];

/* relay/testdata/dynamodb, whether run from relay/test (make check) or elsewhere. */
static const char *
testdata(void)
{
	static const char *const cands[] = {"../testdata/dynamodb", "testdata/dynamodb",
										"relay/testdata/dynamodb", NULL};
	const char *env = getenv("DDB_TESTDATA");
	int i;

	if (env)
		return env;
	for (i = 0; cands[i]; i++)
	{
		char p[600];

		snprintf(p, sizeof(p), "%s/SOURCE.md", cands[i]);
		if (access(p, R_OK) == 0)
			return cands[i];
	}
	fail_msg("relay/testdata/dynamodb not found (set DDB_TESTDATA)");
	return NULL;
}

static char *
slurp(const char *rel, size_t *len)
{
	char path[700];
	FILE *f;
	char *data;
	long n;

	snprintf(path, sizeof(path), "%s/%s", s_dir, rel);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc((size_t) n + 1);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t) n, f), (size_t) n);
	data[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t) n;
	return data;
}

/* A fixture as a json-c value (the test edits some; BOM allowed). */
static struct json_object *
load(const char *rel)
{
	size_t len;
	char *text = slurp(rel, &len);
	struct json_object *v = json_tokener_parse(strncmp(text, "\xEF\xBB\xBF", 3) ? text : text + 3);

	if (v == NULL)
		fail_msg("%s: not JSON", rel);
	free(text);
	return v;
}

/* The relay reads ddb_jv documents: a json-c value as one (valid until h is reused). */
typedef struct jvh
{
	jv_doc doc;
	char *text;
} jvh;

static const jv *
to_jv(jvh *h, struct json_object *o)
{
	char err[256];

	if (h->text == NULL)
		jv_doc_init(&h->doc);
	free(h->text);
	h->text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	if (jv_parse(&h->doc, h->text, strlen(h->text), err, sizeof(err)) != 0)
		fail_msg("to_jv: %s", err);
	return h->doc.root;
}

static void
jvh_free(jvh *h)
{
	if (h->text)
		jv_doc_free(&h->doc);
	free(h->text);
	h->text = NULL;
}

static int
setup(void **state)
{
	(void) state;
	snprintf(s_dir, sizeof(s_dir), "%s", testdata());
	return 0;
}

/* ---- every real AWS sample ---------------------------------------------- */

typedef struct fixture
{
	const char *file;
	int records; /* stream records in it; -1: not a stream event */
} fixture;

static const fixture s_fixtures[] = {
	{"amazon-dynamodb-developer-guide/API_streams_GetRecords_Example_1_Response.body.json", 3},
	{"amazon-dynamodb-developer-guide/Streams.Lambda.Tutorial-payload.json", 1},
	{"amazon-dynamodb-developer-guide/Streams.Lambda.Tutorial2-record.json", 1},
	{"amazon-dynamodb-developer-guide/API_streams_GetRecords_Example_1_Request.body.json", -1},
	{"aws-lambda-developer-guide/with-ddb-example-event.json", 2},
	{"aws-lambda-developer-guide/with-ddb-time-window-event.json", 3},
	{"aws-lambda-developer-guide/with-ddb-invocation-record.json", -1},
	{"aws-lambda-dotnet/dynamodb-event.json", 2},
	{"aws-lambda-dotnet/dynamodb-with-ms-event.json", 2},
	{"aws-lambda-dotnet/dynamodb-batchitemfailures-response.json", -1},
	{"aws-lambda-go/dynamodb-event.json", 2},
	{"aws-lambda-go/dynamodb-time-window-event.json", 3},
	{"aws-lambda-java-libs/dynamo_ddb_stream_record.json", 1},
	{"aws-lambda-java-libs/dynamo_event.json", 3},
	{"aws-lambda-java-libs/dynamo_event_roundtrip.json", 3},
	{"aws-lambda-rust-runtime/example-dynamodb-event-record-with-optional-fields.json", 1},
	{"dynamodb-streams-test/keys-only-insert.json", 1},
	{"dynamodb-streams-test/keys-only-modify.json", 1},
	{"dynamodb-streams-test/keys-only-remove.json", 1},
	{"dynamodb-streams-test/new-and-old-images-insert.json", 1},
	{"dynamodb-streams-test/new-and-old-images-modify.json", 1},
	{"dynamodb-streams-test/new-and-old-images-remove.json", 1},
	{"dynamodb-streams-test/new-image-insert.json", 1},
	{"dynamodb-streams-test/new-image-modify.json", 1},
	{"dynamodb-streams-test/new-image-remove.json", 1},
	{"dynamodb-streams-test/old-image-insert.json", 1},
	{"dynamodb-streams-test/old-image-modify.json", 1},
	{"dynamodb-streams-test/old-image-remove.json", 1},
	{NULL, 0}};

/* An image converts to plain JSON that json-c reads back as an object. */
static void
check_image(const char *file, struct json_object *img)
{
	buf b;
	char err[256];
	struct json_object *back;
	jvh h = {0};

	if (img == NULL)
		return;
	buf_init(&b);
	if (ddb_json_map(to_jv(&h, img), &b, err, sizeof(err)) != 0)
		fail_msg("%s: image does not convert: %s", file, err);
	back = json_tokener_parse(b.data);
	if (back == NULL || !json_object_is_type(back, json_type_object))
		fail_msg("%s: converted image is not valid JSON: %s", file, b.data);
	assert_int_equal(json_object_object_length(back), json_object_object_length(img));
	json_object_put(back);
	buf_free(&b);
	jvh_free(&h);
}

/*
 * Make the real record look like an aggregate write: its whole NewImage
 * becomes the Data of one appended event.  The pluck must then emit exactly
 * one envelope whose data is the converted image: every real attribute
 * value goes through the complete path.
 */
static void
check_as_aggregate(const char *file, struct json_object *rec)
{
	struct json_object *ddb, *newimg, *oldimg, *keys;
	struct json_object *copy = NULL;
	struct json_object *evm, *ev, *list, *data, *env, *f;
	ddb_record_opts o;
	ddb_events out;
	ddb_stats st;
	char err[256];
	const char *name = json_object_get_string(json_object_object_get(rec, "eventName"));
	jvh h = {0};

	if (strcmp(name, "REMOVE") == 0)
		return;
	assert_int_equal(json_object_deep_copy(rec, &copy, NULL), 0);
	ddb = json_object_object_get(copy, "dynamodb");
	newimg = json_object_object_get(ddb, "NewImage");
	oldimg = json_object_object_get(ddb, "OldImage");
	keys = json_object_object_get(ddb, "Keys");
	if (newimg == NULL)
	{
		json_object_put(copy);
		return;
	}
	data = NULL;
	assert_int_equal(json_object_deep_copy(newimg, &data, NULL), 0);
	evm = json_object_new_object();
	json_object_object_add(evm, "Name", json_tokener_parse("{\"S\":\"FixtureImage\"}"));
	json_object_object_add(evm, "Data", json_object_new_object());
	json_object_object_add(json_object_object_get(evm, "Data"), "M", data);
	ev = json_object_new_object();
	json_object_object_add(ev, "M", evm);
	list = json_object_new_array();
	json_object_array_add(list, ev);
	json_object_object_add(newimg, "Events", json_object_new_object());
	json_object_object_add(json_object_object_get(newimg, "Events"), "L", list);
	if (oldimg)
		json_object_object_add(oldimg, "Events", json_tokener_parse("{\"L\":[]}"));
	else if (strcmp(name, "MODIFY") == 0)
		json_object_object_add(ddb, "OldImage", json_tokener_parse("{\"Events\":{\"L\":[]}}"));
	json_object_object_add(ddb, "StreamViewType", json_object_new_string("NEW_AND_OLD_IMAGES"));

	ddb_record_opts_default(&o);
	/* Composite keys: the first key attribute is the aggregate id. */
	{
		struct json_object_iterator it = json_object_iter_begin(keys);

		o.id_attr = json_object_iter_peek_name(&it);
	}
	o.table = "fixture-table";
	ddb_events_init(&out);
	memset(&st, 0, sizeof(st));
	if (ddb_record_pluck(to_jv(&h, copy), &o, 0, &out, &st, err, sizeof(err)) != DDB_OUT_EVENTS)
		fail_msg("%s: real record as aggregate write: %s", file, err);
	assert_int_equal(out.n, 1);
	out.text.data[out.ev[0].len] = '\0';
	env = json_tokener_parse(out.text.data);
	if (env == NULL)
		fail_msg("%s: envelope is not JSON: %s", file, out.text.data);
	assert_true(json_object_object_get_ex(env, "data", &f));
	assert_int_equal(json_object_object_length(f), json_object_object_length(newimg) - 1);
	assert_true(json_object_object_get_ex(env, "version", &f));
	assert_int_equal(json_object_get_int(f), 1);
	json_object_put(env);
	ddb_events_free(&out);
	json_object_put(copy);
	jvh_free(&h);
}

static void
test_every_real_sample_parses(void **state)
{
	int i;
	int records = 0;

	(void) state;
	for (i = 0; s_fixtures[i].file; i++)
	{
		struct json_object *v = load(s_fixtures[i].file);
		jvh h = {0};
		const jv *vj = to_jv(&h, v);
		ddb_recs recs;
		char err[256];
		size_t j;
		ddb_events out;
		ddb_stats st;
		ddb_record_opts o;

		if (s_fixtures[i].records < 0)
		{
			/* Not stream events (a request, a failure record, a response). */
			assert_int_equal(ddb_recs_from_value(vj, &recs, err, sizeof(err)), -1);
			json_object_put(v);
			jvh_free(&h);
			continue;
		}
		if (ddb_recs_from_value(vj, &recs, err, sizeof(err)) != 0)
			fail_msg("%s: %s", s_fixtures[i].file, err);
		assert_int_equal(recs.n, (size_t) s_fixtures[i].records);
		ddb_record_opts_default(&o);
		ddb_events_init(&out);
		memset(&st, 0, sizeof(st));
		for (j = 0; j < recs.n; j++)
		{
			const jv *recj = ddb_recs_get(&recs, j);
			struct json_object *all = json_object_object_get(v, "Records");
			struct json_object *rec = all ? json_object_array_get_idx(all, j) : v;
			struct json_object *ddb = json_object_object_get(rec, "dynamodb");
			ddb_outcome oc;

			check_image(s_fixtures[i].file, json_object_object_get(ddb, "Keys"));
			check_image(s_fixtures[i].file, json_object_object_get(ddb, "NewImage"));
			check_image(s_fixtures[i].file, json_object_object_get(ddb, "OldImage"));
			/* As they are (no Events list): skipped with a reason, never an error. */
			oc = ddb_record_pluck(recj, &o, j, &out, &st, err, sizeof(err));
			if (oc == DDB_OUT_ERROR || oc == DDB_OUT_EVENTS)
				fail_msg("%s record %zu: outcome %s (%s)", s_fixtures[i].file, j,
						 ddb_outcome_name(oc), err);
			assert_true(err[0] != '\0');
			check_as_aggregate(s_fixtures[i].file, rec);
			records++;
		}
		assert_int_equal(out.n, 0);
		ddb_events_free(&out);
		json_object_put(v);
		jvh_free(&h);
	}
	assert_int_equal(records, 39);
}

static void
test_botocore_getrecords_example(void **state)
{
	struct json_object *v = load("botocore/examples-1.json");
	struct json_object *ex, *out;
	jvh h = {0};
	ddb_recs recs;
	char err[256];

	(void) state;
	ex = json_object_array_get_idx(
		json_object_object_get(json_object_object_get(v, "examples"), "GetRecords"), 0);
	out = json_object_object_get(ex, "output");
	assert_int_equal(ddb_recs_from_value(to_jv(&h, out), &recs, err, sizeof(err)), 0);
	assert_int_equal(recs.n, 3);
	/* ApproximateCreationDateTime is a quoted string here. */
	assert_string_equal(ddb_record_sequence(ddb_recs_get(&recs, 2)), "500000000000000499661");
	json_object_put(v);
	jvh_free(&h);
}

static void
test_malformed_sample_rejected(void **state)
{
	size_t len;
	char *text = slurp("aws-lambda-go/dynamodb-event-malformed.2.json", &len);
	char err[256];
	jv_doc d;

	(void) state;
	jv_doc_init(&d);
	assert_null(ddb_parse_doc(&d, text, len, err, sizeof(err)));
	jv_doc_free(&d);
	assert_non_null(strstr(err, "truncated"));
	free(text);
}

/* ---- the shopping carts ------------------------------------------------- */

typedef struct pluck_result
{
	ddb_events out;
	ddb_stats st;
	ddb_outcome oc; /* of the last record */
	char err[512];
} pluck_result;

static void
pluck_file(const char *rel, const char *id_attr, pluck_result *r)
{
	struct json_object *v = load(rel);
	jvh h = {0};
	ddb_recs recs;
	ddb_record_opts o;
	size_t j;

	ddb_record_opts_default(&o);
	if (id_attr)
		o.id_attr = id_attr;
	memset(r, 0, sizeof(*r));
	ddb_events_init(&r->out);
	assert_int_equal(ddb_recs_from_value(to_jv(&h, v), &recs, r->err, sizeof(r->err)), 0);
	for (j = 0; j < recs.n; j++)
		r->oc = ddb_record_pluck(ddb_recs_get(&recs, j), &o, j, &r->out, &r->st, r->err,
								 sizeof(r->err));
	json_object_put(v);
	jvh_free(&h);
}

static char *
envelope(pluck_result *r, size_t i)
{
	return strndup(r->out.text.data + r->out.ev[i].off, r->out.ev[i].len);
}

#define ARN	   "arn:aws:dynamodb:eu-west-1:123456789012:table/carts/stream/2026-11-23T08:00:00.000"
#define CART_A "0b6c1f2e-5d7a-4c1e-9f3b-2a8d6e4c1b70"

static void
test_cart_opened(void **state)
{
	pluck_result r;
	char *e;

	(void) state;
	pluck_file("carts/cart-opened.json", NULL, &r);
	assert_int_equal(r.oc, DDB_OUT_EVENTS);
	assert_int_equal(r.out.n, 1);
	e = envelope(&r, 0);
	assert_string_equal(
		e, "{\"aggregate_id\":\"" CART_A "\",\"aggregate_type\":\"carts\",\"version\":1,"
		   "\"event_id\":\"812ce51f-75cf-5b47-85d2-88f3b6915269\",\"type\":\"CartOpened\","
		   "\"data\":{\"customer\":\"c-42\",\"currency\":\"EUR\"},\"metadata\":{},"
		   "\"recorded_at\":\"2026-11-23T09:00:00.000000Z\",\"source\":{\"kind\":\"dynamodb\","
		   "\"table\":\"carts\",\"sequence_number\":\"4100000000000000000001\","
		   "\"event_name\":\"INSERT\",\"event_source_arn\":\"" ARN "\"}}");
	/* Lines for the stdout sink; partition key = aggregate id. */
	assert_int_equal(r.out.text.data[r.out.ev[0].len], '\n');
	assert_string_equal(r.out.keys.data + r.out.ev[0].key_off, CART_A);
	free(e);
	ddb_events_free(&r.out);
}

static void
test_item_added_one(void **state)
{
	pluck_result r;
	char *e;

	(void) state;
	pluck_file("carts/item-added.json", NULL, &r);
	assert_int_equal(r.oc, DDB_OUT_EVENTS);
	assert_int_equal(r.out.n, 1);
	e = envelope(&r, 0);
	assert_non_null(
		strstr(e, "\"version\":2,\"event_id\":\"d411670d-bf55-5f0e-b0d9-ce9701d8b3d4\","
				  "\"type\":\"ItemAdded\",\"data\":{\"sku\":\"A-1\",\"qty\":2,\"price\":19.99}"));
	assert_non_null(strstr(e, "\"event_name\":\"MODIFY\""));
	free(e);
	ddb_events_free(&r.out);
}

static void
test_items_added_several(void **state)
{
	pluck_result r;
	size_t i;
	static const char *const want[] = {"\"version\":3,\"event_id\":\"2ff090d9-01c4-5d2f-aebf-"
									   "838b65e0a1df\",\"type\":\"ItemAdded\","
									   "\"data\":{\"sku\":\"B-7\",\"qty\":1,\"price\":5}",
									   "\"version\":4,\"event_id\":\"ba750b6d-2860-5bb0-85c2-"
									   "637b2bf8149e\",\"type\":\"ItemAdded\","
									   "\"data\":{\"sku\":\"C-3\",\"qty\":10,\"price\":0.10}",
									   "\"version\":5,\"event_id\":\"4b6f05e7-83a7-53ef-88fe-"
									   "1dc22e304a24\",\"type\":\"ItemRemoved\","
									   "\"data\":{\"sku\":\"A-1\",\"qty\":1}"};

	(void) state;
	pluck_file("carts/items-added-several.json", NULL, &r);
	assert_int_equal(r.oc, DDB_OUT_EVENTS);
	assert_int_equal(r.out.n, 3);
	assert_int_equal(r.st.events, 3);
	for (i = 0; i < 3; i++)
	{
		char *e = envelope(&r, i);

		if (strstr(e, want[i]) == NULL)
			fail_msg("event %zu: %s", i, e);
		assert_int_equal(r.out.ev[i].record, 0);
		free(e);
	}
	ddb_events_free(&r.out);
}

static void
test_every_type_in_data(void **state)
{
	pluck_result r;
	char *e;

	(void) state;
	pluck_file("carts/all-types.json", NULL, &r);
	assert_int_equal(r.oc, DDB_OUT_EVENTS);
	e = envelope(&r, 0);
	if (strstr(e, "\"data\":{\"s\":\"tab\\there \\\"quoted\\\" café 🦊\",\"empty\":\"\","
				  "\"pi\":3.14159265358979323846264338327950288,"
				  "\"big\":123456789012345678901234567890,\"tiny\":-1E-130,\"int\":42,"
				  "\"bin\":{\"$binary\":\"AAEqQQ==\"},\"yes\":true,\"no\":false,\"nothing\":null,"
				  "\"map\":{\"inner\":{\"n\":0.5,\"l\":[]}},"
				  "\"list\":[\"a\",1,false,null,{\"k\":\"v\"},[2]],\"ss\":[\"red\",\"green\"],"
				  "\"ns\":[1,2.5,99999999999999999999.000001],"
				  "\"bs\":[{\"$binary\":\"QSoBAA==\"},{\"$binary\":\"AAEqQQ==\"}]},") == NULL)
		fail_msg("unexpected envelope: %s", e);
	free(e);
	ddb_events_free(&r.out);
}

static void
expect_skip(const char *file, ddb_outcome oc, const char *reason)
{
	pluck_result r;

	pluck_file(file, NULL, &r);
	if (r.oc != oc || strstr(r.err, reason) == NULL)
		fail_msg("%s: outcome %s (%s), expected %s (%s)", file, ddb_outcome_name(r.oc), r.err,
				 ddb_outcome_name(oc), reason);
	assert_int_equal(r.out.n, 0);
	assert_int_equal(r.st.outcome[oc], 1);
	ddb_events_free(&r.out);
}

static void
test_skips(void **state)
{
	(void) state;
	expect_skip("carts/cart-removed.json", DDB_OUT_SKIP_REMOVE, "REMOVE");
	expect_skip("carts/modify-without-oldimage.json", DDB_OUT_SKIP_VIEW_TYPE, "without OldImage");
	expect_skip("carts/new-image-only.json", DDB_OUT_SKIP_VIEW_TYPE, "NEW_IMAGE");
	expect_skip("carts/no-growth.json", DDB_OUT_SKIP_NO_GROWTH, "did not grow");
}

static void
test_errors(void **state)
{
	(void) state;
	expect_skip("carts/shrunk-list.json", DDB_OUT_ERROR, "shrank from 2 to 1");
	expect_skip("carts/middle-changed.json", DDB_OUT_ERROR, "event 2 changed");
}

static void
test_real_capture_with_events(void **state)
{
	pluck_result r;
	char *e;

	(void) state;
	pluck_file("carts/real-capture-modify-with-events.json", "pk", &r);
	assert_int_equal(r.oc, DDB_OUT_EVENTS);
	assert_int_equal(r.out.n, 1);
	e = envelope(&r, 0);
	assert_non_null(strstr(e, "{\"aggregate_id\":\"a\",\"aggregate_type\":\"dynamodb-streams-test-"
							  "experiment-NewOldTable-7U1U2U9UKTB7\",\"version\":2,"));
	assert_non_null(strstr(e, "\"recorded_at\":\"2020-07-16T21:50:38.000000Z\""));
	assert_non_null(strstr(e, "arn:aws:dynamodb:eu-west-1:🦊:table/"));
	free(e);
	ddb_events_free(&r.out);
}

/* A batch stops at the first bad record; later ones are left for the retry. */
static void
test_batch_stops_at_error(void **state)
{
	struct json_object *v = json_object_new_object();
	struct json_object *arr = json_object_new_array();
	jvh h = {0};
	static const char *const files[] = {"carts/cart-opened.json", "carts/item-added.json",
										"carts/shrunk-list.json", "carts/items-added-several.json"};
	ddb_recs recs;
	ddb_events out;
	ddb_stats st;
	ddb_record_opts o;
	char err[128];
	size_t i;

	(void) state;
	for (i = 0; i < 4; i++)
	{
		struct json_object *f = load(files[i]);

		json_object_array_add(arr, json_object_get(json_object_array_get_idx(
									   json_object_object_get(f, "Records"), 0)));
		json_object_put(f);
	}
	json_object_object_add(v, "Records", arr);
	assert_int_equal(ddb_recs_from_value(to_jv(&h, v), &recs, err, sizeof(err)), 0);
	ddb_record_opts_default(&o);
	ddb_events_init(&out);
	memset(&st, 0, sizeof(st));
	assert_int_equal(ddb_batch_pluck(&recs, &o, DDB_ON_ERROR_STOP, 0, &out, &st), 2);
	assert_int_equal(out.n, 2);
	ddb_events_reset(&out);
	memset(&st, 0, sizeof(st));
	assert_int_equal(ddb_batch_pluck(&recs, &o, DDB_ON_ERROR_SKIP, 0, &out, &st), 4);
	assert_int_equal(out.n, 5);
	assert_int_equal(st.outcome[DDB_OUT_ERROR], 1);
	ddb_events_free(&out);
	json_object_put(v);
	jvh_free(&h);
}

/* The stdin reader: NDJSON, pretty-printed values, a BOM, and a bad line. */
static void
test_reader(void **state)
{
	int p[2];
	ddb_reader r;
	const jv *v;
	char err[256];
	static const char input[] =
		"\xEF\xBB\xBF{\"a\":1}\n{\"b\":\n  2}\n{oops\n{\"c\":[3]}  {\"d\":4}\n";

	(void) state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], input, sizeof(input) - 1), (ssize_t) sizeof(input) - 1);
	close(p[1]);
	assert_int_equal(ddb_reader_init(&r, p[0], err, sizeof(err)), 0);
	assert_int_equal(ddb_reader_next(&r, &v, err, sizeof(err)), 1);
	assert_non_null(jv_get(v, "a"));
	assert_int_equal(ddb_reader_next(&r, &v, err, sizeof(err)), 1);
	assert_non_null(jv_get(v, "b"));
	assert_int_equal(ddb_reader_next(&r, &v, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "value 3"));
	assert_int_equal(ddb_reader_next(&r, &v, err, sizeof(err)), 1);
	assert_non_null(jv_get(v, "c"));
	assert_int_equal(ddb_reader_next(&r, &v, err, sizeof(err)), 1);
	assert_non_null(jv_get(v, "d"));
	assert_int_equal(ddb_reader_next(&r, &v, err, sizeof(err)), 0);
	ddb_reader_free(&r);
	close(p[0]);
}

/* Values larger than the read size, across many reads; a bad value in between. */
static void
test_reader_big_and_bad(void **state)
{
	char path[] = "/tmp/ddb-reader-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	ddb_reader r;
	const jv *v;
	char err[256];
	int i;

	(void) state;
	assert_non_null(f);
	fputs("{\"big\":[", f);
	for (i = 0; i < 100000; i++)
		fprintf(f, "%s{\"S\":\"item \\\"%d\\\" ]}\"}", i ? "," : "",
				i);								 /* brackets inside strings */
	fputs("]}\n{\"a\":1,}\n{\"last\":true}", f); /* no final newline */
	fclose(f);
	fd = open(path, O_RDONLY);
	assert_int_equal(ddb_reader_init(&r, fd, err, sizeof(err)), 0);
	assert_int_equal(ddb_reader_next(&r, &v, err, sizeof(err)), 1);
	assert_int_equal(jv_get(v, "big")->len, 100000);
	assert_string_equal(jv_str(jv_get(jv_at(jv_get(v, "big"), 99999), "S")), "item \"99999\" ]}");
	assert_int_equal(ddb_reader_next(&r, &v, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "malformed JSON in value 2"));
	assert_int_equal(ddb_reader_next(&r, &v, err, sizeof(err)), 1);
	assert_true(jv_is(jv_get(v, "last"), JV_TRUE));
	assert_int_equal(ddb_reader_next(&r, &v, err, sizeof(err)), 0);
	ddb_reader_free(&r);
	close(fd);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_real_sample_parses),
		cmocka_unit_test(test_botocore_getrecords_example),
		cmocka_unit_test(test_malformed_sample_rejected),
		cmocka_unit_test(test_cart_opened),
		cmocka_unit_test(test_item_added_one),
		cmocka_unit_test(test_items_added_several),
		cmocka_unit_test(test_every_type_in_data),
		cmocka_unit_test(test_skips),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_real_capture_with_events),
		cmocka_unit_test(test_batch_stops_at_error),
		cmocka_unit_test(test_reader),
		cmocka_unit_test(test_reader_big_and_bad),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
