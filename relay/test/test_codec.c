/*
 * test_codec.c
 *		base64, hex and ISO-8601 timestamps (codec.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "codec.h"

static void
test_base64(void **state)
{
	char out[16];

	(void) state;
	codec_base64_to("", 0, out);
	assert_string_equal(out, "");
	codec_base64_to("f", 1, out);
	assert_string_equal(out, "Zg==");
	codec_base64_to("fo", 2, out);
	assert_string_equal(out, "Zm8=");
	codec_base64_to("foobar", 6, out);
	assert_string_equal(out, "Zm9vYmFy");
}
static void
test_base64_buf(void **state)
{
	buf b = BUF_INIT;

	(void) state;
	buf_puts(&b, "x:");
	codec_base64(&b, "\xff\xfe\x00", 3);
	assert_string_equal(b.data, "x://4A");
	assert_int_equal(b.len, 6);
	buf_free(&b);
}

static void
test_hex(void **state)
{
	char out[9];

	(void) state;
	assert_int_equal(codec_hex_digit('0'), 0);
	assert_int_equal(codec_hex_digit('f'), 15);
	assert_int_equal(codec_hex_digit('F'), 15);
	assert_int_equal(codec_hex_digit('g'), -1);
	codec_hex("\x01\xab\xff\x00", 4, out);
	assert_string_equal(out, "01abff00");
}

static void
test_iso8601(void **state)
{
	int32_t us = -1;

	(void) state;
	assert_int_equal(codec_iso8601("1970-01-01T01:00:00Z", 20, NULL), 3600);
	assert_int_equal(codec_iso8601("2026-11-23T10:00:01.250000+00:00", 32, &us), 1795428001);
	assert_int_equal(us, 250000);
	assert_int_equal(codec_iso8601("2026-11-23 10:00:01", 19, &us), 1795428001);
	assert_int_equal(us, 0);
	assert_int_equal(codec_iso8601("2026-13-01T00:00:00Z", 20, NULL), -1);
	assert_int_equal(codec_iso8601("1969-12-31T23:59:59Z", 20, NULL), -1);
	assert_int_equal(codec_iso8601("2026-11-23T10:00", 16, NULL), -1);
	assert_int_equal(codec_iso8601("yesterday at noon!!", 19, NULL), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_base64_buf),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_iso8601),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
