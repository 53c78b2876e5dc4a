/*
 * metrics_emf.h
 *		The relay's lag as CloudWatch Embedded Metric Format (EMF) log lines,
 *		so that CloudWatch graphs and alarms on it without an agent or a
 *		collector: every --metrics-emf-interval seconds one JSON object on the
 *		log stream (stderr, log_line); on ECS the awslogs driver ships it to
 *		CloudWatch Logs, which extracts the metrics from it.
 *
 * One line, as the EMF specification has it: the directive in "_aws"
 * (Timestamp in milliseconds since the epoch, one CloudWatchMetrics entry
 * with the namespace, one dimension set and each metric's name and unit),
 * the dimension and the values as members of the root:
 *
 *   {"_aws":{"Timestamp":1764669600123,"CloudWatchMetrics":[{"Namespace":"eventrelay",
 *   "Dimensions":[["Slot"]],"Metrics":[{"Name":"LagSeconds","Unit":"Seconds"},
 *   {"Name":"LagBytes","Unit":"Bytes"},{"Name":"RetainedWalBytes","Unit":"Bytes"},
 *   {"Name":"SafeWalBytes","Unit":"Bytes"}]}]},"Slot":"eventrelay","LagSeconds":0.250,
 *   "LagBytes":1024,"RetainedWalBytes":16777216,"SafeWalBytes":50331648,"WalStatus":"reserved"}
 *
 * LagSeconds and LagBytes are those of the Prometheus endpoint
 * (eventrelay_lag_seconds, eventrelay_lag_bytes).  RetainedWalBytes and the
 * WalStatus property appear once the WAL safety check (pg_wal_safety.c) has
 * looked at the slot; SafeWalBytes only when the server has a
 * max_slot_wal_keep_size, as safe_wal_size and 0 for a slot past it (a lost
 * slot's safe_wal_size is NULL: nothing is safe any more).
 *
 * The caller writes lines only while the relay streams (connected, not
 * standing by for a slot another relay holds): a relay that cannot reach its
 * source then looks like a dead one, no data, which an alarm treats as
 * breaching; a standby's zero does not hide the active relay's lag.
 *
 * Process-wide, like the Prometheus listener (metrics.h): started once, then
 * polled from the loop that runs.
 */
#ifndef RELAY_METRICS_EMF_H
#define RELAY_METRICS_EMF_H

#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

#define METRICS_EMF_NAMESPACE_MAX 255 /* CloudWatch's limit */

/*
 * Write a line every interval_ms (0 = never) under namespace ns, with one
 * dimension dim_name = dim_value (PostgreSQL: "Slot" and the slot's name).
 * The strings are copied.
 */
void metrics_emf_start(int interval_ms, const char *ns, const char *dim_name,
					   const char *dim_value);

/*
 * Write a line if one is due at now_ms (relay_now_ms).  Lines keep their
 * cadence (the next is due one interval after the last was due, not after it
 * was written): at a 60-second interval they do not drift through the
 * minutes an alarm evaluates.
 */
void metrics_emf_poll(int64_t now_ms);

/*
 * The line for m at ts_ms (milliseconds since the epoch), '\n' included;
 * NULL if out of memory.  Free with free().
 */
char *metrics_emf_render(const relay_metrics *m, const char *ns, const char *dim_name,
						 const char *dim_value, int64_t ts_ms, size_t *len);

/* NULL if ns is a valid CloudWatch namespace, else why not. */
const char *metrics_emf_namespace_error(const char *ns);

#endif
