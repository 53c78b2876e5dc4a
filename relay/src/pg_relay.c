/*
 * pg_relay.c
 *		The PostgreSQL path's main loop: read the replication stream, hand
 *		each transaction's events to every sink, and confirm to PostgreSQL
 *		the end LSN of the last transaction every sink acknowledged.
 *
 * Loop shape (after pg_recvlogical): send feedback when due; read what is
 * available without blocking; let the sinks do due work; when there is
 * nothing to read, wait on the replication socket (and the metrics
 * listener) until the nearest deadline.
 *
 * Positions: the sinks see one position per transaction, its end LSN
 * (commit marker end_lsn).  The flush LSN reported is min(sink acked);
 * only when no transaction is open and every sink acknowledged every
 * committed transaction does it move to the WAL end the server last
 * reported, so an idle events table never pins WAL.
 *
 * A backfill or repair (pg_backfill.h) runs beside the stream: a page per
 * turn, and each event of the stream passes pg_backfill_gate first; when
 * the gate says "not yet", the decoded message is kept and nothing more is
 * read until it passes (the sinks, feedback and the task go on meanwhile).
 *
 * Reconnects (PostgreSQL restart, network): the sinks keep what they hold;
 * the server resends every transaction after the slot's confirmed position,
 * and transactions already handed to the sinks are skipped by their commit
 * LSN (a partly received one is resumed after its last event put), so
 * order per aggregate holds across the reconnect.
 */
#include "pg_relay.h"
#include "config.h"
#include "pg_backfill.h"
#include "pg_repair.h"
#include "sink_deadletter.h"
#include "pg_message.h"
#include "pg_pgoutput.h"
#include "log.h"
#include "metrics.h"
#include "metrics_emf.h"
#include "pg_state.h"
#include "sink.h"
#include "stop.h"
#include "pg_source.h"
#include "pg_wal_safety.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define READ_BUDGET		2000 /* messages per turn before sinks get polled */
#define LAG_RING		4096
#define FEEDBACK_MIN_MS 200	 /* least interval between confirmations */
#define BUSY_RETRY_MS	1000 /* a slot in use is looked at again this often */

typedef struct lag_entry
{
	uint64_t end_lsn;
	int64_t commit_us;
} lag_entry;

typedef struct relay_state
{
	const relay_config *cfg;
	pg_source *src;
	sink_set sinks;
	deadletter *dl;
	pg_pgoutput *pgoutput; /* --decoder pgoutput, else NULL: the plugin's messages */

	/* the decoded messages of the XLogData message being handled */
	pg_pgoutput_out pend[2];
	int pend_n, pend_i;
	pg_msg pend_m;
	bool pending; /* some of them wait for pg_backfill_gate: read nothing more */

	/* transaction being received */
	bool in_txn;
	bool skip_txn;			  /* already handed to the sinks before a reconnect */
	uint64_t txn_lsn;		  /* commit LSN (begin marker) */
	uint32_t txn_seq;		  /* events of it seen in this stream */
	uint32_t txn_skip_events; /* events of it already put before a reconnect */
	int64_t txn_commit_us;

	/* what the sinks have */
	uint64_t open_lsn;		  /* commit LSN of a transaction put but not committed */
	uint32_t open_put;		  /* its events put so far */
	uint64_t last_commit_lsn; /* commit LSN of the last transaction committed to sinks */
	uint64_t last_end_lsn;	  /* its end LSN */

	/* feedback */
	uint64_t server_wal_end; /* latest WAL end from the server */
	uint64_t keepalive_end;	 /* WAL end of the last keepalive */
	uint64_t confirmed;		 /* flush LSN last sent */
	uint64_t slot_lsn;		 /* slot position at connect: never send less */
	int64_t next_feedback;
	int64_t last_feedback;
	bool reply_now;

	uint64_t end_lsn; /* --end-lsn, 0 if none */

	/* --state-file */
	pg_state state;		  /* what --state-file recorded */
	pg_backfill *bf;	  /* --backfill, --repair-slot (started inside pg_source_start) */
	pg_horizon *hz;		  /* xmin horizon samples for a later --repair-slot */
	uint64_t durable_lsn; /* its position at start: what was confirmed is not sent again */
	uint64_t skipped;	  /* transactions the server resent below durable_lsn */

	pg_wal_safety *wal;
	bool standing_by; /* the slot was in use by another relay at the last try */

	/* reconnect */
	int64_t reconnect_at;
	int reconnect_delay;

	lag_entry lag[LAG_RING];
	size_t lag_head, lag_count;
} relay_state;

