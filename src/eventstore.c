/*-------------------------------------------------------------------------
 *
 * eventstore.c
 *		Module entry point of the eventstore extension: the module magic
 *		and the extension's settings.
 *
 * The same shared library is loaded by backends (for eventstore.append) and
 * by walsenders (as the output plugin "eventstore"), possibly in databases
 * where CREATE EXTENSION never ran, so _PG_init only defines settings.
 *
 * IDENTIFICATION
 *		src/eventstore.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "eventstore.h"

PG_MODULE_MAGIC;

/*
 * One event must fit one Kinesis record (1 MiB by default), so the JSON of an
 * event (data + metadata + type) is limited by default to 1 MiB.
 */
int es_max_event_size = 1024 * 1024;

void _PG_init(void);

void
_PG_init(void)
{
	DefineCustomIntVariable("eventstore.max_event_size",
							"Largest event accepted by eventstore.append(), in bytes of JSON.",
							"Counts the JSON text of the event's data, metadata and type. "
							"The default (1 MiB) keeps every event within one Kinesis record.",
							&es_max_event_size, 1024 * 1024, 64,
							MaxAllocSize / 4, PGC_SUSET, GUC_UNIT_BYTE, NULL,
							NULL, NULL);
#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("eventstore");
#else
	EmitWarningsOnPlaceholders("eventstore");
#endif
}
