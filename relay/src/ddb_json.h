/*
 * ddb_json.h
 *		Typed DynamoDB JSON (AttributeValue: S, N, B, BOOL, NULL, M, L, SS,
 *		NS, BS) to plain JSON text.
 *
 * Mapping (docs/dynamodb.md): S -> string; N -> the number text itself
 * (never through a double, so precision is kept), normalised only where the
 * DynamoDB form is not valid JSON ("+1", ".5", "007"); B -> {"$binary":
 * "<base64>"}; BOOL -> true/false; NULL -> null; M -> object; L -> array;
 * SS/NS/BS -> arrays of the converted members.
 */
#ifndef DDB_JSON_H
#define DDB_JSON_H

#include <stddef.h>

#include "buf.h"

#include "json.h"

/* Maximum nesting of M/L accepted (DynamoDB itself allows 32). */
#define DDB_JSON_MAX_DEPTH 64

/* One AttributeValue -> plain JSON appended to out. */
int ddb_json_value(const jv *av, buf *out, char *err, size_t errlen);

/* A map of name -> AttributeValue (an image, or the body of an M) -> object. */
int ddb_json_map(const jv *map, buf *out, char *err, size_t errlen);

/*
 * Append a DynamoDB number string as a JSON number.  Returns -1 (nothing
 * appended) if s is not a decimal number at all.
 */
int ddb_json_number(const char *s, size_t n, buf *out);

/* Is s a well-formed, padded base64 string (the form DynamoDB sends)? */
int ddb_json_is_base64(const char *s, size_t n);

/*
 * The scalar text of a key attribute (S, N or B), as used for an aggregate id:
 * points into av, valid as long as av is.
 */
int ddb_json_key_text(const jv *av, const char **text, size_t *len, char *err, size_t errlen);

#endif /* DDB_JSON_H */
