/*
 * buf.h
 *		The relay's one growable byte buffer: request and response bodies,
 *		envelopes, canonical requests, log lines.  Always NUL-terminated
 *		while not failed.
 *
 * Failure convention: an allocation failure sets a sticky flag and every
 * later append is a no-op, so text is built without a check per call and
 * tested once with buf_failed() (buf_steal() then returns NULL).  Only
 * buf_reserve(), for callers that write into data directly, returns -1.
 */
#ifndef RELAY_BUF_H
#define RELAY_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct buf
{
	char *data;	 /* NUL-terminated, NULL until first append */
	size_t len;	 /* bytes used, excluding the NUL */
	size_t cap;	 /* bytes allocated */
	bool failed; /* an allocation failed: contents invalid */
} buf;

#define BUF_INIT                                                                                   \
	{                                                                                              \
		NULL, 0, 0, false                                                                          \
	}

void buf_init(buf *b);
/* Room for extra more bytes (plus the NUL); 0, or -1 and failed set. */
int buf_reserve(buf *b, size_t extra);
void buf_append(buf *b, const void *data, size_t len);
void buf_puts(buf *b, const char *s);
void buf_putc(buf *b, char c);
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Append s (len bytes) as a JSON string literal, quotes included, escaped
 * exactly as the extension's envelope writer does (src/jsonb_compact.c):
 * '"', '\\', \b \f \n \r \t by name, other bytes below 0x20 as \u00XX,
 * everything else (UTF-8, '/', DEL) byte for byte.
 */
void buf_json_string(buf *b, const char *s, size_t len);
/*
 * The same, for text that may not be UTF-8 (error messages, answers, for the
 * log): each byte that does not start a valid UTF-8 sequence (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF, nothing cut short)
 * becomes U+FFFD, so the literal is always valid UTF-8 JSON.
 */
void buf_json_string_utf8(buf *b, const char *s, size_t len);
/* The length of the valid UTF-8 sequence at s[0..n), or 0 if none starts there. */
size_t buf_utf8_seq(const char *s, size_t n);
/* Empty the buffer (and clear failed), keeping its memory. */
void buf_reset(buf *b);
void buf_free(buf *b);

static inline bool
buf_failed(const buf *b)
{
	return b->failed;
}

/* Hand the string over to the caller: NULL if failed, else never NULL. */
char *buf_steal(buf *b);

#endif
