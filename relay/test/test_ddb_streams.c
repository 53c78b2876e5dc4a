/*
 * test_ddb_streams.c
 *		The Streams-API reader (ddb_streams.c) against a scripted fake
 *		DynamoDB Streams endpoint, for what moto_server cannot show: a parent
 *		shard read to its end before its child, an expired iterator refreshed
 *		from the checkpoint (AFTER_SEQUENCE_NUMBER), trimmed data reported as
 *		loss and reading resumed from TRIM_HORIZON.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "ddb.h"
#include "stop.h"
#include "ddb_out.h"
#include "ddb_streams.h"

#define ARN "arn:aws:dynamodb:us-east-1:123456789012:table/carts/stream/2026-11-23T08:00:00.000"

/* ---- the fake endpoint ---------------------------------------------------- */

typedef struct fake
{
	int fd;
	int port;
	volatile int stop;
	pthread_t thread;
	char log[64][160]; /* "Op shard-or-iterator detail" per request */
	int n;
	int p_iters; /* iterators handed out per shard */
	int c_iters;
} fake;

static fake s_fake;

static const char *
rec(const char *name, const char *seq, int nold, int nnew)
{
	static char buf[4][2048];
	static int k;
	char *b = buf[k++ % 4];
	char oldl[600] = "", newl[600] = "";
	int i;

	for (i = 0; i < nnew; i++)
	{
		char e[80];

		snprintf(e, sizeof(e), "%s{\"M\":{\"Name\":{\"S\":\"E%d\"},\"Data\":{\"M\":{}}}}",
				 i ? "," : "", i + 1);
		strcat(newl, e);
		if (i < nold)
			strcat(oldl, e);
	}
	snprintf(
		b, 2048,
		"{\"eventID\":\"x\",\"eventName\":\"%s\",\"eventSource\":\"aws:dynamodb\",\"dynamodb\":{"
		"\"ApproximateCreationDateTime\":1795424400,\"Keys\":{\"Uuid\":{\"S\":\"cart-a\"}},"
		"\"NewImage\":{\"Uuid\":{\"S\":\"cart-a\"},\"Events\":{\"L\":[%s]}}%s%s%s,"
		"\"SequenceNumber\":\"%s\",\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"},"
		"\"eventSourceARN\":\"" ARN "\"}",
		name, newl, nold ? ",\"OldImage\":{\"Uuid\":{\"S\":\"cart-a\"},\"Events\":{\"L\":[" : "",
		nold ? oldl : "", nold ? "]}}" : "", seq);
	return b;
}

static const char *
s_field(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "";
}

/* The script: the answer to one request. */
static int
answer(const char *target, const char *body, char *out, size_t outlen)
{
	struct json_object *o = json_tokener_parse(body);
	const char *op = strchr(target, '.') ? strchr(target, '.') + 1 : target;
	int status = 200;

	if (strcmp(op, "DescribeStream") == 0)
	{
		snprintf(out, outlen,
				 "{\"StreamDescription\":{\"StreamArn\":\"" ARN
				 "\",\"StreamViewType\":\"NEW_AND_OLD_IMAGES\","
				 "\"Shards\":[{\"ShardId\":\"shard-P\",\"SequenceNumberRange\":{"
				 "\"StartingSequenceNumber\":\"100\","
				 "\"EndingSequenceNumber\":\"199\"}},{\"ShardId\":\"shard-C\",\"ParentShardId\":"
				 "\"shard-P\","
				 "\"SequenceNumberRange\":{\"StartingSequenceNumber\":\"200\"}}]}}");
		snprintf(s_fake.log[s_fake.n < 63 ? s_fake.n++ : 63], 160, "DescribeStream");
	}
	else if (strcmp(op, "GetShardIterator") == 0)
	{
		const char *shard = s_field(o, "ShardId");
		int n = strcmp(shard, "shard-P") == 0 ? ++s_fake.p_iters : ++s_fake.c_iters;

		snprintf(s_fake.log[s_fake.n < 63 ? s_fake.n++ : 63], 160, "GetShardIterator %s %s %s",
				 shard, s_field(o, "ShardIteratorType"), s_field(o, "SequenceNumber"));
		snprintf(out, outlen, "{\"ShardIterator\":\"%s-%d\"}",
				 strcmp(shard, "shard-P") == 0 ? "itP" : "itC", n);
	}
	else if (strcmp(op, "GetRecords") == 0)
	{
		const char *it = s_field(o, "ShardIterator");

		snprintf(s_fake.log[s_fake.n < 63 ? s_fake.n++ : 63], 160, "GetRecords %s", it);
		if (strcmp(it, "itP-1") == 0 || strcmp(it, "itP-next") == 0)
		{
			status = 400;
			snprintf(out, outlen,
					 "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ExpiredIteratorException\","
					 "\"message\":\"Iterator expired\"}");
		}
		else if (strcmp(it, "itP-2") == 0)
			snprintf(out, outlen, "{\"Records\":[%s],\"NextShardIterator\":\"itP-next\"}",
					 rec("INSERT", "100", 0, 1));
		else if (strcmp(it, "itP-3") == 0)
			snprintf(out, outlen, "{\"Records\":[%s]}",
					 rec("MODIFY", "101", 1, 2)); /* closed: no next */
		else if (strcmp(it, "itC-1") == 0)
		{
			status = 400;
			snprintf(out, outlen,
					 "{\"__type\":\"com.amazonaws.dynamodb.v20120810#TrimmedDataAccessException\","
					 "\"message\":\"trimmed\"}");
		}
		else if (strcmp(it, "itC-2") == 0)
			snprintf(out, outlen, "{\"Records\":[%s],\"NextShardIterator\":\"itC-end\"}",
					 rec("MODIFY", "200", 2, 3));
		else
			snprintf(out, outlen, "{\"Records\":[],\"NextShardIterator\":\"itC-end\"}");
	}
	else
	{
		status = 400;
		snprintf(out, outlen, "{\"__type\":\"UnknownOperationException\"}");
	}
	if (o)
		json_object_put(o);
	return status;
}