static int64_t
s_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
s_lag_push(relay_state *st, uint64_t end_lsn, int64_t commit_us)
{
	if (st->lag_count == LAG_RING)
	{
		/* keep the oldest: it is what the lag is measured by */
		st->lag[(st->lag_head + LAG_RING - 1) % LAG_RING] = (lag_entry){end_lsn, commit_us};
		return;
	}
	st->lag[(st->lag_head + st->lag_count) % LAG_RING] = (lag_entry){end_lsn, commit_us};
	st->lag_count++;
}

static void
s_lag_update(relay_state *st, uint64_t acked)
{
	while (st->lag_count > 0 && st->lag[st->lag_head].end_lsn <= acked)
	{
		st->lag_head = (st->lag_head + 1) % LAG_RING;
		st->lag_count--;
	}
	if (st->lag_count > 0 && st->lag[st->lag_head].commit_us > 0)
		metrics.lag_seconds = (double) (s_now_us() - st->lag[st->lag_head].commit_us) / 1e6;
	else if (st->in_txn && st->txn_commit_us > 0)
		metrics.lag_seconds = (double) (s_now_us() - st->txn_commit_us) / 1e6;
	else
		metrics.lag_seconds = 0;
	if (metrics.lag_seconds < 0)
		metrics.lag_seconds = 0;
}

/* The flush LSN that may be confirmed now. */
static uint64_t
s_flush_lsn(relay_state *st)
{
	uint64_t acked = sink_set_acked(&st->sinks);
	uint64_t flush = acked;

	if (!st->in_txn && st->open_lsn == 0 && acked >= st->last_end_lsn && st->keepalive_end > flush)
		flush = st->keepalive_end;
	if (flush < st->slot_lsn)
		flush = st->slot_lsn;
	return flush;
}

static int
s_send_feedback(relay_state *st, int64_t now)
{
	char err[512];
	uint64_t flush = s_flush_lsn(st);

	if (flush < st->confirmed)
		flush = st->confirmed;
	if (st->cfg->state_file && flush > st->state.lsn)
	{
		pg_state next = st->state;
		uint64_t h = pg_horizon_at(st->hz, flush);

		snprintf(next.identity, sizeof(next.identity), "%s", pg_source_identity(st->src));
		next.lsn = flush;
		/* while a task runs, rows ahead of its cursor are not delivered yet */
		if (h > next.horizon && !pg_backfill_running(st->bf))
			next.horizon = h;
		if (pg_state_save(st->cfg->state_file, st->cfg->slot, &next, err, sizeof(err)) == 0)
			st->state = next;
		else
		{
			/* never confirm more than the state file records */
			log_kv(LOG_ERROR, "could not write the state file; not confirming new positions",
				   "file", st->cfg->state_file, "detail", err, NULL);
			flush = st->state.lsn > st->confirmed ? st->state.lsn : st->confirmed;
		}
	}
	if (pg_source_feedback(st->src, st->server_wal_end > flush ? st->server_wal_end : flush, flush,
						   err, sizeof(err)) < 0)
	{
		log_kv(LOG_WARN, "replication connection lost", "detail", err, NULL);
		return -1;
	}
	if (flush > st->confirmed && log_get_level() <= LOG_DEBUG)
	{
		char l[32];

		lsn_format(flush, l);
		log_kv(LOG_DEBUG, "confirmed", "flush_lsn", l, NULL);
	}
	st->confirmed = flush;
	metrics.acked_lsn = flush;
	st->next_feedback = now + st->cfg->status_interval_ms;
	st->last_feedback = now;
	st->reply_now = false;
	return 0;
}

