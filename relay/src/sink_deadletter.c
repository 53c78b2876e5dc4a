/*
 * sink_deadletter.c
 *		Dead-letter destinations (see sink_deadletter.h): the file implementation
 *		and the scheme table through which other modules add theirs.
 */
#include "sink_deadletter.h"
#include "buf.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * URI schemes other than files.  To add one, declare its open function and
 * add a line {"scheme://", open} here.
 */
deadletter *s3_deadletter_open(const char *uri, const struct relay_config *cfg, char *err,
							   size_t errlen);

static const deadletter_scheme schemes[] = {{"s3://", s3_deadletter_open}, {NULL, NULL}};

typedef struct dl_file
{
	deadletter base;
	int fd;
	char *path;
} dl_file;

static int
dl_file_put(deadletter *dl, const char *sink_name, const relay_event *ev, const char *reason,
			char *err, size_t errlen)
{
	dl_file *f = (dl_file *) dl;
	buf b = BUF_INIT;
	time_t now = time(NULL);
	struct tm tm;
	char when[32];
	size_t off = 0;
	int rc = 0;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	buf_printf(&b, "{\"ts\":\"%s\",\"sink\":", when);
	buf_json_string(&b, sink_name, strlen(sink_name));
	buf_puts(&b, ",\"reason\":");
	buf_json_string(&b, reason, strlen(reason));
	buf_puts(&b, ",\"partition_key\":");
	buf_json_string(&b, ev->key ? ev->key : "", ev->key ? ev->key_len : 0);
	buf_printf(&b, ",\"pos\":\"%X/%X\",\"seq\":%u,\"data\":", (unsigned) (ev->pos >> 32),
			   (unsigned) ev->pos, ev->seq);
	buf_json_string(&b, ev->data, ev->len);
	buf_puts(&b, "}\n");
	if (buf_failed(&b))
	{
		buf_free(&b);
		snprintf(err, errlen, "dead letter: out of memory");
		return -1;
	}
	while (off < b.len)
	{
		ssize_t n = write(f->fd, b.data + off, b.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
		{
			snprintf(err, errlen, "could not write dead letter file \"%s\": %s", f->path,
					 strerror(errno));
			rc = -1;
			break;
		}
		off += (size_t) n;
	}
	if (rc == 0 && fsync(f->fd) < 0)
	{
		snprintf(err, errlen, "could not fsync dead letter file \"%s\": %s", f->path,
				 strerror(errno));
		rc = -1;
	}
	buf_free(&b);
	return rc;
}

static void
dl_file_free(deadletter *dl)
{
	dl_file *f = (dl_file *) dl;

	close(f->fd);
	free(f->path);
	free(f);
}

static const deadletter_ops dl_file_ops = {dl_file_put, dl_file_free};

deadletter *
deadletter_file_open(const char *path, char *err, size_t errlen)
{
	dl_file *f = calloc(1, sizeof(*f));

	if (f == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	f->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (f->fd < 0)
	{
		snprintf(err, errlen, "could not open dead letter file \"%s\": %s", path, strerror(errno));
		free(f);
		return NULL;
	}
	f->path = strdup(path);
	f->base.ops = &dl_file_ops;
	return &f->base;
}

deadletter *
deadletter_open(const char *uri, const struct relay_config *cfg, char *err, size_t errlen)
{
	int i;

	for (i = 0; schemes[i].prefix; i++)
		if (strncmp(uri, schemes[i].prefix, strlen(schemes[i].prefix)) == 0)
			return schemes[i].open(uri, cfg, err, errlen);
	if (strncmp(uri, "file:", 5) == 0)
		uri += 5;
	if (strstr(uri, "://") != NULL)
	{
		snprintf(err, errlen, "unsupported dead letter destination \"%s\"", uri);
		return NULL;
	}
	return deadletter_file_open(uri, err, errlen);
}

/* Sinks may run sender threads: one record at a time. */
static pthread_mutex_t dl_mu = PTHREAD_MUTEX_INITIALIZER;

int
deadletter_put(deadletter *dl, const char *sink_name, const relay_event *ev, const char *reason,
			   char *err, size_t errlen)
{
	int rc;

	if (dl == NULL)
	{
		snprintf(err, errlen, "no dead letter destination for a rejected record (%s)", reason);
		return -1;
	}
	pthread_mutex_lock(&dl_mu);
	rc = dl->ops->put(dl, sink_name, ev, reason, err, errlen);
	if (rc == 0)
		dl->count++;
	pthread_mutex_unlock(&dl_mu);
	if (rc < 0)
		return -1;
	log_kv(LOG_WARN, "record set aside in the dead letter", "sink", sink_name, "reason", reason,
		   NULL);
	return 0;
}

void
deadletter_free(deadletter *dl)
{
	if (dl)
		dl->ops->free(dl);
}
