/*
 * fuzz_ddb_streams.c
 *		Fuzz target: DynamoDB Streams answers (DescribeStream,
 *		GetShardIterator, GetRecords, errors), scripted (fz_http_script)
 *		through the whole Streams-mode reader, ddb_streams_run, with the
 *		stdout sink and a checkpoint file.  Waits and backoff run on the
 *		virtual clock (-Wl,--wrap=poll,--wrap=relay_now_ms), so an input
 *		costs no real time; the run ends when the answers are used up, or
 *		after --idle-exit-ms of virtual time.
 */
#include "config.h"
#include "ddb.h"
#include "stop.h"
#include "ddb_out.h"
#include "ddb_streams.h"
#include "fz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ARN "arn:aws:dynamodb:us-east-1:123456789012:table/carts/stream/2026-11-23T08:00:00.000"

static relay_config s_cfg;
static ddb_out s_out;
static char s_ckpt[256];

static void
s_stop(void)
{
	relay_stop_requested = 1;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *args[] = {"dynamodb", "--sink=stdout", "--dead-letter=/dev/null", NULL};
	char err[256];

	(void) argc;
	(void) argv;
	fz_quiet();
	setenv("AWS_ACCESS_KEY_ID", "AKIDFUZZ", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
	if (config_parse(&s_cfg, 3, args, err, sizeof(err)) != 0)
		fz_fail("config_parse: %s", err);
	if (ddb_out_open(&s_out, &s_cfg, err, sizeof(err)) != 0)
		fz_fail("ddb_out_open: %s", err);
	/* tmpfs when there is one: the checkpoint is fsync'ed */
	snprintf(s_ckpt, sizeof(s_ckpt), "%s/fuzz_ddb_streams.%d.json",
			 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (int) getpid());
	fz_http_on_exhausted = s_stop;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ddb_options o;
	ddb_stats st;
	int rc;

	memset(&o, 0, sizeof(o));
	ddb_record_opts_default(&o.rec);
	o.input = "streams";
	o.stream_arn = ARN;
	o.checkpoint = s_ckpt;
	o.start = "trim_horizon";
	o.poll_ms = 100;
	o.idle_exit_ms = 5000;
	o.publish_timeout_ms = 1000;
	o.streams_endpoint = "http://127.0.0.1:9";
	o.region = "us-east-1";
	o.on_error = DDB_ON_ERROR_STOP;
	o.cfg = &s_cfg;
	memset(&st, 0, sizeof(st));
	unlink(s_ckpt);
	relay_stop_requested = 0;
	fz_http_script(data, size);
	rc = ddb_streams_run(&o, &s_out, &st);
	if (rc < 0 || rc > 255)
		fz_fail("exit status %d", rc);
	if (st.records < st.outcome[DDB_OUT_EVENTS])
		fz_fail("more records with events than records");
	unlink(s_ckpt);
	return 0;
}
