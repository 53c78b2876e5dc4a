/*
 * buf.h
 *		A growable byte buffer for the relay's own modules: request bodies,
 *		canonical requests, log lines.  Always NUL-terminated.
 *
 * Appends return 0 or -1 (out of memory); the buffer stays valid either way.
 */
#ifndef RELAY_BUF_H
#define RELAY_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct buf
{
	char *data; /* NUL-terminated, NULL until first append */
	size_t len; /* bytes used, excluding the NUL */
	size_t cap; /* bytes allocated */
} buf;

#define BUF_INIT                                                                                   \
	{                                                                                              \
		NULL, 0, 0                                                                                 \
	}

int buf_reserve(buf *b, size_t extra);
int buf_append(buf *b, const void *data, size_t len);
int buf_puts(buf *b, const char *s);
int buf_putc(buf *b, char c);
int buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_json_string(buf *b, const char *s, size_t len);
void buf_reset(buf *b);
void buf_free(buf *b);
/* Hand the string over to the caller (never NULL on success). */
char *buf_steal(buf *b);

#endif
