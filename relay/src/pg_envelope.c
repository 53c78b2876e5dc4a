/*
 * pg_envelope.c
 *		The envelope of a row of eventstore.events in text form (see
 *		pg_envelope.h), written as src/envelope.c writes it.
 *
 * Every column is checked while it is copied (one pass, no allocation but
 * the output buffer): a row that is not in the documented text form is an
 * error, never a malformed envelope on the stream.
 */
#include "pg_envelope.h"
#include "codec.h"
#include "pg_message.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const pg_envelope_column_names[PGE_NCOLUMNS] = {
	"aggregate_id", "aggregate_type", "version",  "event_id",
	"type",			"data",			  "metadata", "recorded_at",
};

#define S_ISDIGIT(c) ((c) >= '0' && (c) <= '9')

static int
s_err(char *err, size_t errlen, const char *what, const char *s, size_t len)
{
	snprintf(err, errlen, "%s: \"%.*s\"", what, (int) (len < 60 ? len : 60), s);
	return -1;
}

/* --- times ------------------------------------------------------------------ */

/* Days since 1970-01-01 of a proleptic Gregorian date (y astronomical: 0 = 1 BC). */
static int64_t
s_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
pg_envelope_time_us(buf *out, int64_t unix_us)
{
	int64_t secs, us;

	if (unix_us == PG_ENVELOPE_NO_TIME)
	{
		buf_append(out, "null", 4);
		return;
	}
	secs = unix_us / 1000000;
	us = unix_us % 1000000;
	if (us < 0)
	{
		us += 1000000;
		secs--;
	}
	codec_time_json(out, secs, (int32_t) us);
}

/* n digits at s[*i] as a number; -1 if they are not all digits. */
static int64_t
s_digits(const char *s, size_t len, size_t *i, size_t n)
{
	int64_t v = 0;

	if (*i + n > len)
		return -1;
	for (size_t k = 0; k < n; k++)
	{
		if (!S_ISDIGIT(s[*i + k]))
			return -1;
		v = v * 10 + (s[*i + k] - '0');
	}
	*i += n;
	return v;
}

static bool
s_lit(const char *s, size_t len, size_t *i, const char *lit)
{
	size_t n = strlen(lit);

	if (*i + n > len || memcmp(s + *i, lit, n) != 0)
		return false;
	*i += n;
	return true;
}

int
pg_envelope_timestamptz(buf *out, const char *s, size_t len, char *err, size_t errlen)
{
	size_t i = 0, ny, nf = 0;
	int64_t year, mon, day, hh, mi, ss, usec = 0, off = 0;
	bool bc = false;

	if ((len == 8 && memcmp(s, "infinity", 8) == 0) || (len == 9 && memcmp(s, "-infinity", 9) == 0))
	{
		buf_append(out, "null", 4);
		return 0;
	}
	for (ny = 0; ny < len && S_ISDIGIT(s[ny]); ny++)
		;
	if (ny < 4 || ny > 7)
		goto bad;
	year = s_digits(s, len, &i, ny);
	if (!s_lit(s, len, &i, "-") || (mon = s_digits(s, len, &i, 2)) < 1 || mon > 12 ||
		!s_lit(s, len, &i, "-") || (day = s_digits(s, len, &i, 2)) < 1 || day > 31 || i >= len ||
		(s[i] != ' ' && s[i] != 'T'))
		goto bad;
	i++;
	if ((hh = s_digits(s, len, &i, 2)) < 0 || hh > 23 || !s_lit(s, len, &i, ":") ||
		(mi = s_digits(s, len, &i, 2)) < 0 || mi > 59 || !s_lit(s, len, &i, ":") ||
		(ss = s_digits(s, len, &i, 2)) < 0 || ss > 60)
		goto bad;
	if (i < len && s[i] == '.')
	{
		for (i++; i < len && S_ISDIGIT(s[i]) && nf < 6; i++, nf++)
			usec = usec * 10 + (s[i] - '0');
		if (nf == 0 || (i < len && S_ISDIGIT(s[i])))
			goto bad;
		for (size_t k = nf; k < 6; k++)
			usec *= 10;
	}
	if (i < len && s[i] == 'Z')
		i++;
	else if (i < len && (s[i] == '+' || s[i] == '-'))
	{
		int sign = s[i++] == '-' ? -1 : 1;
		int64_t oh, om = 0, os = 0;

		if ((oh = s_digits(s, len, &i, 2)) < 0)
			goto bad;
		if (s_lit(s, len, &i, ":") && (om = s_digits(s, len, &i, 2)) < 0)
			goto bad;
		if (s_lit(s, len, &i, ":") && (os = s_digits(s, len, &i, 2)) < 0)
			goto bad;
		off = sign * (oh * 3600 + om * 60 + os);
	}
	else
		goto bad; /* a timestamp without time zone is not a recorded_at */
	if (s_lit(s, len, &i, " BC"))
		bc = true;
	if (i != len)
		goto bad;

	if (off == 0 && !bc && ny == 4)
	{
		/* the common case (TimeZone = UTC): the digits as they are */
		char t[30];

		memcpy(t, "\"YYYY-MM-DDTHH:MM:SS.", 21);
		memcpy(t + 1, s, 10);
		memcpy(t + 12, s + 11, 8);
		for (int k = 26; k >= 21; k--, usec /= 10)
			t[k] = (char) ('0' + usec % 10);
		t[27] = 'Z';
		t[28] = '"';
		buf_append(out, t, 29);
		return 0;
	}
	if (bc)
		year = 1 - year;
	codec_time_json(
		out, s_days_from_civil(year, (int) mon, (int) day) * 86400 + hh * 3600 + mi * 60 + ss - off,
		(int32_t) usec);
	return 0;

bad:
	return s_err(err, errlen, "recorded_at is not a timestamptz in ISO text form (DateStyle = ISO)",
				 s, len);
}

