/* bench_clock.h - the one clock every benchmark program reads: seconds on
 * CLOCK_MONOTONIC. On a node that call is answered locally (the node keeps
 * the home's clocks, docs/migration.md "Time"), in the Linux guest by its
 * kernel, natively by the host's. */
#ifndef BENCH_CLOCK_H
#define BENCH_CLOCK_H

#include <time.h>

static inline double bench_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

#endif
