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

/* Proleptic Gregorian date of a day number (0 = 1970-01-01), any year. */
static void
s_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int) (doy - (153 * mp + 2) / 5 + 1);
	*m = (int) (mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

void
codec_time_json(buf *out, int64_t secs, int32_t usec)
{
	int64_t days = secs / 86400, rem = secs % 86400, y;
	int m, d;

	if (rem < 0)
	{
		rem += 86400;
		days--;
	}
	s_civil_from_days(days, &y, &m, &d);
	/* the plugin's "%04d": the astronomical year, so 1 BC is 0000 and 44 BC is -043 */
	buf_printf(out, "\"%04d-%02d-%02dT%02d:%02d:%02d.%06dZ\"", (int) y, m, d, (int) (rem / 3600),
			   (int) (rem / 60 % 60), (int) (rem % 60), (int) usec);
}