/*
 * Handle one plugin message: an event (its envelope in data[0..len)) or a
 * marker; m is the XLogData message it came from.  0, 1 if the event must
 * wait (pg_backfill_gate; nothing changed, handle it again later), or -1
 * with a fatal error.
 */
static int
s_handle_msg(relay_state *st, const plugin_msg *pmp, const char *data, size_t len, const pg_msg *m,
			 bool *fatal_config, char *err, size_t errlen)
{
	plugin_msg pm = *pmp;

	switch (pm.kind)
	{
		case PM_BEGIN:
			st->in_txn = true;
			st->txn_lsn = pm.lsn;
			st->txn_seq = 0;
			st->txn_commit_us = pm.commit_time_us;
			/*
			 * Resent after a reconnect?  Or confirmed before (the state file
			 * says so) and resent because the server restarted from an older
			 * slot position: a crash loses the in-memory confirmed_flush, and
			 * a promoted standby's synchronised slot may lag a little.  Below
			 * the confirmed position means its commit record starts before it,
			 * the rule the server's own decoding skips by.
			 */
			st->skip_txn = (st->last_commit_lsn != 0 && pm.lsn <= st->last_commit_lsn) ||
						   pm.lsn < st->durable_lsn;
			if (pm.lsn < st->durable_lsn && st->skipped++ == 0)
			{
				char l[32];

				lsn_format(st->durable_lsn, l);
				log_kv(LOG_INFO,
					   "the server resends transactions this relay confirmed before; skipping them",
					   "confirmed_lsn", l, NULL);
			}
			st->txn_skip_events = st->open_lsn == pm.lsn ? st->open_put : 0;
			return 0;
		case PM_EVENT:
		{
			relay_event ev;
			int g;

			if (!st->in_txn)
			{
				snprintf(err, errlen,
						 "event outside a transaction: the plugin ignored include-transaction");
				return -1;
			}
			if (st->skip_txn || st->txn_seq < st->txn_skip_events)
			{
				st->txn_seq++;
				return 0;
			}
			ev.data = data;
			ev.len = len;
			ev.key = pm.key;
			ev.key_len = pm.key_len;
			ev.pos = st->txn_lsn;
			ev.seq = st->txn_seq;
			ev.commit_time = (time_t) (st->txn_commit_us / 1000000);
			g = st->bf ? pg_backfill_gate(st->bf, &ev, err, errlen) : PG_GATE_LIVE;
			if (g < 0 || g == PG_GATE_WAIT)
			{
				*fatal_config = g < 0 && pg_backfill_exit_code(st->bf) == EXIT_CONFIG;
				return g;
			}
			st->txn_seq++;
			st->open_lsn = st->txn_lsn;
			st->open_put = st->txn_seq;
			return sink_set_put(&st->sinks, &ev, err, errlen, fatal_config);
		}
		case PM_COMMIT:
		{
			uint64_t end = pm.end_lsn ? pm.end_lsn : m->data_start;

			if (!st->in_txn)
			{
				snprintf(err, errlen, "commit marker without a begin marker");
				return -1;
			}
			st->in_txn = false;
			if (st->skip_txn)
				return 0;
			if (sink_set_commit(&st->sinks, end, err, errlen, fatal_config) < 0)
				return -1;
			metrics.transactions++;
			st->last_commit_lsn = st->txn_lsn;
			st->last_end_lsn = end;
			st->open_lsn = 0;
			st->open_put = 0;
			s_lag_push(st, end, st->txn_commit_us);
			return 0;
		}
	}
	return 0;
}

/* pg_source_hooks: the table readers run inside pg_source_start. */
static int
s_hook_create(void *ctx, bool recreate, pg_fail *fail, char *err, size_t errlen)
{
	relay_state *st = ctx;

	pg_backfill_set_identity(st->bf, pg_source_identity(st->src));
	return pg_backfill_before_create(st->bf, recreate, fail, err, errlen);
}

