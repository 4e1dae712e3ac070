/*
 * The monotonic clock in milliseconds, for timeouts, back-offs and log
 * rate limits, and the wall clock for the status page's start times.  On
 * Linux clock_gettime is a vDSO call, not a system call.
 */
#ifndef CLOCK_H
#define CLOCK_H

#include <time.h>

static inline long long
clock_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline long long
clock_wall_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
