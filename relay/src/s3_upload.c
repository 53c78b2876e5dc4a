/*
 * s3_upload.c
 *		S3 writes: PutObject and the multipart upload, one request at a time
 *		(see s3_client.h).
 *
 * Every write is create-only (If-None-Match: *): archive keys are derived
 * from their content's positions, so a key that already exists was written
 * by an earlier run from the same events.  A 412 is then checked by reading
 * the object back and comparing, never assumed.
 */
#include "s3_client.h"
#include "s3_request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws_sigv4.h"
#include "codec.h"
#include "log.h"
#include "s3_object.h"
#include "s3_xml.h"

int
s3_multipart_plan(size_t len, size_t threshold, size_t part_size, size_t *out_part_size)
{
	size_t parts;

	if (threshold == 0 || len < threshold || len == 0)
		return 0;
	if (part_size < S3_MIN_PART_SIZE)
		part_size = S3_MIN_PART_SIZE;
	/* grow the part size in whole MiB until the object fits in 10,000 parts */
	while ((len + part_size - 1) / part_size > S3_MAX_PARTS)
		part_size += 1024 * 1024;
	parts = (len + part_size - 1) / part_size;
	if (parts < 2)
		return 0; /* one part: a plain PUT is cheaper */
	*out_part_size = part_size;
	return (int) parts;
}

/* ---- writes ----------------------------------------------------------- */

static void
s_checksum(const void *data, size_t len, char out[45])
{
	unsigned char d[32];

	sigv4_sha256(data, len, d);
	codec_base64_to(d, 32, out);
}

/*
 * A create-only write found the key taken: read it back and compare.  Equal
 * bytes, or equal content once decompressed (a relay built against another
 * zlib), mean an earlier run wrote this very object.
 */
static int
s_compare_existing(s3_client *c, const char *key, const void *body, size_t len, char *err,
				   size_t errlen)
{
	buf have = BUF_INIT, a = BUF_INIT, b = BUF_INIT;
	bool missing = false, same;
	char zerr[128];

	if (s3_get_object(c, key, &have, &missing, err, errlen) < 0)
	{
		buf_free(&have);
		return -1;
	}
	if (missing)
	{
		/* deleted between the two requests: retrying the write is right */
		buf_free(&have);
		return s3_fail(c, true, false, err, errlen,
					   "s3://%s/%s answered 412 but is gone; will write it again", c->bucket, key);
	}
	same = have.len == len && memcmp(have.data, body, len) == 0;
	if (!same && len > 2 && have.len > 2 && ((const unsigned char *) body)[0] == 0x1f &&
		((const unsigned char *) body)[1] == 0x8b &&
		s3_gunzip(have.data, have.len, &a, zerr, sizeof(zerr)) == 0 &&
		s3_gunzip(body, len, &b, zerr, sizeof(zerr)) == 0)
		same = a.len == b.len && memcmp(a.data, b.data, a.len) == 0;
	buf_free(&have);
	buf_free(&a);
	buf_free(&b);
	if (!same)
		return s3_fail(c, false, false, err, errlen,
					   "s3://%s/%s already exists with different content (%zu bytes to write); "
					   "refusing to overwrite it",
					   c->bucket, key, len);
	c->stats.existed++;
	log_kv(LOG_INFO, "S3 object already present with the same content", "bucket", c->bucket, "key",
		   key, NULL);
	return 0;
}

static int
s_put_single(s3_client *c, const char *key, const void *body, size_t len, const char *ctype,
			 char *err, size_t errlen)
{
	char sum[45], what[600];
	sigv4_header h[4];

	snprintf(what, sizeof(what), "PutObject s3://%s/%s", c->bucket, key);
	s_checksum(body, len, sum);
	h[0] = (sigv4_header){"content-type", ctype};
	h[1] = (sigv4_header){"if-none-match", "*"};
	h[2] = (sigv4_header){"x-amz-checksum-sha256", sum};
	h[3] = (sigv4_header){"x-amz-sdk-checksum-algorithm", "SHA256"};
	if (s3_request(c, "PUT", key, NULL, h, 4, body, len, what, err, errlen) < 0)
		return -1;
	if (c->resp.status == 412)
		return s_compare_existing(c, key, body, len, err, errlen);
	if (c->resp.status != 200)
		return s3_http_error(c, what, err, errlen);
	c->stats.puts++;
	return 0;
}

