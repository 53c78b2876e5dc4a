/*
 * log.h
 *		Structured log lines: one JSON object per line on stderr, e.g.
 *		{"ts":"2026-11-23T09:14:03.123Z","level":"info","msg":"...","lsn":"0/16B3748"}
 *
 * Messages are formatted with printf; extra fields are appended as
 * "key","value" pairs terminated by NULL (log_kv).  Never pass a secret.
 */
#ifndef RELAY_LOG_H
#define RELAY_LOG_H

#include <stddef.h>

typedef enum log_level
{
	LOG_DEBUG = 0,
	LOG_INFO,
	LOG_WARN,
	LOG_ERROR
} log_level;

void log_set_level(log_level level);
log_level log_get_level(void);
/* Parse "debug", "info", "warn"/"warning", "error"; -1 if unknown. */
int log_parse_level(const char *s);

void log_msg(log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* log_kv(LOG_INFO, "message", "key1", "value1", ..., NULL) */
void log_kv(log_level level, const char *msg, ...) __attribute__((sentinel));
/*
 * Write a complete line of another format that shares the log stream (the
 * CloudWatch EMF lines of metrics_emf.c): len bytes ending in '\n', with one
 * write(2) like every log line, whatever the level.
 */
void log_line(const char *line, size_t len);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
