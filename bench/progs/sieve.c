/* sieve.c - integer work: the sieve of Eratosthenes below N, REPS times.
 * Prints "primes COUNT" and "kernel_s SECONDS" (the sieving alone, timed
 * inside the program). Run by bench/bench.py natively, in the Linux guest
 * and on a node.
 *
 *   sieve [N [REPS]]        defaults 10000000 1 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_clock.h"

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 10000000;
	int reps = argc > 2 ? atoi(argv[2]) : 1;
	unsigned char *composite = malloc((size_t)n + 1);
	long count = 0;

	if (n < 2 || reps < 1 || composite == NULL) {
		fprintf(stderr, "usage: sieve [N>=2 [REPS>=1]]\n");
		return 2;
	}
	double t0 = bench_now();
	for (int r = 0; r < reps; r++) {
		memset(composite, 0, (size_t)n + 1);
		count = 0;
		for (long i = 2; i <= n; i++) {
			if (composite[i])
				continue;
			count++;
			for (long j = i * i; j <= n; j += i)
				composite[j] = 1;
		}
	}
	double t = bench_now() - t0;
	printf("primes %ld\nkernel_s %.4f\n", count, t);
	return 0;
}
