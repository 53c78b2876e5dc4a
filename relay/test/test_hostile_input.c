/*
 * test_hostile_input.c
 *		Regression tests for inputs from outside the relay that crashed it or
 *		were misread (issue 16, found by the fuzz targets in relay/fuzz/):
 *		Kinesis answers with null members, S3 keys, DynamoDB times and
 *		strings, size flags, plugin messages without a trailing NUL, and
 *		JSON objects with duplicate keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "codec.h"
#include "config.h"
#include "aws_json.h"
#include "json.h"
#include "ddb_rapi.h"
#include "ddb_record.h"
#include "kinesis_client.h"
#include "pg_message.h"
#include "s3_replay_filter.h"
#include "s3_object.h"
#include "s3_settings.h"
#include "th_util.h"

/*
 * Copies of test input next to an inaccessible page, so that reading one
 * byte before (guard_before) or after (guard_after) the input faults even
 * without AddressSanitizer.
 */
typedef struct guarded
{
	char *base;
	size_t size;
	char *p;
} guarded;

static size_t
page_round(size_t n)
{
	size_t pg = (size_t) sysconf(_SC_PAGESIZE);

	return (n + pg - 1) / pg * pg;
}

static void
guard_map(guarded *g, size_t len)
{
	g->size = page_round(len ? len : 1) + page_round(1);
	g->base = mmap(NULL, g->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(g->base != MAP_FAILED);
}

/* s[0..len) and a NUL, with the byte before s[0] unreadable */
static char *
guard_before(guarded *g, const char *s, size_t len)
{
	size_t pg = page_round(1);

	guard_map(g, len + 1);
	assert_int_equal(mprotect(g->base, pg, PROT_NONE), 0);
	g->p = g->base + pg;
	memcpy(g->p, s, len);
	g->p[len] = '\0';
	return g->p;
}

/* s[0..len) with the byte after s[len - 1] unreadable (no NUL) */
static char *
guard_after(guarded *g, const char *s, size_t len)
{
	size_t pg = page_round(1);

	guard_map(g, len);
	assert_int_equal(mprotect(g->base + g->size - pg, pg, PROT_NONE), 0);
	g->p = g->base + g->size - pg - len;
	memcpy(g->p, s, len);
	return g->p;
}

static void
guard_free(guarded *g)
{
	munmap(g->base, g->size);
}

/* ---- Kinesis answers ---------------------------------------------------- */

/* Send one record to a canned server answering status/body. */
static aws_status
put_one(int status, const char *body, aws_status *rs, char *err, size_t errlen)
{
	th_http *srv = th_http_start();
	char url[64];
	kinesis_options ko = {"orders", "us-east-1", url, NULL, 5000};
	kinesis_entry e = {"{}", 2, "A", 1};
	kinesis_client *k;
	aws_status ks;
	int failed;

	setenv("AWS_ACCESS_KEY_ID", "AKIDTEST", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
	unsetenv("AWS_SESSION_TOKEN");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", th_http_port(srv));
	k = kinesis_client_new(&ko, err, errlen);
	assert_non_null(k);
	th_http_push(srv, status, "", body);
	ks = kinesis_put_records(k, &e, 1, rs, &failed, err, errlen);
	kinesis_client_free(k);
	th_http_stop(srv);
	return ks;
}

static void
test_kinesis_null_members(void **state)
{
	aws_status rs;
	char err[256];

	(void) state;
	/* used to be strrchr(NULL, '#') */
	assert_int_equal(put_one(400, "{\"__type\":null}", &rs, err, sizeof(err)), AWS_RETRY);
	assert_non_null(strstr(err, "HTTP 400 (no error type)"));
	/* used to dereference the NULL message */
	assert_int_equal(put_one(400, "{\"__type\":\"ValidationException\",\"message\":null}", &rs, err,
							 sizeof(err)),
					 AWS_INVALID);
	assert_string_equal(err, "PutRecords: HTTP 400 ValidationException");
	/* a message that is not a string is no message either */
	assert_int_equal(put_one(400, "{\"__type\":7,\"Message\":[1]}", &rs, err, sizeof(err)),
					 AWS_RETRY);
	assert_string_equal(err, "PutRecords: HTTP 400 (no error type)");
	/* used to pass NULL to %.200s */
	assert_int_equal(put_one(200,
							 "{\"FailedRecordCount\":1,\"Records\":[{\"ErrorCode\":"
							 "\"InternalFailure\",\"ErrorMessage\":null}]}",
							 &rs, err, sizeof(err)),
					 AWS_OK);
	assert_int_equal(rs, AWS_RETRY);
	assert_string_equal(err, "PutRecords: record 0: InternalFailure");
	/* an entry that is not a success with a sequence number was taken as delivered */
	assert_int_equal(put_one(200, "{\"Records\":[1]}", &rs, err, sizeof(err)), AWS_OK);
	assert_int_equal(rs, AWS_RETRY);
	assert_string_equal(err,
						"PutRecords: record 0: neither SequenceNumber nor ErrorCode in the answer");
	assert_int_equal(put_one(200, "{\"Records\":[{\"SequenceNumber\":null,\"ErrorCode\":null}]}",
							 &rs, err, sizeof(err)),
					 AWS_OK);
	assert_int_equal(rs, AWS_RETRY);
	assert_int_equal(put_one(200, "{\"Records\":[{\"SequenceNumber\":\"4962\",\"ShardId\":\"s\"}]}",
							 &rs, err, sizeof(err)),
					 AWS_OK);
	assert_int_equal(rs, AWS_OK);
}

static void
test_ddb_streams_null_message(void **state)
{
	th_http *srv = th_http_start();
	char url[64], type[128], err[256];
	buf *answer;
	aws_json *a;
	aws_json_options ao = {"dynamodb",
						   "DynamoDBStreams_20120810",
						   "application/x-amz-json-1.0",
						   "us-east-1",
						   url,
						   NULL,
						   5000};

	(void) state;
	setenv("AWS_ACCESS_KEY_ID", "AKIDTEST", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", th_http_port(srv));
	a = aws_json_new(&ao, err, sizeof(err));
	assert_non_null(a);
	/* used to dereference the NULL message */
	th_http_push(srv, 400, "", "{\"__type\":\"x#ResourceNotFoundException\",\"message\":null}");
	/* (was DDB_AWS_ERROR: not OK, not retried; now classified as what it is) */
	assert_int_equal(
		aws_json_call(a, "GetRecords", "{}", 2, &answer, type, sizeof(type), err, sizeof(err)),
		AWS_FATAL);
	assert_string_equal(err, "GetRecords: HTTP 400 ResourceNotFoundException");
	th_http_push(srv, 400, "", "{\"__type\":null,\"message\":null,\"Message\":\"m\"}");
	assert_int_equal(
		aws_json_call(a, "GetRecords", "{}", 2, &answer, type, sizeof(type), err, sizeof(err)),
		AWS_OTHER);
	assert_string_equal(err, "GetRecords: HTTP 400 (no error type): m");
	aws_json_free(a);
	th_http_stop(srv);
}

/* ---- Lambda Runtime API ---------------------------------------------------- */

/* One GET against a canned server sending a chunked body; rc of the request. */
static int
rapi_chunked(const char *chunks, ddb_rapi_resp *r, char *err, size_t errlen)
{
	th_http *srv = th_http_start();
	char api[64];
	int rc;

	snprintf(api, sizeof(api), "127.0.0.1:%d", th_http_port(srv));
	th_http_push(srv, 200, "Transfer-Encoding: chunked\r\n", chunks);
	rc = ddb_rapi_request(api, "GET", "/2018-06-01/runtime/invocation/next", NULL, NULL, 0, r, NULL,
						  err, errlen);
	th_http_stop(srv);
	return rc;
}

static void
test_rapi_chunk_sizes(void **state)
{
	static const char *const bad[] = {"-1\r\nabc\r\n0\r\n\r\n",
									  "ffffffffffffffff\r\nabc\r\n0\r\n\r\n",
									  "10000000000000003\r\nabc\r\n0\r\n\r\n",
									  " 3\r\nabc\r\n0\r\n\r\n",
									  "3\r\nabcX\r\n0\r\n\r\n",
									  "3\r\nabc",
									  NULL};
	ddb_rapi_resp r;
	char err[256];
	int i;

	(void) state;
	ddb_rapi_resp_init(&r);
	assert_int_equal(
		rapi_chunked("3;x=y\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\n", &r, err, sizeof(err)), 0);
	assert_int_equal(r.body.len, 13);
	assert_string_equal(r.body.data, "abc0123456789");
	/* "-1" used to be ULONG_MAX: the size check wrapped, then memmove ran off the buffer */
	for (i = 0; bad[i]; i++)
	{
		if (rapi_chunked(bad[i], &r, err, sizeof(err)) != -1)
			fail_msg("chunked body %d accepted", i);
		assert_string_equal(err, "malformed chunked response from the Runtime API");
	}
	/*
	 * libcurl (which reads these answers since ddb_rapi.c uses http.c) takes a
	 * bare LF after the chunk data as the CRLF: the 4 declared bytes, no more.
	 */
	assert_int_equal(rapi_chunked("4\r\nabc\r\n0\r\n\r\n", &r, err, sizeof(err)), 0);
	assert_int_equal(r.body.len, 4);
	assert_memory_equal(r.body.data, "abc\r", 4);
	ddb_rapi_resp_free(&r);
}

/* ---- S3 keys ------------------------------------------------------------ */

static void
test_s3_key_at_start(void **state)
{
	static const char key[] = "r0000000000000001-0000000000000000_0000000000000000.ndjson.gz";
	guarded g;
	time_t part;
	uint64_t run, a, b;

	(void) state;
	/* the byte before the key used to be read to look for a '/' */
	assert_false(s3_key_parse_run(guard_before(&g, key, strlen(key)), &part, &run, &a, &b));
	guard_free(&g);
	assert_false(s3_key_parse_run(guard_before(&g, key + 1, strlen(key + 1)), &part, &run, &a, &b));
	guard_free(&g);
	assert_true(s3_key_parse_run(
		guard_before(
			&g, "2026/11/23/09/r0000000000000001-0000000000000002_0000000000000003.ndjson.gz", 75),
		&part, &run, &a, &b));
	assert_int_equal(run, 1);
	assert_int_equal(a, 2);
	assert_int_equal(b, 3);
	guard_free(&g);
}

static void
test_s3_key_impossible_date(void **state)
{
	time_t part;
	uint64_t run, a, b;

	(void) state;
	/* 2026-02-31 used to be taken for 2026-03-03 (timegm normalises) */
	assert_false(s3_key_parse_run("e/2026/02/31/09/0000000000000001_0000000000000002.ndjson.gz",
								  &part, &run, &a, &b));
	assert_false(s3_key_parse_run("e/2026/04/31/09/0000000000000001_0000000000000002.ndjson.gz",
								  &part, &run, &a, &b));
	assert_false(s3_key_parse_run("e/2100/02/29/09/0000000000000001_0000000000000002.ndjson.gz",
								  &part, &run, &a, &b));
	assert_true(s3_key_parse_run("e/2028/02/29/09/0000000000000001_0000000000000002.ndjson.gz",
								 &part, &run, &a, &b));
	assert_int_equal(part, codec_iso8601("2028-02-29T09:00:00Z", 20, NULL));
	assert_true(s3_key_parse_run("e/2000/02/29/23/0000000000000001_0000000000000002.ndjson.gz",
								 &part, &run, &a, &b));
	assert_int_equal(codec_iso8601("2026-02-29T00:00:00Z", 20, NULL), (time_t) -1);
	assert_int_equal(codec_iso8601("2026-12-31T23:59:60Z", 20, NULL),
					 codec_iso8601("2027-01-01T00:00:00Z", 20, NULL));
}

/* ---- DynamoDB records ---------------------------------------------------- */

/* An INSERT of one event; %s: ApproximateCreationDateTime, then the Name string */
#define DDB_REC                                                                                    \
	"{\"eventID\":\"e1\",\"eventName\":\"INSERT\",\"eventSource\":\"aws:dynamodb\","               \
	"\"dynamodb\":{\"ApproximateCreationDateTime\":%s,\"Keys\":{\"Uuid\":{\"S\":\"u1\"}},"         \
	"\"NewImage\":{\"Uuid\":{\"S\":\"u1\"},\"Events\":{\"L\":[{\"M\":{\"Name\":{\"S\":\"%s\"},"    \
	"\"Data\":{\"M\":{}}}}]}},\"SequenceNumber\":\"1\",\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"}" \
	","                                                                                            \
	"\"eventSourceARN\":\"arn:aws:dynamodb:eu-west-1:1:table/carts/stream/x\"}"

/* Pluck DDB_REC with when/name; the parse or pluck error, or "" and *env */
static const char *
pluck(const char *when, const char *name, char *env, size_t envlen)
{
	static char err[256];
	char text[2048];
	jv_doc d;
	ddb_record_opts o;
	ddb_events out;
	ddb_outcome oc;

	snprintf(text, sizeof(text), DDB_REC, when, name);
	jv_doc_init(&d);
	ddb_record_opts_default(&o);
	ddb_events_init(&out);
	err[0] = '\0';
	if (jv_parse(&d, text, strlen(text), err, sizeof(err)) == 0)
	{
		oc = ddb_record_pluck(d.root, &o, 0, &out, NULL, err, sizeof(err));
		assert_int_equal(oc, DDB_OUT_EVENTS);
		assert_int_equal(out.n, 1);
		snprintf(env, envlen, "%.*s", (int) out.ev[0].len, out.text.data + out.ev[0].off);
		err[0] = '\0';
	}
	ddb_events_free(&out);
	jv_doc_free(&d);
	return err;
}

/* The envelope's recorded_at in Unix microseconds (asserting its form). */
static int64_t
recorded_at(const char *env)
{
	const char *p = strstr(env, "\"recorded_at\":\"");
	size_t n;

	assert_non_null(p);
	p += 15;
	n = strcspn(p, "\"");
	/* YYYY-MM-DDTHH:MM:SS.ffffffZ */
	assert_int_equal(n, 27);
	assert_true(p[26] == 'Z');
	return pg_message_time_us(p, n);
}

static void
test_ddb_time_out_of_range(void **state)
{
	static const char *const bad[] = {"17954244333333333333333", "1e20", "-5", "1e400", "\"1e300\"",
									  "253402300800000",		 NULL};
	char env[2048];
	int64_t now = (int64_t) time(NULL) * 1000000;
	int i;

	(void) state;
	assert_string_equal(pluck("1795424400.5", "E", env, sizeof(env)), "");
	assert_non_null(strstr(env, "\"recorded_at\":\"2026-11-23T09:00:00.500000Z\""));
	/* the last representable second stays */
	assert_string_equal(pluck("253402300799000", "E", env, sizeof(env)), "");
	if (strstr(env, "\"recorded_at\":\"9999-12-31T23:59:59.000000Z\"") == NULL)
		fail_msg("%s", env);
	/* huge values used to be UB (time_t cast) or print uninitialised struct tm */
	for (i = 0; bad[i]; i++)
	{
		int64_t t;

		assert_string_equal(pluck(bad[i], "E", env, sizeof(env)), "");
		t = recorded_at(env);
		if (t < now - 60000000 || t > now + 60000000)
			fail_msg("ApproximateCreationDateTime %s gave %s", bad[i], env);
	}
}

static void
test_ddb_invalid_utf8(void **state)
{
	static const char *const bad[] = {
		"\xC3", "x\xC3(",	"\xC0\xAF", "\xE0\x80\xAF",	   "\xED\xA0\x80", "\xF4\x90\x80\x80",
		"\xFF", "\xE2\x82", "\\n\xFE",	"\xE2\x82\\u0041", "\\u00e9\x80",  NULL};
	char env[2048];
	int i;

	(void) state;
	assert_string_equal(
		pluck("1", "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\\ud83d\\ude00", env, sizeof(env)), "");
	assert_non_null(
		strstr(env, "\"type\":\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF0\x9F\x98\x80\""));
	assert_string_equal(pluck("1", "\xF4\x8F\xBF\xBF\xEF\xBF\xBD", env, sizeof(env)), "");
	/* used to pass into the envelope as they were */
	for (i = 0; bad[i]; i++)
		if (strstr(pluck("1", bad[i], env, sizeof(env)), "invalid UTF-8 in a string") == NULL)
			fail_msg("name %d was accepted: %s", i, env);
}

/* jv_equal of two documents */
static bool
json_equal(const char *x, const char *y)
{
	char *tx = strdup(x), *ty = strdup(y), err[256];
	jv_doc dx, dy;
	bool eq;

	jv_doc_init(&dx);
	jv_doc_init(&dy);
	assert_int_equal(jv_parse(&dx, tx, strlen(tx), err, sizeof(err)), 0);
	assert_int_equal(jv_parse(&dy, ty, strlen(ty), err, sizeof(err)), 0);
	eq = jv_equal(dx.root, dy.root);
	assert_true(eq == jv_equal(dy.root, dx.root));
	jv_doc_free(&dx);
	jv_doc_free(&dy);
	free(tx);
	free(ty);
	return eq;
}

static void
test_json_equal_duplicate_keys(void **state)
{
	(void) state;
	assert_true(json_equal("{\"x\":1,\"y\":[2,{\"z\":3}]}", "{\"y\":[2,{\"z\":3}],\"x\":1}"));
	assert_false(json_equal("{\"x\":1,\"y\":2}", "{\"x\":1,\"y\":3}"));
	/* used to be equal: every member of the first is found in the second */
	assert_false(json_equal("{\"x\":1,\"x\":1}", "{\"x\":1,\"y\":2}"));
	assert_false(json_equal("{\"a\":{\"x\":1,\"x\":1}}", "{\"a\":{\"y\":2,\"x\":1}}"));
	assert_true(json_equal("{\"x\":1,\"x\":2}", "{\"x\":1,\"x\":2}"));
	/* keys differing after a NUL used to compare equal */
	assert_false(json_equal("{\"a\\u0000b\":1}", "{\"a\\u0000c\":1}"));
	assert_false(json_equal("{\"q\":0,\"a\\u0000b\":1}", "{\"a\\u0000c\":1,\"q\":0}"));
	assert_true(json_equal("{\"q\":0,\"a\\u0000b\":1}", "{\"a\\u0000b\":1,\"q\":0}"));
}

/* ---- plugin messages ------------------------------------------------------ */

/* event_parse of text with nothing readable after it */
static int
parse_msg(const char *text, plugin_msg *m, char *err)
{
	guarded g;
	size_t len = strlen(text);
	int rc = pg_message_parse(guard_after(&g, text, len), len, m, err, 256);

	guard_free(&g);
	return rc;
}

static void
test_plugin_msg_without_nul(void **state)
{
	plugin_msg m;
	char err[256];

	(void) state;
	/* strtoll used to read past the end */
	assert_int_equal(parse_msg("{\"kind\":\"commit\",\"lsn\":\"0/16B3748\",\"events\":12", &m, err),
					 0);
	assert_int_equal(m.kind, PM_COMMIT);
	assert_int_equal(m.lsn, 0x16B3748);
	assert_int_equal(m.events, 12);
	/* "%.60s" / "%.80s" of the message used to read past a short one */
	assert_int_equal(parse_msg("{\"kind\":\"nope\"}", &m, err), -1);
	assert_string_equal(err, "unknown marker kind in \"{\"kind\":\"nope\"}\"");
	assert_int_equal(parse_msg("{\"kind\":\"begin\",\"x\":1}", &m, err), -1);
	assert_string_equal(err, "marker without a valid \"lsn\": \"{\"kind\":\"begin\",\"x\":1}\"");
	assert_int_equal(parse_msg("[1]", &m, err), -1);
	assert_string_equal(err, "not a JSON object: \"[1]\"");
	assert_int_equal(parse_msg("{\"a\":1}", &m, err), -1);
	assert_string_equal(err, "event without \"aggregate_id\": \"{\"a\":1}\"");
	/* a slow-path key keeps the bytes after a \u0000 */
	assert_int_equal(parse_msg("{\"x\":1,\"aggregate_id\":\"a\\u0000b\"}", &m, err), 0);
	assert_int_equal(m.key_len, 3);
	assert_memory_equal(m.key, "a\0b", 3);
	/* one object and nothing after it */
	assert_int_equal(parse_msg("{\"x\":1,\"aggregate_id\":\"k\"} \n", &m, err), 0);
	assert_int_equal(parse_msg("{\"x\":1,\"aggregate_id\":\"k\"}{}", &m, err), -1);
}

/* ---- archived envelopes ----------------------------------------------------- */

/* replay_json_string of a whole C string's aggregate_id into out[64] */
static bool
replay_id(const char *json, char *out)
{
	return replay_json_string(json, strlen(json), "aggregate_id", out, 64);
}

static void
test_replay_id_escapes(void **state)
{
	char out[64];

	(void) state;
	/* a surrogate pair used to come out as two 3-byte halves (CESU-8): another key */
	assert_true(replay_id("{\"aggregate_id\":\"\\ud83d\\ude00!\"}", out));
	assert_string_equal(out, "\xF0\x9F\x98\x80!");
	/* U+1DA03, a pair json-c 0.16 turns into U+FFFD (fuzz_replay_filter) */
	assert_true(replay_id("{\"aggregate_id\":\"\\ud836\\ude03\"}", out));
	assert_string_equal(out, "\xF0\x9D\xA8\x83");
	assert_true(replay_id("{\"aggregate_id\":\"\\ud83dx\\ude00\"}", out));
	assert_string_equal(out, "\xEF\xBF\xBDx\xEF\xBF\xBD");
	assert_true(replay_id("{\"aggregate_id\":\"\\u00e9\"}", out));
	assert_string_equal(out, "\xC3\xA9");
	/* a NUL used to cut the id short ("a") */
	assert_false(replay_id("{\"aggregate_id\":\"a\\u0000b\"}", out));
}

/* ---- flags ---------------------------------------------------------------- */

static int
parse_size(const char *flag, const char *value, relay_config *c, char *err)
{
	char *argv[] = {"eventrelay", "--sink", "stdout", (char *) flag, (char *) value, NULL};
	int rc = config_parse(c, 5, argv, err, 256);

	config_free(c);
	return rc;
}

static void
test_size_suffix_overflow(void **state)
{
	relay_config c;
	char err[256];

	(void) state;
	/* 17179869185 GiB = 2^64 + 1 GiB used to wrap to exactly 1 GiB */
	assert_int_equal(parse_size("--max-buffer-bytes", "17179869185G", &c, err), -1);
	assert_non_null(strstr(err, "out of range"));
	assert_int_equal(parse_size("--max-buffer-bytes", "9223372036854775807K", &c, err), -1);
	assert_non_null(strstr(err, "out of range"));
	assert_int_equal(parse_size("--max-buffer-bytes", "-9223372036854775807M", &c, err), -1);
	assert_non_null(strstr(err, "out of range"));
	assert_int_equal(parse_size("--max-record-bytes", "8796093022209M", &c, err), -1);
	assert_non_null(strstr(err, "out of range"));
	assert_int_equal(parse_size("--max-buffer-bytes", "65G", &c, err), -1);
	assert_int_equal(parse_size("--max-buffer-bytes", "64G", &c, err), 0);
	assert_int_equal(parse_size("--max-buffer-bytes", "1024K", &c, err), 0);
	assert_int_equal(parse_size("--max-buffer-bytes", "1023K", &c, err), -1);
}

static void
test_s3_size_and_duration_overflow(void **state)
{
	size_t sz = 7;
	int64_t ms = 7;

	(void) state;
	/* wrapped around to 1 GiB and was accepted */
	assert_int_equal(s3_parse_size("17179869185G", &sz), -1);
	assert_int_equal(s3_parse_size("18446744073709551615K", &sz), -1);
	assert_int_equal(s3_parse_size("16777216T", &sz), -1);
	assert_int_equal(sz, 7);
	assert_int_equal(s3_parse_size("64MiB", &sz), 0);
	assert_int_equal(sz, 64 << 20);
	assert_int_equal(s3_parse_size("8589934591G", &sz), 0); /* the largest that fits */
	assert_int_equal(sz, 8589934591ULL << 30);
	/* the double to int64 cast was undefined */
	assert_int_equal(s3_parse_duration("88888888888888888888888888888888888888888h", &ms), -1);
	assert_int_equal(s3_parse_duration("9223372036854775807", &ms), -1);
	assert_int_equal(ms, 7);
	assert_int_equal(s3_parse_duration("1.5h", &ms), 0);
	assert_int_equal(ms, 5400000);
	assert_int_equal(s3_parse_duration("250ms", &ms), 0);
	assert_int_equal(ms, 250);
}

static void
test_config_parse_twice(void **state)
{
	char first[] = "-VS";
	char *argv1[] = {"eventrelay", first, NULL};
	char *argv2[] = {"eventrelay", "--sink", "stdout", NULL};
	relay_config c;
	char err[256];

	(void) state;
	/* --version returns in the middle of the cluster, before -S */
	assert_int_equal(config_parse(&c, 2, argv1, err, sizeof(err)), 1);
	config_free(&c);
	/* the next parse used to resume the old cluster: -S taking "--sink" as the slot */
	assert_int_equal(config_parse(&c, 3, argv2, err, sizeof(err)), 0);
	config_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinesis_null_members),
		cmocka_unit_test(test_s3_key_at_start),
		cmocka_unit_test(test_s3_key_impossible_date),
		cmocka_unit_test(test_ddb_time_out_of_range),
		cmocka_unit_test(test_ddb_invalid_utf8),
		cmocka_unit_test(test_size_suffix_overflow),
		cmocka_unit_test(test_config_parse_twice),
		cmocka_unit_test(test_s3_size_and_duration_overflow),
		cmocka_unit_test(test_json_equal_duplicate_keys),
		cmocka_unit_test(test_plugin_msg_without_nul),
		cmocka_unit_test(test_ddb_streams_null_message),
		cmocka_unit_test(test_rapi_chunk_sizes),
		cmocka_unit_test(test_replay_id_escapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
