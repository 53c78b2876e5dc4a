/*
 * pg_source.c
 *		Logical replication over libpq, in the manner of pg_recvlogical (see
 *		pg_source.h).
 */
#include "pg_source.h"
#include "buf.h"
#include "pg_auth.h"
#include "pg_sql.h"
#include "pg_message.h"
#include "pg_slot.h"
#include "pg_pgoutput.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

/* Seconds between the Unix epoch and the PostgreSQL epoch (2000-01-01). */
#define PG_EPOCH_OFFSET_SECS 946684800LL

#define ERRCODE_UNDEFINED_OBJECT		   "42704"
#define ERRCODE_OBJECT_NOT_IN_PREREQ_STATE "55000"
#define ERRCODE_INVALID_PASSWORD		   "28P01"
#define ERRCODE_INVALID_AUTHORIZATION	   "28000"
#define ERRCODE_INVALID_CATALOG_NAME	   "3D000"
#define ERRCODE_INVALID_PARAMETER_VALUE	   "22023"
#define ERRCODE_INSUFFICIENT_PRIVILEGE	   "42501"

struct pg_source
{
	const relay_config *cfg;
	PGconn *conn;
	char *copybuf;		/* last PQgetCopyData buffer */
	pg_auth *auth;		/* passwords of --rds-iam-auth, or NULL */
	char identity[160]; /* system identifier / database */
	pg_source_hooks hooks;
	char snapshot[128]; /* exported by the slot this start created ("" if none) */
	bool recreated;		/* this start replaced a slot (--repair-slot) */
	char dbname[256];	/* current_database() */
};

void
pg_source_set_hooks(pg_source *s, const pg_source_hooks *h)
{
	s->hooks = *h;
}

pg_source *
pg_source_new(const relay_config *cfg)
{
	pg_source *s = calloc(1, sizeof(*s));

	if (s)
		s->cfg = cfg;
	return s;
}

static void
s_disconnect(pg_source *s)
{
	if (s->copybuf)
		PQfreemem(s->copybuf);
	s->copybuf = NULL;
	if (s->conn)
		PQfinish(s->conn);
	s->conn = NULL;
}

void
pg_source_free(pg_source *s)
{
	if (s == NULL)
		return;
	s_disconnect(s);
	pg_auth_free(s->auth);
	free(s);
}

bool
pg_source_connected(const pg_source *s)
{
	return s->conn != NULL;
}

int
pg_source_socket(const pg_source *s)
{
	return s->conn ? PQsocket(s->conn) : -1;
}

/* Classify a server error by SQLSTATE. */
static pg_fail
s_classify(const char *sqlstate, const char *msg)
{
	if (sqlstate == NULL)
		return PGF_RETRY;
	if (strcmp(sqlstate, PG_SQLSTATE_OBJECT_IN_USE) == 0)
		return PGF_BUSY; /* another relay streams it: a standby waits for it */
	if (strcmp(sqlstate, ERRCODE_UNDEFINED_OBJECT) == 0 && strstr(msg, "replication slot"))
		return PGF_SLOT;
	if (strcmp(sqlstate, ERRCODE_OBJECT_NOT_IN_PREREQ_STATE) == 0 &&
		(strstr(msg, "invalidated") || strstr(msg, "can no longer get changes")))
		return PGF_SLOT;
	if (strcmp(sqlstate, ERRCODE_INVALID_PASSWORD) == 0 ||
		strcmp(sqlstate, ERRCODE_INVALID_AUTHORIZATION) == 0 ||
		strcmp(sqlstate, ERRCODE_INVALID_CATALOG_NAME) == 0 ||
		strcmp(sqlstate, ERRCODE_INVALID_PARAMETER_VALUE) == 0 ||
		strcmp(sqlstate, ERRCODE_INSUFFICIENT_PRIVILEGE) == 0 || strncmp(sqlstate, "42", 2) == 0)
		return PGF_CONFIG;
	return PGF_RETRY;
}

static int
s_result_fail(pg_source *s, PGresult *res, const char *what, pg_fail *fail, char *err,
			  size_t errlen)
{
	const char *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(s->conn);
	char prefix[128];

	if (msg == NULL || !*msg)
		msg = PQerrorMessage(s->conn);
	*fail = s_classify(sqlstate, msg);
	snprintf(prefix, sizeof(prefix), "%s: ", what);
	pg_error_line(err, errlen, prefix, msg);
	if (res)
		PQclear(res);
	return -1;
}

