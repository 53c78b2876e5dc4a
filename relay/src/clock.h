/*
 * clock.h
 *		The monotonic clock every deadline in the relay is measured on
 *		(batch linger, retries, shutdown, Lambda budgets, metrics).  One
 *		function so that the fuzz targets can put a virtual clock in its
 *		place (-Wl,--wrap=relay_now_ms).
 */
#ifndef RELAY_CLOCK_H
#define RELAY_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds. */
int64_t relay_now_ms(void);

#endif
