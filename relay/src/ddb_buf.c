/*
 * ddb_buf.c
 *		Growable byte buffer used to build envelopes and API requests of the
 *		DynamoDB path (see ddb_buf.h).
 */
#include "ddb_buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
ddb_buf_init(ddb_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void
ddb_buf_free(ddb_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void
ddb_buf_reset(ddb_buf *b)
{
	b->len = 0;
	b->failed = 0;
	if (b->data)
		b->data[0] = '\0';
}

int
ddb_buf_reserve(ddb_buf *b, size_t extra)
{
	size_t need;
	size_t cap;
	char *p;

	if (b->failed)
		return -1;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	p = realloc(b->data, cap);
	if (p == NULL)
	{
		b->failed = 1;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

void
ddb_buf_append(ddb_buf *b, const char *s, size_t n)
{
	if (ddb_buf_reserve(b, n) != 0)
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
ddb_buf_puts(ddb_buf *b, const char *s)
{
	ddb_buf_append(b, s, strlen(s));
}

void
ddb_buf_putc(ddb_buf *b, char c)
{
	if (ddb_buf_reserve(b, 1) != 0)
		return;
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

void
ddb_buf_printf(ddb_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || ddb_buf_reserve(b, (size_t) n) != 0)
	{
		b->failed = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t) n;
}

/*
 * JSON string escaping.  Only what RFC 8259 requires is escaped (plus DEL
 * left alone): '/' and non-ASCII pass through, so UTF-8 text (and the emoji
 * in real stream ARNs) is copied byte for byte and the output stays one line.
 */
void
ddb_buf_json_string(ddb_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;
	size_t run = 0;

	if (ddb_buf_reserve(b, n + 2) != 0)
		return;
	ddb_buf_putc(b, '"');
	for (i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];
		char esc[6];
		size_t elen = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		ddb_buf_append(b, s + run, i - run);
		run = i + 1;
		esc[0] = '\\';
		switch (c)
		{
			case '"':
				esc[1] = '"';
				break;
			case '\\':
				esc[1] = '\\';
				break;
			case '\n':
				esc[1] = 'n';
				break;
			case '\r':
				esc[1] = 'r';
				break;
			case '\t':
				esc[1] = 't';
				break;
			case '\b':
				esc[1] = 'b';
				break;
			case '\f':
				esc[1] = 'f';
				break;
			default:
				esc[1] = 'u';
				esc[2] = '0';
				esc[3] = '0';
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 0xf];
				elen = 6;
				break;
		}
		ddb_buf_append(b, esc, elen);
	}
	ddb_buf_append(b, s + run, n - run);
	ddb_buf_putc(b, '"');
}