static int
s_connect(pg_source *s, pg_fail *fail, char *err, size_t errlen)
{
	const char *keys[] = {"dbname", "replication", "fallback_application_name", NULL, NULL};
	const char *vals[] = {s->cfg->dbname ? s->cfg->dbname : "", "database", "eventrelay", NULL,
						  NULL};
	char *password;

	/* after dbname, so that it wins over a password in the conninfo */
	if (pg_auth_password(s->cfg, &s->auth, &password, fail, err, errlen) < 0)
		return -1;
	keys[3] = password ? "password" : NULL;
	vals[3] = password;
	s->conn = PQconnectdbParams(keys, vals, 1);
	pg_auth_release(password);
	if (s->conn == NULL)
	{
		*fail = PGF_RETRY;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (PQstatus(s->conn) != CONNECTION_OK)
	{
		const char *msg = PQerrorMessage(s->conn);

		/*
		 * A refused password, an unknown database or a role that may not
		 * replicate will not fix itself (libpq gives no SQLSTATE here: the
		 * server's words in PostgreSQL 15 and 16+).
		 */
		bool norepl = strstr(msg, "must be superuser or replication role") ||
					  strstr(msg, "permission denied to start WAL sender");

		*fail = (norepl || strstr(msg, "password authentication failed") ||
				 strstr(msg, "does not exist") || strstr(msg, "no pg_hba.conf entry") ||
				 strstr(msg, "invalid connection option") || strstr(msg, "missing \"=\"") ||
				 strstr(msg, "PAM authentication failed")) /* RDS's words for a refused IAM token */
					? PGF_CONFIG
					: PGF_RETRY;
		pg_error_line(err, errlen,
					  norepl
						  ? "the role has no REPLICATION attribute (ALTER ROLE ... REPLICATION): "
						  : "could not connect to PostgreSQL: ",
					  msg);
		pg_auth_explain(s->auth, err, errlen);
		s_disconnect(s);
		return -1;
	}
	return 0;
}

/* Drop the slot (PGF_RETRY if it is in use: its user may let go). */
static int
s_drop_slot(pg_source *s, pg_fail *fail, char *err, size_t errlen)
{
	buf q = BUF_INIT;
	PGresult *res;

	buf_printf(&q, "DROP_REPLICATION_SLOT \"%s\"", s->cfg->slot);
	res = PQexec(s->conn, q.data);
	buf_free(&q);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		s_result_fail(s, res, "could not drop the replication slot to recreate it", fail, err,
					  errlen);
		if (*fail == PGF_SLOT)
			*fail = PGF_RETRY; /* gone meanwhile: look again */
		return -1;
	}
	PQclear(res);
	log_kv(LOG_WARN, "replication slot dropped to be recreated (--repair-slot)", "slot",
		   s->cfg->slot, NULL);
	return 0;
}

/*
 * Is the slot (a pg_replication_slots row) one --repair-slot replaces:
 * invalidated, or ahead of what this relay confirmed?
 */
static bool
s_replace_wanted(PGresult *res, uint64_t last_confirmed)
{
	uint64_t at = 0;
	const char *v = PQgetvalue(res, 0, 4);

	if (strcmp(PQgetvalue(res, 0, 3), "lost") == 0)
		return true;
	return !PQgetisnull(res, 0, 4) && lsn_parse(v, strlen(v), &at) == 0 && at > last_confirmed;
}

/*
 * Create the slot; with an exported snapshot when the hooks want one
 * (always for a recreation), kept in s->snapshot for before_start.
 */
static int
s_create_slot(pg_source *s, bool recreate, uint64_t *slot_lsn, pg_fail *fail, char *err,
			  size_t errlen)
{
	const relay_config *cfg = s->cfg;
	bool export = s->hooks.export_snapshot || recreate;
	buf q = BUF_INIT;
	PGresult *res;

	if (s->hooks.before_create &&
		s->hooks.before_create(s->hooks.ctx, recreate, fail, err, errlen) < 0)
		return -1;
	pg_slot_create_command(&q, cfg, PQserverVersion(s->conn), export);
	res = PQexec(s->conn, q.data);
	buf_free(&q);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		s_result_fail(s, res, "could not create the replication slot", fail, err, errlen);
		if (*fail == PGF_RETRY && strstr(err, "already exists"))
			*fail = PGF_RETRY; /* raced with another creator: look again */
		return -1;
	}
	log_kv(LOG_INFO, "replication slot created", "slot", cfg->slot, "plugin", cfg->plugin,
		   "consistent_point", PQgetvalue(res, 0, 1), NULL);
	lsn_parse(PQgetvalue(res, 0, 1), strlen(PQgetvalue(res, 0, 1)), slot_lsn);
	if (export && !PQgetisnull(res, 0, 2))
		snprintf(s->snapshot, sizeof(s->snapshot), "%s", PQgetvalue(res, 0, 2));
	s->recreated = recreate;
	PQclear(res);
	return 0;
}

