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

size_t
buf_utf8_seq(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *) str;
	unsigned c, cp, min;
	size_t j, k;

	if (n == 0)
		return 0;
	c = s[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		k = 1, cp = c & 0x1F, min = 0x80;
	else if ((c & 0xF0) == 0xE0)
		k = 2, cp = c & 0x0F, min = 0x800;
	else if (c >= 0xF0 && c <= 0xF4)
		k = 3, cp = c & 0x07, min = 0x10000;
	else
		return 0;
	if (n <= k)
		return 0;
	for (j = 1; j <= k; j++)
	{
		if ((s[j] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[j] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return k + 1;
}

static void
s_json_string(buf *b, const char *s, size_t len, bool utf8)
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

		if (c >= 0x80 && utf8)
		{
			size_t n = buf_utf8_seq(s + i, len - i);

			if (n > 0)
			{
				i += n - 1;
				continue;
			}
			/* U+FFFD for each byte that does not start a valid sequence */
			buf_append(b, s + run, i - run);
			buf_append(b, "\xEF\xBF\xBD", 3);
			run = i + 1;
			continue;
		}
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
buf_json_string(buf *b, const char *s, size_t len)
{
	s_json_string(b, s, len, false);
}

void
buf_json_string_utf8(buf *b, const char *s, size_t len)
{
	s_json_string(b, s, len, true);
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
