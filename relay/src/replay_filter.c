/*
 * replay_filter.c
 *		Envelope filtering for replay (see replay_filter.h).  A small JSON
 *		scanner rather than a parser: it only walks the top level of one
 *		object, skipping nested values, so no allocation per event.
 */
#include "replay_filter.h"
#include "s3_object.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Skip a JSON string starting at p (on the quote); returns past it or NULL. */
static const char *
s_skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++)
	{
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

/* Skip any JSON value starting at p; returns past it or NULL. */
static const char *
s_skip_value(const char *p, const char *end)
{
	int depth = 0;

	while (p < end)
	{
		char c = *p;

		if (c == '"')
		{
			p = s_skip_string(p, end);
			if (p == NULL)
				return NULL;
			if (depth == 0)
				return p;
			continue;
		}
		if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']')
		{
			if (depth == 0)
				return p; /* end of the enclosing object: scalar ended */
			if (--depth == 0)
				return p + 1;
		}
		else if (depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r'))
			return p;
		p++;
	}
	return depth == 0 ? p : NULL;
}

static int
s_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Four hex digits (checked by the caller, or any non-hex gives > 0xFFFF). */
static unsigned
s_u4(const char *p)
{
	int h[4] = {s_hex(p[0]), s_hex(p[1]), s_hex(p[2]), s_hex(p[3])};

	if (h[0] < 0 || h[1] < 0 || h[2] < 0 || h[3] < 0)
		return 0x10000;
	return (unsigned) (h[0] << 12 | h[1] << 8 | h[2] << 4 | h[3]);
}

/* Decode the JSON string at p (on the quote) into out. */
static bool
s_decode(const char *p, const char *end, char *out, size_t outlen)
{
	size_t n = 0;

	for (p++; p < end && *p != '"'; p++)
	{
		unsigned cp;

		if (n + 4 >= outlen)
			return false;
		if (*p != '\\')
		{
			out[n++] = *p;
			continue;
		}
		if (++p >= end)
			return false;
		switch (*p)
		{
			case 'n':
				out[n++] = '\n';
				break;
			case 't':
				out[n++] = '\t';
				break;
			case 'r':
				out[n++] = '\r';
				break;
			case 'b':
				out[n++] = '\b';
				break;
			case 'f':
				out[n++] = '\f';
				break;
			case 'u':
				if (end - p < 5 || s_hex(p[1]) < 0 || s_hex(p[2]) < 0 || s_hex(p[3]) < 0 ||
					s_hex(p[4]) < 0)
					return false;
				cp = s_u4(p + 1);
				p += 4;
				/* a surrogate pair is one code point; a lone surrogate is U+FFFD (as ddb_jv) */
				if (cp >= 0xD800 && cp <= 0xDBFF && end - p >= 7 && p[1] == '\\' && p[2] == 'u' &&
					s_u4(p + 3) >= 0xDC00 && s_u4(p + 3) <= 0xDFFF)
				{
					cp = 0x10000 + ((cp - 0xD800) << 10) + (s_u4(p + 3) - 0xDC00);
					p += 6;
				}
				else if (cp >= 0xD800 && cp <= 0xDFFF)
					cp = 0xFFFD;
				/* a NUL cannot be part of a C string: not a usable value */
				if (cp == 0)
					return false;
				if (cp < 0x80)
					out[n++] = (char) cp;
				else if (cp < 0x800)
				{
					out[n++] = (char) (0xC0 | (cp >> 6));
					out[n++] = (char) (0x80 | (cp & 0x3F));
				}
				else if (cp < 0x10000)
				{
					out[n++] = (char) (0xE0 | (cp >> 12));
					out[n++] = (char) (0x80 | ((cp >> 6) & 0x3F));
					out[n++] = (char) (0x80 | (cp & 0x3F));
				}
				else
				{
					out[n++] = (char) (0xF0 | (cp >> 18));
					out[n++] = (char) (0x80 | ((cp >> 12) & 0x3F));
					out[n++] = (char) (0x80 | ((cp >> 6) & 0x3F));
					out[n++] = (char) (0x80 | (cp & 0x3F));
				}
				break;
			default:
				out[n++] = *p; /* \" \\ \/ */
				break;
		}
	}
	if (p >= end)
		return false;
	out[n] = '\0';
	return true;
}

bool
replay_json_string(const char *json, size_t len, const char *name, char *out, size_t outlen)
{
	const char *p = json, *end = json + len;
	size_t nlen = strlen(name);

	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	if (p >= end || *p != '{')
		return false;
	p++;
	for (;;)
	{
		const char *k, *kend;

		while (p < end && (*p == ' ' || *p == ',' || *p == '\t' || *p == '\r' || *p == '\n'))
			p++;
		if (p >= end || *p != '"')
			return false; /* '}' or garbage: not found */
		k = p + 1;
		p = s_skip_string(p, end);
		if (p == NULL)
			return false;
		kend = p - 1;
		while (p < end && (*p == ' ' || *p == ':'))
			p++;
		if (p >= end)
			return false;
		if ((size_t) (kend - k) == nlen && memcmp(k, name, nlen) == 0)
			return *p == '"' && s_decode(p, end, out, outlen);
		p = s_skip_value(p, end);
		if (p == NULL)
			return false;
	}
}

bool
replay_filter_match(const replay_filter *f, const char *json, size_t len)
{
	char v[512];

	if (f->aggregate_id && (!replay_json_string(json, len, "aggregate_id", v, sizeof(v)) ||
							strcmp(v, f->aggregate_id) != 0))
		return false;
	if (f->aggregate_type && (!replay_json_string(json, len, "aggregate_type", v, sizeof(v)) ||
							  strcmp(v, f->aggregate_type) != 0))
		return false;
	if (f->has_since || f->has_until)
	{
		time_t t;

		if (!s3_event_time(json, len, &t))
			return false;
		if (f->has_since && t < f->since)
			return false;
		if (f->has_until && t >= f->until)
			return false;
	}
	return true;
}

bool
replay_filter_partition(const replay_filter *f, time_t partition)
{
	if (f->has_since && partition + 3600 <= f->since)
		return false;
	if (f->has_until && partition >= f->until)
		return false;
	return true;
}

int
replay_parse_time(const char *s, time_t *out)
{
	char full[64];
	size_t len = strlen(s);

	/* complete the shorter forms to YYYY-MM-DDTHH:MM:SSZ */
	if (len == 10)
		snprintf(full, sizeof(full), "%sT00:00:00Z", s);
	else if (len == 13)
		snprintf(full, sizeof(full), "%s:00:00Z", s);
	else if (len == 16 || (len == 17 && s[16] == 'Z'))
		snprintf(full, sizeof(full), "%.16s:00Z", s);
	else
		snprintf(full, sizeof(full), "%s", s);
	len = strlen(full);
	if (len < 20 || (full[len - 1] != 'Z' && strcmp(full + len - 6, "+00:00") != 0))
		return -1;
	*out = s3_parse_time(full, len);
	return *out == (time_t) -1 ? -1 : 0;
}