/* --repair-slot: replace an invalidated or moved slot. */
static int
s_drop_and_create(pg_source *s, uint64_t *slot_lsn, pg_fail *fail, char *err, size_t errlen)
{
	if (s_drop_slot(s, fail, err, errlen) < 0)
		return -1;
	return s_create_slot(s, true, slot_lsn, fail, err, errlen);
}

/* Look at the slot; create it if allowed.  Fills *confirmed with its position. */
static int
s_check_slot(pg_source *s, uint64_t last_confirmed, uint64_t *slot_lsn, pg_fail *fail, char *err,
			 size_t errlen)
{
	const relay_config *cfg = s->cfg;
	char *lit = PQescapeLiteral(s->conn, cfg->slot, strlen(cfg->slot));
	buf q = BUF_INIT;
	PGresult *res;
	char dbname[256];

	res = PQexec(s->conn, "SELECT pg_catalog.current_database()");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		PQfreemem(lit);
		return s_result_fail(s, res, "could not query the database", fail, err, errlen);
	}
	snprintf(dbname, sizeof(dbname), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);

	buf_printf(&q,
			   "SELECT slot_type, plugin, database, wal_status, confirmed_flush_lsn, "
			   "COALESCE(active_pid, 0) FROM pg_catalog.pg_replication_slots WHERE slot_name = %s",
			   lit);
	PQfreemem(lit);
	res = PQexec(s->conn, q.data);
	buf_free(&q);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return s_result_fail(s, res, "could not look up the replication slot", fail, err, errlen);
	if (PQntuples(res) == 0)
	{
		PQclear(res);
		if (last_confirmed != 0 && s->hooks.repair)
			return s_create_slot(s, true, slot_lsn, fail, err, errlen);
		if (!cfg->create_slot)
		{
			*fail = PGF_SLOT;
			snprintf(err, errlen,
					 "replication slot \"%s\" does not exist; create it with --create-slot "
					 "(events committed before it exists are not relayed)",
					 cfg->slot);
			return -1;
		}
		if (last_confirmed != 0)
		{
			*fail = PGF_SLOT;
			snprintf(err, errlen,
					 "replication slot \"%s\" is gone although this relay confirmed events from "
					 "it; not recreating it over a gap (--accept-slot-position creates it anew, "
					 "events in between are not relayed)",
					 cfg->slot);
			return -1;
		}
		return s_create_slot(s, false, slot_lsn, fail, err, errlen);
	}
	if (strcmp(PQgetvalue(res, 0, 0), "logical") != 0 ||
		strcmp(PQgetvalue(res, 0, 1), cfg->plugin) != 0)
	{
		*fail = PGF_SLOT;
		snprintf(
			err, errlen,
			"replication slot \"%s\" is a %s slot of plugin \"%s\", not a logical slot of \"%s\"",
			cfg->slot, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), cfg->plugin);
		PQclear(res);
		return -1;
	}
	if (strcmp(PQgetvalue(res, 0, 2), dbname) != 0)
	{
		*fail = PGF_SLOT;
		snprintf(err, errlen, "replication slot \"%s\" belongs to database \"%s\", not \"%s\"",
				 cfg->slot, PQgetvalue(res, 0, 2), dbname);
		PQclear(res);
		return -1;
	}
	if (s->hooks.repair && last_confirmed != 0 && s_replace_wanted(res, last_confirmed))
	{
		PQclear(res);
		return s_drop_and_create(s, slot_lsn, fail, err, errlen);
	}
	if (strcmp(PQgetvalue(res, 0, 3), "lost") == 0)
	{
		*fail = PGF_SLOT;
		snprintf(err, errlen,
				 "replication slot \"%s\" was invalidated (wal_status lost: the WAL it needed "
				 "was removed); events may be missing. Drop and recreate the slot after "
				 "re-syncing consumers",
				 cfg->slot);
		PQclear(res);
		return -1;
	}
	if (!PQgetisnull(res, 0, 4))
	{
		const char *v = PQgetvalue(res, 0, 4);

		if (lsn_parse(v, strlen(v), slot_lsn) == 0 && last_confirmed != 0 &&
			*slot_lsn > last_confirmed)
		{
			char mine[32];

			lsn_format(last_confirmed, mine);
			*fail = PGF_SLOT;
			snprintf(err, errlen,
					 "replication slot \"%s\" is at %s, ahead of %s that this relay confirmed: "
					 "it was recreated or advanced by someone else, and events in between would "
					 "be lost; --accept-slot-position starts from the slot's position anyway",
					 cfg->slot, v, mine);
			PQclear(res);
			return -1;
		}
	}
	PQclear(res);
	return pg_slot_check_failover(s->conn, cfg, fail, err, errlen);
}

