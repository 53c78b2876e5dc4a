/*
 * kinesis_client.c
 *		PutRecords for Amazon Kinesis Data Streams (see kinesis_client.h).
 */
#include "kinesis_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "codec.h"
#include "json.h"

struct kinesis_client
{
	char *stream;
	aws_json *api;
	buf body;
	jv_doc doc; /* the last answer, parsed in place */
};

kinesis_client *
kinesis_client_new(const kinesis_options *opt, char *err, size_t errlen)
{
	kinesis_client *k = calloc(1, sizeof(*k));
	aws_json_options ao = {"kinesis",	   "Kinesis_20131202", "application/x-amz-json-1.1",
						   opt->region,	   opt->endpoint,	   opt->ca_bundle,
						   opt->timeout_ms};
	char url[512];

	if (k == NULL || (k->stream = strdup(opt->stream)) == NULL)
	{
		free(k);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	jv_doc_init(&k->doc);
	if (opt->endpoint == NULL)
	{
		snprintf(url, sizeof(url), "https://kinesis.%s.amazonaws.com", opt->region);
		ao.endpoint = url;
	}
	k->api = aws_json_new(&ao, err, errlen);
	if (k->api == NULL)
	{
		kinesis_client_free(k);
		return NULL;
	}
	return k;
}

void
kinesis_client_free(kinesis_client *k)
{
	if (k == NULL)
		return;
	aws_json_free(k->api);
	buf_free(&k->body);
	jv_doc_free(&k->doc);
	free(k->stream);
	free(k);
}

static int
s_build_body(kinesis_client *k, const kinesis_entry *e, int n)
{
	buf *b = &k->body;
	int i;

	buf_reset(b);
	buf_puts(b, "{\"StreamName\":");
	buf_json_string(b, k->stream, strlen(k->stream));
	buf_puts(b, ",\"Records\":[");
	for (i = 0; i < n; i++)
	{
		buf_puts(b, i ? ",{\"Data\":\"" : "{\"Data\":\"");
		codec_base64(b, e[i].data, e[i].len);
		buf_puts(b, "\",\"PartitionKey\":");
		buf_json_string(b, e[i].key, e[i].key_len);
		buf_putc(b, '}');
	}
	buf_puts(b, "]}");
	return buf_failed(b) ? -1 : 0;
}

aws_status
kinesis_check_stream(kinesis_client *k, char *err, size_t errlen)
{
	buf *answer;
	char type[128];
	aws_status st;

	buf_reset(&k->body);
	buf_puts(&k->body, "{\"StreamName\":");
	buf_json_string(&k->body, k->stream, strlen(k->stream));
	buf_putc(&k->body, '}');
	if (buf_failed(&k->body))
		return AWS_RETRY;
	st = aws_json_call(k->api, "DescribeStreamSummary", k->body.data, k->body.len, &answer, type,
					   sizeof(type), err, errlen);
	if (st == AWS_FATAL && strstr(type, "AccessDenied") == NULL)
	{
		if (strcmp(type, "ResourceNotFoundException") == 0)
			snprintf(err, errlen, "Kinesis stream \"%s\" not found (ResourceNotFoundException)",
					 k->stream);
		return AWS_FATAL;
	}
	return st == AWS_OK ? AWS_OK : AWS_RETRY;
}

aws_status
kinesis_put_records(kinesis_client *k, const kinesis_entry *entries, int n, aws_status *status,
					int *failed, char *err, size_t errlen)
{
	buf *answer;
	char type[128], perr[128];
	const jv *recs;
	aws_status st;
	int i;

	*failed = 0;
	if (s_build_body(k, entries, n) < 0)
	{
		snprintf(err, errlen, "out of memory");
		return AWS_RETRY;
	}
	st = aws_json_call(k->api, "PutRecords", k->body.data, k->body.len, &answer, type, sizeof(type),
					   err, errlen);
	if (st != AWS_OK)
		return st == AWS_OTHER ? AWS_RETRY : st;
	jv_doc_reset(&k->doc);
	if (jv_parse(&k->doc, answer->data, answer->len, perr, sizeof(perr)) != 0 ||
		!jv_is(recs = jv_get(k->doc.root, "Records"), JV_ARRAY) || (int) recs->len != n)
	{
		snprintf(err, errlen, "PutRecords: unexpected response (HTTP 200, %zu bytes)", answer->len);
		return AWS_RETRY;
	}
	err[0] = '\0';
	for (i = 0; i < n; i++)
	{
		const jv *r = jv_at(recs, (size_t) i);
		const jv *code = jv_get(r, "ErrorCode");
		/* members of another type (null included) are absent */
		const char *msg = jv_str(jv_get(r, "ErrorMessage"));
		char ctext[128];

		status[i] = AWS_OK;
		if ((code == NULL || jv_is(code, JV_NULL)) && jv_str(jv_get(r, "SequenceNumber")) == NULL)
		{
			/* neither stored nor refused: not proof of delivery, send it again */
			(*failed)++;
			status[i] = AWS_RETRY;
			if (!err[0])
				snprintf(
					err, errlen,
					"PutRecords: record %d: neither SequenceNumber nor ErrorCode in the answer", i);
			continue;
		}
		if (code == NULL || jv_is(code, JV_NULL))
			continue;
		/* a code that is not a string is its JSON text (a number), or unnamed */
		snprintf(ctext, sizeof(ctext), "%.*s",
				 jv_is(code, JV_STRING) || jv_is(code, JV_NUMBER) ? (int) code->len : 0,
				 jv_is(code, JV_STRING) || jv_is(code, JV_NUMBER) ? code->u.s : "");
		(*failed)++;
		/* ProvisionedThroughputExceeded, InternalFailure, KMS throttling pass; other KMS errors do
		 * not */
		status[i] = aws_classify(0, ctext) == AWS_FATAL ? AWS_FATAL : AWS_RETRY;
		if (!err[0])
			snprintf(err, errlen, "PutRecords: record %d: %s%s%.200s", i, ctext, msg ? ": " : "",
					 msg ? msg : "");
	}
	return AWS_OK;
}
