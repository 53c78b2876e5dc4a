/*
 * ddb_json.c
 *		Convert typed DynamoDB JSON (AttributeValue) to plain JSON text.
 *
 * The converter walks the parsed document (json.h) and writes text itself
 * rather than building a second tree: numbers must come out exactly as DynamoDB
 * sent them, and writing directly is also what makes the stdin path fast.
 */
#include "ddb_json.h"

#include <stdio.h>
#include <string.h>

static int s_value(const jv *av, buf *out, int depth, char *err, size_t errlen);

/*
 * Prefix the message already in err with a path step (".name" or "[i]"), so
 * that errors read "Events[3].Data.price: N value is not a number" once the
 * recursion has unwound.
 */
static void
s_err_prefix(char *err, size_t errlen, const char *name, size_t idx)
{
	char tmp[512];
	char head[160];

	if (err == NULL || errlen == 0)
		return;
	if (name)
		snprintf(head, sizeof(head), ".%.100s", name);
	else
		snprintf(head, sizeof(head), "[%zu]", idx);
	snprintf(tmp, sizeof(tmp), "%s%s%s", head, (err[0] == '[' || err[0] == '.') ? "" : ": ", err);
	snprintf(err, errlen, "%s", tmp);
}

static int
s_fail(char *err, size_t errlen, const char *msg, const char *detail)
{
	if (err && errlen)
		snprintf(err, errlen, "%s%s%.80s%s", msg, detail ? " \"" : "", detail ? detail : "",
				 detail ? "\"" : "");
	return -1;
}

static int
s_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int
ddb_json_number(const char *s, size_t n, buf *out)
{
	size_t i = 0;
	size_t int_start, int_end, frac_start = 0, frac_end = 0, exp_start = 0;
	int neg = 0;

	if (n > 0 && (s[0] == '-' || s[0] == '+'))
	{
		neg = (s[0] == '-');
		i++;
	}
	int_start = i;
	while (i < n && s_is_digit(s[i]))
		i++;
	int_end = i;
	if (i < n && s[i] == '.')
	{
		i++;
		frac_start = i;
		while (i < n && s_is_digit(s[i]))
			i++;
		frac_end = i;
	}
	if (int_end == int_start && frac_end == frac_start)
		return -1; /* no digits at all */
	if (i < n && (s[i] == 'e' || s[i] == 'E'))
	{
		size_t d;

		exp_start = i;
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		d = i;
		while (i < n && s_is_digit(s[i]))
			i++;
		if (i == d)
			return -1;
	}
	if (i != n)
		return -1;

	/* Fast path: already valid JSON (the normal case for DynamoDB output). */
	if (s[0] != '+' && int_end > int_start && (s[int_start] != '0' || int_end - int_start == 1) &&
		(frac_start == 0 || frac_end > frac_start))
	{
		buf_append(out, s, n);
		return 0;
	}

	/* Rebuild: sign, integer part without leading zeros, fraction, exponent. */
	if (neg)
		buf_putc(out, '-');
	while (int_start + 1 < int_end && s[int_start] == '0')
		int_start++;
	if (int_end > int_start)
		buf_append(out, s + int_start, int_end - int_start);
	else
		buf_putc(out, '0');
	if (frac_end > frac_start)
	{
		buf_putc(out, '.');
		buf_append(out, s + frac_start, frac_end - frac_start);
	}
	if (exp_start)
		buf_append(out, s + exp_start, n - exp_start);
	return 0;
}

int
ddb_json_is_base64(const char *s, size_t n)
{
	size_t i;
	size_t pad = 0;

	if (n % 4 != 0)
		return 0;
	for (i = 0; i < n; i++)
	{
		char c = s[i];

		if (c == '=')
		{
			if (i < n - 2)
				return 0;
			pad++;
			continue;
		}
		if (pad)
			return 0; /* data after padding */
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || s_is_digit(c) || c == '+' ||
			  c == '/'))
			return 0;
	}
	return 1;
}

static int
s_string(const jv *v, buf *out, const char *type, char *err, size_t errlen)
{
	if (!jv_is(v, JV_STRING))
		return s_fail(err, errlen, "expected a JSON string for type", type);
	buf_json_string(out, v->u.s, v->len);
	return 0;
}

static int
s_number(const jv *v, buf *out, char *err, size_t errlen)
{
	const char *s;

	/*
	 * DynamoDB sends N as a string.  A bare JSON number is accepted too (some
	 * hand-written samples do that) but only through its original text.
	 */
	if (!jv_is(v, JV_STRING) && !jv_is(v, JV_NUMBER))
		return s_fail(err, errlen, "expected a string for type N", NULL);
	s = v->u.s;
	if (ddb_json_number(s, v->len, out) != 0)
	{
		char shown[84];

		snprintf(shown, sizeof(shown), "%.*s", (int) (v->len < 80 ? v->len : 80), s);
		return s_fail(err, errlen, "N value is not a number:", shown);
	}
	return 0;
}

static int
s_binary(const jv *v, buf *out, char *err, size_t errlen)
{
	const char *s;
	size_t n;

	if (!jv_is(v, JV_STRING))
		return s_fail(err, errlen, "expected a base64 string for type B", NULL);
	s = v->u.s;
	n = v->len;
	if (!ddb_json_is_base64(s, n))
		return s_fail(err, errlen, "B value is not base64:", s);
	buf_puts(out, "{\"$binary\":");
	buf_json_string(out, s, n);
	buf_putc(out, '}');
	return 0;
}

