/*
 * sink.c
 *		The sink registry and the sink set that feeds several sinks the same
 *		stream and acknowledges the minimum of their positions (see sink.h).
 */
#include "sink.h"
#include "metrics.h"
#include "sink_deadletter.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

extern const sink_type sink_type_stdout;
extern const sink_type sink_type_kinesis;
extern const sink_type sink_type_s3;

/*
 * Known sinks.  To add one: declare its sink_type above and list it here
 * (one line each).
 */
static const sink_type *const registry[] = {&sink_type_kinesis, &sink_type_s3, &sink_type_stdout,
											NULL};

const sink_type *const *
sink_types(void)
{
	return registry;
}

const sink_type *
sink_type_find(const char *name, size_t len)
{
	int i;

	for (i = 0; registry[i]; i++)
		if (strlen(registry[i]->name) == len && strncmp(registry[i]->name, name, len) == 0)
			return registry[i];
	return NULL;
}

sink *
sink_open(const char *name, const struct relay_config *cfg, deadletter *dl, char *err,
		  size_t errlen)
{
	const sink_type *t = sink_type_find(name, strlen(name));
	sink *s;

	if (t == NULL)
	{
		snprintf(err, errlen, "unknown sink \"%s\"", name);
		return NULL;
	}
	s = t->open(cfg, dl, err, errlen);
	if (s)
	{
		s->name = t->name;
		s->dead_letter = dl;
	}
	return s;
}

/* Prefix a sink's message with its name, keep the first fatal flag. */
static int
s_fail(sink *s, char *err, size_t errlen, bool *fatal_config)
{
	char tmp[512];

	snprintf(tmp, sizeof(tmp), "%s", err);
	snprintf(err, errlen, "%s sink: %s", s->name, tmp);
	if (fatal_config)
		*fatal_config = s->fatal_config;
	return -1;
}

static bool
s_which(const sink *s, sink_which which)
{
	return which == SINKS_ALL || (which == SINKS_BY_POSITION) == s->by_position;
}

int
sink_set_put_to(sink_set *set, sink_which which, const relay_event *ev, char *err, size_t errlen,
				bool *fatal_config)
{
	int i;

	/* every path's events enter the sinks here: counted once */
	metrics.events_received++;
	metrics.bytes_received += ev->len;
	for (i = 0; i < set->n; i++)
		if (s_which(set->s[i], which) && set->s[i]->ops->put(set->s[i], ev, err, errlen) < 0)
			return s_fail(set->s[i], err, errlen, fatal_config);
	return 0;
}

int
sink_set_put(sink_set *set, const relay_event *ev, char *err, size_t errlen, bool *fatal_config)
{
	return sink_set_put_to(set, SINKS_ALL, ev, err, errlen, fatal_config);
}

bool
sink_set_has(const sink_set *set, sink_which which)
{
	for (int i = 0; i < set->n; i++)
		if (s_which(set->s[i], which))
			return true;
	return false;
}

int
sink_set_commit(sink_set *set, uint64_t pos, char *err, size_t errlen, bool *fatal_config)
{
	int i;

	for (i = 0; i < set->n; i++)
		if (set->s[i]->ops->commit(set->s[i], pos, err, errlen) < 0)
			return s_fail(set->s[i], err, errlen, fatal_config);
	return 0;
}

int
sink_set_poll(sink_set *set, int64_t now_ms, bool idle, char *err, size_t errlen,
			  bool *fatal_config)
{
	int i;

	for (i = 0; i < set->n; i++)
		if (set->s[i]->ops->poll(set->s[i], now_ms, idle, err, errlen) < 0)
			return s_fail(set->s[i], err, errlen, fatal_config);
	return 0;
}

int64_t
sink_set_next_due(sink_set *set)
{
	int64_t due = INT64_MAX;
	int i;

	for (i = 0; i < set->n; i++)
	{
		int64_t d = set->s[i]->ops->next_due(set->s[i]);

		if (d < due)
			due = d;
	}
	return due;
}

size_t
sink_set_pending_bytes(sink_set *set)
{
	size_t max = 0;
	int i;

	for (i = 0; i < set->n; i++)
	{
		size_t b = set->s[i]->ops->pending_bytes(set->s[i]);

		if (b > max)
			max = b;
	}
	return max;
}

int
sink_set_drain(sink_set *set, int64_t deadline_ms, char *err, size_t errlen)
{
	int i, rc = 0;

	for (i = 0; i < set->n; i++)
		if (set->s[i]->ops->drain(set->s[i], deadline_ms, err, errlen) < 0)
		{
			s_fail(set->s[i], err, errlen, NULL);
			rc = -1;
		}
	return rc;
}

uint64_t
sink_set_acked(const sink_set *set)
{
	uint64_t min = UINT64_MAX;
	int i;

	for (i = 0; i < set->n; i++)
		if (set->s[i]->acked < min)
			min = set->s[i]->acked;
	return set->n ? min : 0;
}

void
sink_set_free(sink_set *set)
{
	int i;

	for (i = 0; i < set->n; i++)
		set->s[i]->ops->free(set->s[i]);
	set->n = 0;
}
