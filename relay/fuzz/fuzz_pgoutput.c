/*
 * fuzz_pgoutput.c
 *		Fuzz target: a sequence of pgoutput messages through the pgoutput
 *		decoder (pg_pgoutput.c), as they arrive from the replication
 *		stream.  Input: messages, each preceded by its length (2 bytes, big
 *		endian).  Every envelope handed out must be a JSON object
 *		whose key is its aggregate_id; markers must pair up, a commit
 *		counting the events since its begin.
 */
#include "pg_pgoutput.h"
#include "fz.h"

#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pg_pgoutput_options o = {PG_ENVELOPE_FIELDS_ALL, NULL, NULL, size & 1};
	pg_pgoutput *d;
	char err[256];
	size_t off = 0;
	bool open = false;
	int64_t events = 0;

	fz_quiet();
	d = pg_pgoutput_new(&o, err, sizeof(err));
	if (d == NULL || pg_pgoutput_set_database(d, "db\"x") < 0)
		fz_fail("could not make a decoder: %s", err);
	while (off + 2 <= size)
	{
		size_t len = ((size_t) data[off] << 8) | data[off + 1];
		pg_pgoutput_out out[2];
		bool config;
		char *m;
		int n;

		off += 2;
		if (len > size - off)
			len = size - off;
		/* an exact-size copy: ASan sees any read past the message */
		m = malloc(len ? len : 1);
		if (m == NULL)
			fz_fail("out of memory");
		memcpy(m, data + off, len);
		off += len;
		n = pg_pgoutput_decode(d, m, len, out, &config, err, sizeof(err));
		if (n < 0)
		{
			if (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0')
				fz_fail("error text not terminated or empty");
			pg_pgoutput_reset(d);
			open = false;
		}
		for (int i = 0; i < n; i++)
		{
			const plugin_msg *pm = &out[i].pm;

			if (pm->kind == PM_BEGIN)
			{
				if (open)
					fz_fail("begin inside a transaction");
				open = true;
				events = 0;
			}
			else if (pm->kind == PM_EVENT)
			{
				if (!open)
					fz_fail("event outside a transaction");
				/*
				 * Text passes through in the server encoding, as the plugin
				 * writes it (a UTF-8 server sends only UTF-8): bytes of 0x80
				 * and up stand in for characters, the structure must hold.
				 */
				{
					char *ascii = malloc(out[i].len ? out[i].len : 1);

					if (ascii == NULL)
						fz_fail("out of memory");
					for (size_t k = 0; k < out[i].len; k++)
						ascii[k] = (unsigned char) out[i].data[k] >= 0x80 ? 'x' : out[i].data[k];
					fz_check_json_object("envelope", ascii, out[i].len);
					free(ascii);
				}
				if (pm->key_len != 36 || memcmp(out[i].data, "{\"aggregate_id\":\"", 17) != 0 ||
					pm->key != out[i].data + 17)
					fz_fail("key is not the envelope's aggregate_id");
				events++;
			}
			else
			{
				if (!open || pm->events != events)
					fz_fail("commit without begin or with %lld events, not %lld",
							(long long) pm->events, (long long) events);
				open = false;
			}
		}
		free(m);
	}
	pg_pgoutput_free(d);
	return 0;
}