/* --- jsonb text to compact JSON ------------------------------------------------ */

/*
 * The compact text is never longer than the input (only blanks go), so it is
 * written straight into room reserved for the whole input: no per-token
 * append.
 */

/* Copy the string literal at s[*i] (at its opening quote) to *w; -1 if it is not one. */
static int
s_json_string(char **w, const char *s, size_t len, size_t *i)
{
	size_t start = *i, p = *i + 1;

	for (;;)
	{
		unsigned char c;

		/* the run of plain characters, the common case */
		while (p < len && (unsigned char) s[p] >= 0x20 && s[p] != '"' && s[p] != '\\')
			p++;
		if (p >= len)
			return -1;
		c = (unsigned char) s[p];
		if (c == '"')
			break;
		if (c < 0x20)
			return -1; /* jsonb_out escapes control characters */
		/* a backslash */
		if (p + 1 >= len)
			return -1;
		c = (unsigned char) s[p + 1];
		if (c == 'u')
		{
			if (p + 6 > len)
				return -1;
			for (int k = 2; k < 6; k++)
				if (codec_hex_digit(s[p + k]) < 0)
					return -1;
			p += 6;
			continue;
		}
		if (c == '\0' || strchr("\"\\/bfnrt", c) == NULL)
			return -1;
		p += 2;
	}
	memcpy(*w, s + start, p + 1 - start);
	*w += p + 1 - start;
	*i = p + 1;
	return 0;
}

/* A JSON number at s[*i], copied to *w; -1 if it is not one. */
static int
s_json_number(char **w, const char *s, size_t len, size_t *i)
{
	size_t p = *i, d;

	if (p < len && s[p] == '-')
		p++;
	for (d = p; p < len && S_ISDIGIT(s[p]); p++)
		;
	if (p == d || (s[d] == '0' && p - d > 1))
		return -1;
	if (p < len && s[p] == '.')
	{
		for (d = ++p; p < len && S_ISDIGIT(s[p]); p++)
			;
		if (p == d)
			return -1;
	}
	if (p < len && (s[p] == 'e' || s[p] == 'E'))
	{
		p++;
		if (p < len && (s[p] == '+' || s[p] == '-'))
			p++;
		for (d = p; p < len && S_ISDIGIT(s[p]); p++)
			;
		if (p == d)
			return -1;
	}
	memcpy(*w, s + *i, p - *i);
	*w += p - *i;
	*i = p;
	return 0;
}

