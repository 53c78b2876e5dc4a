/*
 * fuzz_config.c
 *		Fuzz target: the operator's flags and environment.  Input lines are
 *		argv words, except NAME=VALUE lines (NAME in capitals), which are set
 *		in the environment for this input only.  Runs config_parse, then on
 *		success the S3 settings (s3_settings_resolve) and the size and
 *		duration parsers on every word; a failure must leave a one-line
 *		error, and a plain configuration parsed next must still work.
 */
#include "config.h"
#include "fz.h"
#include "log.h"
#include "s3_settings.h"

#include <stdlib.h>
#include <string.h>

#define MAX_WORDS 64

static bool
s_is_env(const char *l)
{
	const char *p = l;

	while ((*p >= 'A' && *p <= 'Z') || *p == '_' || (p > l && *p >= '0' && *p <= '9'))
		p++;
	return p > l && *p == '=';
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	fz_quiet();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fz_strndup(data, size);
	char *argv[MAX_WORDS + 2], *envs[MAX_WORDS], *line, *save = NULL;
	int argc = 0, nenv = 0, i, rc;
	relay_config cfg;
	char err[512];

	argv[argc++] = "eventrelay";
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
	{
		if (s_is_env(line) && nenv < MAX_WORDS)
		{
			char *eq = strchr(line, '=');

			*eq = '\0';
			if (setenv(line, eq + 1, 1) == 0)
				envs[nenv++] = line;
		}
		else if (argc < MAX_WORDS)
			argv[argc++] = line;
	}
	argv[argc] = NULL;
	err[0] = '\0';
	rc = config_parse(&cfg, argc, argv, err, sizeof(err));
	if (!getenv("FZ_VERBOSE"))
		log_set_level((log_level) (LOG_ERROR + 1)); /* --log-level may have changed it */
	if (rc == 0)
	{
		s3_settings st;

		if (s3_settings_resolve(&cfg, &st, false, err, sizeof(err)) != 0 &&
			(err[0] == '\0' || strchr(err, '\n')))
			fz_fail("S3 settings error not one line: \"%s\"", err);
	}
	else if (rc < 0 &&
			 (err[0] == '\0' || strchr(err, '\n') || memchr(err, '\0', sizeof(err)) == NULL))
		fz_fail("configuration error not one line: \"%s\"", err);
	config_free(&cfg);
	for (i = 0; i < nenv; i++)
		unsetenv(envs[i]);
	/* nothing of this parse may leak into the next one (getopt state) */
	{
		char *good[] = {"eventrelay", "--sink", "stdout", NULL};

		if (config_parse(&cfg, 3, good, err, sizeof(err)) != 0)
			fz_fail("a plain configuration fails after this one: %s", err);
		config_free(&cfg);
	}
	for (i = 1; i < argc; i++)
	{
		size_t sz;
		int64_t ms;

		s3_parse_size(argv[i], &sz);
		s3_parse_duration(argv[i], &ms);
	}
	free(text);
	return 0;
}