static void
s_abort(s3_client *c, const char *key, const char *upload_id)
{
	char *enc = sigv4_uri_encode(upload_id, strlen(upload_id), false);
	buf q = BUF_INIT;
	char err[256];

	buf_printf(&q, "uploadId=%s", enc);
	if (s3_request(c, "DELETE", key, q.data, NULL, 0, NULL, 0, "AbortMultipartUpload", err,
				   sizeof(err)) < 0 ||
		(c->resp.status != 204 && c->resp.status != 200 && c->resp.status != 404))
		log_kv(LOG_WARN, "could not abort a multipart upload (a lifecycle rule cleans it up)",
			   "key", key, NULL);
	free(enc);
	buf_free(&q);
}

/* An upload in progress (see s3_upload_begin). */
struct s3_upload
{
	char *key;
	const char *body; /* not owned */
	size_t len;
	char *ctype;
	int parts; /* 0: a single PutObject */
	size_t part_size;
	int next_part;	 /* multipart: parts stored so far */
	char *upload_id; /* multipart: after CreateMultipartUpload */
	buf done;		 /* the CompleteMultipartUpload body so far */
};

s3_upload *
s3_upload_begin(s3_client *c, const char *key, const void *body, size_t len,
				const char *content_type)
{
	s3_upload *u = calloc(1, sizeof(*u));

	if (u == NULL)
		return NULL;
	u->key = strdup(key);
	u->ctype = strdup(content_type ? content_type : "application/octet-stream");
	u->body = body;
	u->len = len;
	u->parts = s3_multipart_plan(len, c->cfg.multipart_threshold, c->cfg.part_size, &u->part_size);
	if (u->key == NULL || u->ctype == NULL)
	{
		s3_upload_free(c, u);
		return NULL;
	}
	return u;
}

/* Forget a multipart upload (aborting it) so that the next step starts over. */
static void
s_upload_reset(s3_client *c, s3_upload *u)
{
	bool retry = c->retryable, config = c->config_error;

	if (u->upload_id)
		s_abort(c, u->key, u->upload_id);
	c->retryable = retry;
	c->config_error = config;
	free(u->upload_id);
	u->upload_id = NULL;
	u->next_part = 0;
	buf_free(&u->done);
}

void
s3_upload_free(s3_client *c, s3_upload *u)
{
	if (u == NULL)
		return;
	s_upload_reset(c, u);
	free(u->key);
	free(u->ctype);
	free(u);
}

/*
 * One request of a multipart upload: create, one part, or complete.  A
 * failed part is sent again by the next step (the upload stays open); a
 * failed completion starts the whole upload over.
 */
