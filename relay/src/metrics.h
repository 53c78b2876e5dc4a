/*
 * metrics.h
 *		Process-wide counters and gauges, served in the Prometheus text format
 *		on a loopback port (metrics_serve_*).  Single-threaded: modules update
 *		the fields directly; the main loop polls the listener.
 *
 * Per-sink counters are looked up once by name (metrics_sink) and kept.
 */
#ifndef RELAY_METRICS_H
#define RELAY_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define METRICS_MAX_SINKS 8

typedef struct metrics_sink_counters
{
	char name[32];
	uint64_t records;		/* delivered */
	uint64_t bytes;			/* delivered (record data) */
	uint64_t requests;		/* requests sent (batches) */
	uint64_t retries;		/* records sent again after a failure */
	uint64_t errors;		/* failed requests (transport, throttled, 5xx) */
	uint64_t dead_letters;	/* records set aside */
	double request_seconds; /* total time in requests */
} metrics_sink_counters;

typedef struct relay_metrics
{
	uint64_t events_received;
	uint64_t bytes_received;
	uint64_t transactions;
	uint64_t reconnects;
	uint64_t acked_lsn;	   /* flush LSN confirmed to PostgreSQL */
	uint64_t received_lsn; /* latest WAL position the server reported */
	double lag_seconds;	   /* age of the oldest unacknowledged transaction */
	/* a backfill or repair reading eventstore.events (pg_backfill.c) */
	int table_task;			 /* 0 none, 1 backfill, 2 repair */
	uint64_t table_events;	 /* events of it acknowledged by every sink */
	uint64_t table_expected; /* rows counted when it started */
	/* the slot's WAL retention (pg_wal_safety.c); until the first look slot_wal_checked = 0 */
	int slot_wal_checked;
	char slot_wal_status[16];		 /* reserved, extended, unreserved, lost */
	int64_t slot_retained_wal_bytes; /* pg_current_wal_lsn() - restart_lsn */
	int64_t slot_safe_wal_bytes;	 /* safe_wal_size; -1 = no limit */
	int64_t slot_wal_keep_bytes;	 /* max_slot_wal_keep_size; -1 = no limit */
	metrics_sink_counters sinks[METRICS_MAX_SINKS];
	int n_sinks;
} relay_metrics;

extern relay_metrics metrics;

metrics_sink_counters *metrics_sink(const char *name);

/*
 * Server WAL position minus the acknowledged LSN, never below 0; 0 until the
 * first confirmation.
 */
int64_t metrics_lag_bytes(const relay_metrics *m);

/* Render everything in the Prometheus text exposition format. */
char *metrics_render(size_t *len);

/* Listener: open (0 = ok), fd to poll, handle readiness, close. */
int metrics_serve_open(const char *address, int port, char *err, size_t errlen);
int metrics_serve_fd(void);
void metrics_serve_handle(void);
void metrics_serve_close(void);

#endif
