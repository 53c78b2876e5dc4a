/*
 * buf.c
 *		Growable byte buffer (see buf.h).
 */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
buf_reserve(buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	size_t cap;
	char *p;

	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	p = realloc(b->data, cap);
	if (p == NULL)
		return -1;
	b->data = p;
	b->cap = cap;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_append(buf *b, const void *data, size_t len)
{
	if (buf_reserve(b, len) < 0)
		return -1;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_puts(buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_putc(buf *b, char c)
{
	return buf_append(b, &c, 1);
}

int
buf_printf(buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_reserve(b, (size_t) n) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t) n;
	return 0;
}

/* Append s as a JSON string literal, quotes included. */
int
buf_json_string(buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, start = 0;

	if (buf_putc(b, '"') < 0)
		return -1;
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];
		char esc[7];
		size_t n = 0;

		if (c == '"' || c == '\\')
		{
			esc[0] = '\\';
			esc[1] = (char) c;
			n = 2;
		}
		else if (c == '\n')
			memcpy(esc, "\\n", n = 2);
		else if (c == '\r')
			memcpy(esc, "\\r", n = 2);
		else if (c == '\t')
			memcpy(esc, "\\t", n = 2);
		else if (c < 0x20)
		{
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			n = 6;
		}
		if (n)
		{
			if (buf_append(b, s + start, i - start) < 0 || buf_append(b, esc, n) < 0)
				return -1;
			start = i + 1;
		}
	}
	if (buf_append(b, s + start, len - start) < 0)
		return -1;
	return buf_putc(b, '"');
}

void
buf_reset(buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void
buf_free(buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *
buf_steal(buf *b)
{
	char *s;

	if (b->data == NULL)
	{
		if (buf_reserve(b, 0) < 0)
			return NULL;
		b->data[0] = '\0';
	}
	s = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}
