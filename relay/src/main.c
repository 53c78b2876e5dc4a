/*
 * main.c
 *		eventrelay's entry point: picks the subcommand, installs the signal
 *		handlers, parses the configuration and runs the PostgreSQL path.
 *
 *   eventrelay [run] [OPTION]...     PostgreSQL -> sinks (pg_relay.c)
 *
 * Other subcommands live in their own modules and are dispatched below.
 */
#include "config.h"
#include "ddb_main.h"
#include "stop.h"
#include "log.h"
#include "pg_relay.h"
#include "s3_replay.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
run_main(int argc, char **argv)
{
	relay_config cfg;
	char err[512];
	int rc;

	rc = config_parse(&cfg, argc, argv, err, sizeof(err));
	if (rc == 1)
	{
		config_free(&cfg);
		return 0;
	}
	if (rc < 0)
	{
		fprintf(stderr, "eventrelay: %s\n", err);
		config_free(&cfg);
		return EXIT_CONFIG;
	}
	log_set_level((log_level) cfg.log_level);
	stop_install();
	rc = relay_run(&cfg);
	config_free(&cfg);
	return rc;
}

int
main(int argc, char **argv)
{
	/*
	 * Subcommand dispatch.  Each other path adds one line here, e.g.
	 *   if (argc > 1 && strcmp(argv[1], "dynamodb") == 0) return ddb_main(argc - 1, argv + 1);
	 * (argv[0] of the callee is the subcommand name).
	 */
	if (argc > 1 && strcmp(argv[1], "dynamodb") == 0)
		return ddb_main(argc - 1, argv + 1);
	/* A custom-runtime Lambda starts its bootstrap without arguments. */
	if (argc == 1 && getenv("AWS_LAMBDA_RUNTIME_API") != NULL)
		return ddb_main(argc, argv);
	if (argc > 1 && strcmp(argv[1], "replay") == 0)
		return replay_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "run") == 0)
		return run_main(argc - 1, argv + 1);
	return run_main(argc, argv);
}