static void *
serve(void *arg)
{
	(void) arg;
	while (!s_fake.stop)
	{
		struct pollfd p = {s_fake.fd, POLLIN, 0};
		int c;

		if (poll(&p, 1, 50) <= 0 || (c = accept(s_fake.fd, NULL, NULL)) < 0)
			continue;
		for (;;) /* keep-alive: several requests per connection */
		{
			static char req[65536];
			static char resp[8192];
			char head[512], target[128] = "";
			size_t len = 0, need = 0;
			char *he, *t;
			int status;

			while (need == 0 || len < need)
			{
				ssize_t n = read(c, req + len, sizeof(req) - 1 - len);

				if (n <= 0)
					goto closed;
				len += (size_t) n;
				req[len] = '\0';
				if ((he = strstr(req, "\r\n\r\n")) != NULL && need == 0)
				{
					char *cl = strcasestr(req, "\r\ncontent-length:");

					need = (size_t) (he - req) + 4 + (cl ? (size_t) atol(cl + 17) : 0);
				}
			}
			he = strstr(req, "\r\n\r\n");
			if ((t = strcasestr(req, "\r\nx-amz-target:")) != NULL)
				sscanf(t + 16, " %127[^\r]", target);
			status = answer(target, he + 4, resp, sizeof(resp));
			snprintf(head, sizeof(head),
					 "HTTP/1.1 %d X\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: "
					 "%zu\r\n\r\n",
					 status, strlen(resp));
			if (write(c, head, strlen(head)) < 0 || write(c, resp, strlen(resp)) < 0)
				break;
		}
	closed:
		close(c);
	}
	return NULL;
}

static void
fake_start(void)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);

	memset(&s_fake, 0, sizeof(s_fake));
	s_fake.fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s_fake.fd, (struct sockaddr *) &a, sizeof(a)), 0);
	assert_int_equal(listen(s_fake.fd, 8), 0);
	getsockname(s_fake.fd, (struct sockaddr *) &a, &alen);
	s_fake.port = ntohs(a.sin_port);
	pthread_create(&s_fake.thread, NULL, serve, NULL);
}

static void
fake_stop(void)
{
	s_fake.stop = 1;
	pthread_join(s_fake.thread, NULL);
	close(s_fake.fd);
}

/* ---- the test ------------------------------------------------------------- */

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	static char buf[65536];
	size_t n;

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int
log_index(const char *prefix)
{
	int i;

	for (i = 0; i < s_fake.n; i++)
		if (strncmp(s_fake.log[i], prefix, strlen(prefix)) == 0)
			return i;
	return -1;
}