static int
s_hook_start(void *ctx, const char *snapshot, uint64_t slot_lsn, bool recreated, pg_fail *fail,
			 char *err, size_t errlen)
{
	relay_state *st = ctx;
	char e2[256];
	bool fatal;

	if (recreated && st->open_lsn)
	{
		/* the old slot's partly received transaction: what the sinks have of it goes out */
		if (sink_set_commit(&st->sinks, st->open_lsn, e2, sizeof(e2), &fatal) == 0)
			st->last_end_lsn = st->open_lsn;
		st->open_lsn = 0;
		st->open_put = 0;
	}
	pg_backfill_set_identity(st->bf, pg_source_identity(st->src));
	return pg_backfill_before_start(st->bf, snapshot, slot_lsn, recreated, fail, err, errlen);
}

/* Handle what is left of the decoded messages: 0 all done, 1 one waits, -1 fatal error. */
static int
s_handle_pending(relay_state *st, bool *fatal_config, char *err, size_t errlen)
{
	*fatal_config = false;
	while (st->pend_i < st->pend_n)
	{
		pg_pgoutput_out *o = &st->pend[st->pend_i];
		int r = s_handle_msg(st, &o->pm, o->data, o->len, &st->pend_m, fatal_config, err, errlen);

		if (r != 0)
		{
			st->pending = r > 0;
			return r;
		}
		st->pend_i++;
	}
	st->pending = false;
	return 0;
}

/*
 * Handle one XLogData message through the decoder (the message and what
 * was decoded of it stay valid until the next read).  0, 1 if an event of
 * it waits (s_handle_pending goes on later), or -1 with a fatal error.
 */
static int
s_handle_data(relay_state *st, const pg_msg *m, bool *fatal_config, char *err, size_t errlen)
{
	int n;

	*fatal_config = false;
	st->pend_m = *m;
	st->pend_i = 0;
	if (st->pgoutput == NULL)
	{
		if (pg_message_parse(m->data, m->len, &st->pend[0].pm, err, errlen) < 0)
			return -1;
		st->pend[0].data = m->data;
		st->pend[0].len = m->len;
		n = 1;
	}
	else
		n = pg_pgoutput_decode(st->pgoutput, m->data, m->len, st->pend, fatal_config, err, errlen);
	if (n < 0)
		return -1;
	st->pend_n = n;
	return s_handle_pending(st, fatal_config, err, errlen);
}

static int
s_exit_for(pg_fail f)
{
	return f == PGF_SLOT ? EXIT_SLOT : f == PGF_CONFIG ? EXIT_CONFIG : 1;
}

/* Connect (or reconnect).  Returns 0, 1 to retry later, or an exit code > 1... as -code. */
static int
s_connect(relay_state *st, int *exit_code)
{
	char err[1024], l[32];
	pg_fail f;
	uint64_t slot_lsn = 0;

	uint64_t last = st->confirmed;

	/* first start: what the state file says this relay confirmed before */
	if (last == 0 && st->state.loaded && !st->cfg->accept_slot_position)
		last = st->state.lsn;
	/* a standby's peer moves the slot: ahead of this relay is expected */
	if (st->cfg->standby)
		last = 0;
	if (pg_source_start(st->src, last,
						st->state.loaded && st->state.identity[0] ? st->state.identity : NULL,
						&slot_lsn, &f, err, sizeof(err)) < 0)
	{
		if (f == PGF_BUSY)
		{
			/* the slot is the lock: wait for it, looking every second */
			if (!st->standing_by)
				log_kv(LOG_INFO, "the slot is in use by another process; standing by", "slot",
					   st->cfg->slot, "detail", err, NULL);
			st->standing_by = true;
			st->reconnect_at = relay_now_ms() + BUSY_RETRY_MS;
			return 1;
		}
		if (st->bf && pg_backfill_exit_code(st->bf) > 0)
		{
			/* a sink failed during a backfill or repair */
			fprintf(stderr, "eventrelay: %s\n", err);
			*exit_code = pg_backfill_exit_code(st->bf);
			return -1;
		}
		if (f != PGF_RETRY)
		{
			/* what no retry fixes ends the relay with one line naming it */
			fprintf(stderr, "eventrelay: %s\n", err);
			*exit_code = s_exit_for(f);
			return -1;
		}
		if (relay_stop_requested)
			return 1;
		st->reconnect_delay = st->reconnect_delay ? st->reconnect_delay * 2 : 500;
		if (st->reconnect_delay > st->cfg->reconnect_max_ms)
			st->reconnect_delay = st->cfg->reconnect_max_ms;
		st->reconnect_at = relay_now_ms() + st->reconnect_delay;
		log_kv(LOG_WARN, "could not start streaming; will retry", "detail", err, NULL);
		return 1;
	}
	st->reconnect_delay = 0;
	if (st->standing_by)
		log_kv(LOG_INFO, "took over the slot", "slot", st->cfg->slot, NULL);
	st->standing_by = false;
	if (slot_lsn > st->slot_lsn)
		st->slot_lsn = slot_lsn;
	if (st->confirmed < st->slot_lsn)
		st->confirmed = st->slot_lsn;
	st->in_txn = false;
	st->pending = false;
	if (st->pgoutput)
	{
		pg_pgoutput_reset(st->pgoutput);
		if (pg_pgoutput_set_database(st->pgoutput, pg_source_database(st->src)) < 0)
		{
			fprintf(stderr, "eventrelay: out of memory\n");
			*exit_code = 1;
			return -1;
		}
	}
	st->keepalive_end = 0;
	st->next_feedback = relay_now_ms() + st->cfg->status_interval_ms;
	lsn_format(slot_lsn, l);
	log_kv(LOG_INFO, "streaming", "slot", st->cfg->slot, "from_lsn", l, NULL);
	return 0;
}

