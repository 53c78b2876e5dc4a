/*
 * th_util.c
 *		Test helpers (see th_util.h).
 */
#include "th_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

char *
th_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc((size_t) n + 1);
	if (fread(data, 1, (size_t) n, f) != (size_t) n)
		n = 0;
	data[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t) n;
	return data;
}

#define TH_MAX 256

typedef struct th_resp
{
	int status;
	char *headers;
	char *body;
} th_resp;

struct th_http
{
	int fd;
	int port;
	pthread_t thread;
	pthread_mutex_t mu;
	th_resp resp[TH_MAX];
	int n_resp;
	int next_resp;
	char *req[TH_MAX];
	int n_req;
	int active; /* connection threads running */
	volatile int stop;
};

static char *
th_read_request(int c)
{
	size_t cap = 65536, len = 0;
	char *b = malloc(cap);
	char *hdr_end;
	size_t need = 0;

	for (;;)
	{
		ssize_t n;
		struct pollfd pfd = {c, POLLIN, 0};

		if (poll(&pfd, 1, 5000) <= 0)
			break;
		if (len + 4096 > cap)
			b = realloc(b, cap *= 2);
		n = read(c, b + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t) n;
		b[len] = '\0';
		hdr_end = strstr(b, "\r\n\r\n");
		if (hdr_end && need == 0)
		{
			char *cl = strcasestr(b, "content-length:");

			need = (size_t) (hdr_end - b) + 4 + (cl && cl < hdr_end ? (size_t) atol(cl + 15) : 0);
		}
		if (need && len >= need)
			return b;
	}
	if (len == 0)
	{
		free(b);
		return NULL;
	}
	return b;
}

typedef struct th_conn
{
	th_http *s;
	int c;
} th_conn;

/* One connection (keep-alive): serve its requests until it closes. */
static void *
th_serve_conn(void *arg)
{
	th_conn *tc = arg;
	th_http *s = tc->s;
	int c = tc->c;

	free(tc);
	for (;;)
	{
		char *req = th_read_request(c);
		th_resp r = {500, "", "no response queued"};
		char head[512];
		size_t blen;

		if (req == NULL)
			break;
		pthread_mutex_lock(&s->mu);
		if (s->n_req < TH_MAX)
			s->req[s->n_req++] = req;
		else
			free(req);
		if (s->next_resp < s->n_resp)
			r = s->resp[s->next_resp++];
		pthread_mutex_unlock(&s->mu);
		blen = strlen(r.body);
		snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n%s\r\n", r.status,
				 blen, r.headers);
		if (write(c, head, strlen(head)) < 0 || write(c, r.body, blen) < 0)
			break;
	}
	close(c);
	pthread_mutex_lock(&s->mu);
	s->active--;
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Accept loop: a thread per connection (the Kinesis sink keeps several open). */
static void *
th_serve(void *arg)
{
	th_http *s = arg;

	while (!s->stop)
	{
		struct pollfd pfd = {s->fd, POLLIN, 0};
		th_conn *tc;
		pthread_t t;
		int c;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		c = accept(s->fd, NULL, NULL);
		if (c < 0)
			continue;
		tc = malloc(sizeof(*tc));
		tc->s = s;
		tc->c = c;
		pthread_mutex_lock(&s->mu);
		s->active++;
		pthread_mutex_unlock(&s->mu);
		if (pthread_create(&t, NULL, th_serve_conn, tc) != 0)
			abort();
		pthread_detach(t);
	}
	return NULL;
}

th_http *
th_http_start(void)
{
	th_http *s = calloc(1, sizeof(*s));
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int one = 1;

	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s->fd, (struct sockaddr *) &a, sizeof(a)) < 0 || listen(s->fd, 16) < 0)
		abort();
	getsockname(s->fd, (struct sockaddr *) &a, &alen);
	s->port = ntohs(a.sin_port);
	pthread_mutex_init(&s->mu, NULL);
	pthread_create(&s->thread, NULL, th_serve, s);
	return s;
}

int
th_http_port(th_http *s)
{
	return s->port;
}

void
th_http_push(th_http *s, int status, const char *headers, const char *body)
{
	pthread_mutex_lock(&s->mu);
	if (s->n_resp < TH_MAX)
	{
		s->resp[s->n_resp].status = status;
		s->resp[s->n_resp].headers = strdup(headers);
		s->resp[s->n_resp].body = strdup(body);
		s->n_resp++;
	}
	pthread_mutex_unlock(&s->mu);
}

int
th_http_count(th_http *s)
{
	int n;

	pthread_mutex_lock(&s->mu);
	n = s->n_req;
	pthread_mutex_unlock(&s->mu);
	return n;
}

const char *
th_http_request(th_http *s, int i)
{
	const char *r;

	pthread_mutex_lock(&s->mu);
	r = i < s->n_req ? s->req[i] : NULL;
	pthread_mutex_unlock(&s->mu);
	return r;
}

void
th_http_stop(th_http *s)
{
	int i;

	s->stop = 1;
	pthread_join(s->thread, NULL);
	/* connections end when their client closes them (or after 5 s idle) */
	for (;;)
	{
		int active;

		pthread_mutex_lock(&s->mu);
		active = s->active;
		pthread_mutex_unlock(&s->mu);
		if (active == 0)
			break;
		usleep(10000);
	}
	close(s->fd);
	for (i = 0; i < s->n_req; i++)
		free(s->req[i]);
	for (i = 0; i < s->n_resp; i++)
	{
		free(s->resp[i].headers);
		free(s->resp[i].body);
	}
	free(s);
}
