/*
 * pg_message.c
 *		Parsing the plugin's messages (see pg_message.h).
 *
 * Fast path: the plugin writes "aggregate_id" first and as a plain uuid
 * string, so an event starts with {"aggregate_id":"<key>".  Anything else
 * (another producer, a reordered object) goes through the JSON reader (json.c).  Markers are
 * produced by our plugin in a fixed flat shape; their fields are found by
 * name.
 */
#include "pg_message.h"
#include "codec.h"
#include "json.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EVENT_PREFIX  "{\"aggregate_id\":\""
#define MARKER_PREFIX "{\"kind\":\""

/* At most n bytes of a message for an error text ("%.*s": no NUL needed). */
#define S_SHOW(data, len, n) (int) ((len) < (n) ? (len) : (n)), (data)

/* One half of an LSN: 1 to 8 hex digits of s[*i..len) up to stop (or the end). */
static int
s_lsn_half(const char *s, size_t len, size_t *i, char stop, uint64_t *out)
{
	int nd = 0;

	*out = 0;
	for (; *i < len && s[*i] != stop; (*i)++, nd++)
	{
		int v = codec_hex_digit(s[*i]);

		if (v < 0 || nd >= 8)
			return -1;
		*out = *out * 16 + (uint64_t) v;
	}
	return nd == 0 ? -1 : 0;
}

int
lsn_parse(const char *s, size_t len, uint64_t *out)
{
	uint64_t hi, lo;
	size_t i = 0;

	if (s_lsn_half(s, len, &i, '/', &hi) < 0 || i >= len)
		return -1;
	i++;
	if (s_lsn_half(s, len, &i, '/', &lo) < 0 || i != len)
		return -1;
	*out = (hi << 32) | lo;
	return 0;
}

void
lsn_format(uint64_t lsn, char out[32])
{
	snprintf(out, 32, "%X/%X", (unsigned int) (lsn >> 32), (unsigned int) lsn);
}

int64_t
pg_message_time_us(const char *s, size_t len)
{
	int32_t us;
	time_t t = codec_iso8601(s, len, &us);

	return t < 0 ? 0 : (int64_t) t * 1000000 + us;
}

