/*
 * stop.c
 *		SIGTERM/SIGINT -> relay_stop_requested (see stop.h).
 */
#include "stop.h"

#include <string.h>

volatile sig_atomic_t relay_stop_requested = 0;

static void
s_handle(int sig)
{
	(void) sig;
	relay_stop_requested = 1;
}

void
stop_install(void)
{
	struct sigaction sa;

	/* no SA_RESTART: a blocking poll() or read() returns EINTR and sees the flag */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = s_handle;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}
