/*
 * json.c
 *		Arena JSON parser (see json.h): recursive descent, RFC 8259.
 */
#include "json.h"

#include "buf.h"
#include "codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JV_CHUNK	 (64 * 1024)
#define JV_MAX_DEPTH 200

struct jv_chunk
{
	jv_chunk *next;
	size_t used;
	size_t cap;
	/* data follows, max_align_t aligned */
	max_align_t data[];
};

void
jv_doc_init(jv_doc *d)
{
	memset(d, 0, sizeof(*d));
}

void
jv_doc_reset(jv_doc *d)
{
	jv_chunk *c = d->chunks;

	/* Keep the first (largest-so-far) chunk, free the rest. */
	if (c)
	{
		jv_chunk *n = c->next;

		while (n)
		{
			jv_chunk *x = n->next;

			free(n);
			n = x;
		}
		c->next = NULL;
		c->used = 0;
	}
	d->root = NULL;
}

void
jv_doc_free(jv_doc *d)
{
	jv_doc_reset(d);
	free(d->chunks);
	free(d->stack);
	memset(d, 0, sizeof(*d));
}

static void *
s_alloc(jv_doc *d, size_t n)
{
	jv_chunk *c = d->chunks;

	n = (n + 15) & ~(size_t) 15;
	if (c == NULL || c->used + n > c->cap)
	{
		size_t cap = n > JV_CHUNK ? n : JV_CHUNK;

		if (c && c->used == 0 && c->cap < cap)
		{
			/* an empty first chunk that is too small: replace it */
			d->chunks = c->next;
			free(c);
		}
		c = malloc(sizeof(jv_chunk) + cap);
		if (c == NULL)
			return NULL;
		c->cap = cap;
		c->used = 0;
		c->next = d->chunks;
		d->chunks = c;
	}
	c->used += n;
	return (char *) c->data + c->used - n;
}

typedef struct s_parser
{
	jv_doc *d;
	char *p;
	char *end;
	char *start;
	size_t sp; /* bytes used on d->stack */
	const char *err;
} s_parser;

static void
s_ws(s_parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
		ps->p++;
}

/* Scratch stack for the items of open arrays/objects. */
static void *
s_push(s_parser *ps, size_t n)
{
	jv_doc *d = ps->d;

	if (ps->sp + n > d->stack_cap)
	{
		size_t cap = d->stack_cap ? d->stack_cap * 2 : 4096;
		void *p;

		while (cap < ps->sp + n)
			cap *= 2;
		p = realloc(d->stack, cap);
		if (p == NULL)
			return NULL;
		d->stack = p;
		d->stack_cap = cap;
	}
	ps->sp += n;
	return (char *) d->stack + ps->sp - n;
}

static int
s_u4(const char *p, unsigned *out)
{
	int i;

	*out = 0;
	for (i = 0; i < 4; i++)
	{
		int h = codec_hex_digit(p[i]);

		if (h < 0)
			return -1;
		*out = (*out << 4) | (unsigned) h;
	}
	return 0;
}

/*
 * Every envelope must be valid UTF-8 JSON, and the strings of a document are
 * copied into envelopes and partition keys as they are: s_string checks them.
 */
bool
jv_utf8_valid(const char *s, size_t n)
{
	size_t i = 0, k;

	while (i < n)
	{
		if ((k = buf_utf8_seq(s + i, n - i)) == 0)
			return false;
		i += k;
	}
	return true;
}

