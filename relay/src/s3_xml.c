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

static char *
s_decode(const char *s, size_t len)
{
	static const struct
	{
		const char *name;
		char c;
	} ents[] = {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}};
	buf b = BUF_INIT;
	size_t i = 0;

	buf_reserve(&b, len);
	while (i < len)
	{
		if (s[i] == '&')
		{
			size_t k;
			bool done = false;

			for (k = 0; k < sizeof(ents) / sizeof(ents[0]); k++)
			{
				size_t n = strlen(ents[k].name);

				if (i + 1 + n <= len && strncmp(s + i + 1, ents[k].name, n) == 0)
				{
					buf_putc(&b, ents[k].c);
					i += 1 + n;
					done = true;
					break;
				}
			}
			if (!done && i + 2 < len && s[i + 1] == '#')
			{
				char *endp;
				unsigned long cp;

				if (s[i + 2] == 'x' || s[i + 2] == 'X')
					cp = strtoul(s + i + 3, &endp, 16);
				else
					cp = strtoul(s + i + 2, &endp, 10);
				if ((size_t) (endp - s) < len && *endp == ';' && cp <= 0x10FFFF)
				{
					s_utf8(&b, cp);
					i = (size_t) (endp - s) + 1;
					done = true;
				}
			}
			if (done)
				continue;
		}
		buf_putc(&b, s[i]);
		i++;
	}
	if (b.data == NULL)
		buf_puts(&b, "");
	return buf_steal(&b);
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
