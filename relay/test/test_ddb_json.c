/*
 * test_ddb_json.c
 *		Unit tests of the DynamoDB typed-JSON converter (ddb_json.c), the
 *		UUIDv5 event ids (ddb_uuid.c) and sequence-number ordering.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ddb_json.h"
#include "json.h"
#include "ddb_record.h"
#include "ddb_uuid.h"

/* Convert one AttributeValue given as text; returns the plain JSON or NULL. */
static char *
convert(const char *typed, char *err, size_t errlen)
{
	jv_doc d;
	char *text = strdup(typed); /* parsed in place */
	char perr[128];
	buf b;
	char *out = NULL;

	jv_doc_init(&d);
	if (jv_parse(&d, text, strlen(text), perr, sizeof(perr)) != 0)
		fail_msg("%s: %s", typed, perr);
	buf_init(&b);
	err[0] = '\0';
	if (ddb_json_value(d.root, &b, err, errlen) == 0)
		out = strdup(b.data);
	buf_free(&b);
	jv_doc_free(&d);
	free(text);
	return out;
}

static void
expect(const char *typed, const char *plain)
{
	char err[256];
	char *got = convert(typed, err, sizeof(err));

	if (got == NULL)
		fail_msg("converting %s failed: %s", typed, err);
	assert_string_equal(got, plain);
	free(got);
}

static void
expect_error(const char *typed, const char *err_part)
{
	char err[256];
	char *got = convert(typed, err, sizeof(err));

	if (got != NULL)
		fail_msg("converting %s should fail but gave %s", typed, got);
	if (strstr(err, err_part) == NULL)
		fail_msg("error \"%s\" does not mention \"%s\"", err, err_part);
}

static void
test_scalars(void **state)
{
	(void) state;
	expect("{\"S\":\"hello\"}", "\"hello\"");
	expect("{\"S\":\"\"}", "\"\"");
	expect("{\"S\":\"a\\\"b\\\\c\\nd\\u0001/é🦊\"}", "\"a\\\"b\\\\c\\nd\\u0001/é🦊\"");
	expect("{\"BOOL\":true}", "true");
	expect("{\"BOOL\":false}", "false");
	expect("{\"NULL\":true}", "null");
	expect("{\"B\":\"AAEqQQ==\"}", "{\"$binary\":\"AAEqQQ==\"}");
	expect("{\"B\":\"test\"}", "{\"$binary\":\"test\"}");
}

static void
test_numbers_keep_precision(void **state)
{
	(void) state;
	/* Beyond double precision and range: must come out as sent. */
	expect("{\"N\":\"3.14159265358979323846264338327950288\"}",
		   "3.14159265358979323846264338327950288");
	expect("{\"N\":\"123456789012345678901234567890\"}", "123456789012345678901234567890");
	expect("{\"N\":\"-1E-130\"}", "-1E-130");
	expect("{\"N\":\"9.9999999999999999999999999999999999999E+125\"}",
		   "9.9999999999999999999999999999999999999E+125");
	expect("{\"N\":\"0.10\"}", "0.10");
	expect("{\"N\":\"0\"}", "0");
	expect("{\"N\":\"-0.5\"}", "-0.5");
	/* Forms DynamoDB accepts but JSON does not: normalised, value kept. */
	expect("{\"N\":\"+7\"}", "7");
	expect("{\"N\":\".5\"}", "0.5");
	expect("{\"N\":\"5.\"}", "5");
	expect("{\"N\":\"007.250\"}", "7.250");
	expect("{\"N\":\"-00\"}", "-0");
	expect("{\"NS\":[\"1\",\"2.5\",\"1e3\"]}", "[1,2.5,1e3]");
}

static void
test_containers(void **state)
{
	(void) state;
	expect("{\"M\":{}}", "{}");
	expect("{\"L\":[]}", "[]");
	expect("{\"SS\":[]}", "[]");
	expect("{\"M\":{\"a\":{\"N\":\"1\"},\"b\":{\"L\":[{\"S\":\"x\"},{\"N\":\"2\"},{\"M\":{\"c\":"
		   "{\"NULL\":true}}}]}}}",
		   "{\"a\":1,\"b\":[\"x\",2,{\"c\":null}]}");
	expect("{\"SS\":[\"a\",\"b\"]}", "[\"a\",\"b\"]");
	expect("{\"BS\":[\"QSoBAA==\",\"AAEqQQ==\"]}",
		   "[{\"$binary\":\"QSoBAA==\"},{\"$binary\":\"AAEqQQ==\"}]");
	/* Key order is kept as received. */
	expect("{\"M\":{\"z\":{\"N\":\"1\"},\"a\":{\"N\":\"2\"}}}", "{\"z\":1,\"a\":2}");
}

static void
test_errors(void **state)
{
	(void) state;
	expect_error("{\"N\":\"abc\"}", "not a number");
	expect_error("{\"N\":\"1e\"}", "not a number");
	expect_error("{\"N\":\"\"}", "not a number");
	expect_error("{\"N\":\" 1\"}", "not a number");
	expect_error("{\"B\":\"abc\"}", "not base64");
	expect_error("{\"B\":\"ab=c\"}", "not base64");
	expect_error("{\"X\":\"1\"}", "unknown DynamoDB type");
	expect_error("{\"S\":\"a\",\"N\":\"1\"}", "exactly one type key");
	expect_error("{}", "exactly one type key");
	expect_error("{\"NULL\":false}", "NULL must be true");
	expect_error("{\"BOOL\":\"true\"}", "BOOL");
	expect_error("{\"S\":1}", "string");
	/* The path to a bad value is reported. */
	expect_error("{\"M\":{\"items\":{\"L\":[{\"S\":\"ok\"},{\"M\":{\"price\":{\"N\":\"x\"}}}]}}}",
				 ".items[1].price: N value is not a number");
}