/*
 * pgoutput: the column texts the envelope writer reads must not depend on
 * the server's or the role's settings (pg_envelope.h): timestamps in ISO
 * form and UTC, and text unconverted, in the server encoding, as the plugin
 * writes it (SQL_ASCII as client encoding means no conversion).
 */
static int
s_pgoutput_session(pg_source *s, pg_fail *fail, char *err, size_t errlen)
{
	PGresult *res = PQexec(s->conn, "SELECT pg_catalog.set_config('datestyle', 'ISO', false), "
									"pg_catalog.set_config('timezone', 'UTC', false), "
									"pg_catalog.set_config('client_encoding', 'SQL_ASCII', false)");

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return s_result_fail(s, res, "could not set the session's DateStyle and TimeZone", fail,
							 err, errlen);
	PQclear(res);
	return 0;
}

/*
 * pgoutput: the publication must exist, publish inserts, and hold
 * eventstore.events itself (a partitioned events table only through
 * publish_via_partition_root, else the changes arrive under the partitions'
 * names); anything else would be a silently empty stream.
 */
static int
s_check_publication(pg_source *s, pg_fail *fail, char *err, size_t errlen)
{
	const char *pub = s->cfg->publication;
	char *lit = PQescapeLiteral(s->conn, pub, strlen(pub));
	buf q = BUF_INIT;
	PGresult *res;
	const char *how =
		"; as a database owner run once: CREATE PUBLICATION %s FOR TABLE eventstore.events "
		"WITH (publish = 'insert') (docs/managed-postgres.md)";
	char hint[256];

	if (lit == NULL)
		return s_result_fail(s, NULL, "could not look up the publication", fail, err, errlen);
	snprintf(hint, sizeof(hint), how, pub);
	buf_printf(&q,
			   "SELECT p.pubinsert, "
			   "EXISTS (SELECT 1 FROM pg_catalog.pg_publication_tables t WHERE t.pubname = "
			   "p.pubname AND t.schemaname = 'eventstore' AND t.tablename = 'events'), "
			   "COALESCE((SELECT c.relkind = 'p' FROM pg_catalog.pg_class c JOIN "
			   "pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = "
			   "'eventstore' AND c.relname = 'events'), false), p.pubviaroot "
			   "FROM pg_catalog.pg_publication p WHERE p.pubname = %s",
			   lit);
	PQfreemem(lit);
	res = PQexec(s->conn, q.data);
	buf_free(&q);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return s_result_fail(s, res, "could not look up the publication", fail, err, errlen);
	*fail = PGF_CONFIG;
	if (PQntuples(res) == 0)
		snprintf(err, errlen, "publication \"%s\" does not exist in database \"%s\"%s", pub,
				 s->dbname, hint);
	else if (strcmp(PQgetvalue(res, 0, 0), "t") != 0)
		snprintf(err, errlen,
				 "publication \"%s\" does not publish inserts (publish = 'insert' is what the "
				 "relay needs; updates and deletes are ignored)",
				 pub);
	else if (strcmp(PQgetvalue(res, 0, 2), "t") == 0 && strcmp(PQgetvalue(res, 0, 3), "t") != 0)
		snprintf(err, errlen,
				 "publication \"%s\" must have publish_via_partition_root = true: "
				 "eventstore.events is partitioned",
				 pub);
	else if (strcmp(PQgetvalue(res, 0, 1), "t") != 0)
		snprintf(err, errlen,
				 "publication \"%s\" does not contain table eventstore.events (ALTER PUBLICATION "
				 "%s ADD TABLE eventstore.events)",
				 pub, pub);
	else
	{
		PQclear(res);
		*fail = PGF_RETRY;
		return 0;
	}
	PQclear(res);
	return -1;
}

