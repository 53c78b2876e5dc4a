/*
 * th_util.h
 *		Helpers shared by the unit tests: reading fixture files, a tiny
 *		canned-response HTTP server on 127.0.0.1 (for credentials and Kinesis
 *		client tests that must not need any real service).
 */
#ifndef TH_UTIL_H
#define TH_UTIL_H

#include <stddef.h>

/* Read a whole file; NULL if missing.  *len may be NULL. */
char *th_read_file(const char *path, size_t *len);

/*
 * A one-thread HTTP/1.1 server answering requests from a script.  Each
 * request is matched in order against the responses queued with
 * th_http_push(); the request line + headers + body of every request is
 * kept for inspection (th_http_request(i)).
 */
typedef struct th_http th_http;

th_http *th_http_start(void);
int th_http_port(th_http *s);
/* Queue a response: status, extra headers ("A: b\r\n" lines or ""), body. */
void th_http_push(th_http *s, int status, const char *headers, const char *body);
int th_http_count(th_http *s);
const char *th_http_request(th_http *s, int i);
void th_http_stop(th_http *s);

#endif
