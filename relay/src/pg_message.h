/*
 * pg_message.h
 *		The plugin's messages as the relay sees them: an event envelope (one
 *		JSON object, docs/envelope.md) or a transaction marker
 *		({"kind":"begin",...} / {"kind":"commit",...}).  Parsing is minimal
 *		and allocation-free on the hot path: the relay only needs the
 *		partition key of an event and the LSNs of a marker; the envelope bytes
 *		are passed on untouched.
 */
#ifndef RELAY_PG_MESSAGE_H
#define RELAY_PG_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

typedef enum plugin_msg_kind
{
	PM_EVENT = 0,
	PM_BEGIN,
	PM_COMMIT
} plugin_msg_kind;

typedef struct plugin_msg
{
	plugin_msg_kind kind;
	const char *key; /* PM_EVENT: aggregate_id (not NUL-terminated) */
	size_t key_len;
	uint64_t lsn;			/* markers: commit LSN */
	uint64_t end_lsn;		/* commit marker: end of the commit record (0 if absent) */
	int64_t commit_time_us; /* markers: Unix time in microseconds (0 if absent) */
	int64_t events;			/* commit marker: number of events (-1 if absent) */
	char keybuf[260];		/* key storage when the slow path had to unescape it */
} plugin_msg;

/*
 * Classify and parse one message of len bytes (no NUL needed after it: the
 * parse reads data[0..len) only).  0 or -1 (not a plugin message; err says
 * why).
 */
int pg_message_parse(const char *data, size_t len, plugin_msg *m, char *err, size_t errlen);

/*
 * The "version" of an event envelope (docs/envelope.md: it comes before
 * "data", and the sequence ,"version": cannot occur inside a JSON string),
 * or -1 if the envelope has none.  Used to tell an aggregate's first event
 * without asking the table (pg_backfill_gate).
 */
long long pg_message_version(const char *data, size_t len);

/* "16/B374D848" <-> 64-bit LSN.  lsn_parse returns 0 or -1. */
int lsn_parse(const char *s, size_t len, uint64_t *out);
void lsn_format(uint64_t lsn, char out[32]);

/* ISO 8601 UTC ("2026-11-23T09:14:03.124001Z") to Unix microseconds; 0 if invalid. */
int64_t pg_message_time_us(const char *s, size_t len);

#endif
