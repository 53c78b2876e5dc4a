/*
 * metrics.c
 *		Counters and a tiny blocking-free HTTP listener for Prometheus (see
 *		metrics.h).  Any GET gets the metrics; the connection is closed after
 *		the response.  Meant for a loopback address.
 */
#include "metrics.h"
#include "buf.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

relay_metrics metrics;

static int listen_fd = -1;

metrics_sink_counters *
metrics_sink(const char *name)
{
	int i;

	for (i = 0; i < metrics.n_sinks; i++)
		if (strcmp(metrics.sinks[i].name, name) == 0)
			return &metrics.sinks[i];
	if (metrics.n_sinks == METRICS_MAX_SINKS)
		i = METRICS_MAX_SINKS - 1; /* share the last slot rather than fail */
	else
		i = metrics.n_sinks++;
	snprintf(metrics.sinks[i].name, sizeof(metrics.sinks[i].name), "%s", name);
	return &metrics.sinks[i];
}

int64_t
metrics_lag_bytes(const relay_metrics *m)
{
	int64_t lag = (int64_t) (m->received_lsn - m->acked_lsn);

	/* nothing confirmed yet (the first seconds): unknown, not the whole WAL */
	if (m->acked_lsn == 0)
		return 0;
	return lag > 0 ? lag : 0;
}