static void
s_add_option(buf *q, bool *first, const char *name, const char *value)
{
	buf_printf(q, "%s\"%s\" '", *first ? " (" : ", ", name);
	for (const char *p = value; *p; p++)
	{
		if (*p == '\'')
			buf_putc(q, '\'');
		buf_putc(q, *p);
	}
	buf_putc(q, '\'');
	*first = false;
}

int
pg_source_start(pg_source *s, uint64_t last_confirmed, const char *expect_identity,
				uint64_t *slot_lsn, pg_fail *fail, char *err, size_t errlen)
{
	const relay_config *cfg = s->cfg;
	buf q = BUF_INIT;
	bool first = true;
	PGresult *res;
	int i;

	*fail = PGF_RETRY;
	s_disconnect(s);
	if (s_connect(s, fail, err, errlen) < 0)
		return -1;
	res = PQexec(s->conn, "IDENTIFY_SYSTEM");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQnfields(res) < 4)
	{
		s_result_fail(s, res, "IDENTIFY_SYSTEM failed", fail, err, errlen);
		s_disconnect(s);
		return -1;
	}
	snprintf(s->identity, sizeof(s->identity), "%s/%s", PQgetvalue(res, 0, 0),
			 PQgetvalue(res, 0, 3));
	snprintf(s->dbname, sizeof(s->dbname), "%s", PQgetvalue(res, 0, 3));
	PQclear(res);
	if (expect_identity && strcmp(expect_identity, s->identity) != 0)
	{
		*fail = PGF_CONFIG;
		snprintf(err, errlen,
				 "the state file was written for database system/database %s, but this is %s",
				 expect_identity, s->identity);
		s_disconnect(s);
		return -1;
	}
	if (cfg->pgoutput && (s_check_publication(s, fail, err, errlen) < 0 ||
						  s_pgoutput_session(s, fail, err, errlen) < 0))
	{
		s_disconnect(s);
		return -1;
	}
	*slot_lsn = 0;
	s->snapshot[0] = '\0';
	s->recreated = false;
	if (s_check_slot(s, last_confirmed, slot_lsn, fail, err, errlen) < 0 ||
		(s->hooks.before_start &&
		 s->hooks.before_start(s->hooks.ctx, s->snapshot[0] ? s->snapshot : NULL, *slot_lsn,
							   s->recreated, fail, err, errlen) < 0))
	{
		s_disconnect(s);
		return -1;
	}
	/* from the slot's confirmed position: the server skips what was confirmed */
	buf_printf(&q, "START_REPLICATION SLOT \"%s\" LOGICAL 0/0", cfg->slot);
	if (cfg->pgoutput)
	{
		buf names = BUF_INIT;

		/*
		 * Protocol version 1: later versions add only streaming of
		 * in-progress transactions and two-phase commit, neither enabled
		 * here (a streamed transaction would arrive before it is known to
		 * commit).  The filters are applied by the decoder.
		 */
		s_add_option(&q, &first, "proto_version", "1");
		buf_putc(&names, '"');
		for (const char *p = cfg->publication; *p; p++)
		{
			if (*p == '"')
				buf_putc(&names, '"');
			buf_putc(&names, *p);
		}
		buf_putc(&names, '"');
		s_add_option(&q, &first, "publication_names", names.data);
		buf_free(&names);
		/* 16+: changes replicated in from elsewhere are left out by the server (older: by the
		 * decoder) */
		if (PQserverVersion(s->conn) >= 160000)
			s_add_option(&q, &first, "origin", cfg->any_origin ? "any" : "none");
	}
	else
	{
		s_add_option(&q, &first, "include-transaction", "on");
		if (cfg->aggregate_types)
			s_add_option(&q, &first, "aggregate-types", cfg->aggregate_types);
		if (cfg->event_types)
			s_add_option(&q, &first, "event-types", cfg->event_types);
	}
	for (i = 0; i < cfg->n_plugin_opts; i++)
		if (!cfg->pgoutput ||
			pg_pgoutput_envelope_option(NULL, cfg->plugin_opts[i].key, NULL, NULL, 0) == 0)
			s_add_option(&q, &first, cfg->plugin_opts[i].key, cfg->plugin_opts[i].value);
	if (!first)
		buf_putc(&q, ')');
	res = PQexec(s->conn, q.data);
	buf_free(&q);
	if (PQresultStatus(res) != PGRES_COPY_BOTH)
	{
		s_result_fail(s, res, "could not start replication", fail, err, errlen);
		/* a bad plugin option is reported as an error during startup */
		if (strstr(err, "option") || strstr(err, "parameter"))
			*fail = PGF_CONFIG;
		s_disconnect(s);
		return -1;
	}
	PQclear(res);
	return 0;
}