/* A string at ps->p (on the quote): unescaped in place, NUL-terminated. */
static int
s_string(s_parser *ps, const char **out, uint32_t *len)
{
	char *r = ++ps->p;
	char *w;
	char *q;
	unsigned char hi = 0; /* OR of the raw bytes: 0x80 set if any is not ASCII */

	/* Fast path: no escapes. */
	q = r;
	while (q < ps->end && *q != '"' && *q != '\\' && (unsigned char) *q >= 0x20)
		hi |= (unsigned char) *q++;
	if (q < ps->end && *q == '"')
	{
		if ((hi & 0x80) && !jv_utf8_valid(r, (size_t) (q - r)))
			goto bad_utf8;
		*q = '\0';
		*out = r;
		*len = (uint32_t) (q - r);
		ps->p = q + 1;
		return 0;
	}
	w = q;
	r = q;
	while (r < ps->end)
	{
		unsigned char c = (unsigned char) *r;

		if (c == '"')
		{
			/* escapes only ever write valid UTF-8: checking the result is enough */
			if ((hi & 0x80) && !jv_utf8_valid(ps->p, (size_t) (w - ps->p)))
				goto bad_utf8;
			*w = '\0';
			*out = ps->p;
			*len = (uint32_t) (w - ps->p);
			ps->p = r + 1;
			return 0;
		}
		if (c < 0x20)
		{
			ps->err = "control character in a string";
			return -1;
		}
		if (c != '\\')
		{
			hi |= c;
			*w++ = (char) c;
			r++;
			continue;
		}
		if (r + 1 >= ps->end)
			break;
		switch (r[1])
		{
			case '"':
				*w++ = '"';
				break;
			case '\\':
				*w++ = '\\';
				break;
			case '/':
				*w++ = '/';
				break;
			case 'b':
				*w++ = '\b';
				break;
			case 'f':
				*w++ = '\f';
				break;
			case 'n':
				*w++ = '\n';
				break;
			case 'r':
				*w++ = '\r';
				break;
			case 't':
				*w++ = '\t';
				break;
			case 'u':
			{
				unsigned cp, lo;

				if (r + 6 > ps->end || s_u4(r + 2, &cp) != 0)
				{
					ps->err = "bad \\u escape";
					return -1;
				}
				r += 6;
				if (cp >= 0xD800 && cp <= 0xDBFF)
				{
					if (r + 6 <= ps->end && r[0] == '\\' && r[1] == 'u' && s_u4(r + 2, &lo) == 0 &&
						lo >= 0xDC00 && lo <= 0xDFFF)
					{
						cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
						r += 6;
					}
					else
						cp = 0xFFFD; /* lone surrogate */
				}
				else if (cp >= 0xDC00 && cp <= 0xDFFF)
					cp = 0xFFFD;
				/* UTF-8 is never longer than the escape it replaces */
				if (cp < 0x80)
					*w++ = (char) cp;
				else if (cp < 0x800)
				{
					*w++ = (char) (0xC0 | (cp >> 6));
					*w++ = (char) (0x80 | (cp & 0x3F));
				}
				else if (cp < 0x10000)
				{
					*w++ = (char) (0xE0 | (cp >> 12));
					*w++ = (char) (0x80 | ((cp >> 6) & 0x3F));
					*w++ = (char) (0x80 | (cp & 0x3F));
				}
				else
				{
					*w++ = (char) (0xF0 | (cp >> 18));
					*w++ = (char) (0x80 | ((cp >> 12) & 0x3F));
					*w++ = (char) (0x80 | ((cp >> 6) & 0x3F));
					*w++ = (char) (0x80 | (cp & 0x3F));
				}
				continue;
			}
			default:
				ps->err = "bad escape in a string";
				return -1;
		}
		r += 2;
	}
	ps->err = "unterminated string";
	return -1;
bad_utf8:
	ps->err = "invalid UTF-8 in a string";
	return -1;
}

int
jv_string_decode(char *text, size_t len, const char **out, size_t *outlen)
{
	s_parser ps;
	uint32_t n;

	memset(&ps, 0, sizeof(ps));
	ps.p = ps.start = text;
	ps.end = text + len;
	if (len == 0 || *text != '"' || len > UINT32_MAX || s_string(&ps, out, &n) != 0)
		return -1;
	*outlen = n;
	return 0;
}

static int
s_digits(s_parser *ps)
{
	char *s = ps->p;

	while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
		ps->p++;
	return ps->p > s ? 0 : -1;
}

static int s_value(s_parser *ps, jv *out, int depth);

