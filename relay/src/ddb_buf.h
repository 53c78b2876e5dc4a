/*
 * ddb_buf.h
 *		A growable byte buffer for the DynamoDB path: envelopes are built
 *		by appending text, so one buffer per record is reused across records.
 *
 * An allocation failure sets a sticky flag instead of being checked at every
 * append; callers test ddb_buf_failed() once when the text is complete.
 */
#ifndef DDB_BUF_H
#define DDB_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct ddb_buf
{
	char *data; /* NUL-terminated while not failed */
	size_t len; /* bytes used, excluding the NUL */
	size_t cap; /* bytes allocated */
	int failed; /* an allocation failed: contents invalid */
} ddb_buf;

void ddb_buf_init(ddb_buf *b);
void ddb_buf_free(ddb_buf *b);
void ddb_buf_reset(ddb_buf *b);
int ddb_buf_reserve(ddb_buf *b, size_t extra);
void ddb_buf_append(ddb_buf *b, const char *s, size_t n);
void ddb_buf_puts(ddb_buf *b, const char *s);
void ddb_buf_putc(ddb_buf *b, char c);
void ddb_buf_printf(ddb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s (n bytes) as a JSON string literal, quotes included. */
void ddb_buf_json_string(ddb_buf *b, const char *s, size_t n);

static inline int
ddb_buf_failed(const ddb_buf *b)
{
	return b->failed;
}

#endif /* DDB_BUF_H */
