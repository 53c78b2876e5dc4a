/*
 * fuzz_kinesis.c
 *		Fuzz target: Kinesis PutRecords answers (whatever the endpoint, a
 *		proxy or --endpoint-url sends back), through kinesis_put_records with
 *		the answers scripted (fz_http_script).  For a parsed 200, every record
 *		must get a status, the failure count must match them, and a record
 *		counts as delivered only if the answer gave it a SequenceNumber.
 */
#include "fz.h"
#include "kinesis_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 3

static kinesis_client *s_k;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	kinesis_options ko = {"orders", "us-east-1", "http://127.0.0.1:9", NULL, 1000};
	char err[256];

	(void) argc;
	(void) argv;
	fz_quiet();
	setenv("AWS_ACCESS_KEY_ID", "AKIDFUZZ", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
	s_k = kinesis_client_new(&ko, err, sizeof(err));
	if (s_k == NULL)
		fz_fail("kinesis_client_new: %s", err);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kinesis_entry e[N] = {{"{\"a\":1}", 7, "A", 1}, {"{\"b\":2}", 7, "B", 1}, {"{}", 2, "C", 1}};
	aws_status st[N];
	char err[512];
	int failed, i, bad;
	aws_status ks;

	fz_http_script(data, size);
	/* two requests: the second sees whatever answer follows the first */
	for (int round = 0; round < 2; round++)
	{
		memset(st, 0x55, sizeof(st));
		err[0] = 'x';
		err[1] = '\0';
		ks = kinesis_put_records(s_k, e, N, st, &failed, err, sizeof(err));
		if (memchr(err, '\0', sizeof(err)) == NULL)
			fz_fail("error text not terminated");
		if (ks < AWS_OK || ks > AWS_OTHER)
			fz_fail("status %d", (int) ks);
		if (ks != AWS_OK)
			continue;
		for (i = bad = 0; i < N; i++)
		{
			if (st[i] != AWS_OK && st[i] != AWS_RETRY && st[i] != AWS_FATAL)
				fz_fail("record %d has no status", i);
			bad += st[i] != AWS_OK;
		}
		if (bad != failed)
			fz_fail("%d records failed but the count says %d", bad, failed);
		if (bad > 0 && err[0] == '\0')
			fz_fail("a failed record without an error text");
		if (ks == AWS_OK && bad == 0 && !strstr(fz_http_last_body(), "SequenceNumber"))
			fz_fail("records taken as delivered without a SequenceNumber");
	}
	return 0;
}
