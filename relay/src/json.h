/*
 * json.h
 *		A small read-only JSON DOM for the DynamoDB path's hot path: one
 *		arena per document, strings unescaped in place in the input buffer,
 *		numbers kept as their text.
 *
 * Typed DynamoDB JSON is mostly tiny objects ({"S":"x"}); a general DOM that
 * allocates a hash table per object (json-c) spends most of its time in
 * malloc and free (perf, bench/ddb_bench.sh).  Here a document is parsed
 * into one arena that is dropped in one go, objects are arrays of members
 * searched linearly (they have a handful of keys), and number text is never
 * converted, so DynamoDB N values keep every digit.
 */
#ifndef RELAY_JSON_H
#define RELAY_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum jv_type
{
	JV_NULL = 0,
	JV_FALSE,
	JV_TRUE,
	JV_NUMBER,
	JV_STRING,
	JV_ARRAY,
	JV_OBJECT
} jv_type;

typedef struct jv_member jv_member;

typedef struct jv
{
	jv_type type;
	uint32_t len; /* string/number bytes, array items, object members */
	union
	{
		const char *s; /* string (NUL-terminated) or number text (not) */
		struct jv *items;
		jv_member *members;
	} u;
} jv;

struct jv_member
{
	const char *key; /* NUL-terminated */
	uint32_t klen;
	jv val;
};

typedef struct jv_chunk jv_chunk;

/* A parsed document: the arena its values live in. */
typedef struct jv_doc
{
	jv_chunk *chunks;
	jv *root;
	void *stack; /* parser scratch, kept for reuse */
	size_t stack_cap;
} jv_doc;

void jv_doc_init(jv_doc *d);
/* Drop every value of the document (the arena is kept for the next parse). */
void jv_doc_reset(jv_doc *d);
void jv_doc_free(jv_doc *d);

/*
 * Parse exactly one JSON value from text[0..len) (leading/trailing white
 * space allowed).  text is modified (strings are unescaped in place) and
 * must outlive the document's values.  Returns 0, or -1 with err.
 */
int jv_parse(jv_doc *d, char *text, size_t len, char *err, size_t errlen);

/*
 * Where the JSON value starting at text[0] (after white space) ends: sets
 * *end to one past it and returns 1, returns 0 if text holds only a prefix
 * of it, -1 if it is clearly not JSON.  Scans only: no allocation.
 */
int jv_value_end(const char *text, size_t len, size_t *end);

/*
 * Decode the JSON string literal at text[0] (the opening quote) within
 * text[0..len), in place, by the same rules as jv_parse (escapes, surrogate
 * pairs, UTF-8 check): *out points into text, NUL-terminated.  0 or -1.
 */
int jv_string_decode(char *text, size_t len, const char **out, size_t *outlen);

/*
 * The same scan, resumable for a value that arrives in pieces (stdin): the
 * object or array starting at text[0] was scanned up to from with state s;
 * returns 1 and *end (one past it) once it ends, or 0 and *end = len (scan
 * on from there when more text has arrived).
 */
typedef struct jv_scanner
{
	int depth;	 /* open brackets */
	bool in_str; /* inside a string */
	bool esc;	 /* after a backslash in a string */
} jv_scanner;

int jv_scan(jv_scanner *s, const char *text, size_t from, size_t len, size_t *end);

const jv *jv_get(const jv *obj, const char *key);
const jv *jv_at(const jv *arr, size_t i);
bool jv_is(const jv *v, jv_type t);
/* The string of v, or NULL if v is not a string. */
const char *jv_str(const jv *v);
/* Deep equality; object member order does not matter. */
bool jv_equal(const jv *a, const jv *b);
/* The value as a double (numbers, numeric strings); 0 otherwise. */
double jv_double(const jv *v);
/*
 * Is s[0..n) UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past
 * U+10FFFF)?  jv_parse rejects strings that are not.
 */
bool jv_utf8_valid(const char *s, size_t n);

#endif /* RELAY_JSON_H */