int
pg_envelope_json_compact(buf *out, const char *s, size_t len, char *err, size_t errlen)
{
	/* open containers: '{' or '[' per level; deeper documents use the heap */
	char small[128];
	char *stack = small, *w;
	size_t cap = sizeof(small), depth = 0, i = 0;
	enum
	{
		WANT_VALUE,
		WANT_VALUE_OR_CLOSE, /* after '[' */
		WANT_KEY,
		WANT_KEY_OR_CLOSE, /* after '{' */
		WANT_COLON,
		WANT_COMMA_OR_CLOSE
	} want = WANT_VALUE;
	int rc = -1;

	if (buf_reserve(out, len) < 0)
	{
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	w = out->data + out->len;
	for (;;)
	{
		char c;

		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
			i++;
		if (i >= len)
		{
			if (want == WANT_COMMA_OR_CLOSE && depth == 0)
				rc = 0;
			break;
		}
		c = s[i];
		if (want == WANT_COMMA_OR_CLOSE)
		{
			if (depth == 0)
				break; /* text after the value */
			if (c == ',')
			{
				*w++ = ',';
				i++;
				want = stack[depth - 1] == '{' ? WANT_KEY : WANT_VALUE;
				continue;
			}
			if (c != (stack[depth - 1] == '{' ? '}' : ']'))
				break;
			*w++ = c;
			i++;
			depth--;
			continue;
		}
		if (want == WANT_COLON)
		{
			if (c != ':')
				break;
			*w++ = ':';
			i++;
			want = WANT_VALUE;
			continue;
		}
		if ((want == WANT_VALUE_OR_CLOSE && c == ']') || (want == WANT_KEY_OR_CLOSE && c == '}'))
		{
			*w++ = c;
			i++;
			depth--;
			want = WANT_COMMA_OR_CLOSE;
			continue;
		}
		if (want == WANT_KEY || want == WANT_KEY_OR_CLOSE)
		{
			if (c != '"' || s_json_string(&w, s, len, &i) < 0)
				break;
			want = WANT_COLON;
			continue;
		}
		/* a value */
		if (c == '{' || c == '[')
		{
			if (depth == cap)
			{
				char *bigger = malloc(cap * 2);

				if (bigger == NULL)
				{
					snprintf(err, errlen, "out of memory");
					goto done;
				}
				memcpy(bigger, stack, cap);
				if (stack != small)
					free(stack);
				stack = bigger;
				cap *= 2;
			}
			stack[depth++] = c;
			*w++ = c;
			i++;
			want = c == '{' ? WANT_KEY_OR_CLOSE : WANT_VALUE_OR_CLOSE;
			continue;
		}
		if (c == '"')
		{
			if (s_json_string(&w, s, len, &i) < 0)
				break;
		}
		else if (c == '-' || S_ISDIGIT(c))
		{
			if (s_json_number(&w, s, len, &i) < 0)
				break;
		}
		else if (s_lit(s, len, &i, "true"))
			w = (char *) memcpy(w, "true", 4) + 4;
		else if (s_lit(s, len, &i, "false"))
			w = (char *) memcpy(w, "false", 5) + 5;
		else if (s_lit(s, len, &i, "null"))
			w = (char *) memcpy(w, "null", 4) + 4;
		else
			break;
		want = WANT_COMMA_OR_CLOSE;
	}
	if (rc < 0)
		snprintf(err, errlen, "not JSON text (at byte %zu of %zu)", i, len);
done:
	/* what was written stays (an error's partial output is the caller's to reset) */
	out->len = (size_t) (w - out->data);
	out->data[out->len] = '\0';
	if (stack != small)
		free(stack);
	return rc;
}

/* --- the envelope ----------------------------------------------------------------- */

static bool
s_is_uuid(const char *s, size_t len)
{
	if (len != 36)
		return false;
	for (size_t i = 0; i < 36; i++)
	{
		if (i == 8 || i == 13 || i == 18 || i == 23)
		{
			if (s[i] != '-')
				return false;
		}
		else if (!S_ISDIGIT(s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return false;
	}
	return true;
}

static bool
s_is_int(const char *s, size_t len)
{
	size_t i = len && s[0] == '-' ? 1 : 0;

	if (i == len || len - i > 19)
		return false;
	for (; i < len; i++)
		if (!S_ISDIGIT(s[i]))
			return false;
	return true;
}

static void
s_put_lsn(buf *out, uint64_t lsn)
{
	char l[32];

	lsn_format(lsn, l);
	buf_putc(out, '"');
	buf_puts(out, l);
	buf_putc(out, '"');
}

/* The "source" object; its first field has no leading comma. */
static void
s_source(buf *out, const pg_envelope_txn *txn, const pg_envelope_fields *f)
{
	const char *sep = "";

	buf_append(out, ",\"source\":{", 11);
	if (f->database)
	{
		buf_append(out, "\"database\":", 11);
		buf_json_string(out, txn->database ? txn->database : "",
						txn->database ? strlen(txn->database) : 0);
		sep = ",";
	}
	if (f->lsn)
	{
		buf_printf(out, "%s\"lsn\":", sep);
		s_put_lsn(out, txn->lsn);
		sep = ",";
	}
	if (f->xid)
	{
		buf_printf(out, "%s\"xid\":%u", sep, (unsigned int) txn->xid);
		sep = ",";
	}
	if (f->commit_time)
	{
		buf_printf(out, "%s\"commit_time\":", sep);
		pg_envelope_time_us(out, txn->commit_time);
	}
	buf_putc(out, '}');
}

void
pg_envelope_source(buf *out, const pg_envelope_txn *txn, const pg_envelope_fields *fields)
{
	if (fields->source)
		s_source(out, txn, fields);
}

int
pg_envelope_event(buf *out, const pg_envelope_row *row, const pg_envelope_txn *txn,
				  const pg_envelope_fields *fields, char *err, size_t errlen)
{
	int rc = pg_envelope_event_src(out, row, "", 0, err, errlen);

	if (rc == 0 && fields->source)
	{
		/* the closing brace moves after the source object */
		out->len--;
		s_source(out, txn, fields);
		buf_putc(out, '}');
	}
	return rc;
}

int
pg_envelope_event_src(buf *out, const pg_envelope_row *row, const char *source, size_t source_len,
					  char *err, size_t errlen)
{
	char jerr[96], what[160];

#define COL(c) row->val[c], row->len[c]
	for (int c = 0; c < PGE_NCOLUMNS; c++)
		if (row->val[c] == NULL)
		{
			snprintf(err, errlen, "eventstore.events has a null in column \"%s\"",
					 pg_envelope_column_names[c]);
			return -1;
		}
	if (!s_is_uuid(COL(PGE_AGGREGATE_ID)))
		return s_err(err, errlen, "aggregate_id is not a uuid", COL(PGE_AGGREGATE_ID));
	if (!s_is_uuid(COL(PGE_EVENT_ID)))
		return s_err(err, errlen, "event_id is not a uuid", COL(PGE_EVENT_ID));
	if (!s_is_int(COL(PGE_VERSION)))
		return s_err(err, errlen, "version is not an integer", COL(PGE_VERSION));

	buf_append(out, "{\"aggregate_id\":\"", 17);
	buf_append(out, COL(PGE_AGGREGATE_ID));
	buf_append(out, "\",\"aggregate_type\":", 19);
	buf_json_string(out, COL(PGE_AGGREGATE_TYPE));
	buf_append(out, ",\"version\":", 11);
	buf_append(out, COL(PGE_VERSION));
	buf_append(out, ",\"event_id\":\"", 13);
	buf_append(out, COL(PGE_EVENT_ID));
	buf_append(out, "\",\"type\":", 9);
	buf_json_string(out, COL(PGE_TYPE));
	for (int c = PGE_DATA; c <= PGE_METADATA; c++)
	{
		buf_append(out, c == PGE_DATA ? ",\"data\":" : ",\"metadata\":", c == PGE_DATA ? 8 : 12);
		if (pg_envelope_json_compact(out, COL(c), jerr, sizeof(jerr)) < 0)
		{
			snprintf(what, sizeof(what), "%s is %s", pg_envelope_column_names[c], jerr);
			return s_err(err, errlen, what, COL(c));
		}
	}
	buf_append(out, ",\"recorded_at\":", 15);
	if (pg_envelope_timestamptz(out, COL(PGE_RECORDED_AT), err, errlen) < 0)
		return -1;
#undef COL
	buf_append(out, source, source_len);
	buf_putc(out, '}');
	return 0;
}

/* src/envelope.c's append_marker: begin, or with nevents the commit marker. */
static void
s_marker(buf *out, const char *kind, const pg_envelope_txn *txn, const pg_envelope_fields *f,
		 const uint64_t *nevents)
{
	buf_printf(out, "{\"kind\":\"%s\"", kind);
	if (f->xid)
		buf_printf(out, ",\"xid\":%u", (unsigned int) txn->xid);
	buf_append(out, ",\"lsn\":", 7);
	s_put_lsn(out, txn->lsn);
	if (nevents)
	{
		buf_append(out, ",\"end_lsn\":", 11);
		s_put_lsn(out, txn->end_lsn);
	}
	if (f->commit_time)
	{
		buf_append(out, ",\"commit_time\":", 15);
		pg_envelope_time_us(out, txn->commit_time);
	}
	if (nevents)
		buf_printf(out, ",\"events\":%llu", (unsigned long long) *nevents);
	buf_putc(out, '}');
}

void
pg_envelope_begin(buf *out, const pg_envelope_txn *txn, const pg_envelope_fields *fields)
{
	s_marker(out, "begin", txn, fields, NULL);
}

void
pg_envelope_commit(buf *out, const pg_envelope_txn *txn, const pg_envelope_fields *fields,
				   uint64_t nevents)
{
	s_marker(out, "commit", txn, fields, &nevents);
}
