/*
 * ddb_out.c
 *		Stream records' envelopes into the relay's sinks, one position per
 *		record (see ddb_out.h).
 */
#include "ddb_out.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "sink_deadletter.h"
#include "metrics.h"

static int
s_open_sinks(ddb_out *o, char *err, size_t errlen)
{
	int i;

	memset(&o->set, 0, sizeof(o->set));
	for (i = 0; i < o->cfg->n_sinks && i < (int) (sizeof(o->set.s) / sizeof(o->set.s[0])); i++)
	{
		sink *s = sink_open(o->cfg->sinks[i], o->cfg, o->dl, err, errlen);

		if (s == NULL)
		{
			sink_set_free(&o->set);
			return -1;
		}
		o->set.s[o->set.n++] = s;
	}
	o->base = 0;
	return 0;
}

int
ddb_out_open(ddb_out *o, const relay_config *cfg, char *err, size_t errlen)
{
	memset(o, 0, sizeof(*o));
	int i;
	bool need_dl = false;

	o->cfg = cfg;
	/*
	 * Only a sink that can refuse a record needs the dead letter; with
	 * stdout alone (the stdin default) no file is created in the
	 * working directory of a pipe.
	 */
	for (i = 0; i < cfg->n_sinks; i++)
		if (strcmp(cfg->sinks[i], "stdout") != 0)
			need_dl = true;
	if (need_dl && (o->dl = deadletter_open(cfg->dead_letter, cfg, err, errlen)) == NULL)
		return -1;
	if (s_open_sinks(o, err, errlen) != 0)
	{
		deadletter_free(o->dl);
		o->dl = NULL;
		return -1;
	}
	return 0;
}

size_t
ddb_out_publish(ddb_out *o, const ddb_events *ev, size_t first, size_t nrec, int64_t deadline_ms,
				bool *fatal, char *err, size_t errlen)
{
	size_t i = 0;
	size_t r;
	uint64_t acked;
	size_t done;

	*fatal = false;
	err[0] = '\0';
	for (r = 0; r < nrec; r++)
	{
		uint32_t seq = 0;

		/* ev holds the records' events in record order. */
		for (; i < ev->n && ev->ev[i].record == first + r; i++)
		{
			relay_event re;

			re.data = ev->text.data + ev->ev[i].off;
			re.len = ev->ev[i].len;
			re.key = ev->keys.data + ev->ev[i].key_off;
			re.key_len = ev->ev[i].key_len;
			re.pos = o->base + r + 1;
			re.seq = seq++;
			re.commit_time = ev->ev[i].time;
			if (sink_set_put(&o->set, &re, err, errlen, fatal) != 0)
				goto stop;
		}
		/* Records without events are committed too: they are done at once. */
		if (sink_set_commit(&o->set, o->base + r + 1, err, errlen, fatal) != 0)
			goto stop;
	}
	if (sink_set_drain(&o->set, deadline_ms, err, errlen) != 0 && err[0] == '\0')
		snprintf(err, errlen, "sinks did not acknowledge everything in time");
stop:
	acked = sink_set_acked(&o->set);
	done = acked > o->base ? (size_t) (acked - o->base) : 0;
	if (done > nrec)
		done = nrec;
	o->base += nrec;
	if (done < nrec && err[0] == '\0')
		snprintf(err, errlen, "sinks did not acknowledge everything in time");
	return done;
}

int
ddb_out_reset(ddb_out *o, char *err, size_t errlen)
{
	sink_set_free(&o->set);
	return s_open_sinks(o, err, errlen);
}

void
ddb_out_close(ddb_out *o)
{
	sink_set_free(&o->set);
	if (o->dl)
		deadletter_free(o->dl);
	o->dl = NULL;
}
