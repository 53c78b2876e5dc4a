/*
 * pg_state.h
 *		The --state-file of the PostgreSQL path: the position this relay
 *		confirmed last, with the slot and the server identity it was
 *		confirmed on, so that a slot dropped, recreated or advanced by
 *		someone else is detected across relay restarts too.
 *
 * Written durably (file_replace.h) before the position is confirmed to
 * PostgreSQL, so the slot is never ahead of the file unless someone else
 * moved it.
 */
#ifndef RELAY_PG_STATE_H
#define RELAY_PG_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pg_state
{
	bool loaded;		/* the file existed */
	uint64_t lsn;		/* confirmed position recorded in it */
	char identity[160]; /* system identifier / database recorded in it */
} pg_state;

/* Read path (a missing file is not an error: loaded stays false); -1 with err. */
int pg_state_load(const char *path, const char *slot, pg_state *st, char *err, size_t errlen);

/* Record lsn for slot on the server identity; 0, or -1 with err. */
int pg_state_write(const char *path, const char *identity, const char *slot, uint64_t lsn,
				   char *err, size_t errlen);

#endif
