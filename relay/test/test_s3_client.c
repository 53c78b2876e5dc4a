/*
 * test_s3_client.c
 *		The S3 client against a canned HTTP server (th_http): multipart
 *		decisions, error-body detection (CompleteMultipartUpload answering 200
 *		with <Error>), the create-only write and its "already exists"
 *		comparison, listing, and the request shape (path-style, encoded key,
 *		x-amz-content-sha256, checksum header).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "s3_client.h"
#include "s3_xml.h"
#include "th_util.h"

static th_http *srv;
static s3_client *cli;

static int
setup(void **state)
{
	s3_client_config cfg;
	char ep[64], err[256];

	(void) state;
	setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 1);
	unsetenv("AWS_SESSION_TOKEN");
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	srv = th_http_start();
	snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", th_http_port(srv));
	memset(&cfg, 0, sizeof(cfg));
	cfg.bucket = "archive";
	cfg.region = "eu-west-1";
	cfg.endpoint = ep;
	cfg.timeout_ms = 5000;
	cfg.multipart_threshold = 8 * 1024 * 1024;
	cfg.part_size = S3_MIN_PART_SIZE;
	cli = s3_client_new(&cfg, err, sizeof(err));
	assert_non_null(cli);
	return 0;
}

static int
teardown(void **state)
{
	(void) state;
	s3_client_free(cli);
	th_http_stop(srv);
	return 0;
}

static void
test_multipart_plan(void **state)
{
	size_t ps = 0;
	const size_t MiB = 1024 * 1024;

	(void) state;
	assert_int_equal(s3_multipart_plan(100, 0, 8 * MiB, &ps), 0);			/* disabled */
	assert_int_equal(s3_multipart_plan(7 * MiB, 8 * MiB, 8 * MiB, &ps), 0); /* below threshold */
	assert_int_equal(s3_multipart_plan(8 * MiB, 8 * MiB, 8 * MiB, &ps), 0); /* one part: PUT */
	assert_int_equal(s3_multipart_plan(8 * MiB + 1, 8 * MiB, 8 * MiB, &ps), 2);
	assert_int_equal(ps, 8 * MiB);
	/* parts never below S3's 5 MiB floor */
	assert_int_equal(s3_multipart_plan(11 * MiB, 6 * MiB, 1 * MiB, &ps), 3);
	assert_int_equal(ps, 5 * MiB);
	/* at most 10,000 parts: the part size grows */
	assert_int_equal(s3_multipart_plan((size_t) 60000 * MiB, 8 * MiB, 5 * MiB, &ps) <= 10000, 1);
	assert_true(ps >= 6 * MiB);
}

static void
test_error_body_detection(void **state)
{
	char code[64], msg[128];

	(void) state;
	assert_true(s3_xml_error("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\n<Error><Code>"
							 "InternalError</Code><Message>We encountered an internal error. "
							 "Please try again.</Message><RequestId>X</RequestId></Error>",
							 code, sizeof(code), msg, sizeof(msg)));
	assert_string_equal(code, "InternalError");
	assert_string_equal(msg, "We encountered an internal error. Please try again.");
	assert_false(s3_xml_error("<?xml version=\"1.0\"?><CompleteMultipartUploadResult><Location>"
							  "x</Location><ETag>&quot;a-2&quot;</ETag>"
							  "</CompleteMultipartUploadResult>",
							  code, sizeof(code), msg, sizeof(msg)));
	/* an <Error> element nested in a result is not an error document */
	assert_false(s3_xml_error("<DeleteResult><Error><Code>x</Code></Error></DeleteResult>", NULL, 0,
							  NULL, 0));
	assert_false(s3_xml_error("", NULL, 0, NULL, 0));
	assert_false(s3_xml_error(NULL, NULL, 0, NULL, 0));
	assert_false(s3_xml_error("<Errors/>", NULL, 0, NULL, 0));
}

static void
test_xml_next_decodes(void **state)
{
	const char *doc = "<a><Key>x&amp;y &lt;&#47;&#x41;&gt;</Key><Key>two</Key></a>";
	const char *cur = doc;
	char *k;

	(void) state;
	k = s3_xml_next(&cur, NULL, "Key");
	assert_string_equal(k, "x&y </A>");
	free(k);
	k = s3_xml_next(&cur, NULL, "Key");
	assert_string_equal(k, "two");
	free(k);
	assert_null(s3_xml_next(&cur, NULL, "Key"));
}

