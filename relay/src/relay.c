/*
 * relay.c
 *		Placeholder until the PostgreSQL source lands.
 */
#include "relay.h"
#include "log.h"

int
relay_run(const relay_config *cfg)
{
	(void) cfg;
	log_error("the PostgreSQL source is not built yet");
	return 1;
}
