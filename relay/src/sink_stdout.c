/*
 * sink_stdout.c
 *		The stdout sink: one envelope per line (NDJSON) on standard output, for
 *		debugging and piping.  Output is buffered and written when the buffer
 *		is large, when the source is idle or after the linger time; a position
 *		is acknowledged once its lines were written to the file descriptor.
 */
#include "sink.h"
#include "buf.h"
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STDOUT_FLUSH_BYTES (256 * 1024)

typedef struct sink_stdout
{
	sink base;
	int fd;
	buf out;
	uint64_t committed; /* last position whose lines are all in out or written */
	int64_t first_ms;	/* when out became non-empty */
	int linger_ms;
} sink_stdout;

static int
s_flush(sink_stdout *s, char *err, size_t errlen)
{
	size_t off = 0;

	while (off < s->out.len)
	{
		ssize_t n = write(s->fd, s->out.data + off, s->out.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
		{
			snprintf(err, errlen, "could not write to standard output: %s", strerror(errno));
			return -1;
		}
		off += (size_t) n;
	}
	buf_reset(&s->out);
	s->base.acked = s->committed;
	return 0;
}

static int
s_put(sink *b, const relay_event *ev, char *err, size_t errlen)
{
	sink_stdout *s = (sink_stdout *) b;

	if (s->out.len == 0)
		s->first_ms = relay_now_ms();
	buf_append(&s->out, ev->data, ev->len);
	buf_putc(&s->out, '\n');
	if (buf_failed(&s->out))
	{
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (s->out.len >= STDOUT_FLUSH_BYTES)
		return s_flush(s, err, errlen);
	return 0;
}

static int
s_commit(sink *b, uint64_t pos, char *err, size_t errlen)
{
	sink_stdout *s = (sink_stdout *) b;

	(void) err;
	(void) errlen;
	s->committed = pos;
	if (s->out.len == 0)
		s->base.acked = pos;
	return 0;
}

static int
s_poll(sink *b, int64_t now_ms, bool idle, char *err, size_t errlen)
{
	sink_stdout *s = (sink_stdout *) b;

	if (s->out.len == 0)
		return 0;
	if (idle || now_ms >= s->first_ms + s->linger_ms)
		return s_flush(s, err, errlen);
	return 0;
}

static int64_t
s_next_due(sink *b)
{
	sink_stdout *s = (sink_stdout *) b;

	return s->out.len ? s->first_ms + s->linger_ms : INT64_MAX;
}

static size_t
s_pending_bytes(sink *b)
{
	return ((sink_stdout *) b)->out.len;
}

static int
s_drain(sink *b, int64_t deadline_ms, char *err, size_t errlen)
{
	(void) deadline_ms;
	return s_flush((sink_stdout *) b, err, errlen);
}

static void
s_free(sink *b)
{
	sink_stdout *s = (sink_stdout *) b;

	buf_free(&s->out);
	free(s);
}

static const sink_ops stdout_ops = {s_put,			 s_commit, s_poll, s_next_due,
									s_pending_bytes, s_drain,  s_free, NULL};

static sink *
s_open(const relay_config *cfg, struct deadletter *dl, char *err, size_t errlen)
{
	sink_stdout *s = calloc(1, sizeof(*s));

	(void) dl;
	if (s == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->base.ops = &stdout_ops;
	s->fd = STDOUT_FILENO;
	s->linger_ms = cfg->linger_ms > 0 ? cfg->linger_ms : 100;
	return &s->base;
}

const sink_type sink_type_stdout = {
	"stdout",
	"  stdout: one envelope per line (NDJSON) on standard output; no options.\n",
	"",
	s_open,
};
