/*
 * ddb_input.h
 *		Reading DynamoDB Streams input: a stream of JSON values from a file
 *		descriptor (stdin mode), and the records inside one value.
 *
 * A value is a Lambda-style event or GetRecords response ({"Records":[...]})
 * or one bare record.  Values may be one per line (NDJSON) or pretty-printed
 * over many lines; a UTF-8 byte order mark at the start is ignored.
 */
#ifndef DDB_INPUT_H
#define DDB_INPUT_H

#include <stddef.h>

#include "json.h"

typedef struct ddb_reader
{
	int fd;
	char *buf;
	size_t cap;
	size_t len;	   /* bytes in buf */
	size_t pos;	   /* start of the next value */
	size_t scan;   /* how far the value at pos was scanned */
	jv_scanner sc; /* ... and the scan's state there */
	int eof;
	int started; /* BOM check done */
	long values; /* values returned so far */
	jv_doc doc;	 /* the current value */
} ddb_reader;

int ddb_reader_init(ddb_reader *r, int fd, char *err, size_t errlen);
void ddb_reader_free(ddb_reader *r);

/*
 * Next JSON value: 1 and *out (valid until the next call) on success, 0 at
 * end of input, -1 on malformed input (err says which value; the reader
 * then resumes at the next line, so a caller may go on) or a read error.
 */
int ddb_reader_next(ddb_reader *r, const jv **out, char *err, size_t errlen);

/* Is another value (or EOF) available without blocking? */
int ddb_reader_ready(ddb_reader *r);

/* The records of one input value: an array, or a single bare record. */
typedef struct ddb_recs
{
	const jv *arr; /* the "Records" array, or NULL */
	const jv *one; /* the value itself when it is one record */
	size_t n;
} ddb_recs;

int ddb_recs_from_value(const jv *v, ddb_recs *r, char *err, size_t errlen);
const jv *ddb_recs_get(const ddb_recs *r, size_t i);

/*
 * Parse a whole buffer holding exactly one JSON value (BOM allowed) into d;
 * text is modified and must outlive d's values.  Returns d->root or NULL.
 */
const jv *ddb_parse_doc(jv_doc *d, char *text, size_t len, char *err, size_t errlen);

#endif /* DDB_INPUT_H */
