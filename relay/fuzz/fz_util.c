/*
 * fz_util.c
 *		The fuzz targets' shared helpers (see fz.h).
 */
#include "fz.h"

#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "json.h"
#include "http.h"
#include "log.h"
#include "sink.h"

void
fz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fuzz check failed: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

char *
fz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		fz_fail("out of memory");
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

void
fz_quiet(void)
{
	int fd = open("/dev/null", O_WRONLY);

	if (getenv("FZ_VERBOSE"))
		return; /* to see what a seed does */
	log_set_level((log_level) (LOG_ERROR + 1));
	if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
		fz_fail("cannot open /dev/null");
	close(fd);
}

/* ---- scripted HTTP ------------------------------------------------------- */

#define FZ_SEP "\n~~~\n"

static const char *s_script;
static size_t s_script_len;
static size_t s_script_pos;
bool fz_http_exhausted;
/* a copy: the client may parse the answer in place (json.c) */
static buf s_last = BUF_INIT;
void (*fz_http_on_exhausted)(void);
int fz_http_requests;

void
fz_http_script(const uint8_t *data, size_t size)
{
	s_script = (const char *) data;
	s_script_len = size;
	s_script_pos = 0;
	fz_http_exhausted = false;
	fz_http_requests = 0;
	buf_reset(&s_last);
}

const char *
fz_http_last_body(void)
{
	return s_last.data && !buf_failed(&s_last) ? s_last.data : "";
}

/* Stands in for http.c's http_do (-Wl,--wrap=http_do): the next scripted answer. */
int __wrap_http_do(http_client *c, const http_request *req, http_response *resp, char *err,
				   size_t errlen);
int __real_http_do(http_client *c, const http_request *req, http_response *resp, char *err,
				   size_t errlen);

bool fz_http_passthrough = false;

int
__wrap_http_do(http_client *c, const http_request *req, http_response *resp, char *err,
			   size_t errlen)
{
	const char *p, *end, *sep, *nl;
	size_t blen;
	long status = 200;

	if (fz_http_passthrough)
		return __real_http_do(c, req, resp, err, errlen);
	(void) c;
	(void) req;
	fz_http_requests++;
	resp->status = 0;
	resp->failure = HTTP_FAIL_NONE;
	buf_reset(&resp->body);
	buf_reset(&resp->headers);
	if (s_script == NULL || s_script_pos > s_script_len)
	{
		fz_http_exhausted = true;
		if (fz_http_on_exhausted)
			fz_http_on_exhausted();
		snprintf(err, errlen, "fuzz: no more answers");
		return -1;
	}
	p = s_script + s_script_pos;
	end = s_script + s_script_len;
	sep = memmem(p, (size_t) (end - p), FZ_SEP, strlen(FZ_SEP));
	if (sep == NULL)
		sep = end;
	s_script_pos = (size_t) (sep - s_script) + strlen(FZ_SEP);
	/* status line: digits, or X */
	nl = memchr(p, '\n', (size_t) (sep - p));
	if (nl && nl > p && nl - p <= 3 && strspn(p, "0123456789") == (size_t) (nl - p))
	{
		status = strtol(p, NULL, 10);
		p = nl + 1;
	}
	else if (nl == p + 1 && *p == 'X')
	{
		snprintf(err, errlen, "fuzz: transport error");
		resp->failure = HTTP_FAIL_OTHER;
		return -1;
	}
	blen = (size_t) (sep - p);
	buf_append(&resp->body, p, blen);
	buf_printf(&resp->headers, "x-amzn-RequestId: fuzz-%d\r\n", fz_http_requests);
	if (buf_failed(&resp->body) || buf_failed(&resp->headers))
		fz_fail("out of memory");
	resp->status = status;
	buf_reset(&s_last);
	buf_append(&s_last, p, blen);
	return 0;
}

/* ---- virtual clock --------------------------------------------------------- */

int64_t fz_clock_ms = 1795424400000;

int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout);
int64_t __wrap_relay_now_ms(void);

int
__wrap_poll(struct pollfd *fds, nfds_t n, int timeout)
{
	nfds_t i;

	for (i = 0; i < n; i++)
		fds[i].revents = 0;
	if (timeout > 0)
		fz_clock_ms += timeout;
	return 0;
}

int64_t
__wrap_relay_now_ms(void)
{
	return fz_clock_ms++;
}

/* ---- checks ---------------------------------------------------------------- */

static json_object *
s_parse_strict(const char *what, const char *s, size_t n)
{
	json_tokener *tok = json_tokener_new();
	json_object *o;

	if (!jv_utf8_valid(s, n))
		fz_fail("%s is not valid UTF-8: %.*s", what, (int) (n < 300 ? n : 300), s);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, s, (int) n);
	if (o == NULL || json_tokener_get_parse_end(tok) != n ||
		!json_object_is_type(o, json_type_object))
		fz_fail("%s is not one JSON object (%s): %.*s", what,
				json_tokener_error_desc(json_tokener_get_error(tok)), (int) (n < 300 ? n : 300), s);
	json_tokener_free(tok);
	return o;
}

void
fz_check_json_object(const char *what, const char *s, size_t n)
{
	json_object_put(s_parse_strict(what, s, n));
}

static int
s_num(const char *s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + s[i] - '0';
	}
	return v;
}

/* YYYY-MM-DDTHH:MM:SS[.f+]Z with every field in range (and the day in its month) */
static bool
s_iso8601(const char *s, size_t n)
{
	struct tm tm;
	time_t t;
	size_t i;

	if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
		s[n - 1] != 'Z')
		return false;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = s_num(s, 4) - 1900;
	tm.tm_mon = s_num(s + 5, 2) - 1;
	tm.tm_mday = s_num(s + 8, 2);
	tm.tm_hour = s_num(s + 11, 2);
	tm.tm_min = s_num(s + 14, 2);
	tm.tm_sec = s_num(s + 17, 2);
	if (tm.tm_year < -1900 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
		tm.tm_hour > 23 || tm.tm_hour < 0 || tm.tm_min < 0 || tm.tm_min > 59 || tm.tm_sec < 0 ||
		tm.tm_sec > 59)
		return false;
	if (n > 20)
	{
		if (s[19] != '.' || n == 21)
			return false;
		for (i = 20; i < n - 1; i++)
			if (s[i] < '0' || s[i] > '9')
				return false;
	}
	else if (s[19] != 'Z')
		return false;
	{
		struct tm back;
		int mday = tm.tm_mday;

		t = timegm(&tm);
		if (gmtime_r(&t, &back) == NULL || back.tm_mday != mday)
			return false; /* 2026-02-30 */
	}
	return true;
}

void
fz_check_envelope(const char *s, size_t n)
{
	json_object *o = s_parse_strict("envelope", s, n);
	json_object *v;

	if (!json_object_object_get_ex(o, "aggregate_id", &v) ||
		!json_object_is_type(v, json_type_string))
		fz_fail("envelope without a string aggregate_id: %.*s", (int) (n < 300 ? n : 300), s);
	if (json_object_object_get_ex(o, "recorded_at", &v))
	{
		const char *t = json_object_get_string(v);

		if (!json_object_is_type(v, json_type_string) || !s_iso8601(t, strlen(t)))
			fz_fail("envelope with a bad recorded_at \"%s\"", t ? t : "(null)");
	}
	json_object_put(o);
}
