/*
 * ddb_uuid.c
 *		UUIDv5 event ids (see ddb_uuid.h), with a small SHA-1.
 *
 * SHA-1 is written out here (FIPS 180-4, section 6.1) rather than taken from
 * OpenSSL so that this file has no library boundary: it is only a name hash
 * for RFC 4122, never used for anything that needs collision resistance.
 */
#include "ddb_uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t s_event_ns[16] = {0x93, 0x55, 0xb2, 0x76, 0x30, 0x80, 0x5e, 0xbf,
									   0xa8, 0x04, 0x48, 0xb9, 0x3b, 0x6d, 0xcf, 0x1e};

typedef struct
{
	uint32_t h[5];
	uint64_t total; /* bytes hashed so far */
	uint8_t block[64];
	size_t used; /* bytes in block */
} s_sha1_ctx;

static uint32_t
s_rol(uint32_t x, int n)
{
	return (x << n) | (x >> (32 - n));
}

static void
s_sha1_block(s_sha1_ctx *c, const uint8_t *p)
{
	uint32_t w[80];
	uint32_t a, b, cc, d, e, f, k, t;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t) p[4 * i] << 24 | (uint32_t) p[4 * i + 1] << 16 |
			   (uint32_t) p[4 * i + 2] << 8 | p[4 * i + 3];
	for (i = 16; i < 80; i++)
		w[i] = s_rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = c->h[0];
	b = c->h[1];
	cc = c->h[2];
	d = c->h[3];
	e = c->h[4];
	for (i = 0; i < 80; i++)
	{
		if (i < 20)
		{
			f = (b & cc) | (~b & d);
			k = 0x5A827999;
		}
		else if (i < 40)
		{
			f = b ^ cc ^ d;
			k = 0x6ED9EBA1;
		}
		else if (i < 60)
		{
			f = (b & cc) | (b & d) | (cc & d);
			k = 0x8F1BBCDC;
		}
		else
		{
			f = b ^ cc ^ d;
			k = 0xCA62C1D6;
		}
		t = s_rol(a, 5) + f + e + k + w[i];
		e = d;
		d = cc;
		cc = s_rol(b, 30);
		b = a;
		a = t;
	}
	c->h[0] += a;
	c->h[1] += b;
	c->h[2] += cc;
	c->h[3] += d;
	c->h[4] += e;
}

static void
s_sha1_update(s_sha1_ctx *c, const uint8_t *p, size_t n)
{
	c->total += n;
	while (n > 0)
	{
		size_t take = 64 - c->used;

		if (take > n)
			take = n;
		memcpy(c->block + c->used, p, take);
		c->used += take;
		p += take;
		n -= take;
		if (c->used == 64)
		{
			s_sha1_block(c, c->block);
			c->used = 0;
		}
	}
}

static void
s_sha1_init(s_sha1_ctx *c)
{
	static const uint32_t h0[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};

	memcpy(c->h, h0, sizeof(h0));
	c->total = 0;
	c->used = 0;
}

static void
s_sha1_final(s_sha1_ctx *c, uint8_t digest[20])
{
	uint64_t bits = c->total * 8;
	uint8_t pad = 0x80;
	uint8_t zero = 0;
	uint8_t len[8];
	int i;

	s_sha1_update(c, &pad, 1);
	while (c->used != 56)
		s_sha1_update(c, &zero, 1);
	for (i = 0; i < 8; i++)
		len[i] = (uint8_t) (bits >> (56 - 8 * i));
	s_sha1_update(c, len, 8);
	for (i = 0; i < 20; i++)
		digest[i] = (uint8_t) (c->h[i / 4] >> (24 - 8 * (i % 4)));
}

void
ddb_sha1(const void *data, size_t len, uint8_t digest[20])
{
	s_sha1_ctx c;

	s_sha1_init(&c);
	s_sha1_update(&c, data, len);
	s_sha1_final(&c, digest);
}

void
ddb_uuid5(const uint8_t ns[16], const char *name, size_t namelen, char out[DDB_UUID_STRLEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	s_sha1_ctx c;
	uint8_t d[20];
	int i;
	char *o = out;

	s_sha1_init(&c);
	s_sha1_update(&c, ns, 16);
	s_sha1_update(&c, (const uint8_t *) name, namelen);
	s_sha1_final(&c, d);
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
