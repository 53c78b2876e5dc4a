/*
 * fuzz_s3_answers.c
 *		Fuzz target: S3's answers (XML, or whatever an endpoint sends) to the
 *		archive's requests, scripted (fz_http_script) through s3_client:
 *		ListObjectsV2, GetObject, a create-only PutObject (with the read-back
 *		comparison after a 412) and a multipart upload step by step; and the
 *		XML helpers (s3_xml_next, s3_xml_error) on the whole input.
 */
#include "fz.h"
#include "s3_client.h"
#include "s3_xml.h"

#include <stdlib.h>
#include <string.h>

static s3_client *s_c;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	s3_client_config cc = {"archive", "us-east-1", "http://127.0.0.1:9", true, NULL,
						   1000,	  64,		   S3_MIN_PART_SIZE};
	char err[256];

	(void) argc;
	(void) argv;
	fz_quiet();
	setenv("AWS_ACCESS_KEY_ID", "AKIDFUZZ", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
	s_c = s3_client_new(&cc, err, sizeof(err));
	if (s_c == NULL)
		fz_fail("s3_client_new: %s", err);
	return 0;
}

static void
s_err(int rc, const char *err)
{
	if (rc < 0 && (memchr(err, '\0', 512) == NULL || err[0] == '\0'))
		fz_fail("failure without an error text");
}

static void
s_xml(const uint8_t *data, size_t size)
{
	char *text = fz_strndup(data, size);
	const char *cur = text;
	char code[64], msg[128], *v;
	int n = 0;

	if (s3_xml_error(text, code, sizeof(code), msg, sizeof(msg)) &&
		(memchr(code, '\0', sizeof(code)) == NULL || memchr(msg, '\0', sizeof(msg)) == NULL))
		fz_fail("error code or message not terminated");
	while ((v = s3_xml_next(&cur, text + size, "Key")) != NULL)
	{
		if (cur < text || cur > text + size || ++n > (int) size)
			fz_fail("s3_xml_next cursor out of the document");
		free(v);
	}
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char body[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
							   "0123456789abcdef0123456789abcdef";
	char err[512];
	s3_list l;
	buf out = BUF_INIT;
	bool missing;
	s3_upload *u;
	int rc, i;

	s_xml(data, size);
	fz_http_script(data, size);
	memset(&l, 0, sizeof(l));
	rc = s3_list_page(s_c, "events/", "events/2026/11/23/09/", NULL, 1000, &l, err, sizeof(err));
	s_err(rc, err);
	if (rc == 0)
	{
		for (i = 0; i < l.n; i++)
			if (l.keys[i] == NULL)
				fz_fail("listed key %d is NULL", i);
		if (l.truncated && l.next_token == NULL)
			fz_fail("truncated without a token");
		s3_list_free(&l);
	}
	missing = false;
	rc = s3_get_object(s_c, "events/x.ndjson.gz", &out, &missing, err, sizeof(err));
	s_err(rc, err);
	buf_free(&out);
	s_err(s3_put_object(s_c, "events/y.ndjson.gz", body, 10, "application/gzip", err, sizeof(err)),
		  err);
	u = s3_upload_begin(s_c, "events/z.ndjson.gz", body, sizeof(body) - 1, "application/gzip");
	if (u == NULL)
		fz_fail("s3_upload_begin");
	for (i = 0; i < 20; i++)
	{
		rc = s3_upload_step(s_c, u, err, sizeof(err));
		s_err(rc, err);
		if (rc != 1 && !(rc < 0 && s3_client_retryable(s_c) && !fz_http_exhausted))
			break;
	}
	s3_upload_free(s_c, u);
	return 0;
}