static void
s_metric(buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

char *
metrics_render(size_t *len)
{
	buf b = BUF_INIT;
	int i;

	s_metric(&b, "eventrelay_events_received_total", "counter", "Events handed to the sinks.");
	buf_printf(&b, "eventrelay_events_received_total %llu\n",
			   (unsigned long long) metrics.events_received);
	s_metric(&b, "eventrelay_bytes_received_total", "counter",
			 "Envelope bytes handed to the sinks.");
	buf_printf(&b, "eventrelay_bytes_received_total %llu\n",
			   (unsigned long long) metrics.bytes_received);
	s_metric(&b, "eventrelay_transactions_total", "counter", "Transactions with events received.");
	buf_printf(&b, "eventrelay_transactions_total %llu\n",
			   (unsigned long long) metrics.transactions);
	s_metric(&b, "eventrelay_reconnects_total", "counter", "Reconnections to the source.");
	buf_printf(&b, "eventrelay_reconnects_total %llu\n", (unsigned long long) metrics.reconnects);
	s_metric(
		&b, "eventrelay_acked_lsn", "gauge",
		"Flush LSN confirmed to PostgreSQL (every sink acknowledged up to here), as a number.");
	buf_printf(&b, "eventrelay_acked_lsn %llu\n", (unsigned long long) metrics.acked_lsn);
	s_metric(&b, "eventrelay_server_lsn", "gauge", "Latest WAL position the server reported.");
	buf_printf(&b, "eventrelay_server_lsn %llu\n", (unsigned long long) metrics.received_lsn);
	s_metric(&b, "eventrelay_lag_bytes", "gauge",
			 "Server WAL position minus the acknowledged LSN.");
	buf_printf(&b, "eventrelay_lag_bytes %lld\n", (long long) metrics_lag_bytes(&metrics));
	s_metric(&b, "eventrelay_lag_seconds", "gauge",
			 "Age of the oldest transaction not yet acknowledged by every sink.");
	buf_printf(&b, "eventrelay_lag_seconds %.3f\n", metrics.lag_seconds);
	s_metric(&b, "eventrelay_backfill_running", "gauge",
			 "1 while a backfill, 2 while a slot repair publishes from the events table (the "
			 "stream waits), else 0.");
	buf_printf(&b, "eventrelay_backfill_running %d\n", metrics.table_task);
	s_metric(&b, "eventrelay_backfill_events", "gauge",
			 "Events of the backfill or repair acknowledged by every sink so far.");
	buf_printf(&b, "eventrelay_backfill_events %llu\n", (unsigned long long) metrics.table_events);
	s_metric(&b, "eventrelay_backfill_expected_events", "gauge",
			 "Rows the backfill or repair counted when it started.");
	buf_printf(&b, "eventrelay_backfill_expected_events %llu\n",
			   (unsigned long long) metrics.table_expected);
	if (metrics.slot_wal_checked)
	{
		static const char *const states[] = {"reserved", "extended", "unreserved", "lost"};

		s_metric(&b, "eventrelay_slot_wal_status", "gauge",
				 "The slot's wal_status (pg_replication_slots): 1 for the current one.");
		for (i = 0; i < 4; i++)
			buf_printf(&b, "eventrelay_slot_wal_status{status=\"%s\"} %d\n", states[i],
					   strcmp(metrics.slot_wal_status, states[i]) == 0);
		s_metric(&b, "eventrelay_slot_retained_wal_bytes", "gauge",
				 "WAL the slot keeps on the server: pg_current_wal_lsn() - restart_lsn.");
		buf_printf(&b, "eventrelay_slot_retained_wal_bytes %lld\n",
				   (long long) metrics.slot_retained_wal_bytes);
		s_metric(&b, "eventrelay_slot_safe_wal_bytes", "gauge",
				 "safe_wal_size: WAL that can be written before the slot is in danger of losing "
				 "what it needs; -1 without max_slot_wal_keep_size.");
		buf_printf(&b, "eventrelay_slot_safe_wal_bytes %lld\n",
				   (long long) metrics.slot_safe_wal_bytes);
		s_metric(&b, "eventrelay_slot_wal_keep_bytes", "gauge",
				 "max_slot_wal_keep_size of the server in bytes; -1 = no limit.");
		buf_printf(&b, "eventrelay_slot_wal_keep_bytes %lld\n",
				   (long long) metrics.slot_wal_keep_bytes);
	}

	s_metric(&b, "eventrelay_sink_records_total", "counter", "Records delivered by a sink.");
	for (i = 0; i < metrics.n_sinks; i++)
		buf_printf(&b, "eventrelay_sink_records_total{sink=\"%s\"} %llu\n", metrics.sinks[i].name,
				   (unsigned long long) metrics.sinks[i].records);
	s_metric(&b, "eventrelay_sink_bytes_total", "counter", "Record bytes delivered by a sink.");
	for (i = 0; i < metrics.n_sinks; i++)
		buf_printf(&b, "eventrelay_sink_bytes_total{sink=\"%s\"} %llu\n", metrics.sinks[i].name,
				   (unsigned long long) metrics.sinks[i].bytes);
	s_metric(&b, "eventrelay_sink_batches_total", "counter", "Requests (batches) sent by a sink.");
	for (i = 0; i < metrics.n_sinks; i++)
		buf_printf(&b, "eventrelay_sink_batches_total{sink=\"%s\"} %llu\n", metrics.sinks[i].name,
				   (unsigned long long) metrics.sinks[i].requests);
	s_metric(&b, "eventrelay_sink_retries_total", "counter",
			 "Records sent again after a failure (throttling, partial failure, network).");
	for (i = 0; i < metrics.n_sinks; i++)
		buf_printf(&b, "eventrelay_sink_retries_total{sink=\"%s\"} %llu\n", metrics.sinks[i].name,
				   (unsigned long long) metrics.sinks[i].retries);
	s_metric(&b, "eventrelay_sink_errors_total", "counter", "Failed requests of a sink.");
	for (i = 0; i < metrics.n_sinks; i++)
		buf_printf(&b, "eventrelay_sink_errors_total{sink=\"%s\"} %llu\n", metrics.sinks[i].name,
				   (unsigned long long) metrics.sinks[i].errors);
	s_metric(&b, "eventrelay_sink_dead_letters_total", "counter",
			 "Records a sink could never deliver, set aside in the dead letter.");
	for (i = 0; i < metrics.n_sinks; i++)
		buf_printf(&b, "eventrelay_sink_dead_letters_total{sink=\"%s\"} %llu\n",
				   metrics.sinks[i].name, (unsigned long long) metrics.sinks[i].dead_letters);
	s_metric(&b, "eventrelay_sink_request_seconds_total", "counter", "Time spent in requests.");
	for (i = 0; i < metrics.n_sinks; i++)
		buf_printf(&b, "eventrelay_sink_request_seconds_total{sink=\"%s\"} %.6f\n",
				   metrics.sinks[i].name, metrics.sinks[i].request_seconds);
	*len = b.len;
	return buf_steal(&b);
}

int
metrics_serve_open(const char *address, int port, char *err, size_t errlen)
{
	struct sockaddr_in a;
	int one = 1;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t) port);
	if (inet_pton(AF_INET, address, &a.sin_addr) != 1)
	{
		snprintf(err, errlen, "invalid metrics address \"%s\" (IPv4 expected)", address);
		return -1;
	}
	listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (listen_fd < 0)
	{
		snprintf(err, errlen, "metrics socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(listen_fd, (struct sockaddr *) &a, sizeof(a)) < 0 || listen(listen_fd, 8) < 0)
	{
		snprintf(err, errlen, "could not listen on %s:%d for metrics: %s", address, port,
				 strerror(errno));
		close(listen_fd);
		listen_fd = -1;
		return -1;
	}
	return 0;
}

int
metrics_serve_fd(void)
{
	return listen_fd;
}

void
metrics_serve_handle(void)
{
	int c;

	while ((c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
	{
		char req[2048];
		struct pollfd pfd = {c, POLLIN, 0};
		char *body;
		size_t len = 0, off = 0;
		char head[256];
		ssize_t n;

		/* a scraper sends its request at once; do not wait long for it */
		if (poll(&pfd, 1, 200) > 0)
			n = read(c, req, sizeof(req) - 1);
		body = metrics_render(&len);
		snprintf(head, sizeof(head),
				 "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
				 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
				 len);
		n = write(c, head, strlen(head));
		while (n >= 0 && body && off < len)
		{
			n = write(c, body + off, len - off);
			if (n > 0)
				off += (size_t) n;
		}
		free(body);
		close(c);
	}
}

void
metrics_serve_close(void)
{
	if (listen_fd >= 0)
		close(listen_fd);
	listen_fd = -1;
}
