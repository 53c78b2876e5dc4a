/*
 * relay.h
 *		The PostgreSQL path: the main loop that reads the replication stream
 *		(source_pg.h), feeds the sinks (sink.h) and confirms what every sink
 *		acknowledged.
 */
#ifndef RELAY_RELAY_H
#define RELAY_RELAY_H

#include <signal.h>

#include "config.h"

/* Set by the signal handlers in main.c: stop reading, drain, exit. */
extern volatile sig_atomic_t relay_stop_requested;

/* Run until stopped or a fatal error; returns the process exit code. */
int relay_run(const relay_config *cfg);

#endif
