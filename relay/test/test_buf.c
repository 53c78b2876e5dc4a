/*
 * test_buf.c
 *		The growable buffer: the sticky failure flag, steal, and the one JSON
 *		string escaper, which must write control characters exactly as the
 *		extension's envelope writer (src/jsonb_compact.c) does, so an
 *		envelope built by the DynamoDB path and one built by PostgreSQL are
 *		the same bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"

static void
test_json_string_like_the_extension(void **state)
{
	buf b = BUF_INIT;
	/* every byte below 0x20, then the specials and some pass-through bytes */
	char in[64];
	size_t n = 0;
	int c;

	(void) state;
	for (c = 1; c < 0x20; c++)
		in[n++] = (char) c;
	memcpy(in + n, "\"\\/\x7f\xc3\xa9", 6);
	n += 6;
	buf_json_string(&b, in, n);
	assert_false(buf_failed(&b));
	assert_string_equal(b.data, "\"\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007"
								"\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f"
								"\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017"
								"\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f"
								"\\\"\\\\/\x7f\xc3\xa9\"");
	/* embedded NUL is data too */
	buf_reset(&b);
	buf_json_string(&b, "a\0b", 3);
	assert_string_equal(b.data, "\"a\\u0000b\"");
	buf_free(&b);
}

static void
test_append_printf_steal(void **state)
{
	buf b = BUF_INIT;
	char *s;

	(void) state;
	buf_puts(&b, "x=");
	buf_printf(&b, "%d", 42);
	buf_putc(&b, ';');
	buf_append(&b, "abc", 2);
	assert_int_equal(b.len, 7);
	assert_string_equal(b.data, "x=42;ab");
	s = buf_steal(&b);
	assert_string_equal(s, "x=42;ab");
	assert_null(b.data);
	free(s);
	/* stealing an empty buffer gives "" */
	s = buf_steal(&b);
	assert_string_equal(s, "");
	free(s);
}

static void
test_failure_is_sticky(void **state)
{
	buf b = BUF_INIT;

	(void) state;
	buf_puts(&b, "kept");
	assert_int_equal(buf_reserve(&b, SIZE_MAX / 2), -1);
	assert_true(buf_failed(&b));
	/* later appends are no-ops, steal reports the failure */
	buf_puts(&b, "more");
	assert_int_equal(b.len, 4);
	assert_null(buf_steal(&b));
	assert_false(buf_failed(&b));
	/* reset makes it usable again */
	buf_puts(&b, "x");
	assert_int_equal(buf_reserve(&b, SIZE_MAX / 2), -1);
	buf_reset(&b);
	assert_false(buf_failed(&b));
	buf_puts(&b, "ok");
	assert_string_equal(b.data, "ok");
	buf_free(&b);
}

/* The validating mode: valid UTF-8 passes byte for byte, each invalid byte is U+FFFD. */
static void
test_json_string_utf8(void **state)
{
	static const struct
	{
		const char *in, *out;
	} cases[] = {
		{"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		 "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""},
		{"a\xff"
		 "b",
		 "\"a\xef\xbf\xbd"
		 "b\""},													  /* never a UTF-8 byte */
		{"\x80", "\"\xef\xbf\xbd\""},								  /* lone continuation */
		{"\xc0\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\""},				  /* overlong '/' */
		{"\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""}, /* surrogate D800 */
		{"\xf4\x90\x80\x80",
		 "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""}, /* > U+10FFFF */
		{"x\xe2\x82", "\"x\xef\xbf\xbd\xef\xbf\xbd\""},			  /* cut short at the end */
		{"\xe2\x82\"\n", "\"\xef\xbf\xbd\xef\xbf\xbd\\\"\\n\""},  /* and escapes still apply */
	};
	buf b = BUF_INIT;
	size_t i;

	(void) state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		buf_reset(&b);
		buf_json_string_utf8(&b, cases[i].in, strlen(cases[i].in));
		assert_false(buf_failed(&b));
		assert_string_equal(b.data, cases[i].out);
	}
	/* the plain escaper keeps every byte (envelopes are checked before) */
	buf_reset(&b);
	buf_json_string(&b,
					"a\xff"
					"b",
					3);
	assert_string_equal(b.data, "\"a\xff"
								"b\"");
	assert_int_equal(buf_utf8_seq("\xf0\x9f\x98\x80", 4), 4);
	assert_int_equal(buf_utf8_seq("\xf0\x9f\x98", 3), 0);
	assert_int_equal(buf_utf8_seq("", 0), 0);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_string_like_the_extension),
		cmocka_unit_test(test_json_string_utf8),
		cmocka_unit_test(test_append_printf_steal),
		cmocka_unit_test(test_failure_is_sticky),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
