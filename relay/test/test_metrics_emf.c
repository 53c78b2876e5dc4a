/*
 * test_metrics_emf.c
 *		The CloudWatch Embedded Metric Format lines (metrics_emf.c), read back
 *		with json-c (an independent reader) and checked against the AWS
 *		specification: one JSON object on one line; "_aws" with exactly
 *		Timestamp (integer milliseconds) and CloudWatchMetrics, one directive
 *		with Namespace, Dimensions (an array of arrays of names) and Metrics
 *		(Name, Unit); every dimension a string member of the root and every
 *		declared metric a number there.  Also: which metrics a line declares
 *		(the WAL ones only once known), the cadence of metrics_emf_poll, the
 *		namespace rules and the flags.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "config.h"
#include "metrics.h"
#include "metrics_emf.h"

static const char *const s_units[][2] = {
	{"LagSeconds", "Seconds"},
	{"LagBytes", "Bytes"},
	{"RetainedWalBytes", "Bytes"},
	{"SafeWalBytes", "Bytes"},
};

static struct json_object *
s_member(struct json_object *o, const char *key, json_type type)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("member \"%s\" missing", key);
	if (!json_object_is_type(v, type))
		fail_msg("member \"%s\" has type %s", key, json_type_to_name(json_object_get_type(v)));
	return v;
}

/*
 * Parse one rendered line and check it against the specification; returns
 * the root (put it) and the names of the metrics it declares in *names.
 */
static struct json_object *
s_check_line(const char *line, size_t len, const char *ns, const char *dim, const char *value,
			 int64_t ts_ms, char names[][32], int *n_names)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *root, *aws, *cwm, *d, *dims, *set, *metrics;
	size_t i;

	assert_non_null(line);
	assert_true(len > 2);
	assert_int_equal(strlen(line), len);
	/* one line: a log event that is the JSON object and nothing else */
	assert_int_equal(line[len - 1], '\n');
	assert_ptr_equal(memchr(line, '\n', len), line + len - 1);
	assert_int_equal(line[0], '{');
	root = json_tokener_parse_ex(tok, line, (int) len - 1);
	if (root == NULL || json_tokener_get_error(tok) != json_tokener_success)
		fail_msg("not JSON: %s", line);
	assert_int_equal(json_tokener_get_parse_end(tok), len - 1);
	json_tokener_free(tok);
	assert_true(json_object_is_type(root, json_type_object));

	aws = s_member(root, "_aws", json_type_object);
	assert_int_equal(json_object_object_length(aws), 2); /* no other members */
	assert_int_equal(json_object_get_int64(s_member(aws, "Timestamp", json_type_int)), ts_ms);
	cwm = s_member(aws, "CloudWatchMetrics", json_type_array);
	assert_int_equal(json_object_array_length(cwm), 1);
	d = json_object_array_get_idx(cwm, 0);
	assert_true(json_object_is_type(d, json_type_object));
	assert_int_equal(json_object_object_length(d), 3);
	assert_string_equal(json_object_get_string(s_member(d, "Namespace", json_type_string)), ns);

	dims = s_member(d, "Dimensions", json_type_array);
	assert_int_equal(json_object_array_length(dims), 1);
	set = json_object_array_get_idx(dims, 0);
	assert_true(json_object_is_type(set, json_type_array));
	assert_int_equal(json_object_array_length(set), 1);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(set, 0)), dim);
	assert_string_equal(json_object_get_string(s_member(root, dim, json_type_string)), value);

	metrics = s_member(d, "Metrics", json_type_array);
	*n_names = (int) json_object_array_length(metrics);
	assert_true(*n_names >= 2 && *n_names <= 4);
	for (i = 0; i < json_object_array_length(metrics); i++)
	{
		struct json_object *m = json_object_array_get_idx(metrics, i), *v;
		const char *name = json_object_get_string(s_member(m, "Name", json_type_string));
		const char *unit = json_object_get_string(s_member(m, "Unit", json_type_string));
		size_t k;

		assert_int_equal(json_object_object_length(m), 2);
		for (k = 0; k < sizeof(s_units) / sizeof(s_units[0]); k++)
			if (strcmp(s_units[k][0], name) == 0)
				break;
		if (k == sizeof(s_units) / sizeof(s_units[0]))
			fail_msg("unexpected metric %s", name);
		assert_string_equal(unit, s_units[k][1]);
		/* the value: a number member of the root */
		if (!json_object_object_get_ex(root, name, &v) ||
			!(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
			fail_msg("metric %s has no numeric value in the root: %s", name, line);
		snprintf(names[i], 32, "%s", name);
	}
	return root;
}

static double
s_number(struct json_object *root, const char *name)
{
	struct json_object *v = NULL;

	assert_true(json_object_object_get_ex(root, name, &v));
	return json_object_get_double(v);
}

static void
test_before_the_wal_check(void **state)
{
	relay_metrics m;
	char names[4][32];
	int n;
	size_t len;
	char *line;
	struct json_object *root;

	(void) state;
	memset(&m, 0, sizeof(m));
	m.lag_seconds = 2.5;
	m.received_lsn = 0x3000100;
	m.acked_lsn = 0x3000000;
	line = metrics_emf_render(&m, "eventrelay", "Slot", "orders", 1764669600123LL, &len);
	root = s_check_line(line, len, "eventrelay", "Slot", "orders", 1764669600123LL, names, &n);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "LagSeconds");
	assert_string_equal(names[1], "LagBytes");
	assert_true(s_number(root, "LagSeconds") == 2.5);
	assert_int_equal((int64_t) s_number(root, "LagBytes"), 256);
	assert_false(json_object_object_get_ex(root, "RetainedWalBytes", NULL));
	assert_false(json_object_object_get_ex(root, "WalStatus", NULL));
	json_object_put(root);
	free(line);

	/* before the first confirmation the lag in bytes is unknown: 0, not the whole WAL */
	m.acked_lsn = 0;
	line = metrics_emf_render(&m, "eventrelay", "Slot", "orders", 1, &len);
	root = s_check_line(line, len, "eventrelay", "Slot", "orders", 1, names, &n);
	assert_true(s_number(root, "LagBytes") == 0);
	json_object_put(root);
	free(line);

	/* acknowledged past what the server last said (a keepalive): no negative lag */
	m.acked_lsn = 0x3000200;
	m.lag_seconds = -0.001;
	line = metrics_emf_render(&m, "eventrelay", "Slot", "orders", 1, &len);
	root = s_check_line(line, len, "eventrelay", "Slot", "orders", 1, names, &n);
	assert_true(s_number(root, "LagSeconds") == 0);
	assert_true(s_number(root, "LagBytes") == 0);
	json_object_put(root);
	free(line);
}

