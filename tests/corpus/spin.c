/* spin [SECONDS]: prints "spinning", then computes for SECONDS (default
 * 60) of CLOCK_MONOTONIC time without a system call in the loop. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	long secs = argc > 1 ? atol(argv[1]) : 60;
	struct timespec t0, t;
	volatile unsigned long x = 0;
	printf("spinning\n");
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (int i = 0; i < 10000000; i++)
			x += i;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec < secs);
	printf("done\n");
	return 0;
}