/* A decimal integer at s[0..len) (sign allowed, digits up to the first non-digit). */
static int64_t
s_int64(const char *s, size_t len)
{
	size_t i = 0;
	int64_t v = 0;
	bool neg = false;

	if (i < len && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
	{
		if (v > (INT64_MAX - (s[i] - '0')) / 10)
			return neg ? INT64_MIN : INT64_MAX; /* saturate like strtoll */
		v = v * 10 + (s[i] - '0');
	}
	return neg ? -v : v;
}

/* Find "name":" in a flat marker and return the string value's span. */
static const char *
s_marker_str(const char *data, size_t len, const char *name, size_t *vlen)
{
	char pat[40];
	size_t plen = (size_t) snprintf(pat, sizeof(pat), "\"%s\":\"", name);
	const char *p = memmem(data, len, pat, plen);
	const char *end;

	if (p == NULL)
		return NULL;
	p += plen;
	end = memchr(p, '"', len - (size_t) (p - data));
	if (end == NULL)
		return NULL;
	*vlen = (size_t) (end - p);
	return p;
}

static int
s_parse_marker(const char *data, size_t len, plugin_msg *m, char *err, size_t errlen)
{
	const char *kind = data + strlen(MARKER_PREFIX);
	const char *v;
	size_t vlen;

	if (len > strlen(MARKER_PREFIX) + 7 && strncmp(kind, "begin\"", 6) == 0)
		m->kind = PM_BEGIN;
	else if (len > strlen(MARKER_PREFIX) + 8 && strncmp(kind, "commit\"", 7) == 0)
		m->kind = PM_COMMIT;
	else
	{
		snprintf(err, errlen, "unknown marker kind in \"%.*s\"", S_SHOW(data, len, 60));
		return -1;
	}
	v = s_marker_str(data, len, "lsn", &vlen);
	if (v == NULL || lsn_parse(v, vlen, &m->lsn) < 0)
	{
		snprintf(err, errlen, "marker without a valid \"lsn\": \"%.*s\"", S_SHOW(data, len, 80));
		return -1;
	}
	v = s_marker_str(data, len, "end_lsn", &vlen);
	if (v && lsn_parse(v, vlen, &m->end_lsn) < 0)
	{
		snprintf(err, errlen, "marker with an invalid \"end_lsn\": \"%.*s\"",
				 S_SHOW(data, len, 80));
		return -1;
	}
	v = s_marker_str(data, len, "commit_time", &vlen);
	if (v && codec_iso8601(v, vlen, NULL) == (time_t) -1)
	{
		/* a wrong time would file the transaction under a wrong archive hour */
		snprintf(err, errlen,
				 "marker with an invalid \"commit_time\" (not an ISO 8601 UTC time): \"%.*s\"",
				 S_SHOW(data, len, 120));
		return -1;
	}
	if (v)
		m->commit_time_us = pg_message_time_us(v, vlen);
	v = memmem(data, len, "\"events\":", 9);
	if (v)
		m->events = s_int64(v + 9, len - (size_t) (v + 9 - data));
	return 0;
}

/* Slow path: a full JSON parse to find aggregate_id. */
static int
s_parse_event_json(const char *data, size_t len, plugin_msg *m, char *err, size_t errlen)
{
	char *copy = malloc(len + 1);
	char perr[128];
	const jv *v;
	jv_doc d;
	int rc = -1;

	if (copy == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* parsed in place: the message itself goes to the sinks as it is */
	memcpy(copy, data, len);
	copy[len] = '\0';
	jv_doc_init(&d);
	if (jv_parse(&d, copy, len, perr, sizeof(perr)) != 0 || !jv_is(d.root, JV_OBJECT))
	{
		snprintf(err, errlen, "not a JSON object: \"%.*s\"", S_SHOW(data, len, 80));
		goto done;
	}
	if (jv_get(d.root, "kind"))
	{
		snprintf(err, errlen, "unexpected message \"%.*s\"", S_SHOW(data, len, 80));
		goto done;
	}
	v = jv_get(d.root, "aggregate_id");
	if (v == NULL || jv_is(v, JV_NULL))
	{
		snprintf(err, errlen, "event without \"aggregate_id\": \"%.*s\"", S_SHOW(data, len, 80));
		goto done;
	}
	/* a string key may hold \u0000; a number is its text */
	if (!jv_is(v, JV_STRING) && !jv_is(v, JV_NUMBER))
	{
		snprintf(err, errlen, "event whose \"aggregate_id\" is not a string or a number: \"%.*s\"",
				 S_SHOW(data, len, 80));
		goto done;
	}
	m->key_len = v->len;
	if (m->key_len >= sizeof(m->keybuf))
		m->key_len = sizeof(m->keybuf) - 1; /* too long for Kinesis anyway: dead letter */
	memcpy(m->keybuf, v->u.s, m->key_len);
	m->keybuf[m->key_len] = '\0';
	m->key = m->keybuf;
	m->kind = PM_EVENT;
	rc = 0;

done:
	jv_doc_free(&d);
	free(copy);
	return rc;
}

long long
pg_message_version(const char *data, size_t len)
{
	static const char name[] = ",\"version\":";
	const char *p = memmem(data, len, name, sizeof(name) - 1);
	const char *end = data + len;
	long long v = 0;

	if (p == NULL)
		return -1;
	p += sizeof(name) - 1;
	if (p >= end || *p < '0' || *p > '9')
		return -1;
	for (; p < end && *p >= '0' && *p <= '9'; p++)
	{
		if (v > (LLONG_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v;
}

int
pg_message_parse(const char *data, size_t len, plugin_msg *m, char *err, size_t errlen)
{
	static const size_t eplen = sizeof(EVENT_PREFIX) - 1;
	static const size_t mplen = sizeof(MARKER_PREFIX) - 1;

	m->key = NULL;
	m->key_len = 0;
	m->lsn = m->end_lsn = 0;
	m->commit_time_us = 0;
	m->events = -1;
	if (len > eplen && memcmp(data, EVENT_PREFIX, eplen) == 0)
	{
		const char *k = data + eplen;
		const char *end = memchr(k, '"', len - eplen);

		/* a backslash means an escaped key: let the JSON reader unescape it */
		if (end && memchr(k, '\\', (size_t) (end - k)) == NULL)
		{
			m->kind = PM_EVENT;
			m->key = k;
			m->key_len = (size_t) (end - k);
			return 0;
		}
	}
	else if (len > mplen && memcmp(data, MARKER_PREFIX, mplen) == 0)
		return s_parse_marker(data, len, m, err, errlen);
	return s_parse_event_json(data, len, m, err, errlen);
}
