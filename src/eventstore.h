/*-------------------------------------------------------------------------
 *
 * eventstore.h
 *		Declarations shared by the eventstore extension's C files: the
 *		append function, the compact jsonb writer and the output plugin.
 *
 * IDENTIFICATION
 *		src/eventstore.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef EVENTSTORE_H
#define EVENTSTORE_H

#include "lib/stringinfo.h"
#include "utils/jsonb.h"

/*
 * SQLSTATEs of the event store (class "VE", implementation-defined).  They
 * are part of the API: applications branch on them.  Documented in
 * docs/errors.md.
 */
/* clang-format off */
#define ERRCODE_ES_WRONG_EXPECTED_VERSION	MAKE_SQLSTATE('V','E','0','0','1')
#define ERRCODE_ES_AGGREGATE_TYPE_MISMATCH	MAKE_SQLSTATE('V','E','0','0','2')
#define ERRCODE_ES_INVALID_BATCH			MAKE_SQLSTATE('V','E','0','0','3')
#define ERRCODE_ES_EVENT_MISSING_TYPE		MAKE_SQLSTATE('V','E','0','0','4')
#define ERRCODE_ES_INVALID_EVENT_ID			MAKE_SQLSTATE('V','E','0','0','5')
#define ERRCODE_ES_EVENT_TOO_LARGE			MAKE_SQLSTATE('V','E','0','0','6')
#define ERRCODE_ES_DUPLICATE_EVENT_ID		MAKE_SQLSTATE('V','E','0','0','7')
#define ERRCODE_ES_INVALID_EVENT			MAKE_SQLSTATE('V','E','0','0','8')
/* clang-format on */
/* VE009 (append-only violation) is raised by the SQL trigger function. */

/* eventstore.max_event_size, in bytes of JSON (see eventstore.c) */
extern int es_max_event_size;

/* jsonb_compact.c */
extern void es_jsonb_append_compact(StringInfo out, JsonbContainer *container);
extern void es_json_append_string(StringInfo out, const char *str, int len);

#endif /* EVENTSTORE_H */
