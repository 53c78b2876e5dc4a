/*
 * codec.c
 *		base64, hex and ISO-8601 (see codec.h).
 */
#include "codec.h"

#include <string.h>

#include <openssl/evp.h>

size_t
codec_base64_to(const void *data, size_t len, char *out)
{
	return (size_t) EVP_EncodeBlock((unsigned char *) out, data, (int) len);
}

void
codec_base64(buf *b, const void *data, size_t len)
{
	if (buf_reserve(b, (len + 2) / 3 * 4) < 0)
		return;
	b->len += codec_base64_to(data, len, b->data + b->len);
}

int
codec_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void
codec_hex(const void *data, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *in = data;
	size_t i;

	for (i = 0; i < len; i++)
	{
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * len] = '\0';
}

static int
s_digits(const char *s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* timegm would take 2026-02-31 for 2026-03-03 */
static int
s_days_in_month(int y, int mo)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (mo == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[mo - 1];
}

time_t
codec_iso8601(const char *s, size_t len, int32_t *usec)
{
	struct tm tm;
	int y, mo, d, h, mi, sec;
	int32_t us = 0, scale = 100000;
	size_t i;

	if (len < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' ||
		s[16] != ':')
		return (time_t) -1;
	y = s_digits(s, 4);
	mo = s_digits(s + 5, 2);
	d = s_digits(s + 8, 2);
	h = s_digits(s + 11, 2);
	mi = s_digits(s + 14, 2);
	sec = s_digits(s + 17, 2);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > s_days_in_month(y, mo) || h < 0 || h > 23 ||
		mi < 0 || mi > 59 || sec < 0 || sec > 60)
		return (time_t) -1;
	if (len > 19 && s[19] == '.')
		for (i = 20; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		{
			us += (s[i] - '0') * scale;
			scale /= 10;
		}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if (usec)
		*usec = us;
	return timegm(&tm);
}