static void
test_wal_metrics(void **state)
{
	relay_metrics m;
	char names[4][32];
	int n;
	size_t len;
	char *line;
	struct json_object *root;

	(void) state;
	memset(&m, 0, sizeof(m));
	m.slot_wal_checked = 1;
	snprintf(m.slot_wal_status, sizeof(m.slot_wal_status), "reserved");
	m.slot_retained_wal_bytes = 16777216;
	m.slot_safe_wal_bytes = 50331648;
	m.slot_wal_keep_bytes = 67108864;
	line = metrics_emf_render(&m, "EventStore/Relay", "Slot", "eventrelay", 42, &len);
	root = s_check_line(line, len, "EventStore/Relay", "Slot", "eventrelay", 42, names, &n);
	assert_int_equal(n, 4);
	assert_string_equal(names[2], "RetainedWalBytes");
	assert_string_equal(names[3], "SafeWalBytes");
	assert_int_equal((int64_t) s_number(root, "RetainedWalBytes"), 16777216);
	assert_int_equal((int64_t) s_number(root, "SafeWalBytes"), 50331648);
	assert_string_equal(json_object_get_string(s_member(root, "WalStatus", json_type_string)),
						"reserved");
	json_object_put(root);
	free(line);

	/* a lost slot: safe_wal_size NULL (-1 in the metrics), nothing safe */
	snprintf(m.slot_wal_status, sizeof(m.slot_wal_status), "lost");
	m.slot_safe_wal_bytes = -1;
	line = metrics_emf_render(&m, "eventrelay", "Slot", "eventrelay", 42, &len);
	root = s_check_line(line, len, "eventrelay", "Slot", "eventrelay", 42, names, &n);
	assert_int_equal(n, 4);
	assert_true(s_number(root, "SafeWalBytes") == 0);
	json_object_put(root);
	free(line);

	/* no max_slot_wal_keep_size: no SafeWalBytes at all (there is no limit to be near) */
	m.slot_wal_keep_bytes = -1;
	line = metrics_emf_render(&m, "eventrelay", "Slot", "eventrelay", 42, &len);
	root = s_check_line(line, len, "eventrelay", "Slot", "eventrelay", 42, names, &n);
	assert_int_equal(n, 3);
	assert_false(json_object_object_get_ex(root, "SafeWalBytes", NULL));
	json_object_put(root);
	free(line);
}

static void
test_strings_are_escaped(void **state)
{
	relay_metrics m;
	char names[4][32];
	int n;
	size_t len;
	char *line;
	struct json_object *root;

	(void) state;
	memset(&m, 0, sizeof(m));
	line = metrics_emf_render(&m, "a \"b\"\\c", "Slot", "x\ny", 7, &len);
	root = s_check_line(line, len, "a \"b\"\\c", "Slot", "x\ny", 7, names, &n);
	json_object_put(root);
	free(line);
}

