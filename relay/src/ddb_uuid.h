/*
 * ddb_uuid.h
 *		Deterministic event ids for the DynamoDB path: RFC 4122 version 5
 *		(SHA-1, name-based) UUIDs of "<aggregate id>:<version>".
 *
 * The same event redelivered by DynamoDB Streams or Lambda gets the same id,
 * so consumers can recognise it.  The namespace is fixed forever (changing it
 * changes every id): 9355b276-3080-5ebf-a804-48b93b6dcf1e, itself
 * uuid5(NAMESPACE_URL, "urn:eventrelay:dynamodb:event-id").
 */
#ifndef DDB_UUID_H
#define DDB_UUID_H

#include <stddef.h>
#include <stdint.h>

#define DDB_UUID_STRLEN 36

/* SHA-1 of data (no key, not for security: only UUIDv5 needs it). */
void ddb_sha1(const void *data, size_t len, uint8_t digest[20]);

/* uuid5(namespace, name) as 36 lower-case characters plus NUL. */
void ddb_uuid5(const uint8_t ns[16], const char *name, size_t namelen,
			   char out[DDB_UUID_STRLEN + 1]);

/* The event id of (aggregate id, version) in the fixed namespace above. */
void ddb_uuid_event_id(const char *aggregate_id, size_t idlen, long version,
					   char out[DDB_UUID_STRLEN + 1]);

#endif /* DDB_UUID_H */
