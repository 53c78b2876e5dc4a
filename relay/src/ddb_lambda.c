/*
 * ddb_lambda.c
 *		The Lambda Runtime API loop: next invocation, pluck and publish the
 *		batch, answer with the first record that was not fully published.
 *
 * With ReportBatchItemFailures, Lambda retries the shard from the reported
 * sequence number, so the answer must name the *first* record whose events
 * are not all acknowledged: records are published in order as positions
 * (ddb_out.h), a bad record stops the batch there (unless --on-error=skip),
 * and everything from that record on is left to the retry.  Events that
 * were published past it are published again on the retry: at least once,
 * and the deterministic event ids make the duplicates recognisable.
 */
#include "stop.h"
#include "ddb_lambda.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ddb_batch.h"
#include "ddb_input.h"
#include "ddb_rapi.h"
#include "log.h"

#define RAPI_PREFIX "/2018-06-01/runtime"

int
ddb_lambda_handle(const ddb_options *opt, ddb_out *out, char *payload, size_t len,
				  int64_t budget_ms, buf *resp, ddb_stats *stats, char *err, size_t errlen)
{
	jv_doc doc;
	const jv *v;
	ddb_recs recs;
	ddb_events ev;
	size_t stop;
	size_t done;
	size_t failed;
	bool fatal;
	char perr[512];

	jv_doc_init(&doc);
	v = ddb_parse_doc(&doc, payload, len, err, errlen);
	if (v == NULL || ddb_recs_from_value(v, &recs, err, errlen) != 0)
	{
		jv_doc_free(&doc);
		return -1;
	}
	ddb_events_init(&ev);
	stop = ddb_batch_pluck(&recs, &opt->rec, opt->on_error, 0, &ev, stats);
	done =
		ddb_out_publish(out, &ev, 0, stop, relay_now_ms() + budget_ms, &fatal, perr, sizeof(perr));
	failed = done < stop ? done : stop;
	if (done < stop)
	{
		char n1[32], n2[32];

		snprintf(n1, sizeof(n1), "%zu", done);
		snprintf(n2, sizeof(n2), "%zu", recs.n);
		log_kv(LOG_ERROR, "publishing failed", "error", perr, "records_published", n1, "records",
			   n2, NULL);
		/* Drop what the sinks still hold: Lambda delivers those records again. */
		if (ddb_out_reset(out, perr, sizeof(perr)) != 0)
			log_kv(LOG_ERROR, "reopening the sinks failed", "error", perr, NULL);
	}
	buf_reset(resp);
	buf_puts(resp, "{\"batchItemFailures\":[");
	if (failed < recs.n)
	{
		const char *seq = ddb_record_sequence(ddb_recs_get(&recs, failed));

		if (seq == NULL || *seq == '\0')
		{
			/* Without an identifier Lambda could not resume: fail the whole batch. */
			snprintf(err, errlen, "record %zu was not published and has no SequenceNumber", failed);
			ddb_events_free(&ev);
			jv_doc_free(&doc);
			return -1;
		}
		buf_puts(resp, "{\"itemIdentifier\":");
		buf_json_string(resp, seq, strlen(seq));
		buf_putc(resp, '}');
	}
	buf_puts(resp, "]}");
	ddb_events_free(&ev);
	jv_doc_free(&doc);
	return 0;
}

/* Time the sinks may take: up to the invocation deadline, less a margin. */
static int64_t
s_budget(const ddb_options *opt, const char *deadline_hdr)
{
	struct timespec ts;
	long long deadline = deadline_hdr[0] ? strtoll(deadline_hdr, NULL, 10) : 0;
	long long now;
	long long left;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	/* Real Lambda sends epoch ms; emulators may send a duration or nothing. */
	if (deadline < 1000000000000LL)
		return opt->publish_timeout_ms;
	left = deadline - now - 1000;
	if (left < 100)
		left = 100;
	return left < opt->publish_timeout_ms ? left : opt->publish_timeout_ms;
}

