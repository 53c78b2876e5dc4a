/*
 * log.c
 *		JSON log lines on stderr (see log.h).  Each line is built in memory and
 *		written with one write(2), so lines from a crashing process are never
 *		interleaved halfway.
 */
#include "log.h"
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static log_level cur_level = LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void
log_set_level(log_level level)
{
	cur_level = level;
}

log_level
log_get_level(void)
{
	return cur_level;
}

int
log_parse_level(const char *s)
{
	if (strcasecmp(s, "debug") == 0)
		return LOG_DEBUG;
	if (strcasecmp(s, "info") == 0)
		return LOG_INFO;
	if (strcasecmp(s, "warn") == 0 || strcasecmp(s, "warning") == 0)
		return LOG_WARN;
	if (strcasecmp(s, "error") == 0)
		return LOG_ERROR;
	return -1;
}

static void
log_begin(buf *b, log_level level)
{
	struct timespec ts;
	struct tm tm;
	char when[40];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	buf_printf(b, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"pid\":%d,\"msg\":", when,
			   ts.tv_nsec / 1000000, level_names[level], (int) getpid());
}

void
log_line(const char *line, size_t len)
{
	ssize_t rc;

	if (line == NULL)
		return;
	rc = write(STDERR_FILENO, line, len);
	(void) rc;
}

static void
log_end(buf *b)
{
	buf_puts(b, "}\n");
	log_line(b->data, b->len);
	buf_free(b);
}

void
log_msg(log_level level, const char *fmt, ...)
{
	buf b = BUF_INIT;
	char msg[2048];
	va_list ap;

	if (level < cur_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_begin(&b, level);
	buf_json_string_utf8(&b, msg, strlen(msg));
	log_end(&b);
}

void
log_kv(log_level level, const char *msg, ...)
{
	buf b = BUF_INIT;
	va_list ap;
	const char *k;

	if (level < cur_level)
		return;
	log_begin(&b, level);
	buf_json_string_utf8(&b, msg, strlen(msg));
	va_start(ap, msg);
	while ((k = va_arg(ap, const char *)) != NULL)
	{
		const char *v = va_arg(ap, const char *);

		buf_putc(&b, ',');
		buf_json_string_utf8(&b, k, strlen(k));
		buf_putc(&b, ':');
		if (v == NULL)
			buf_puts(&b, "null");
		else
			buf_json_string_utf8(&b, v, strlen(v));
	}
	va_end(ap);
	log_end(&b);
}
