/*
 * stop.h
 *		The relay's one stop flag and the one signal handler that sets it:
 *		SIGTERM and SIGINT ask every path (PostgreSQL, DynamoDB, replay) to
 *		stop reading, deliver what is in flight and exit; SIGPIPE is
 *		ignored (a closed stdout is an error to report, not a death).
 */
#ifndef RELAY_STOP_H
#define RELAY_STOP_H

#include <signal.h>

/* Set by SIGTERM/SIGINT; long waits (poll, http.c requests) check it. */
extern volatile sig_atomic_t relay_stop_requested;

/* Install the handler (once, at the start of a subcommand). */
void stop_install(void);

#endif
