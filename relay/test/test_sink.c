/*
 * test_sink.c
 *		The sink set: every sink gets every event, the acknowledged position
 *		is the minimum over the sinks (the flush LSN moves only when every
 *		sink has a transaction); and the stdout sink acknowledges a position
 *		once its lines are written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "sink.h"
#include "th_util.h"

/* A sink that acknowledges only when told to (fake_release). */
typedef struct fake
{
	sink base;
	uint64_t committed;
	int events;
} fake;

static int
f_put(sink *s, const relay_event *ev, char *err, size_t errlen)
{
	(void) ev;
	(void) err;
	(void) errlen;
	((fake *) s)->events++;
	return 0;
}

static int
f_commit(sink *s, uint64_t pos, char *err, size_t errlen)
{
	(void) err;
	(void) errlen;
	((fake *) s)->committed = pos;
	return 0;
}

static int
f_poll(sink *s, int64_t now, bool idle, char *err, size_t errlen)
{
	(void) s;
	(void) now;
	(void) idle;
	(void) err;
	(void) errlen;
	return 0;
}

static int64_t
f_next_due(sink *s)
{
	(void) s;
	return INT64_MAX;
}

static size_t
f_pending(sink *s)
{
	(void) s;
	return 0;
}

static int
f_drain(sink *s, int64_t deadline, char *err, size_t errlen)
{
	(void) deadline;
	(void) err;
	(void) errlen;
	s->acked = ((fake *) s)->committed;
	return 0;
}

static void
f_free(sink *s)
{
	free(s);
}

static const sink_ops fake_ops = {f_put,	 f_commit, f_poll, f_next_due,
								  f_pending, f_drain,  f_free, NULL};

static fake *
fake_new(const char *name)
{
	fake *f = calloc(1, sizeof(*f));

	f->base.ops = &fake_ops;
	f->base.name = name;
	return f;
}

static void
test_min_of_sinks(void **state)
{
	sink_set set = {{0}, 0};
	fake *a = fake_new("a"), *b = fake_new("b");
	relay_event ev = {"{}", 2, "k", 1, 10, 0, 0};
	char err[128];
	bool fatal = false;

	(void) state;
	set.s[set.n++] = &a->base;
	set.s[set.n++] = &b->base;
	assert_int_equal(sink_set_put(&set, &ev, err, sizeof(err), &fatal), 0);
	assert_int_equal(sink_set_commit(&set, 100, err, sizeof(err), &fatal), 0);
	assert_int_equal(a->events, 1);
	assert_int_equal(b->events, 1);
	assert_int_equal(sink_set_acked(&set), 0);
	a->base.acked = 100; /* only one sink has it */
	assert_int_equal(sink_set_acked(&set), 0);
	b->base.acked = 100;
	assert_int_equal(sink_set_acked(&set), 100);
	assert_int_equal(sink_set_commit(&set, 200, err, sizeof(err), &fatal), 0);
	b->base.acked = 200;
	assert_int_equal(sink_set_acked(&set), 100);
	assert_int_equal(sink_set_drain(&set, relay_now_ms() + 1000, err, sizeof(err)), 0);
	assert_int_equal(sink_set_acked(&set), 200);
	sink_set_free(&set);
}

static void
test_stdout_sink(void **state)
{
	relay_config cfg;
	char *argv[] = {"eventrelay", "--sink", "stdout", NULL};
	char err[256], path[] = "/tmp/test_sink_out.XXXXXX";
	int fd = mkstemp(path), saved = dup(STDOUT_FILENO);
	sink *s;
	relay_event e1 = {"{\"a\":1}", 7, "k", 1, 5, 0, 0};
	relay_event e2 = {"{\"a\":2}", 7, "k", 1, 5, 1, 0};
	char *out;

	(void) state;
	assert_int_equal(config_parse(&cfg, 3, argv, err, sizeof(err)), 0);
	dup2(fd, STDOUT_FILENO);
	s = sink_open("stdout", &cfg, NULL, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(s->ops->put(s, &e1, err, sizeof(err)), 0);
	assert_int_equal(s->ops->put(s, &e2, err, sizeof(err)), 0);
	assert_int_equal(s->ops->commit(s, 77, err, sizeof(err)), 0);
	assert_int_equal(s->acked, 0); /* buffered, not written yet */
	assert_int_equal(s->ops->poll(s, relay_now_ms(), true, err, sizeof(err)), 0);
	assert_int_equal(s->acked, 77);
	s->ops->free(s);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(fd);
	out = th_read_file(path, NULL);
	assert_string_equal(out, "{\"a\":1}\n{\"a\":2}\n");
	free(out);
	unlink(path);
	config_free(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_min_of_sinks),
		cmocka_unit_test(test_stdout_sink),
	};

	return cmocka_run_group_tests_name("sink set", tests, NULL, NULL);
}
