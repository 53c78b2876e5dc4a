/*
 * buf.c
 *		Growable byte buffer (see buf.h).
 */
#include "buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
buf_init(buf *b)
{
	memset(b, 0, sizeof(*b));
}

int
buf_reserve(buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	size_t cap;
	char *p;

	if (b->failed)
		return -1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need && cap <= SIZE_MAX / 2)
		cap *= 2;
	p = extra >= SIZE_MAX / 2 - b->len || cap < need ? NULL : realloc(b->data, cap);
	if (p == NULL)
	{
		b->failed = true;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	b->data[b->len] = '\0';
	return 0;
}

void
buf_append(buf *b, const void *data, size_t len)
{
	if (buf_reserve(b, len) < 0)
		return;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void
buf_puts(buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void
buf_putc(buf *b, char c)
{
	if (buf_reserve(b, 1) < 0)
		return;
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

void
buf_printf(buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		b->failed = true;
	if (n < 0 || buf_reserve(b, (size_t) n) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t) n;
}

void
buf_json_string(buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	if (buf_reserve(b, len + 2) < 0)
		return;
	buf_putc(b, '"');
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];
		char esc[6] = {'\\', 0, '0', '0', 0, 0};
		size_t elen = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_append(b, s + run, i - run);
		run = i + 1;
		switch (c)
		{
			case '"':
			case '\\':
				esc[1] = (char) c;
				break;
			case '\b':
				esc[1] = 'b';
				break;
			case '\f':
				esc[1] = 'f';
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
			default:
				esc[1] = 'u';
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 0xf];
				elen = 6;
				break;
		}
		buf_append(b, esc, elen);
	}
	buf_append(b, s + run, len - run);
	buf_putc(b, '"');
}

void
buf_reset(buf *b)
{
	b->len = 0;
	b->failed = false;
	if (b->data)
		b->data[0] = '\0';
}

void
buf_free(buf *b)
{
	free(b->data);
	buf_init(b);
}

char *
buf_steal(buf *b)
{
	char *s;

	if (b->failed || buf_reserve(b, 0) < 0)
	{
		buf_free(b);
		return NULL;
	}
	s = b->data;
	buf_init(b);
	return s;
}
