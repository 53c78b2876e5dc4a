/*
 * ddb_stdin.c
 *		Standard-input mode: read values, pluck their records, publish.
 *
 * Envelopes are gathered across input values and published when 500 are
 * pending (one PutRecords worth) or when no more input is ready, so a
 * trickling pipe is not held back and a fast one is batched.
 */
#include "ddb_stdin.h"

#include <stdio.h>

#include "ddb_input.h"
#include "log.h"

#define DDB_STDIN_BATCH 500

/* Publish the envelopes of records [first, next); -1 if not all were acknowledged. */
static int
s_flush(const ddb_options *opt, ddb_out *out, ddb_events *ev, size_t first, size_t next)
{
	char err[512];
	bool fatal;
	size_t done;

	if (next == first)
		return 0;
	done = ddb_out_publish(out, ev, first, next - first, relay_now_ms() + opt->publish_timeout_ms,
						   &fatal, err, sizeof(err));
	ddb_events_reset(ev);
	if (done < next - first)
	{
		log_kv(LOG_ERROR, "publishing failed", "error", err, NULL);
		return -1;
	}
	return 0;
}

int
ddb_stdin_run(const ddb_options *opt, int fd, ddb_out *out, ddb_stats *stats)
{
	ddb_reader r;
	ddb_events ev;
	char err[512];
	int failed = 0;
	size_t first = 0; /* first record of the pending batch */
	size_t next = 0;  /* number of the next record read */

	if (ddb_reader_init(&r, fd, err, sizeof(err)) != 0)
	{
		log_kv(LOG_ERROR, "cannot read standard input", "error", err, NULL);
		return -1;
	}
	ddb_events_init(&ev);
	for (;;)
	{
		const jv *v;
		ddb_recs recs;
		size_t stop;
		int rc = ddb_reader_next(&r, &v, err, sizeof(err));

		if (rc == 0)
			break;
		if (rc > 0 && ddb_recs_from_value(v, &recs, err, sizeof(err)) != 0)
			rc = -1;
		if (rc < 0)
		{
			stats->outcome[DDB_OUT_ERROR]++;
			log_kv(LOG_ERROR, "bad input value", "error", err, "action",
				   opt->on_error == DDB_ON_ERROR_STOP ? "stop" : "skip", NULL);
			if (opt->on_error == DDB_ON_ERROR_STOP)
			{
				failed = 1;
				break;
			}
			continue;
		}
		stop = ddb_batch_pluck(&recs, &opt->rec, opt->on_error, next, &ev, stats);
		if (stop < next + recs.n)
		{
			/* What was plucked before the bad record is still published. */
			failed = 1;
			next = stop;
			break;
		}
		next += recs.n;
		if (ev.n >= DDB_STDIN_BATCH || !ddb_reader_ready(&r))
		{
			if (s_flush(opt, out, &ev, first, next) != 0)
			{
				failed = 1;
				first = next;
				break;
			}
			first = next;
		}
	}
	if (s_flush(opt, out, &ev, first, next) != 0)
		failed = 1;
	ddb_events_free(&ev);
	ddb_reader_free(&r);
	return failed ? -1 : 0;
}