static int
s_number(s_parser *ps, jv *out)
{
	char *s = ps->p;

	if (*ps->p == '-')
		ps->p++;
	if (ps->p < ps->end && *ps->p == '0')
		ps->p++;
	else if (s_digits(ps) != 0)
		goto bad;
	if (ps->p < ps->end && *ps->p == '.')
	{
		ps->p++;
		if (s_digits(ps) != 0)
			goto bad;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E'))
	{
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (s_digits(ps) != 0)
			goto bad;
	}
	out->type = JV_NUMBER;
	out->u.s = s;
	out->len = (uint32_t) (ps->p - s);
	return 0;
bad:
	ps->err = "malformed number";
	return -1;
}

static int
s_literal(s_parser *ps, const char *word, jv_type t, jv *out)
{
	size_t n = strlen(word);

	if ((size_t) (ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
	{
		ps->err = "unexpected character";
		return -1;
	}
	ps->p += n;
	out->type = t;
	out->len = 0;
	out->u.s = NULL;
	return 0;
}

static int
s_array(s_parser *ps, jv *out, int depth)
{
	size_t base = ps->sp;
	uint32_t n = 0;

	ps->p++;
	s_ws(ps);
	if (ps->p < ps->end && *ps->p == ']')
		ps->p++;
	else
	{
		for (;;)
		{
			jv v;
			jv *slot;

			if (s_value(ps, &v, depth + 1) != 0)
				return -1;
			if ((slot = s_push(ps, sizeof(jv))) == NULL)
				goto oom;
			*slot = v;
			n++;
			s_ws(ps);
			if (ps->p < ps->end && *ps->p == ',')
			{
				ps->p++;
				continue;
			}
			if (ps->p < ps->end && *ps->p == ']')
			{
				ps->p++;
				break;
			}
			ps->err = "expected ',' or ']'";
			return -1;
		}
	}
	out->type = JV_ARRAY;
	out->len = n;
	out->u.items = NULL;
	if (n)
	{
		if ((out->u.items = s_alloc(ps->d, n * sizeof(jv))) == NULL)
			goto oom;
		memcpy(out->u.items, (char *) ps->d->stack + base, n * sizeof(jv));
	}
	ps->sp = base;
	return 0;
oom:
	ps->err = "out of memory";
	return -1;
}

static int
s_object(s_parser *ps, jv *out, int depth)
{
	size_t base = ps->sp;
	uint32_t n = 0;

	ps->p++;
	s_ws(ps);
	if (ps->p < ps->end && *ps->p == '}')
		ps->p++;
	else
	{
		for (;;)
		{
			jv_member m;
			jv_member *slot;

			s_ws(ps);
			if (ps->p >= ps->end || *ps->p != '"')
			{
				ps->err = "expected a member name";
				return -1;
			}
			if (s_string(ps, &m.key, &m.klen) != 0)
				return -1;
			s_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':')
			{
				ps->err = "expected ':'";
				return -1;
			}
			ps->p++;
			if (s_value(ps, &m.val, depth + 1) != 0)
				return -1;
			if ((slot = s_push(ps, sizeof(jv_member))) == NULL)
				goto oom;
			*slot = m;
			n++;
			s_ws(ps);
			if (ps->p < ps->end && *ps->p == ',')
			{
				ps->p++;
				continue;
			}
			if (ps->p < ps->end && *ps->p == '}')
			{
				ps->p++;
				break;
			}
			ps->err = "expected ',' or '}'";
			return -1;
		}
	}
	out->type = JV_OBJECT;
	out->len = n;
	out->u.members = NULL;
	if (n)
	{
		if ((out->u.members = s_alloc(ps->d, n * sizeof(jv_member))) == NULL)
			goto oom;
		memcpy(out->u.members, (char *) ps->d->stack + base, n * sizeof(jv_member));
	}
	ps->sp = base;
	return 0;
oom:
	ps->err = "out of memory";
	return -1;
}

static int
s_value(s_parser *ps, jv *out, int depth)
{
	if (depth > JV_MAX_DEPTH)
	{
		ps->err = "nesting too deep";
		return -1;
	}
	s_ws(ps);
	if (ps->p >= ps->end)
	{
		ps->err = "unexpected end of input";
		return -1;
	}
	switch (*ps->p)
	{
		case '{':
			return s_object(ps, out, depth);
		case '[':
			return s_array(ps, out, depth);
		case '"':
			out->type = JV_STRING;
			return s_string(ps, &out->u.s, &out->len);
		case 't':
			return s_literal(ps, "true", JV_TRUE, out);
		case 'f':
			return s_literal(ps, "false", JV_FALSE, out);
		case 'n':
			return s_literal(ps, "null", JV_NULL, out);
		default:
			if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
				return s_number(ps, out);
			ps->err = "unexpected character";
			return -1;
	}
}

int
jv_parse(jv_doc *d, char *text, size_t len, char *err, size_t errlen)
{
	s_parser ps;
	jv v;

	jv_doc_reset(d);
	memset(&ps, 0, sizeof(ps));
	ps.d = d;
	ps.p = ps.start = text;
	ps.end = text + len;
	if (s_value(&ps, &v, 0) != 0)
		goto fail;
	s_ws(&ps);
	if (ps.p != ps.end)
	{
		ps.err = "trailing data after the JSON value";
		goto fail;
	}
	if ((d->root = s_alloc(d, sizeof(jv))) == NULL)
	{
		ps.err = "out of memory";
		goto fail;
	}
	*d->root = v;
	return 0;
fail:
	snprintf(err, errlen, "malformed JSON at byte %zu: %s", (size_t) (ps.p - ps.start), ps.err);
	d->root = NULL;
	return -1;
}

int
jv_scan(jv_scanner *s, const char *text, size_t from, size_t len, size_t *end)
{
	size_t i;

	for (i = from; i < len; i++)
	{
		char c = text[i];

		if (s->in_str)
		{
			if (s->esc)
				s->esc = false;
			else if (c == '\\')
				s->esc = true;
			else if (c == '"')
				s->in_str = false;
			continue;
		}
		if (c == '"')
			s->in_str = true;
		else if (c == '{' || c == '[')
			s->depth++;
		else if ((c == '}' || c == ']') && --s->depth == 0)
		{
			*end = i + 1;
			return 1;
		}
	}
	*end = len;
	return 0;
}

int
jv_value_end(const char *text, size_t len, size_t *end)
{
	jv_scanner sc = {0, false, false};
	size_t i = 0;

	while (i < len && (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' || text[i] == '\t'))
		i++;
	if (i == len)
		return 0;
	if (text[i] != '{' && text[i] != '[')
	{
		/* A scalar: up to the next delimiter (only objects are expected). */
		if (text[i] == '"')
			return -1;
		while (i < len && text[i] != '\n' && text[i] != ' ' && text[i] != '\r' && text[i] != '\t')
			i++;
		if (i == len)
			return 0;
		*end = i;
		return 1;
	}
	if (jv_scan(&sc, text + i, 0, len - i, end) == 0)
		return 0;
	*end += i;
	return 1;
}

const jv *
jv_get(const jv *obj, const char *key)
{
	uint32_t i;

	if (obj == NULL || obj->type != JV_OBJECT)
		return NULL;
	for (i = 0; i < obj->len; i++)
		if (strcmp(obj->u.members[i].key, key) == 0)
			return &obj->u.members[i].val;
	return NULL;
}

const jv *
jv_at(const jv *arr, size_t i)
{
	if (arr == NULL || arr->type != JV_ARRAY || i >= arr->len)
		return NULL;
	return &arr->u.items[i];
}

bool
jv_is(const jv *v, jv_type t)
{
	return v != NULL && v->type == t;
}

const char *
jv_str(const jv *v)
{
	return (v && v->type == JV_STRING) ? v->u.s : NULL;
}

/* Keys may hold NUL (\u0000): compared by length and bytes. */
static bool
s_key_eq(const jv_member *x, const jv_member *y)
{
	return x->klen == y->klen && memcmp(x->key, y->key, x->klen) == 0;
}

static bool
s_has_dup_key(const jv *obj)
{
	uint32_t i, j;

	for (i = 0; i < obj->len; i++)
		for (j = i + 1; j < obj->len; j++)
			if (s_key_eq(&obj->u.members[i], &obj->u.members[j]))
				return true;
	return false;
}

bool
jv_equal(const jv *a, const jv *b)
{
	uint32_t i, j;

	if (a->type != b->type || a->len != b->len)
		return false;
	switch (a->type)
	{
		case JV_NULL:
		case JV_TRUE:
		case JV_FALSE:
			return true;
		case JV_NUMBER:
		case JV_STRING:
			return memcmp(a->u.s, b->u.s, a->len) == 0;
		case JV_ARRAY:
			for (i = 0; i < a->len; i++)
				if (!jv_equal(&a->u.items[i], &b->u.items[i]))
					return false;
			return true;
		case JV_OBJECT:
		{
			bool in_order = true;

			for (i = 0; i < a->len; i++)
			{
				const jv_member *m = &a->u.members[i];
				const jv *o = NULL;

				/* same position first: the usual case */
				if (s_key_eq(&b->u.members[i], m))
					o = &b->u.members[i].val;
				else
				{
					in_order = false;
					for (j = 0; j < b->len && o == NULL; j++)
						if (s_key_eq(&b->u.members[j], m))
							o = &b->u.members[j].val;
				}
				if (o == NULL || !jv_equal(&m->val, o))
					return false;
			}

			/*
			 * Every member of a found in b, with as many members: the same
			 * key set only if a has no duplicate key ({"x":1,"x":1} against
			 * {"x":1,"y":2}).  With duplicates, only member for member.
			 */
			return in_order || !s_has_dup_key(a);
		}
	}
	return false;
}

double
jv_double(const jv *v)
{
	char buf[64];
	size_t n;

	if (v == NULL || (v->type != JV_NUMBER && v->type != JV_STRING))
		return 0;
	n = v->len < sizeof(buf) - 1 ? v->len : sizeof(buf) - 1;
	memcpy(buf, v->u.s, n);
	buf[n] = '\0';
	return strtod(buf, NULL);
}
