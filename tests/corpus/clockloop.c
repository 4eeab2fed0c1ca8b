/* clockloop SECS: reads the clock through the vDSO as fast as it can for
 * SECS seconds, checking it never goes backwards, then prints "clock ok".
 * A process that moves while it does this is nearly always stopped inside
 * clock_gettime (on a node: its vDSO trampoline). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 5;
	struct timespec t0, t, last;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	last = t0;
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec < last.tv_sec || (t.tv_sec == last.tv_sec && t.tv_nsec < last.tv_nsec)) {
			printf("clock went backwards\n");
			return 1;
		}
		last = t;
		if ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 >= secs)
			break;
	}
	printf("clock ok\n");
	return 0;
}