static int
s_post(const char *api, const char *path, const char *hdr, const buf *body, char *err,
	   size_t errlen)
{
	ddb_rapi_resp r;
	int rc;

	ddb_rapi_resp_init(&r);
	rc = ddb_rapi_request(api, "POST", path, hdr, body->data, body->len, &r, NULL, err, errlen);
	if (rc == 0 && (r.status < 200 || r.status > 299))
	{
		snprintf(err, errlen, "Runtime API answered %d to POST %s", r.status, path);
		rc = -1;
	}
	ddb_rapi_resp_free(&r);
	return rc;
}

static void
s_error_body(buf *b, const char *type, const char *msg)
{
	buf_reset(b);
	buf_puts(b, "{\"errorMessage\":");
	buf_json_string(b, msg, strlen(msg));
	buf_puts(b, ",\"errorType\":");
	buf_json_string(b, type, strlen(type));
	buf_puts(b, "}");
}

void
ddb_lambda_init_error(const char *msg)
{
	const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
	buf b;
	char err[256];

	if (api == NULL || *api == '\0')
		return;
	buf_init(&b);
	s_error_body(&b, "EventRelay.ConfigError", msg);
	if (s_post(api, RAPI_PREFIX "/init/error",
			   "Lambda-Runtime-Function-Error-Type: EventRelay.ConfigError", &b, err,
			   sizeof(err)) != 0)
		log_kv(LOG_ERROR, "posting the init error failed", "error", err, NULL);
	buf_free(&b);
}

int
ddb_lambda_run(const ddb_options *opt, ddb_out *out, ddb_stats *stats)
{
	const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
	ddb_rapi_resp next;
	buf resp;
	char err[512];
	char path[512];
	int rc = 0;

	if (api == NULL || *api == '\0')
	{
		log_error("--input=lambda needs AWS_LAMBDA_RUNTIME_API (set by Lambda)");
		return 2;
	}
	ddb_rapi_resp_init(&next);
	buf_init(&resp);
	log_kv(LOG_INFO, "lambda runtime ready", "runtime_api", api, NULL);
	while (!relay_stop_requested)
	{
		int64_t t0;

		if (ddb_rapi_request(api, "GET", RAPI_PREFIX "/invocation/next", NULL, NULL, 0, &next,
							 &relay_stop_requested, err, sizeof(err)) != 0)
		{
			if (relay_stop_requested)
				break;
			log_kv(LOG_ERROR, "runtime API unavailable", "error", err, NULL);
			rc = 1;
			break;
		}
		if (next.status != 200 || next.request_id[0] == '\0')
		{
			snprintf(err, sizeof(err), "invocation/next answered %d", next.status);
			log_kv(LOG_ERROR, "runtime API error", "error", err, NULL);
			rc = 1;
			break;
		}
		if (next.trace_id[0])
			setenv("_X_AMZN_TRACE_ID", next.trace_id, 1);
		t0 = relay_now_ms();
		if (ddb_lambda_handle(opt, out, next.body.data ? next.body.data : (char *) "",
							  next.body.len, s_budget(opt, next.deadline_ms), &resp, stats, err,
							  sizeof(err)) == 0)
		{
			char ms[32];

			snprintf(path, sizeof(path), RAPI_PREFIX "/invocation/%s/response", next.request_id);
			snprintf(ms, sizeof(ms), "%lld", (long long) (relay_now_ms() - t0));
			log_kv(LOG_INFO, "invocation done", "request_id", next.request_id, "response",
				   resp.data, "ms", ms, NULL);
			if (s_post(api, path, NULL, &resp, err, sizeof(err)) != 0)
				log_kv(LOG_ERROR, "posting the response failed", "error", err, NULL);
		}
		else
		{
			log_kv(LOG_ERROR, "invocation failed", "request_id", next.request_id, "error", err,
				   NULL);
			snprintf(path, sizeof(path), RAPI_PREFIX "/invocation/%s/error", next.request_id);
			s_error_body(&resp, "EventRelay.InvalidEvent", err);
			if (s_post(api, path, "Lambda-Runtime-Function-Error-Type: EventRelay.InvalidEvent",
					   &resp, err, sizeof(err)) != 0)
				log_kv(LOG_ERROR, "posting the error failed", "error", err, NULL);
		}
	}
	ddb_rapi_resp_free(&next);
	buf_free(&resp);
	return rc;
}