/* NUL and lone surrogates are not XML characters: the answer is malformed. */
static void
test_xml_bad_references(void **state)
{
	static const char *const bad[] = {
		"<Key>a&#0;b</Key>",	 "<Key>a&#x0;b</Key>",		"<Key>a&#xD800;b</Key>",
		"<Key>a&#57343;b</Key>", "<Key>a&#x110000;b</Key>", "<Key>a&#99999999999999999999;</Key>",
		"<Key>a&#;b</Key>",		 "<Key>a&#x;b</Key>",		"<Key>a&#65b</Key>",
		"<Key>a&nbsp;b</Key>",	 "<Key>a&amp</Key>",		"<Key>a&#xFFFE;</Key>",
	};
	char err[128];
	const char *cur;
	char *k;
	size_t i;

	(void) state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		cur = bad[i];
		k = s3_xml_next(&cur, NULL, "Key");
		if (k != NULL)
			fail_msg("%s decoded to \"%s\" (%zu bytes)", bad[i], k, strlen(k));
		err[0] = '\0';
		assert_false(s3_xml_check(bad[i], err, sizeof(err)));
		assert_non_null(strstr(err, "malformed XML"));
	}
	assert_true(
		s3_xml_check("<Key>&#x10FFFF;&#xE000;&#9;&lt;&quot;&apos;</Key>", err, sizeof(err)));
	assert_true(s3_xml_check(NULL, err, sizeof(err)));
	/* a listing with one such key is an error, not a listing without that key */
	th_http_push(srv, 200, "",
				 "<ListBucketResult><IsTruncated>false</IsTruncated>"
				 "<Contents><Key>p/a</Key><Size>10</Size></Contents>"
				 "<Contents><Key>p/&#0;b</Key><Size>20</Size></Contents></ListBucketResult>");
	{
		s3_list l;

		err[0] = '\0';
		assert_int_equal(s3_list_page(cli, "p/", NULL, NULL, 2, &l, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "ListObjectsV2"));
		assert_non_null(strstr(err, "malformed XML"));
	}
}

static void
test_put_request_shape(void **state)
{
	char err[512];
	const char *r;
	int n0 = th_http_count(srv);

	(void) state;
	th_http_push(srv, 200, "ETag: \"abc\"\r\n", "");
	assert_int_equal(s3_put_object(cli, "p/2026/11/23/09/A_B.ndjson.gz", "hello", 5,
								   "application/x-ndjson", err, sizeof(err)),
					 0);
	r = th_http_request(srv, n0);
	assert_non_null(strstr(r, "PUT /archive/p/2026/11/23/09/A_B.ndjson.gz HTTP/1.1\r\n"));
	assert_non_null(strcasestr(r, "\r\nif-none-match: *\r\n"));
	assert_non_null(strcasestr(r, "\r\ncontent-type: application/x-ndjson\r\n"));
	/* sha256("hello") */
	assert_non_null(strcasestr(r,
							   "\r\nx-amz-content-sha256: "
							   "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"));
	assert_non_null(strcasestr(r, "\r\nx-amz-checksum-sha256: "
								  "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=\r\n"));
	assert_non_null(strstr(r, "Credential=AKIDEXAMPLE/"));
	assert_non_null(strstr(r, "/eu-west-1/s3/aws4_request"));
	assert_null(strstr(r, "wJalrXUtnFEMI"));
	assert_int_equal(s3_client_stats(cli)->puts, 1);
}

static void
test_key_encoded_once(void **state)
{
	char err[512];
	int n0 = th_http_count(srv);

	(void) state;
	th_http_push(srv, 200, "", "");
	assert_int_equal(
		s3_put_object(cli, "my prefix/a+b=c.json", "{}", 2, "application/json", err, sizeof(err)),
		0);
	assert_non_null(strstr(th_http_request(srv, n0), "PUT /archive/my%20prefix/a%2Bb%3Dc.json "));
}

static void
test_exists_same_content_is_success(void **state)
{
	char err[512];
	int n0 = th_http_count(srv);

	(void) state;
	th_http_push(srv, 412, "", "<Error><Code>PreconditionFailed</Code></Error>");
	th_http_push(srv, 200, "", "{\"a\":1}\n");
	assert_int_equal(
		s3_put_object(cli, "k1", "{\"a\":1}\n", 8, "application/json", err, sizeof(err)), 0);
	assert_non_null(strstr(th_http_request(srv, n0 + 1), "GET /archive/k1 "));
	assert_int_equal(s3_client_stats(cli)->existed, 1);
}

static void
test_exists_different_content_names_key(void **state)
{
	char err[512];

	(void) state;
	th_http_push(srv, 412, "", "<Error><Code>PreconditionFailed</Code></Error>");
	th_http_push(srv, 200, "", "{\"a\":2}\n");
	assert_int_equal(
		s3_put_object(cli, "p/k2", "{\"a\":1}\n", 8, "application/json", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "s3://archive/p/k2"));
	assert_non_null(strstr(err, "different content"));
	assert_false(s3_client_retryable(cli));
}

