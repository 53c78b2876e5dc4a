/*
 * pg_relay.h
 *		The PostgreSQL path: the main loop that reads the replication stream
 *		(pg_source.h), feeds the sinks (sink.h) and confirms what every sink
 *		acknowledged.
 */
#ifndef RELAY_PG_RELAY_H
#define RELAY_PG_RELAY_H

#include "config.h"

/* Run until stopped or a fatal error; returns the process exit code. */
int relay_run(const relay_config *cfg);

#endif
