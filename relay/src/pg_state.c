/*
 * pg_state.c
 *		Reading and durably writing the state file (see pg_state.h).
 */
#include "pg_state.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "pg_message.h"
#include "file_replace.h"

static void
s_u64(const char *v, uint64_t *out)
{
	unsigned long long x;

	if (sscanf(v, "%llu", &x) == 1)
		*out = x;
}

/* The lines after the position: horizon and task (see pg_state.h). */
static void
s_task_line(pg_state *st, const char *line)
{
	pg_state_task *t = &st->task;
	const char *eq = strchr(line, '=');
	const char *v;
	size_t n;

	if (eq == NULL)
		return;
	v = eq + 1;
	n = (size_t) (eq - line);
#define IS(name) (n == sizeof(name) - 1 && strncmp(line, name, n) == 0)
	if (IS("xmin_horizon"))
		s_u64(v, &st->horizon);
	else if (IS("task"))
		snprintf(t->kind, sizeof(t->kind), "%.15s", v);
	else if (IS("task_slot_lsn"))
		lsn_parse(v, strlen(v), &t->slot_lsn);
	else if (IS("task_snapshot_xmax"))
		s_u64(v, &t->snap_xmax);
	else if (IS("task_snapshot_xmin"))
		s_u64(v, &t->snap_xmin);
	else if (IS("task_horizon"))
		s_u64(v, &t->horizon);
	else if (IS("task_next_pos"))
		s_u64(v, &t->next_pos);
	else if (IS("task_end_pos"))
		s_u64(v, &t->end_pos);
	else if (IS("task_key"))
	{
		const char *slash = strrchr(v, '/');

		if (slash && slash - v < (long) sizeof(t->key_agg))
		{
			snprintf(t->key_agg, sizeof(t->key_agg), "%.*s", (int) (slash - v), v);
			sscanf(slash + 1, "%lld", &t->key_version);
		}
	}
	else if (IS("task_time"))
		sscanf(v, "%lld", &t->time);
	else if (IS("task_events"))
		sscanf(v, "%llu", &t->events);
	else if (IS("task_expected"))
		sscanf(v, "%llu", &t->expected);
#undef IS
}

int
pg_state_load(const char *path, const char *slot, pg_state *st, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[512], fslot[128] = "";

	memset(st, 0, sizeof(*st));
	if (f == NULL)
	{
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "could not read state file \"%s\": %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f))
	{
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "system=", 7) == 0)
			snprintf(st->identity, sizeof(st->identity), "%.159s", line + 7);
		else if (strncmp(line, "slot=", 5) == 0)
			snprintf(fslot, sizeof(fslot), "%.127s", line + 5);
		else if (strncmp(line, "confirmed_lsn=", 14) == 0)
			lsn_parse(line + 14, strlen(line + 14), &st->lsn);
		else
			s_task_line(st, line);
	}
	fclose(f);
	if (strcmp(fslot, slot) != 0)
	{
		snprintf(err, errlen, "state file \"%s\" is for slot \"%s\", not \"%s\"", path, fslot,
				 slot);
		return -1;
	}
	st->loaded = true;
	return 0;
}

int
pg_state_write(const char *path, const char *identity, const char *slot, uint64_t lsn, char *err,
			   size_t errlen)
{
	pg_state st;

	memset(&st, 0, sizeof(st));
	snprintf(st.identity, sizeof(st.identity), "%s", identity);
	st.lsn = lsn;
	return pg_state_save(path, slot, &st, err, errlen);
}

int
pg_state_save(const char *path, const char *slot, const pg_state *st, char *err, size_t errlen)
{
	const pg_state_task *t = &st->task;
	buf b = BUF_INIT;
	char l[32];
	int rc;

	lsn_format(st->lsn, l);
	buf_printf(&b, "# eventrelay state: do not edit\nsystem=%s\nslot=%s\nconfirmed_lsn=%s\n",
			   st->identity, slot, l);
	if (st->horizon)
		buf_printf(&b, "xmin_horizon=%llu\n", (unsigned long long) st->horizon);
	if (t->kind[0])
	{
		lsn_format(t->slot_lsn, l);
		buf_printf(&b,
				   "task=%s\ntask_slot_lsn=%s\ntask_snapshot_xmax=%llu\ntask_snapshot_xmin=%llu\n"
				   "task_horizon=%llu\n"
				   "task_next_pos=%llu\ntask_end_pos=%llu\ntask_key=%s/%lld\ntask_time=%lld\n"
				   "task_events=%llu\ntask_expected=%llu\n",
				   t->kind, l, (unsigned long long) t->snap_xmax, (unsigned long long) t->snap_xmin,
				   (unsigned long long) t->horizon, (unsigned long long) t->next_pos,
				   (unsigned long long) t->end_pos, t->key_agg, t->key_version, t->time, t->events,
				   t->expected);
	}
	if (buf_failed(&b))
	{
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = file_replace(path, b.data, b.len, err, errlen);
	buf_free(&b);
	return rc;
}
