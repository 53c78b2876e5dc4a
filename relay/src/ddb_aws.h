/*
 * ddb_aws.h
 *		A signed AWS JSON 1.0 client for the DynamoDB Streams API
 *		(X-Amz-Target: DynamoDBStreams_20120810.<Operation>), over the
 *		relay's http.c, sigv4.c and credentials.c.
 */
#ifndef DDB_AWS_H
#define DDB_AWS_H

#include <stddef.h>

struct json_object;

typedef struct ddb_aws ddb_aws;

/* How a call ended. */
typedef enum ddb_aws_status
{
	DDB_AWS_OK = 0,
	DDB_AWS_RETRY, /* transport error, throttling, 5xx: try again later */
	DDB_AWS_ERROR  /* the service said no: see the error type */
} ddb_aws_status;

/*
 * endpoint: "http://127.0.0.1:5000" or NULL for
 * https://streams.dynamodb.REGION.amazonaws.com.
 */
ddb_aws *ddb_aws_new(const char *endpoint, const char *region, const char *ca_bundle,
					 long timeout_ms, char *err, size_t errlen);
void ddb_aws_free(ddb_aws *a);

/*
 * Call operation op ("GetRecords") with JSON body; on DDB_AWS_OK *out is the
 * parsed answer (caller puts it).  On DDB_AWS_ERROR, type holds the short
 * error type ("ExpiredIteratorException"); err always says what happened.
 */
ddb_aws_status ddb_aws_call(ddb_aws *a, const char *op, const char *body, struct json_object **out,
							char *type, size_t typelen, char *err, size_t errlen);

/* The same, leaving a successful answer as text (caller frees *text). */
ddb_aws_status ddb_aws_call_text(ddb_aws *a, const char *op, const char *body, char **text,
								 size_t *len, char *type, size_t typelen, char *err, size_t errlen);

#endif /* DDB_AWS_H */