/* SS, NS, BS: a JSON array of the member type. */
static int
s_set(const jv *v, buf *out, char type, char *err, size_t errlen)
{
	size_t i, n;

	if (!jv_is(v, JV_ARRAY))
		return s_fail(err, errlen, "expected an array for a set type", NULL);
	n = v->len;
	buf_putc(out, '[');
	for (i = 0; i < n; i++)
	{
		const jv *m = &v->u.items[i];
		int rc;

		if (i)
			buf_putc(out, ',');
		if (type == 'S')
			rc = s_string(m, out, "SS", err, errlen);
		else if (type == 'N')
			rc = s_number(m, out, err, errlen);
		else
			rc = s_binary(m, out, err, errlen);
		if (rc != 0)
		{
			s_err_prefix(err, errlen, NULL, i);
			return -1;
		}
	}
	buf_putc(out, ']');
	return 0;
}

static int
s_map(const jv *m, buf *out, int depth, char *err, size_t errlen)
{
	int first = 1;

	uint32_t i;

	if (!jv_is(m, JV_OBJECT))
		return s_fail(err, errlen, "expected an object for type M", NULL);
	if (depth > DDB_JSON_MAX_DEPTH)
		return s_fail(err, errlen, "nesting too deep", NULL);
	buf_putc(out, '{');
	for (i = 0; i < m->len; i++)
	{
		const char *key = m->u.members[i].key;
		const jv *val = &m->u.members[i].val;

		if (!first)
			buf_putc(out, ',');
		first = 0;
		buf_json_string(out, key, m->u.members[i].klen);
		buf_putc(out, ':');
		if (s_value(val, out, depth + 1, err, errlen) != 0)
		{
			s_err_prefix(err, errlen, key, 0);
			return -1;
		}
	}
	buf_putc(out, '}');
	return 0;
}

static int
s_list(const jv *l, buf *out, int depth, char *err, size_t errlen)
{
	size_t i, n;

	if (!jv_is(l, JV_ARRAY))
		return s_fail(err, errlen, "expected an array for type L", NULL);
	if (depth > DDB_JSON_MAX_DEPTH)
		return s_fail(err, errlen, "nesting too deep", NULL);
	n = l->len;
	buf_putc(out, '[');
	for (i = 0; i < n; i++)
	{
		if (i)
			buf_putc(out, ',');
		if (s_value(&l->u.items[i], out, depth + 1, err, errlen) != 0)
		{
			s_err_prefix(err, errlen, NULL, i);
			return -1;
		}
	}
	buf_putc(out, ']');
	return 0;
}

static int
s_value(const jv *av, buf *out, int depth, char *err, size_t errlen)
{
	const char *type;
	const jv *v;

	if (!jv_is(av, JV_OBJECT) || av->len != 1)
		return s_fail(err, errlen, "an AttributeValue must be an object with exactly one type key",
					  NULL);
	type = av->u.members[0].key;
	v = &av->u.members[0].val;

	switch (type[0])
	{
		case 'S':
			if (type[1] == '\0')
				return s_string(v, out, "S", err, errlen);
			if (strcmp(type, "SS") == 0)
				return s_set(v, out, 'S', err, errlen);
			break;
		case 'N':
			if (type[1] == '\0')
				return s_number(v, out, err, errlen);
			if (strcmp(type, "NS") == 0)
				return s_set(v, out, 'N', err, errlen);
			if (strcmp(type, "NULL") == 0)
			{
				/* {"NULL": true} is the only form DynamoDB produces. */
				if (!jv_is(v, JV_TRUE))
					return s_fail(err, errlen, "NULL must be true", NULL);
				buf_puts(out, "null");
				return 0;
			}
			break;
		case 'B':
			if (type[1] == '\0')
				return s_binary(v, out, err, errlen);
			if (strcmp(type, "BS") == 0)
				return s_set(v, out, 'B', err, errlen);
			if (strcmp(type, "BOOL") == 0)
			{
				if (!jv_is(v, JV_TRUE) && !jv_is(v, JV_FALSE))
					return s_fail(err, errlen, "BOOL must be true or false", NULL);
				buf_puts(out, jv_is(v, JV_TRUE) ? "true" : "false");
				return 0;
			}
			break;
		case 'M':
			if (type[1] == '\0')
				return s_map(v, out, depth, err, errlen);
			break;
		case 'L':
			if (type[1] == '\0')
				return s_list(v, out, depth, err, errlen);
			break;
	}
	return s_fail(err, errlen, "unknown DynamoDB type", type);
}

int
ddb_json_value(const jv *av, buf *out, char *err, size_t errlen)
{
	return s_value(av, out, 0, err, errlen);
}

int
ddb_json_map(const jv *map, buf *out, char *err, size_t errlen)
{
	return s_map(map, out, 0, err, errlen);
}

int
ddb_json_key_text(const jv *av, const char **text, size_t *len, char *err, size_t errlen)
{
	const jv *v;

	if (!jv_is(av, JV_OBJECT) || av->len != 1 || !jv_is(v = &av->u.members[0].val, JV_STRING) ||
		strchr("SNB", av->u.members[0].key[0]) == NULL || av->u.members[0].klen != 1)
		return s_fail(err, errlen, "key attribute is not of type S, N or B", NULL);
	*text = v->u.s;
	*len = v->len;
	if (*len == 0)
		return s_fail(err, errlen, "key attribute is empty", NULL);
	return 0;
}
