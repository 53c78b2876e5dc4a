/*-------------------------------------------------------------------------
 *
 * jsonb_compact.c
 *		Write a jsonb value as compact JSON text (no insignificant spaces).
 *
 * jsonb's own output function puts a space after every ':' and ','; the
 * output plugin writes millions of events, and every byte is a byte of
 * Kinesis record and of archive, so it writes the same value compactly.
 * Strings are escaped for JSON (quotes, backslashes, control characters);
 * other characters pass through in the server encoding.
 *
 * IDENTIFICATION
 *		src/jsonb_compact.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "eventstore.h"

static const char hexdigits[] = "0123456789abcdef";

/*
 * Append str[0..len) as a JSON string literal, quotes included.  Runs of
 * characters that need no escaping are copied in one go.
 */
void
es_json_append_string(StringInfo out, const char *str, int len)
{
	const char *p = str;
	const char *end = str + len;
	const char *run = p;

	appendStringInfoCharMacro(out, '"');
	for (; p < end; p++)
	{
		unsigned char c = (unsigned char) *p;
		const char	 *esc;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if (p > run)
			appendBinaryStringInfo(out, run, p - run);
		run = p + 1;
		switch (c)
		{
			case '"':
				esc = "\\\"";
				break;
			case '\\':
				esc = "\\\\";
				break;
			case '\b':
				esc = "\\b";
				break;
			case '\f':
				esc = "\\f";
				break;
			case '\n':
				esc = "\\n";
				break;
			case '\r':
				esc = "\\r";
				break;
			case '\t':
				esc = "\\t";
				break;
			default:
				{
					char u[6] = {'\\', 'u', '0', '0'};

					u[4] = hexdigits[c >> 4];
					u[5] = hexdigits[c & 0xf];
					appendBinaryStringInfo(out, u, 6);
					esc = NULL;
				}
				break;
		}
		if (esc)
			appendBinaryStringInfo(out, esc, 2);
	}
	if (p > run)
		appendBinaryStringInfo(out, run, p - run);
	appendStringInfoCharMacro(out, '"');
}

static void
append_scalar(StringInfo out, JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			appendBinaryStringInfo(out, "null", 4);
			break;
		case jbvString:
			es_json_append_string(out, v->val.string.val, v->val.string.len);
			break;
		case jbvNumeric:
			{
				Datum num = NumericGetDatum(v->val.numeric);

				appendStringInfoString(out,
									   DatumGetCString(DirectFunctionCall1(numeric_out,
																		   num)));
			}
			break;
		case jbvBool:
			if (v->val.boolean)
				appendBinaryStringInfo(out, "true", 4);
			else
				appendBinaryStringInfo(out, "false", 5);
			break;
		default:
			elog(ERROR, "unexpected jsonb scalar type %d", (int) v->type);
	}
}

/*
 * Append the value held in container as compact JSON.  A raw scalar (a
 * jsonb that is just a string, number, ...) is written without brackets.
 */
void
es_jsonb_append_compact(StringInfo out, JsonbContainer *container)
{
	JsonbIterator	  *it = JsonbIteratorInit(container);
	JsonbIteratorToken tok;
	JsonbValue		   v;
	bool			   need_comma = false;
	bool			   raw_scalar = false;

	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		switch (tok)
		{
			case WJB_BEGIN_ARRAY:
				if (v.val.array.rawScalar)
				{
					raw_scalar = true;
					break;
				}
				/* FALLTHROUGH */
			case WJB_BEGIN_OBJECT:
				if (need_comma)
					appendStringInfoCharMacro(out, ',');
				appendStringInfoCharMacro(out,
										  tok == WJB_BEGIN_ARRAY ? '[' : '{');
				need_comma = false;
				break;
			case WJB_END_ARRAY:
				if (raw_scalar)
					break;
				/* FALLTHROUGH */
			case WJB_END_OBJECT:
				appendStringInfoCharMacro(out, tok == WJB_END_ARRAY ? ']' : '}');
				need_comma = true;
				break;
			case WJB_KEY:
				if (need_comma)
					appendStringInfoCharMacro(out, ',');
				es_json_append_string(out, v.val.string.val, v.val.string.len);
				appendStringInfoCharMacro(out, ':');
				need_comma = false;
				break;
			case WJB_ELEM:
				if (need_comma)
					appendStringInfoCharMacro(out, ',');
				/* FALLTHROUGH */
			case WJB_VALUE:
				append_scalar(out, &v);
				need_comma = true;
				break;
			default:
				elog(ERROR, "unexpected jsonb iterator token %d", (int) tok);
		}
	}
}