static int
s_step_multipart(s3_client *c, s3_upload *u, char *err, size_t errlen)
{
	char what[600], sum[45], etag[128];
	sigv4_header h[2];
	buf q = BUF_INIT;
	char *enc;
	int rc = -1;

	if (u->upload_id == NULL)
	{
		const char *cur;
		char xerr[64];

		snprintf(what, sizeof(what), "CreateMultipartUpload s3://%s/%s", c->bucket, u->key);
		h[0] = (sigv4_header){"content-type", u->ctype};
		h[1] = (sigv4_header){"x-amz-checksum-algorithm", "SHA256"};
		if (s3_request(c, "POST", u->key, "uploads=", h, 2, NULL, 0, what, err, errlen) < 0)
			return -1;
		cur = c->resp.body.data;
		if (c->resp.status != 200 || s3_xml_error(c->resp.body.data, NULL, 0, NULL, 0))
			return s3_http_error(c, what, err, errlen);
		if (!s3_xml_check(c->resp.body.data, xerr, sizeof(xerr)))
			return s3_fail(c, false, false, err, errlen, "%s: %s", what, xerr);
		u->upload_id = s3_xml_next(&cur, NULL, "UploadId");
		if (u->upload_id == NULL)
			return s3_fail(c, true, false, err, errlen, "%s: no UploadId in the answer", what);
		buf_reset(&u->done);
		buf_puts(&u->done,
				 "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
		return 1;
	}
	enc = sigv4_uri_encode(u->upload_id, strlen(u->upload_id), false);
	if (u->next_part < u->parts)
	{
		size_t off = (size_t) u->next_part * u->part_size;
		size_t n = u->len - off < u->part_size ? u->len - off : u->part_size;
		int pn = u->next_part + 1;

		snprintf(what, sizeof(what), "UploadPart %d/%d s3://%s/%s", pn, u->parts, c->bucket,
				 u->key);
		s_checksum(u->body + off, n, sum);
		buf_printf(&q, "partNumber=%d&uploadId=%s", pn, enc);
		h[0] = (sigv4_header){"content-type", "application/octet-stream"};
		h[1] = (sigv4_header){"x-amz-checksum-sha256", sum};
		if (s3_request(c, "PUT", u->key, q.data, h, 2, u->body + off, n, what, err, errlen) < 0)
			goto out;
		if (c->resp.status != 200)
		{
			s3_http_error(c, what, err, errlen);
			if (c->resp.status == 404)
			{
				/* NoSuchUpload: aborted behind our back; start over */
				s_upload_reset(c, u);
				c->retryable = true;
			}
			goto out;
		}
		if (!http_response_header(&c->resp, "ETag", etag, sizeof(etag)) || etag[0] == '\0')
		{
			s3_fail(c, true, false, err, errlen, "%s: no ETag in the answer", what);
			goto out;
		}
		c->stats.parts++;
		buf_printf(&u->done,
				   "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag>"
				   "<ChecksumSHA256>%s</ChecksumSHA256></Part>",
				   pn, etag, sum);
		u->next_part++;
		rc = 1;
		goto out;
	}

	snprintf(what, sizeof(what), "CompleteMultipartUpload s3://%s/%s", c->bucket, u->key);
	buf_printf(&q, "uploadId=%s", enc);
	{
		buf body = BUF_INIT;

		buf_append(&body, u->done.data, u->done.len);
		buf_puts(&body, "</CompleteMultipartUpload>");
		h[0] = (sigv4_header){"content-type", "application/xml"};
		h[1] = (sigv4_header){"if-none-match", "*"};
		rc = s3_request(c, "POST", u->key, q.data, h, 2, body.data, body.len, what, err, errlen);
		buf_free(&body);
	}
	if (rc < 0)
		goto out; /* no answer: completing again is safe (same parts) */
	rc = -1;
	if (c->resp.status == 412)
	{
		rc = s_compare_existing(c, u->key, u->body, u->len, err, errlen);
		s_upload_reset(c, u); /* the upload is not needed either way */
		goto out;
	}
	/*
	 * S3 answers 200 before it has finished combining the parts and reports
	 * a failure in that case as an <Error> document in the 200's body.  The
	 * root of a success is <CompleteMultipartUploadResult> (some emulators
	 * say ...Response).
	 */
	if (c->resp.status != 200 || s3_xml_error(c->resp.body.data, NULL, 0, NULL, 0) ||
		strstr(c->resp.body.data, "<CompleteMultipartUpload") == NULL)
	{
		if (c->resp.status == 200 && !s3_xml_error(c->resp.body.data, NULL, 0, NULL, 0))
			s3_fail(c, true, false, err, errlen, "%s: unexpected answer: %.200s", what,
					c->resp.body.data);
		else
		{
			s3_http_error(c, what, err, errlen);
			if (c->resp.status == 200)
				c->retryable = true; /* InternalError and kin: try the whole upload again */
		}
		s_upload_reset(c, u);
		goto out;
	}
	free(u->upload_id);
	u->upload_id = NULL; /* completed: nothing to abort */
	c->stats.puts++;
	c->stats.multipart++;
	rc = 0;
out:
	free(enc);
	buf_free(&q);
	return rc;
}

int
s3_upload_step(s3_client *c, s3_upload *u, char *err, size_t errlen)
{
	c->retryable = c->config_error = false;
	if (u->parts > 0)
		return s_step_multipart(c, u, err, errlen);
	return s_put_single(c, u->key, u->body, u->len, u->ctype, err, errlen);
}

int
s3_put_object(s3_client *c, const char *key, const void *body, size_t len, const char *content_type,
			  char *err, size_t errlen)
{
	s3_upload *u = s3_upload_begin(c, key, body, len, content_type);
	int rc;

	if (u == NULL)
		return s3_fail(c, true, false, err, errlen, "out of memory");
	while ((rc = s3_upload_step(c, u, err, errlen)) > 0)
		;
	s3_upload_free(c, u);
	return rc;
}