/* Run the reader once against the script; start = --start. */
static void
run_script(const char *start)
{
	char dir[] = "/tmp/ddb-streams-XXXXXX";
	char ckpt[128], outp[128], errp[128], dl[160], endpoint[64];
	char *argv[4];
	char err[256];
	relay_config cfg;
	ddb_options o;
	ddb_out out;
	ddb_stats st;
	int saved_out, saved_err, fd;
	char *text;
	int i, last_p = -1, first_c;

	assert_non_null(mkdtemp(dir));
	snprintf(ckpt, sizeof(ckpt), "%s/ckpt.json", dir);
	snprintf(outp, sizeof(outp), "%s/out.ndjson", dir);
	snprintf(errp, sizeof(errp), "%s/err.log", dir);
	snprintf(dl, sizeof(dl), "--dead-letter=%s/dead.ndjson", dir);
	setenv("AWS_ACCESS_KEY_ID", "test", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "test", 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	fake_start();
	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", s_fake.port);

	argv[0] = "dynamodb";
	argv[1] = "--sink=stdout";
	argv[2] = dl;
	argv[3] = NULL;
	assert_int_equal(config_parse(&cfg, 3, argv, err, sizeof(err)), 0);
	memset(&o, 0, sizeof(o));
	ddb_record_opts_default(&o.rec);
	o.input = "streams";
	o.stream_arn = ARN;
	o.checkpoint = ckpt;
	o.start = start;
	o.poll_ms = 20;
	o.idle_exit_ms = 400;
	o.publish_timeout_ms = 5000;
	o.streams_endpoint = endpoint;
	o.region = "us-east-1";
	o.on_error = DDB_ON_ERROR_STOP;
	o.cfg = &cfg;
	assert_int_equal(ddb_out_open(&out, &cfg, err, sizeof(err)), 0);
	memset(&st, 0, sizeof(st));

	fflush(stdout);
	fflush(stderr);
	saved_out = dup(1);
	saved_err = dup(2);
	fd = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd, 1);
	close(fd);
	fd = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd, 2);
	close(fd);
	i = ddb_streams_run(&o, &out, &st);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	ddb_out_close(&out);
	config_free(&cfg);
	fake_stop();
	assert_int_equal(i, 0);

	for (i = 0; i < s_fake.n; i++)
		print_message("  %s\n", s_fake.log[i]);
	/* Iterators: TRIM_HORIZON, again after the first expiry (no checkpoint
	 * yet), then from the checkpoint; the child from TRIM_HORIZON, again
	 * after the trimmed-data answer. */
	if (strcmp(start, "latest") == 0)
	{
		/* Shards that existed at start-up, without a checkpoint: from now on. */
		assert_int_equal(log_index("GetShardIterator shard-P LATEST"), 1);
		assert_true(log_index("GetShardIterator shard-C LATEST") > 0);
	}
	else
		assert_int_equal(log_index("GetShardIterator shard-P TRIM_HORIZON"), 1);
	assert_true(log_index("GetShardIterator shard-P AFTER_SEQUENCE_NUMBER 100") > 0);
	/* Nothing of the child before the parent's last GetRecords. */
	for (i = 0; i < s_fake.n; i++)
		if (strcmp(s_fake.log[i], "GetRecords itP-3") == 0)
			last_p = i;
	first_c = log_index("GetShardIterator shard-C");
	assert_true(last_p > 0);
	assert_true(first_c > last_p);
	assert_true(log_index("GetRecords itC-2") > first_c);

	text = slurp(outp);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"version\":1,"));
	assert_true(strstr(text, "\"version\":2,") > strstr(text, "\"version\":1,"));
	assert_true(strstr(text, "\"version\":3,") > strstr(text, "\"version\":2,"));
	assert_null(strstr(text, "\"version\":4,"));
	/* Each event exactly once despite the re-read iterators. */
	assert_null(strstr(strstr(text, "\"version\":1,") + 1, "\"version\":1,"));

	text = slurp(ckpt);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"shard-P\":{\"sequence_number\":\"101\",\"finished\":true}"));
	assert_non_null(strstr(text, "\"shard-C\":{\"sequence_number\":\"200\",\"finished\":false}"));
	text = slurp(errp);
	assert_non_null(strstr(
		text, "\"msg\":\"dynamodb stream data lost before it was read\",\"shard\":\"shard-C\""));
	assert_non_null(strstr(text, "shard iterator expired, refreshing it from the checkpoint"));

	unlink(ckpt);
	unlink(outp);
	unlink(errp);
	snprintf(dl, sizeof(dl), "%s/dead.ndjson", dir);
	unlink(dl);
	rmdir(dir);
}

static void
test_parent_first_expired_and_trimmed(void **state)
{
	(void) state;
	run_script("trim_horizon");
}

static void
test_start_latest(void **state)
{
	(void) state;
	run_script("latest");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parent_first_expired_and_trimmed),
		cmocka_unit_test(test_start_latest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
