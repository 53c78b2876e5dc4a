/*
 * relay.h
 *		The PostgreSQL path: the main loop that reads the replication stream
 *		(source_pg.h), feeds the sinks (sink.h) and confirms what every sink
 *		acknowledged.
 */
#ifndef RELAY_RELAY_H
#define RELAY_RELAY_H

#include "config.h"

/* Run until stopped or a fatal error; returns the process exit code. */
int relay_run(const relay_config *cfg);

#endif
