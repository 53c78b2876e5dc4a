/*
 * pg_slot.h
 *		Failover slots (PostgreSQL 17+): the CREATE_REPLICATION_SLOT command
 *		for the connected server (FAILOVER true where it exists, so that a
 *		standby with sync_replication_slots keeps a copy a promotion can
 *		continue from), and the check of an existing slot's failover flag
 *		(a warning, or ALTER_REPLICATION_SLOT with --slot-failover alter).
 *		Used by pg_source.c on its replication connection before
 *		START_REPLICATION.  See docs/failover.md.
 */
#ifndef RELAY_PG_SLOT_H
#define RELAY_PG_SLOT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "config.h"
#include "pg_source.h"

struct pg_conn; /* libpq's PGconn */

/* First server version with failover slots (CREATE/ALTER_REPLICATION_SLOT ... FAILOVER). */
#define PG_SLOT_FAILOVER_VERSION 170000

/*
 * Append to q the command that creates cfg->slot for cfg->plugin on a
 * server of server_version (PQserverVersion), a failover slot on 17+ unless
 * --slot-failover off; with an exported snapshot if export_snapshot (the
 * backfill and the repair, pg_backfill.h), else without one.
 */
void pg_slot_create_command(buf *q, const relay_config *cfg, int server_version,
							bool export_snapshot);

/*
 * On 17+, look at the existing slot's failover flag: a slot that is not a
 * failover slot is logged as a warning (a promotion would lose it), or, with
 * --slot-failover alter, made one.  0, or -1 with *fail and err (the ALTER
 * failed: PGF_BUSY while another process streams the slot).
 */
int pg_slot_check_failover(struct pg_conn *conn, const relay_config *cfg, pg_fail *fail, char *err,
						   size_t errlen);

#endif
