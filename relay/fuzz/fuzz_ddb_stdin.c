/*
 * fuzz_ddb_stdin.c
 *		Fuzz target: stdin mode's splitting of a byte stream into JSON values
 *		(ddb_reader_next), with the reads cut at fuzzer-chosen sizes: the
 *		first input byte is the largest read (1..256 bytes), the rest is the
 *		stream, written by a thread into a SOCK_SEQPACKET pair so that each
 *		read returns one piece.  Every value returned must hold records or
 *		fail cleanly, and the reader must reach the end in a bounded number
 *		of calls (it resumes after a malformed value).
 */
#include "ddb_input.h"
#include "fz.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct s_writer
{
	int fd;
	const uint8_t *p;
	size_t n;
	size_t piece;
} s_writer;

static void *
s_write(void *arg)
{
	s_writer *w = arg;

	while (w->n > 0)
	{
		size_t k = w->n < w->piece ? w->n : w->piece;
		ssize_t r = send(w->fd, w->p, k, MSG_NOSIGNAL);

		if (r < 0)
			break;
		w->p += r;
		w->n -= (size_t) r;
	}
	close(w->fd);
	return NULL;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	fz_quiet();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2];
	pthread_t th;
	s_writer w;
	ddb_reader r;
	char err[256];
	long calls = 0;
	int rc;

	if (size < 1)
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		fz_fail("socketpair");
	w.fd = sv[1];
	w.p = data + 1;
	w.n = size - 1;
	w.piece = (size_t) data[0] + 1;
	if (pthread_create(&th, NULL, s_write, &w) != 0)
		fz_fail("pthread_create");
	if (ddb_reader_init(&r, sv[0], err, sizeof(err)) != 0)
		fz_fail("ddb_reader_init: %s", err);
	for (;;)
	{
		const jv *v;
		ddb_recs recs;

		rc = ddb_reader_next(&r, &v, err, sizeof(err));
		if (rc == 0)
			break;
		if (++calls > (long) size + 2)
			fz_fail("reader does not reach the end of %zu bytes", size - 1);
		if (rc < 0)
			continue;
		if (v == NULL)
			fz_fail("a value without a document");
		if (ddb_recs_from_value(v, &recs, err, sizeof(err)) == 0)
		{
			size_t i;

			for (i = 0; i < recs.n; i++)
				if (ddb_recs_get(&recs, i) == NULL)
					fz_fail("record %zu of %zu missing", i, recs.n);
		}
	}
	ddb_reader_free(&r);
	pthread_join(th, NULL);
	close(sv[0]);
	return 0;
}