static void
test_errors_classified(void **state)
{
	char err[512];

	(void) state;
	th_http_push(
		srv, 503, "x-amz-request-id: R1\r\n",
		"<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>");
	assert_int_equal(s3_put_object(cli, "k", "x", 1, "text/plain", err, sizeof(err)), -1);
	assert_true(s3_client_retryable(cli));
	assert_non_null(strstr(err, "SlowDown"));
	assert_non_null(strstr(err, "R1"));
	th_http_push(srv, 404, "", "<Error><Code>NoSuchBucket</Code><Message>no</Message></Error>");
	assert_int_equal(s3_put_object(cli, "k", "x", 1, "text/plain", err, sizeof(err)), -1);
	assert_false(s3_client_retryable(cli));
	assert_true(s3_client_config_error(cli));
}

static char *
big_body(size_t len)
{
	char *b = malloc(len);
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = (char) ('a' + i % 26);
	return b;
}

static void
test_multipart_complete_200_with_error_is_failure(void **state)
{
	char err[512];
	size_t len = 11 * 1024 * 1024;
	char *body = big_body(len);
	int n0 = th_http_count(srv);

	(void) state;
	th_http_push(srv, 200, "",
				 "<InitiateMultipartUploadResult><Bucket>archive</Bucket><Key>big</Key>"
				 "<UploadId>up/1+x</UploadId></InitiateMultipartUploadResult>");
	th_http_push(srv, 200, "ETag: \"e1\"\r\n", "");
	th_http_push(srv, 200, "ETag: \"e2\"\r\n", "");
	th_http_push(srv, 200, "ETag: \"e3\"\r\n", "");
	th_http_push(srv, 200, "",
				 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code>"
				 "<Message>We encountered an internal error.</Message></Error>");
	th_http_push(srv, 204, "", "");
	assert_int_equal(s3_put_object(cli, "big", body, len, "application/gzip", err, sizeof(err)),
					 -1);
	assert_non_null(strstr(err, "CompleteMultipartUpload"));
	assert_non_null(strstr(err, "InternalError"));
	assert_true(s3_client_retryable(cli));
	assert_int_equal(th_http_count(srv), n0 + 6);
	assert_non_null(strstr(th_http_request(srv, n0), "POST /archive/big?uploads= "));
	assert_non_null(strcasestr(th_http_request(srv, n0), "x-amz-checksum-algorithm: SHA256"));
	assert_non_null(
		strstr(th_http_request(srv, n0 + 1), "PUT /archive/big?partNumber=1&uploadId=up%2F1%2Bx "));
	assert_non_null(strstr(th_http_request(srv, n0 + 3), "partNumber=3&"));
	{
		const char *c = th_http_request(srv, n0 + 4);

		assert_non_null(strstr(c, "POST /archive/big?uploadId=up%2F1%2Bx "));
		assert_non_null(strcasestr(c, "if-none-match: *"));
		assert_non_null(strstr(c, "<Part><PartNumber>3</PartNumber><ETag>\"e3\"</ETag>"));
	}
	/* the failed upload is aborted so that its parts do not cost storage */
	assert_non_null(
		strstr(th_http_request(srv, n0 + 5), "DELETE /archive/big?uploadId=up%2F1%2Bx "));
	assert_int_equal(s3_client_stats(cli)->multipart, 0);

	/* the same flow with a real result succeeds */
	th_http_push(srv, 200, "",
				 "<InitiateMultipartUploadResult><UploadId>u2</UploadId>"
				 "</InitiateMultipartUploadResult>");
	th_http_push(srv, 200, "ETag: \"e1\"\r\n", "");
	th_http_push(srv, 200, "ETag: \"e2\"\r\n", "");
	th_http_push(srv, 200, "ETag: \"e3\"\r\n", "");
	th_http_push(srv, 200, "",
				 "<CompleteMultipartUploadResult><ETag>\"x-3\"</ETag>"
				 "</CompleteMultipartUploadResult>");
	assert_int_equal(s3_put_object(cli, "big", body, len, "application/gzip", err, sizeof(err)), 0);
	assert_int_equal(s3_client_stats(cli)->multipart, 1);
	free(body);
}