/* Run the polls with stderr going to a file; return what was written. */
static char *
s_capture_polls(const int64_t *at, int n)
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO), i;
	char *out;
	long len;

	assert_non_null(tmp);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	for (i = 0; i < n; i++)
		metrics_emf_poll(at[i]);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	len = (long) lseek(fileno(tmp), 0, SEEK_END);
	out = calloc(1, (size_t) len + 1);
	assert_int_equal(pread(fileno(tmp), out, (size_t) len, 0), len);
	fclose(tmp);
	return out;
}

static int
s_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void
test_poll_cadence(void **state)
{
	/* first at once; then every second after the last was due, not after it was written */
	const int64_t at[] = {1000, 1500, 1999, 2300, 2999, 3000, 3999, 4000};
	/* a stall of several intervals: one line, and the cadence starts anew */
	const int64_t stall[] = {20000, 20500, 21000};
	char *out;

	(void) state;
	memset(&metrics, 0, sizeof(metrics));
	metrics_emf_start(0, "eventrelay", "Slot", "s");
	out = s_capture_polls(at, 8);
	assert_string_equal(out, ""); /* off */
	free(out);

	metrics_emf_start(1000, "eventrelay", "Slot", "s");
	out = s_capture_polls(at, 8);
	assert_int_equal(s_lines(out), 4); /* 1000, 2300 (due 2000), 3000, 4000 */
	assert_non_null(strstr(out, "\"Slot\":\"s\""));
	free(out);
	out = s_capture_polls(stall, 3);
	assert_int_equal(s_lines(out), 2); /* 20000, 21000 */
	free(out);
}

static void
test_namespace_rules(void **state)
{
	char big[300];

	(void) state;
	assert_null(metrics_emf_namespace_error("eventrelay"));
	assert_null(metrics_emf_namespace_error("EventStore/Relay-1.prod #a:b_c"));
	assert_non_null(metrics_emf_namespace_error(""));
	assert_non_null(metrics_emf_namespace_error("AWS/Kinesis"));
	assert_non_null(metrics_emf_namespace_error(":x"));
	assert_non_null(metrics_emf_namespace_error("a\"b"));
	assert_non_null(metrics_emf_namespace_error("caf\xc3\xa9"));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_non_null(metrics_emf_namespace_error(big));
	big[255] = '\0';
	assert_null(metrics_emf_namespace_error(big));
}

static void
test_flags(void **state)
{
	relay_config c;
	char err[256];
	char *def[] = {"eventrelay", "--sink", "stdout", NULL};
	char *set[] = {"eventrelay", "--sink",
				   "stdout",	 "--metrics-emf-interval",
				   "60",		 "--metrics-emf-namespace=EventStore/Relay",
				   NULL};
	char *bad[] = {"eventrelay", "--sink", "stdout", "--metrics-emf-namespace", "AWS/Relay", NULL};
	char *big[] = {"eventrelay", "--sink", "stdout", "--metrics-emf-interval", "3601", NULL};

	(void) state;
	unsetenv("EVENTRELAY_METRICS_EMF_INTERVAL");
	unsetenv("EVENTRELAY_METRICS_EMF_NAMESPACE");
	assert_int_equal(config_parse(&c, 3, def, err, sizeof(err)), 0);
	assert_int_equal(c.metrics_emf_interval_ms, 0);
	assert_string_equal(c.metrics_emf_namespace, "eventrelay");
	config_free(&c);
	assert_int_equal(config_parse(&c, 6, set, err, sizeof(err)), 0);
	assert_int_equal(c.metrics_emf_interval_ms, 60000);
	assert_string_equal(c.metrics_emf_namespace, "EventStore/Relay");
	config_free(&c);
	setenv("EVENTRELAY_METRICS_EMF_INTERVAL", "5", 1);
	assert_int_equal(config_parse(&c, 3, def, err, sizeof(err)), 0);
	assert_int_equal(c.metrics_emf_interval_ms, 5000);
	config_free(&c);
	unsetenv("EVENTRELAY_METRICS_EMF_INTERVAL");
	assert_int_equal(config_parse(&c, 5, bad, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--metrics-emf-namespace"));
	config_free(&c);
	assert_int_equal(config_parse(&c, 5, big, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--metrics-emf-interval"));
	config_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_before_the_wal_check), cmocka_unit_test(test_wal_metrics),
		cmocka_unit_test(test_strings_are_escaped),	 cmocka_unit_test(test_poll_cadence),
		cmocka_unit_test(test_namespace_rules),		 cmocka_unit_test(test_flags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
