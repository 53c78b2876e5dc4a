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
	buf b = BUF_INIT;
	char l[32];
	int rc;

	lsn_format(lsn, l);
	buf_printf(&b, "# eventrelay state: do not edit\nsystem=%s\nslot=%s\nconfirmed_lsn=%s\n",
			   identity, slot, l);
	if (buf_failed(&b))
	{
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = file_replace(path, b.data, b.len, err, errlen);
	buf_free(&b);
	return rc;
}
