/*
 * s3_request.h
 *		The S3 client's insides, shared by s3_client.c (the signed request,
 *		reads) and s3_upload.c (writes); not for other modules, which use
 *		s3_client.h.
 */
#ifndef RELAY_S3_REQUEST_H
#define RELAY_S3_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "aws_credentials.h"
#include "aws_sigv4.h"
#include "http.h"
#include "s3_client.h"

struct s3_client
{
	s3_client_config cfg;
	char *bucket;
	char *region;
	char scheme[8];
	char host[300]; /* Host header */
	bool path_style;
	http_client *http;
	credentials_provider *creds;
	http_response resp;
	buf hdr;		   /* header lines of the last request (aws_request_send) */
	bool retryable;	   /* of the last failure */
	bool config_error; /* of the last failure */
	s3_stats stats;
};

/* Record a failure (retryable? a configuration error?) and write err; returns -1. */
int s3_fail(s3_client *c, bool retryable, bool config, char *err, size_t errlen, const char *fmt,
			...) __attribute__((format(printf, 6, 7)));

/*
 * Classify a non-2xx answer (or a 2xx carrying an <Error> body) and fill
 * err with "what: status Code: Message (request id)"; returns -1.
 */
int s3_http_error(s3_client *c, const char *what, char *err, size_t errlen);

/*
 * Send method on key (NULL: the bucket) with query (already encoded the AWS
 * way, or NULL) and extra headers.  The answer is in c->resp; returns -1
 * only when no answer arrived.
 */
int s3_request(s3_client *c, const char *method, const char *key, const char *query,
			   const sigv4_header *extra, size_t n_extra, const void *body, size_t len,
			   const char *what, char *err, size_t errlen);

#endif