static uint64_t
s_get_u64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static void
s_put_u64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--)
	{
		p[i] = (unsigned char) (v & 0xff);
		v >>= 8;
	}
}

int
pg_source_read(pg_source *s, pg_msg *m, pg_fail *fail, char *err, size_t errlen)
{
	int n;
	const unsigned char *b;

	*fail = PGF_RETRY;
	if (s->conn == NULL)
	{
		snprintf(err, errlen, "not connected");
		return -1;
	}
	if (s->copybuf)
	{
		PQfreemem(s->copybuf);
		s->copybuf = NULL;
	}
	n = PQgetCopyData(s->conn, &s->copybuf, 1);
	if (n == 0)
	{
		if (PQconsumeInput(s->conn) == 0)
		{
			pg_error_line(err, errlen, "replication connection lost: ", PQerrorMessage(s->conn));
			s_disconnect(s);
			return -1;
		}
		n = PQgetCopyData(s->conn, &s->copybuf, 1);
		if (n == 0)
			return 0;
	}
	if (n == -1)
	{
		/* the server ended the stream: fetch its reason */
		PGresult *res = PQgetResult(s->conn);

		if (res && PQresultStatus(res) != PGRES_COMMAND_OK)
			s_result_fail(s, res, "replication stream ended", fail, err, errlen);
		else
		{
			if (res)
				PQclear(res);
			snprintf(err, errlen, "replication stream ended by the server");
		}
		s_disconnect(s);
		return -1;
	}
	if (n < 0)
	{
		pg_error_line(err, errlen, "replication connection lost: ", PQerrorMessage(s->conn));
		s_disconnect(s);
		return -1;
	}
	b = (const unsigned char *) s->copybuf;
	memset(m, 0, sizeof(*m));
	m->type = (char) b[0];
	if (m->type == 'w' && n >= 25)
	{
		m->data_start = s_get_u64(b + 1);
		m->wal_end = s_get_u64(b + 9);
		m->data = s->copybuf + 25;
		m->len = (size_t) n - 25;
		return 1;
	}
	if (m->type == 'k' && n >= 18)
	{
		m->wal_end = s_get_u64(b + 1);
		m->reply_requested = b[17] != 0;
		return 1;
	}
	snprintf(err, errlen, "unexpected replication message type '%c' (%d bytes)", m->type, n);
	s_disconnect(s);
	return -1;
}

int
pg_source_feedback(pg_source *s, uint64_t write_lsn, uint64_t flush_lsn, char *err, size_t errlen)
{
	unsigned char msg[34];
	struct timespec ts;
	int64_t now_us;

	if (s->conn == NULL)
		return -1;
	clock_gettime(CLOCK_REALTIME, &ts);
	now_us = ((int64_t) ts.tv_sec - PG_EPOCH_OFFSET_SECS) * 1000000 + ts.tv_nsec / 1000;
	msg[0] = 'r';
	s_put_u64(msg + 1, write_lsn);
	s_put_u64(msg + 9, flush_lsn);
	s_put_u64(msg + 17, flush_lsn); /* apply = flush: nothing is applied later */
	s_put_u64(msg + 25, (uint64_t) now_us);
	msg[33] = 0;
	if (PQputCopyData(s->conn, (const char *) msg, sizeof(msg)) <= 0 || PQflush(s->conn) < 0)
	{
		pg_error_line(err, errlen, "could not send feedback: ", PQerrorMessage(s->conn));
		s_disconnect(s);
		return -1;
	}
	return 0;
}

const char *
pg_source_database(const pg_source *s)
{
	return s->dbname;
}

const char *
pg_source_identity(const pg_source *s)
{
	return s->identity;
}

void
pg_source_close(pg_source *s)
{
	if (s->conn)
	{
		PQputCopyEnd(s->conn, NULL);
		PQflush(s->conn);
	}
	s_disconnect(s);
}
