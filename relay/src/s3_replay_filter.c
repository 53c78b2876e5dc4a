/*
 * s3_replay_filter.c
 *		Envelope filtering for replay (see s3_replay_filter.h).  A small JSON
 *		scanner rather than a parser: it only walks the top level of one
 *		object, skipping nested values, so no allocation per event.
 */
#include "s3_replay_filter.h"
#include "codec.h"
#include "json.h"
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

/* Decode the JSON string at p (on the quote) into out, by the one JSON reader's rules. */
static bool
s_decode(const char *p, const char *end, char *out, size_t outlen)
{
	const char *q = s_skip_string(p, end);
	const char *s;
	size_t n;

	/* the literal is copied first: it is decoded in place, and never grows */
	if (q == NULL || (size_t) (q - p) > outlen)
		return false;
	memcpy(out, p, (size_t) (q - p));
	/* a NUL cannot be part of a C string: not a usable value */
	if (jv_string_decode(out, (size_t) (q - p), &s, &n) != 0 || n >= outlen || memchr(s, '\0', n))
		return false;
	memmove(out, s, n + 1);
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
	*out = codec_iso8601(full, len, NULL);
	return *out == (time_t) -1 ? -1 : 0;
}