static void
test_deep_nesting_bounded(void **state)
{
	char text[4096] = "";
	int i;
	char err[256];

	(void) state;
	for (i = 0; i < DDB_JSON_MAX_DEPTH + 5; i++)
		strcat(text, "{\"L\":[");
	strcat(text, "{\"N\":\"1\"}");
	for (i = 0; i < DDB_JSON_MAX_DEPTH + 5; i++)
		strcat(text, "]}");
	{
		jv_doc d;
		buf b;

		jv_doc_init(&d);
		assert_int_equal(jv_parse(&d, text, strlen(text), err, sizeof(err)), 0);
		buf_init(&b);
		assert_int_equal(ddb_json_value(d.root, &b, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "too deep"));
		buf_free(&b);
		jv_doc_free(&d);
	}
}

static void
test_uuid5(void **state)
{
	char id[DDB_UUID_STRLEN + 1];
	uint8_t d[20];
	static const uint8_t ns_url[16] = {0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
									   0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};

	(void) state;
	/* FIPS 180 test vector "abc". */
	ddb_sha1("abc", 3, d);
	assert_memory_equal(d,
						"\xa9\x99\x3e\x36\x47\x06\x81\x6a\xba\x3e\x25\x71\x78\x50\xc2\x6c\x9c\xd0"
						"\xd8\x9d",
						20);
	/* Python: uuid.uuid5(uuid.NAMESPACE_URL, "x") */
	ddb_uuid5(ns_url, "x", 1, id);
	assert_string_equal(id, "4cd605e7-afa2-5360-b5b9-c5e9fb5c76f4");
	/* Python: uuid5(uuid5(NAMESPACE_URL, "urn:eventrelay:dynamodb:event-id"), "cart-1:1") */
	ddb_uuid_event_id("cart-1", 6, 1, id);
	assert_string_equal(id, "59992068-d7f1-51a7-9e8a-def114c01424");
	ddb_uuid_event_id("f1e2", 4, 12, id);
	assert_string_equal(id, "e40d58c8-44f1-5f1f-be95-f27ed35ebc2c");
}

static void
test_seq_cmp(void **state)
{
	(void) state;
	assert_true(ddb_seq_cmp("4421584500000000017450439091", "1405400000000002063282832") > 0);
	assert_true(ddb_seq_cmp("300000000000000499659", "400000000000000499660") < 0);
	assert_true(ddb_seq_cmp("99", "100") < 0);
	assert_int_equal(ddb_seq_cmp("0100", "100"), 0);
}

/* The arena parser itself: escapes, numbers, errors, equality. */
static void
test_jv_parser(void **state)
{
	jv_doc d;
	char err[128];
	char t1[] = "{\"a\":\"x\\u00e9\\ud83e\\udd8a\\n\\/"
				"\",\"n\":-1.50e+3,\"l\":[true,false,null,{}],\"e\":[]}";
	char t2[] = "{\"l\":[1,2],\"b\":{\"y\":1,\"x\":\"s\"}}";
	char t3[] = "{\"b\":{\"x\":\"s\",\"y\":1},\"l\":[1,2]}";
	char t4[] = "{\"b\":{\"x\":\"s\",\"y\":2},\"l\":[1,2]}";
	static const char *const bad[] = {
		"{\"a\":}",		   "{\"a\":1,}",  "[1 2]",		 "{\"a\":01}",
		"{\"a\":\"\\x\"}", "{\"a\":tru}", "{\"a\":1} x", "{\"a\":\"unterminated",
		"{\"a\":-}",	   NULL};
	int i;
	jv_doc d2, d3, d4;

	(void) state;
	jv_doc_init(&d);
	assert_int_equal(jv_parse(&d, t1, strlen(t1), err, sizeof(err)), 0);
	assert_string_equal(jv_str(jv_get(d.root, "a")), "x\xc3\xa9\xf0\x9f\xa6\x8a\n/");
	assert_int_equal(jv_get(d.root, "n")->type, JV_NUMBER);
	assert_int_equal(jv_get(d.root, "n")->len, 8);
	assert_memory_equal(jv_get(d.root, "n")->u.s, "-1.50e+3", 8);
	assert_int_equal(jv_get(d.root, "l")->len, 4);
	assert_int_equal(jv_at(jv_get(d.root, "l"), 2)->type, JV_NULL);
	assert_int_equal(jv_get(d.root, "e")->len, 0);
	assert_null(jv_get(d.root, "zz"));
	for (i = 0; bad[i]; i++)
	{
		char *t = strdup(bad[i]);

		if (jv_parse(&d, t, strlen(t), err, sizeof(err)) == 0)
			fail_msg("accepted %s", bad[i]);
		free(t);
	}
	jv_doc_free(&d);
	jv_doc_init(&d2);
	jv_doc_init(&d3);
	jv_doc_init(&d4);
	assert_int_equal(jv_parse(&d2, t2, strlen(t2), err, sizeof(err)), 0);
	assert_int_equal(jv_parse(&d3, t3, strlen(t3), err, sizeof(err)), 0);
	assert_int_equal(jv_parse(&d4, t4, strlen(t4), err, sizeof(err)), 0);
	assert_true(jv_equal(d2.root, d3.root)); /* member order does not matter */
	assert_false(jv_equal(d3.root, d4.root));
	jv_doc_free(&d2);
	jv_doc_free(&d3);
	jv_doc_free(&d4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_numbers_keep_precision),
		cmocka_unit_test(test_containers),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_deep_nesting_bounded),
		cmocka_unit_test(test_uuid5),
		cmocka_unit_test(test_seq_cmp),
		cmocka_unit_test(test_jv_parser),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
