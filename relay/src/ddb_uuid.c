/*
 * ddb_uuid.c
 *		UUIDv5 event ids (see ddb_uuid.h).  SHA-1 (OpenSSL) is only the
 *		name hash RFC 4122 prescribes, never used for collision resistance.
 */
#include "ddb_uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <pthread.h>

static const uint8_t s_event_ns[16] = {0x93, 0x55, 0xb2, 0x76, 0x30, 0x80, 0x5e, 0xbf,
									   0xa8, 0x04, 0x48, 0xb9, 0x3b, 0x6d, 0xcf, 0x1e};

/*
 * OpenSSL 3 looks the algorithm up on every SHA1() call (about 0.4 us, as
 * much as the hash): fetch it once, and keep one digest context per thread.
 */
static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static EVP_MD *s_md;
static _Thread_local EVP_MD_CTX *s_ctx;

static void
s_fetch(void)
{
	s_md = EVP_MD_fetch(NULL, "SHA1", NULL);
}

/* SHA-1 of a || b; aborts if OpenSSL cannot (no sane id to return). */
static void
s_sha1_2(const void *a, size_t alen, const void *b, size_t blen, uint8_t digest[20])
{
	unsigned int n;

	pthread_once(&s_once, s_fetch);
	if (s_ctx == NULL)
		s_ctx = EVP_MD_CTX_new();
	if (s_md == NULL || s_ctx == NULL || EVP_DigestInit_ex(s_ctx, s_md, NULL) != 1 ||
		EVP_DigestUpdate(s_ctx, a, alen) != 1 || EVP_DigestUpdate(s_ctx, b, blen) != 1 ||
		EVP_DigestFinal_ex(s_ctx, digest, &n) != 1)
		abort();
}

void
ddb_sha1(const void *data, size_t len, uint8_t digest[20])
{
	s_sha1_2(data, len, "", 0, digest);
}

void
ddb_uuid5(const uint8_t ns[16], const char *name, size_t namelen, char out[DDB_UUID_STRLEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t d[20];
	int i;
	char *o = out;

	s_sha1_2(ns, 16, name, namelen, d);
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
