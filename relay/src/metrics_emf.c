/*
 * metrics_emf.c
 *		CloudWatch Embedded Metric Format lines of the relay's lag (see
 *		metrics_emf.h).
 */
#include "metrics_emf.h"
#include "buf.h"
#include "log.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct
{
	int interval_ms; /* 0 = off */
	int64_t next_ms; /* when the next line is due; 0 = at the first poll */
	char ns[METRICS_EMF_NAMESPACE_MAX + 1];
	char dim_name[64];
	char dim_value[256]; /* a slot name has at most 63 bytes */
} s_emf;

void
metrics_emf_start(int interval_ms, const char *ns, const char *dim_name, const char *dim_value)
{
	s_emf.interval_ms = interval_ms > 0 ? interval_ms : 0;
	s_emf.next_ms = 0;
	snprintf(s_emf.ns, sizeof(s_emf.ns), "%s", ns ? ns : "eventrelay");
	snprintf(s_emf.dim_name, sizeof(s_emf.dim_name), "%s", dim_name ? dim_name : "");
	snprintf(s_emf.dim_value, sizeof(s_emf.dim_value), "%s", dim_value ? dim_value : "");
}

const char *
metrics_emf_namespace_error(const char *ns)
{
	size_t i, n = strlen(ns);

	if (n == 0 || n > METRICS_EMF_NAMESPACE_MAX)
		return "a CloudWatch namespace has 1 to 255 characters";
	for (i = 0; i < n; i++)
		if (!((ns[i] >= 'a' && ns[i] <= 'z') || (ns[i] >= 'A' && ns[i] <= 'Z') ||
			  (ns[i] >= '0' && ns[i] <= '9') || strchr(" ._-/#:", ns[i])))
			return "a CloudWatch namespace has only letters, digits, spaces and . _ - / # :";
	if (ns[0] == ':')
		return "a CloudWatch namespace does not start with ':'";
	if (strncmp(ns, "AWS/", 4) == 0)
		return "namespaces starting with AWS/ are reserved for AWS services";
	return NULL;
}

/* {"Name":"...","Unit":"..."} in the directive's Metrics array. */
static void
s_declare(buf *b, bool *first, const char *name, const char *unit)
{
	buf_printf(b, "%s{\"Name\":\"%s\",\"Unit\":\"%s\"}", *first ? "" : ",", name, unit);
	*first = false;
}

char *
metrics_emf_render(const relay_metrics *m, const char *ns, const char *dim_name,
				   const char *dim_value, int64_t ts_ms, size_t *len)
{
	buf b = BUF_INIT;
	bool first = true;
	bool wal = m->slot_wal_checked != 0;
	/* safe_wal_size means something only under a max_slot_wal_keep_size */
	bool safe = wal && m->slot_wal_keep_bytes > 0;
	char *line;

	buf_printf(&b, "{\"_aws\":{\"Timestamp\":%lld,\"CloudWatchMetrics\":[{\"Namespace\":",
			   (long long) ts_ms);
	buf_json_string_utf8(&b, ns, strlen(ns));
	buf_puts(&b, ",\"Dimensions\":[[");
	buf_json_string_utf8(&b, dim_name, strlen(dim_name));
	buf_puts(&b, "]],\"Metrics\":[");
	s_declare(&b, &first, "LagSeconds", "Seconds");
	s_declare(&b, &first, "LagBytes", "Bytes");
	if (wal)
		s_declare(&b, &first, "RetainedWalBytes", "Bytes");
	if (safe)
		s_declare(&b, &first, "SafeWalBytes", "Bytes");
	buf_puts(&b, "]}]},");

	/* the dimension's value and every declared metric's, members of the root */
	buf_json_string_utf8(&b, dim_name, strlen(dim_name));
	buf_putc(&b, ':');
	buf_json_string_utf8(&b, dim_value, strlen(dim_value));
	buf_printf(&b, ",\"LagSeconds\":%.3f,\"LagBytes\":%lld",
			   m->lag_seconds > 0 ? m->lag_seconds : 0.0, (long long) metrics_lag_bytes(m));
	if (wal)
		buf_printf(&b, ",\"RetainedWalBytes\":%lld", (long long) m->slot_retained_wal_bytes);
	if (safe)
		buf_printf(&b, ",\"SafeWalBytes\":%lld",
				   (long long) (m->slot_safe_wal_bytes > 0 ? m->slot_safe_wal_bytes : 0));
	if (wal)
	{
		/* a property, not a metric: for Logs Insights next to the numbers */
		buf_puts(&b, ",\"WalStatus\":");
		buf_json_string_utf8(&b, m->slot_wal_status, strlen(m->slot_wal_status));
	}
	buf_puts(&b, "}\n");
	*len = b.len;
	line = buf_steal(&b);
	if (line == NULL)
		*len = 0;
	return line;
}

void
metrics_emf_poll(int64_t now_ms)
{
	struct timespec ts;
	char *line;
	size_t len;

	if (s_emf.interval_ms <= 0 || now_ms < s_emf.next_ms)
		return;
	/* keep the cadence; after a long stall (or the first line) start it anew */
	if (s_emf.next_ms == 0 || now_ms - s_emf.next_ms >= s_emf.interval_ms)
		s_emf.next_ms = now_ms + s_emf.interval_ms;
	else
		s_emf.next_ms += s_emf.interval_ms;
	clock_gettime(CLOCK_REALTIME, &ts);
	line = metrics_emf_render(&metrics, s_emf.ns, s_emf.dim_name, s_emf.dim_value,
							  (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000, &len);
	log_line(line, len);
	free(line);
}
