/* primes.c - the demo's CPU-bound job: counts the primes below N by trial
 * division (deliberately plain: it measures the CPU, not the algorithm). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000, count = 0;
	for (long i = 2; i < n; i++) {
		int prime = 1;
		for (long d = 2; d * d <= i; d++)
			if (i % d == 0) {
				prime = 0;
				break;
			}
		count += prime;
	}
	printf("%ld primes below %ld (pid %d)\n", count, n, getpid());
	return 0;
}
