/*
 * fuzz_event.c
 *		Fuzz target: one output-plugin message (event_parse), as it arrives
 *		from the replication stream, with no NUL after it.  An event's key
 *		must lie inside the message (fast path) or the key buffer.
 */
#include "pg_message.h"
#include "fz.h"

#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	plugin_msg m;
	char err[256];
	const char *d = (const char *) data;

	if (pg_message_parse(d, size, &m, err, sizeof(err)) != 0)
	{
		if (memchr(err, '\0', sizeof(err)) == NULL)
			fz_fail("error text not terminated");
		return 0;
	}
	if (m.kind == PM_EVENT)
	{
		if (m.key == NULL)
			fz_fail("event without a key");
		if (!(m.key >= d && m.key + m.key_len <= d + size) &&
			!(m.key == m.keybuf && m.key_len < sizeof(m.keybuf)))
			fz_fail("key outside the message and the key buffer");
	}
	else if (m.kind != PM_BEGIN && m.kind != PM_COMMIT)
		fz_fail("unknown kind %d", (int) m.kind);
	{
		char text[32];
		uint64_t back;

		/* an LSN that parsed formats back to the same value */
		lsn_format(m.lsn, text);
		if (lsn_parse(text, strlen(text), &back) != 0 || back != m.lsn)
			fz_fail("LSN %s does not round-trip", text);
	}
	return 0;
}
