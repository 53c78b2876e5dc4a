/*
 * ddb_uuid.c
 *		UUIDv5 event ids (see ddb_uuid.h).  SHA-1 (OpenSSL) is only the
 *		name hash RFC 4122 prescribes, never used for collision resistance.
 */
#include "ddb_uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

static const uint8_t s_event_ns[16] = {0x93, 0x55, 0xb2, 0x76, 0x30, 0x80, 0x5e, 0xbf,
									   0xa8, 0x04, 0x48, 0xb9, 0x3b, 0x6d, 0xcf, 0x1e};

void
ddb_sha1(const void *data, size_t len, uint8_t digest[20])
{
	SHA1(data, len, digest);
}

void
ddb_uuid5(const uint8_t ns[16], const char *name, size_t namelen, char out[DDB_UUID_STRLEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t small[256];
	uint8_t *msg = small;
	uint8_t d[20];
	int i;
	char *o = out;

	/* one-shot SHA1() over namespace || name: no digest context to allocate */
	if (namelen + 16 > sizeof(small) && (msg = malloc(namelen + 16)) == NULL)
		abort(); /* cannot produce an id: nothing sane to return */
	memcpy(msg, ns, 16);
	memcpy(msg + 16, name, namelen);
	SHA1(msg, namelen + 16, d);
	if (msg != small)
		free(msg);
	d[6] = (uint8_t) ((d[6] & 0x0f) | 0x50); /* version 5 */
	d[8] = (uint8_t) ((d[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	for (i = 0; i < 16; i++)
	{
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		*o++ = hex[d[i] >> 4];
		*o++ = hex[d[i] & 0xf];
	}
	*o = '\0';
}

void
ddb_uuid_event_id(const char *aggregate_id, size_t idlen, long version,
				  char out[DDB_UUID_STRLEN + 1])
{
	char small[256];
	char *name = small;
	int n;

	/* "<id>:<version>": the version is the last ':' field, so ids may hold ':'. */
	if (idlen + 24 > sizeof(small))
	{
		name = malloc(idlen + 24);
		if (name == NULL)
			abort(); /* cannot produce an id: nothing sane to return */
	}
	memcpy(name, aggregate_id, idlen);
	n = snprintf(name + idlen, 24, ":%ld", version);
	ddb_uuid5(s_event_ns, name, idlen + (size_t) n, out);
	if (name != small)
		free(name);
}
