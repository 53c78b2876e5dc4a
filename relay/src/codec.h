/*
 * codec.h
 *		The relay's text codecs, each written once: base64 (OpenSSL), hex
 *		digits and lower-case hex encoding, and ISO-8601 UTC timestamps
 *		(envelope commit times, credential expirations, archive keys).
 */
#ifndef RELAY_CODEC_H
#define RELAY_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"

/* Standard base64 with padding: append to b, or write out (4*ceil(len/3)+1 bytes). */
void codec_base64(buf *b, const void *data, size_t len);
size_t codec_base64_to(const void *data, size_t len, char *out);

/* Value of one hex digit (either case), or -1. */
int codec_hex_digit(char c);
/* Lower-case hex of len bytes into out (2*len+1 bytes). */
void codec_hex(const void *data, size_t len, char *out);

/*
 * "YYYY-MM-DDTHH:MM:SS" (or a space for the T), then an optional fraction
 * and zone, which is taken to be UTC (every timestamp the relay reads is).
 * Returns the seconds since the epoch, or -1 if s is not such a time (also
 * before 1970); *usec (may be NULL) gets the fraction in microseconds.
 */
time_t codec_iso8601(const char *s, size_t len, int32_t *usec);

/*
 * The envelope's time (docs/envelope.md), quoted, as the extension's plugin
 * prints it: "YYYY-MM-DDTHH:MM:SS.ffffffZ" of Unix seconds + microseconds
 * (0..999999), the year astronomical and "%04d" (1 BC is 0000).  The one
 * writer of recorded_at and commit_time in the relay (PostgreSQL and
 * DynamoDB paths).
 */
void codec_time_json(buf *out, int64_t secs, int32_t usec);

#endif
