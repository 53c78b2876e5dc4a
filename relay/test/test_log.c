/*
 * test_log.c
 *		The JSON log lines: whatever bytes an error message or an answer
 *		carries, each line is one valid UTF-8 JSON object.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "json.h"
#include "log.h"

/* Run f with stderr going to a file; return what it wrote (malloc'd). */
static char *
s_capture(void (*f)(void), size_t *len)
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	char *out;
	long n;

	assert_non_null(tmp);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	f();
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	n = (long) lseek(fileno(tmp), 0, SEEK_END);
	assert_true(n > 0);
	out = malloc((size_t) n + 1);
	assert_int_equal(pread(fileno(tmp), out, (size_t) n, 0), n);
	out[n] = '\0';
	fclose(tmp);
	*len = (size_t) n;
	return out;
}

static void
s_write_bad(void)
{
	/* an answer cut mid-character, Latin-1, a surrogate, and a stray continuation */
	log_kv(LOG_ERROR, "answer \xe2\x82", "body", "caf\xe9 \xed\xa0\x80", "k\x80", "v", "ok",
		   "\xe2\x82\xac", NULL);
	log_msg(LOG_ERROR, "HTTP 500: %s", "\xff\xfe<Error>\xc3</Error>");
}

static void
test_lines_are_utf8_json(void **state)
{
	size_t len, n = 0;
	char *out = s_capture(s_write_bad, &len);
	char *line = out, *nl;

	(void) state;
	while ((nl = memchr(line, '\n', len - (size_t) (line - out))) != NULL)
	{
		jv_doc d;
		char err[128];
		char *copy = strndup(line, (size_t) (nl - line));

		if (!jv_utf8_valid(line, (size_t) (nl - line)))
			fail_msg("log line is not UTF-8: %.*s", (int) (nl - line), line);
		jv_doc_init(&d); /* jv_parse works in place, on a copy */
		if (jv_parse(&d, copy, (size_t) (nl - line), err, sizeof(err)) < 0)
			fail_msg("log line is not JSON (%s)", err);
		jv_doc_free(&d);
		free(copy);
		line = nl + 1;
		n++;
	}
	assert_int_equal(n, 2);
	assert_non_null(strstr(out, "\"answer \xef\xbf\xbd\xef\xbf\xbd\""));
	assert_non_null(
		strstr(out, "\"body\":\"caf\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""));
	assert_non_null(strstr(out, "\"ok\":\"\xe2\x82\xac\""));
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_are_utf8_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
