/*
 * s3_xml.c
 *		Element text extraction for S3 responses (see s3_xml.h).
 */
#include "s3_xml.h"
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Append the UTF-8 encoding of code point cp. */
static void
s_utf8(buf *b, unsigned long cp)
{
	if (cp < 0x80)
		buf_putc(b, (char) cp);
	else if (cp < 0x800)
	{
		buf_putc(b, (char) (0xC0 | (cp >> 6)));
		buf_putc(b, (char) (0x80 | (cp & 0x3F)));
	}
	else if (cp < 0x10000)
	{
		buf_putc(b, (char) (0xE0 | (cp >> 12)));
		buf_putc(b, (char) (0x80 | ((cp >> 6) & 0x3F)));
		buf_putc(b, (char) (0x80 | (cp & 0x3F)));
	}
	else
	{
		buf_putc(b, (char) (0xF0 | (cp >> 18)));
		buf_putc(b, (char) (0x80 | ((cp >> 12) & 0x3F)));
		buf_putc(b, (char) (0x80 | ((cp >> 6) & 0x3F)));
		buf_putc(b, (char) (0x80 | (cp & 0x3F)));
	}
}

static const struct
{
	const char *name;
	char c;
} s_ents[] = {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}};

/*
 * The reference starting at s[i] == '&': its character (*c) or code point
 * (*cp, *c = 0), and its length.  0 if it is not one XML allows: an unknown
 * entity, an unterminated one, or a character reference to NUL, a surrogate
 * or beyond U+10FFFF (XML 1.0's Char production).
 */
static size_t
s_ref(const char *s, size_t len, size_t i, char *c, unsigned long *cp)
{
	size_t k, j, n;
	int base = 10, d;

	for (k = 0; k < sizeof(s_ents) / sizeof(s_ents[0]); k++)
	{
		n = strlen(s_ents[k].name);
		if (i + 1 + n <= len && strncmp(s + i + 1, s_ents[k].name, n) == 0)
		{
			*c = s_ents[k].c;
			return 1 + n;
		}
	}
	if (i + 2 >= len || s[i + 1] != '#')
		return 0;
	j = i + 2;
	if (s[j] == 'x')
	{
		base = 16;
		j++;
	}
	*c = 0;
	*cp = 0;
	for (n = j; n < len && s[n] != ';'; n++)
	{
		if (s[n] >= '0' && s[n] <= '9')
			d = s[n] - '0';
		else if (base == 16 && s[n] >= 'a' && s[n] <= 'f')
			d = s[n] - 'a' + 10;
		else if (base == 16 && s[n] >= 'A' && s[n] <= 'F')
			d = s[n] - 'A' + 10;
		else
			return 0;
		*cp = *cp * (unsigned long) base + (unsigned long) d;
		if (*cp > 0x10FFFF)
			return 0;
	}
	if (n == j || n >= len || *cp == 0 || (*cp >= 0xD800 && *cp <= 0xDFFF) || *cp == 0xFFFE ||
		*cp == 0xFFFF)
		return 0;
	return n + 1 - i;
}

/* The decoded text, or NULL if it holds a reference XML does not allow. */
static char *
s_decode(const char *s, size_t len)
{
	buf b = BUF_INIT;
	size_t i = 0;

	buf_reserve(&b, len);
	while (i < len)
	{
		if (s[i] == '&')
		{
			char c;
			unsigned long cp;
			size_t n = s_ref(s, len, i, &c, &cp);

			if (n == 0)
			{
				buf_free(&b);
				return NULL;
			}
			if (c)
				buf_putc(&b, c);
			else
				s_utf8(&b, cp);
			i += n;
			continue;
		}
		buf_putc(&b, s[i]);
		i++;
	}
	if (b.data == NULL)
		buf_puts(&b, "");
	return buf_steal(&b);
}

bool
s3_xml_check(const char *body, char *err, size_t errlen)
{
	const char *b = body ? body : "";
	const char *p = b;
	size_t len = strlen(b);
	char c;
	unsigned long cp;

	while ((p = memchr(p, '&', len - (size_t) (p - b))) != NULL)
	{
		if (s_ref(b, len, (size_t) (p - b), &c, &cp) == 0)
		{
			snprintf(err, errlen, "malformed XML: bad reference \"%.12s\"", p);
			return false;
		}
		p++;
	}
	return true;
}

char *
s3_xml_next(const char **cursor, const char *end, const char *tag)
{
	char open[128], close[128];
	const char *p, *q;
	size_t olen;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	olen = strlen(open);
	p = strstr(*cursor, open);
	if (p == NULL || (end && p + olen > end))
		return NULL;
	p += olen;
	q = strstr(p, close);
	if (q == NULL || (end && q > end))
		return NULL;
	*cursor = q + strlen(close);
	return s_decode(p, (size_t) (q - p));
}

static void
s_copy(char *dst, size_t dstlen, char *src)
{
	if (dstlen)
		snprintf(dst, dstlen, "%s", src ? src : "");
	free(src);
}

bool
s3_xml_error(const char *body, char *code, size_t codelen, char *msg, size_t msglen)
{
	const char *p = body;
	const char *cur;

	if (p == NULL)
		return false;
	/* skip whitespace, the XML declaration and comments before the root */
	for (;;)
	{
		p += strspn(p, " \t\r\n");
		if (strncmp(p, "<?", 2) == 0 && (p = strstr(p, "?>")) != NULL)
			p += 2;
		else if (p && strncmp(p, "<!--", 4) == 0 && (p = strstr(p, "-->")) != NULL)
			p += 3;
		else
			break;
	}
	if (p == NULL || strncmp(p, "<Error", 6) != 0 || (p[6] != '>' && p[6] != ' '))
		return false;
	cur = p;
	s_copy(code, codelen, s3_xml_next(&cur, NULL, "Code"));
	cur = p;
	s_copy(msg, msglen, s3_xml_next(&cur, NULL, "Message"));
	return true;
}
