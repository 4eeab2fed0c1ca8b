/* parwork procs|threads N MILLIONS: N workers (forked processes, or
 * pthreads) each compute MILLIONS million rounds of a 64-bit mix; prints
 * "wall_s S" from before the first worker starts to after the last one
 * ends, and a checksum that does not depend on N's timing. The cores
 * benchmark: the same work on 1, 2 and 4 cores, on a node and in a Linux
 * guest with the same -smp. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_clock.h"

#define MAX_WORKERS 64

static long rounds;

static uint64_t work(uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
	for (long i = 0; i < rounds; i++) {
		x ^= x >> 31;
		x *= 0xbf58476d1ce4e5b9ULL;
		x += (uint64_t)i;
	}
	return x;
}

static void *thread_main(void *arg)
{
	uint64_t *seed = arg;
	*seed = work(*seed);
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 0, threads = argc > 1 && strcmp(argv[1], "threads") == 0;
	uint64_t res[MAX_WORKERS], sum = 0;
	pthread_t tid[MAX_WORKERS];
	pid_t pid[MAX_WORKERS];

	rounds = (argc > 3 ? atol(argv[3]) : 100) * 1000000L;
	if (argc < 3 || n < 1 || n > MAX_WORKERS || (!threads && strcmp(argv[1], "procs") != 0)) {
		fprintf(stderr, "usage: parwork procs|threads N [MILLIONS]   (1 <= N <= %d)\n", MAX_WORKERS);
		return 2;
	}
	double t0 = bench_now();
	for (int i = 0; i < n; i++) {
		res[i] = (uint64_t)i + 1;
		if (threads) {
			if (pthread_create(&tid[i], NULL, thread_main, &res[i]) != 0)
				return 1;
		} else if ((pid[i] = fork()) == 0) {
			_exit((int)(work(res[i]) & 0x7f));
		} else if (pid[i] < 0) {
			return 1;
		}
	}
	for (int i = 0; i < n; i++) {
		int st;
		if (threads)
			pthread_join(tid[i], NULL);
		else if (waitpid(pid[i], &st, 0) != pid[i] || !WIFEXITED(st))
			return 1;
		else
			res[i] = (uint64_t)WEXITSTATUS(st);
		sum += res[i] & 0x7f;
	}
	printf("wall_s %.3f\nchecksum %llu\n", bench_now() - t0, (unsigned long long)sum);
	return 0;
}
