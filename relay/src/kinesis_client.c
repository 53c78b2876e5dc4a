/*
 * kinesis_client.c
 *		PutRecords for Amazon Kinesis Data Streams (see kinesis_client.h).
 */
#include "kinesis_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "codec.h"

struct kinesis_client
{
	char *stream;
	aws_json *api;
	buf body;
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
	const buf *answer;
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
	const buf *answer;
	char type[128];
	json_object *o = NULL, *recs, *v;
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
	o = json_tokener_parse(answer->data);
	if (o == NULL || !json_object_object_get_ex(o, "Records", &recs) ||
		!json_object_is_type(recs, json_type_array) || (int) json_object_array_length(recs) != n)
	{
		snprintf(err, errlen, "PutRecords: unexpected response (HTTP 200, %zu bytes)", answer->len);
		st = AWS_RETRY;
		goto done;
	}
	err[0] = '\0';
	for (i = 0; i < n; i++)
	{
		json_object *r = json_object_array_get_idx(recs, (size_t) i);
		json_object *m;
		const char *code;

		status[i] = AWS_OK;
		if (!json_object_object_get_ex(r, "ErrorCode", &v) ||
			json_object_is_type(v, json_type_null))
			continue;
		code = json_object_get_string(v);
		(*failed)++;
		/* ProvisionedThroughputExceeded, InternalFailure, KMS throttling pass; other KMS errors do
		 * not */
		status[i] = aws_classify(0, code) == AWS_FATAL ? AWS_FATAL : AWS_RETRY;
		/* json-c reports a member set to null as present with a NULL string */
		if (!err[0])
		{
			const char *msg = json_object_object_get_ex(r, "ErrorMessage", &m) &&
									  json_object_is_type(m, json_type_string)
								  ? json_object_get_string(m)
								  : NULL;

			snprintf(err, errlen, "PutRecords: record %d: %s%s%.200s", i, code, msg ? ": " : "",
					 msg ? msg : "");
		}
	}
	st = AWS_OK;

done:
	if (o)
		json_object_put(o);
	return st;
}