static void
test_multipart_one_request_per_step(void **state)
{
	char err[512];
	size_t len = 11 * 1024 * 1024;
	char *body = big_body(len);
	int n0 = th_http_count(srv);
	s3_upload *u = s3_upload_begin(cli, "steps", body, len, "application/gzip");

	(void) state;
	assert_non_null(u);
	th_http_push(srv, 200, "",
				 "<InitiateMultipartUploadResult><UploadId>u3</UploadId>"
				 "</InitiateMultipartUploadResult>");
	assert_int_equal(s3_upload_step(cli, u, err, sizeof(err)), 1);
	assert_int_equal(th_http_count(srv), n0 + 1);
	th_http_push(srv, 200, "ETag: \"e1\"\r\n", "");
	assert_int_equal(s3_upload_step(cli, u, err, sizeof(err)), 1);
	/* part 2 fails: the next step sends part 2 again, the upload stays open */
	th_http_push(srv, 503, "", "<Error><Code>SlowDown</Code></Error>");
	assert_int_equal(s3_upload_step(cli, u, err, sizeof(err)), -1);
	assert_true(s3_client_retryable(cli));
	th_http_push(srv, 200, "ETag: \"e2\"\r\n", "");
	assert_int_equal(s3_upload_step(cli, u, err, sizeof(err)), 1);
	assert_non_null(strstr(th_http_request(srv, n0 + 3), "partNumber=2&uploadId=u3 "));
	th_http_push(srv, 200, "ETag: \"e3\"\r\n", "");
	assert_int_equal(s3_upload_step(cli, u, err, sizeof(err)), 1);
	th_http_push(srv, 200, "",
				 "<CompleteMultipartUploadResult><ETag>\"x-3\"</ETag>"
				 "</CompleteMultipartUploadResult>");
	assert_int_equal(s3_upload_step(cli, u, err, sizeof(err)), 0);
	assert_int_equal(th_http_count(srv), n0 + 6);
	{
		const char *c = th_http_request(srv, n0 + 5);

		assert_non_null(strstr(c, "POST /archive/steps?uploadId=u3 "));
		assert_non_null(strstr(c, "<PartNumber>2</PartNumber><ETag>\"e2\"</ETag>"));
		assert_null(strstr(c, "SlowDown"));
	}
	s3_upload_free(cli, u); /* completed: no abort */
	assert_int_equal(th_http_count(srv), n0 + 6);

	/* an unfinished upload is aborted when given up */
	u = s3_upload_begin(cli, "steps", body, len, "application/gzip");
	th_http_push(srv, 200, "",
				 "<InitiateMultipartUploadResult><UploadId>u4</UploadId>"
				 "</InitiateMultipartUploadResult>");
	assert_int_equal(s3_upload_step(cli, u, err, sizeof(err)), 1);
	th_http_push(srv, 204, "", "");
	s3_upload_free(cli, u);
	assert_non_null(strstr(th_http_request(srv, n0 + 7), "DELETE /archive/steps?uploadId=u4 "));
	free(body);
}

static void
test_list_pages(void **state)
{
	char err[512];
	s3_list l;
	int n0 = th_http_count(srv);

	(void) state;
	th_http_push(srv, 200, "",
				 "<ListBucketResult><IsTruncated>true</IsTruncated>"
				 "<Contents><Key>p/a&amp;1</Key><Size>10</Size></Contents>"
				 "<Contents><Key>p/b</Key><Size>20</Size></Contents>"
				 "<NextContinuationToken>tok/+=</NextContinuationToken></ListBucketResult>");
	assert_int_equal(s3_list_page(cli, "p/", "p/0", NULL, 2, &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.keys[0], "p/a&1");
	assert_int_equal(l.sizes[1], 20);
	assert_true(l.truncated);
	assert_string_equal(l.next_token, "tok/+=");
	assert_non_null(strstr(th_http_request(srv, n0),
						   "GET /archive/?list-type=2&max-keys=2&prefix=p%2F&start-after=p%2F0 "));
	th_http_push(srv, 200, "",
				 "<ListBucketResult><IsTruncated>false</IsTruncated>"
				 "</ListBucketResult>");
	{
		s3_list l2;

		assert_int_equal(s3_list_page(cli, "p/", NULL, l.next_token, 2, &l2, err, sizeof(err)), 0);
		assert_int_equal(l2.n, 0);
		assert_false(l2.truncated);
		assert_non_null(strstr(th_http_request(srv, n0 + 1),
							   "GET /archive/?continuation-token=tok%2F%2B%3D&list-type=2"));
		s3_list_free(&l2);
	}
	s3_list_free(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_multipart_plan),
		cmocka_unit_test(test_error_body_detection),
		cmocka_unit_test(test_xml_next_decodes),
		cmocka_unit_test(test_xml_bad_references),
		cmocka_unit_test(test_put_request_shape),
		cmocka_unit_test(test_key_encoded_once),
		cmocka_unit_test(test_exists_same_content_is_success),
		cmocka_unit_test(test_exists_different_content_names_key),
		cmocka_unit_test(test_errors_classified),
		cmocka_unit_test(test_multipart_complete_200_with_error_is_failure),
		cmocka_unit_test(test_multipart_one_request_per_step),
		cmocka_unit_test(test_list_pages),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