static void
s_lost(relay_state *st, const char *err)
{
	log_kv(LOG_WARN, "replication stream interrupted; reconnecting", "detail", err, NULL);
	metrics.reconnects++;
	st->in_txn = false;
	st->pending = false; /* the server sends it again */
	st->reconnect_delay = st->reconnect_delay ? st->reconnect_delay : 250;
	st->reconnect_at = relay_now_ms() + st->reconnect_delay;
}

static int
s_open_sinks(relay_state *st, char *err, size_t errlen)
{
	int i;

	st->dl = deadletter_open(st->cfg->dead_letter, st->cfg, err, errlen);
	if (st->dl == NULL)
		return -1;
	for (i = 0; i < st->cfg->n_sinks; i++)
	{
		sink *s = sink_open(st->cfg->sinks[i], st->cfg, st->dl, err, errlen);

		if (s == NULL)
			return -1;
		st->sinks.s[st->sinks.n++] = s;
		/* a configuration error stops the relay before it streams anything */
		if (s->ops->check && s->ops->check(s, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* The pgoutput decoder, with the filters and the plugin's include-* options. */
static int
s_open_pgoutput(relay_state *st, char *err, size_t errlen)
{
	const relay_config *cfg = st->cfg;
	pg_pgoutput_options o = {PG_ENVELOPE_FIELDS_ALL, cfg->aggregate_types, cfg->event_types,
							 cfg->any_origin};

	for (int i = 0; i < cfg->n_plugin_opts; i++)
		if (pg_pgoutput_envelope_option(&o.fields, cfg->plugin_opts[i].key,
										cfg->plugin_opts[i].value, err, errlen) < 0)
			return -1;
	st->pgoutput = pg_pgoutput_new(&o, err, errlen);
	return st->pgoutput ? 0 : -1;
}

static int
s_shutdown(relay_state *st, int rc)
{
	char err[512], l[32];
	int64_t deadline = relay_now_ms() + st->cfg->shutdown_timeout_ms;
	int drained;

	log_kv(LOG_INFO, "stopping: delivering what is in flight", NULL);
	drained = sink_set_drain(&st->sinks, deadline, err, sizeof(err));
	if (pg_backfill_drain(st->bf, deadline, err, sizeof(err)) < 0)
		drained = -1;
	if (drained < 0)
		log_kv(LOG_WARN, "not everything was delivered before stopping; it will be sent again",
			   "detail", err, NULL);
	if (pg_source_connected(st->src))
		s_send_feedback(st, relay_now_ms());
	pg_source_close(st->src);
	lsn_format(st->confirmed, l);
	log_kv(LOG_INFO, "stopped", "confirmed_lsn", l, NULL);
	if (rc == 0 && drained < 0)
		rc = 1;
	return rc;
}

int
relay_run(const relay_config *cfg)
{
	relay_state *st = calloc(1, sizeof(*st));
	char err[1024];
	int rc = 0;
	bool fatal_config = false;

	if (st == NULL)
		return 1;
	st->cfg = cfg;
	st->src = pg_source_new(cfg);
	if (cfg->pgoutput && s_open_pgoutput(st, err, sizeof(err)) < 0)
	{
		fprintf(stderr, "eventrelay: %s\n", err);
		rc = EXIT_CONFIG;
		goto done;
	}
	if (s_open_sinks(st, err, sizeof(err)) < 0)
	{
		fprintf(stderr, "eventrelay: %s\n", err);
		rc = EXIT_CONFIG;
		goto done;
	}
	if (cfg->metrics_port > 0 &&
		metrics_serve_open(cfg->metrics_address, cfg->metrics_port, err, sizeof(err)) < 0)
	{
		fprintf(stderr, "eventrelay: %s\n", err);
		rc = EXIT_CONFIG;
		goto done;
	}
	if (cfg->end_lsn)
		lsn_parse(cfg->end_lsn, strlen(cfg->end_lsn), &st->end_lsn);
	if (cfg->state_file &&
		pg_state_load(cfg->state_file, cfg->slot, &st->state, err, sizeof(err)) < 0)
	{
		fprintf(stderr, "eventrelay: %s\n", err);
		rc = EXIT_CONFIG;
		goto done;
	}
	/* positions the state file shows confirmed are skipped if the server resends them */
	if (st->state.loaded && !cfg->accept_slot_position)
		st->durable_lsn = st->state.lsn;
	st->wal = pg_wal_safety_new(cfg);
	metrics_emf_start(cfg->metrics_emf_interval_ms, cfg->metrics_emf_namespace, "Slot", cfg->slot);
	if (cfg->state_file)
	{
		pg_source_hooks h = {cfg->backfill, cfg->repair_slot, s_hook_create, s_hook_start, st};

		st->bf = pg_backfill_new(cfg, &st->sinks, st->dl, &st->state);
		st->hz = pg_horizon_new(cfg);
		if (st->bf == NULL || st->hz == NULL)
		{
			rc = 1;
			goto done;
		}
		pg_source_set_hooks(st->src, &h);
	}
	if (s_connect(st, &rc) < 0)
		goto done;

	while (!relay_stop_requested)
	{
		int64_t now = relay_now_ms();
		bool idle = true;
		int budget = READ_BUDGET;
		struct pollfd pfd[2];
		int nfd = 0, timeout;
		int64_t due;
		bool backpressure;

		if (!pg_source_connected(st->src) && now >= st->reconnect_at)
		{
			int r = s_connect(st, &rc);

			if (r < 0)
				break;
		}

		/* an event that waited for the backfill first */
		if (st->pending && pg_source_connected(st->src))
		{
			int r = s_handle_pending(st, &fatal_config, err, sizeof(err));

			if (r < 0)
			{
				log_kv(LOG_ERROR, err, NULL);
				rc = fatal_config ? EXIT_CONFIG : 1;
				goto stop;
			}
		}

		/* read while there is data and the sinks are not too far behind */
		backpressure = st->pending || sink_set_pending_bytes(&st->sinks) >= cfg->max_buffer_bytes;
		while (pg_source_connected(st->src) && !backpressure && budget-- > 0)
		{
			pg_msg m;
			pg_fail f;
			int r = pg_source_read(st->src, &m, &f, err, sizeof(err));

			if (r == 0)
				break;
			if (r < 0)
			{
				if (f == PGF_SLOT && cfg->repair_slot)
				{
					/* reconnect: pg_source_start recreates the slot and repairs */
					log_kv(LOG_WARN, err, NULL);
					s_lost(st, err);
					break;
				}
				if (f != PGF_RETRY)
				{
					log_kv(LOG_ERROR, err, NULL);
					rc = s_exit_for(f);
					goto stop;
				}
				s_lost(st, err);
				break;
			}
			idle = false;
			if (m.wal_end > st->server_wal_end)
				st->server_wal_end = m.wal_end;
			metrics.received_lsn = st->server_wal_end;
			if (m.type == 'k')
			{
				st->keepalive_end = m.wal_end;
				if (m.reply_requested)
					st->reply_now = true;
				break; /* answer promptly */
			}
			r = s_handle_data(st, &m, &fatal_config, err, sizeof(err));
			if (r < 0)
			{
				log_kv(LOG_ERROR, err, NULL);
				rc = fatal_config ? EXIT_CONFIG : 1;
				goto stop;
			}
			if (r > 0)
			{
				backpressure = true; /* the event waits: nothing more is read */
				break;
			}
			if ((budget & 63) == 0)
				backpressure = sink_set_pending_bytes(&st->sinks) >= cfg->max_buffer_bytes;
		}
		if (budget <= 0)
			idle = false;

		now = relay_now_ms();
		if (sink_set_poll(&st->sinks, now, idle, err, sizeof(err), &fatal_config) < 0)
		{
			log_kv(LOG_ERROR, err, NULL);
			rc = fatal_config ? EXIT_CONFIG : 1;
			goto stop;
		}
		s_lag_update(st, sink_set_acked(&st->sinks));
		if (st->bf && pg_backfill_step(st->bf, now, err, sizeof(err)) < 0)
		{
			log_kv(LOG_ERROR, err, NULL);
			rc = pg_backfill_exit_code(st->bf) ? pg_backfill_exit_code(st->bf) : 1;
			goto stop;
		}
		if (pg_source_connected(st->src))
		{
			pg_horizon_tick(st->hz, now);
			pg_wal_safety_poll(st->wal, now);
			metrics_emf_poll(now); /* only while streaming: see metrics_emf.h */
		}
		if (st->end_lsn && s_flush_lsn(st) >= st->end_lsn)
		{
			log_kv(LOG_INFO, "reached --end-lsn", NULL);
			break;
		}

		now = relay_now_ms();
		if (pg_source_connected(st->src) &&
			(st->reply_now || now >= st->next_feedback ||
			 /* confirm soon (at most once a second) once something new is acknowledged */
			 (s_flush_lsn(st) > st->confirmed && now >= st->last_feedback + FEEDBACK_MIN_MS)))
		{
			if (s_send_feedback(st, now) < 0)
				s_lost(st, "feedback failed");
		}

		if (!idle)
			continue;

		/* wait for data, a sink deadline, feedback, the backfill or a metrics scrape */
		due = sink_set_next_due(&st->sinks);
		if (st->bf)
		{
			int64_t b = pg_backfill_next_due(st->bf, relay_now_ms());

			if (b < due)
				due = b;
		}
		if (pg_source_connected(st->src))
		{
			/* while the sinks catch up, the socket is left alone (it stays readable) */
			pfd[nfd].fd = backpressure ? -1 : pg_source_socket(st->src);
			pfd[nfd].events = POLLIN;
			nfd++;
			if (st->next_feedback < due)
				due = st->next_feedback;
			if (s_flush_lsn(st) > st->confirmed && st->last_feedback + FEEDBACK_MIN_MS < due)
				due = st->last_feedback + FEEDBACK_MIN_MS;
		}
		else if (st->reconnect_at < due)
			due = st->reconnect_at;
		if (metrics_serve_fd() >= 0)
		{
			pfd[nfd].fd = metrics_serve_fd();
			pfd[nfd].events = POLLIN;
			nfd++;
		}
		now = relay_now_ms();
		timeout = due == INT64_MAX ? 1000
				  : due <= now	   ? 0
								   : (int) (due - now > 1000 ? 1000 : due - now);
		if (poll(pfd, (nfds_t) nfd, timeout) > 0 && metrics_serve_fd() >= 0 &&
			(pfd[nfd - 1].revents & POLLIN))
			metrics_serve_handle();
	}

stop:
	rc = s_shutdown(st, rc);
done:
	sink_set_free(&st->sinks);
	deadletter_free(st->dl);
	pg_source_free(st->src);
	pg_backfill_free(st->bf);
	pg_horizon_free(st->hz);
	pg_wal_safety_free(st->wal);
	pg_pgoutput_free(st->pgoutput);
	metrics_serve_close();
	free(st);
	return rc;
}
