/* futexpp ROUNDS: two threads hand a token back and forth ROUNDS times
 * through one futex word (each waits in FUTEX_WAIT until the other sets
 * the word and wakes it with FUTEX_WAKE); prints "wall_s S" and "rounds
 * N". Wall time over rounds is the wake-up latency of a thread blocked in
 * a futex across cores (and back), on a node or in a Linux guest. */
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench_clock.h"

static _Atomic uint32_t turn; /* 0: the main thread's, 1: the other's */
static long rounds;

static void pass_to(uint32_t who)
{
	turn = who;
	syscall(SYS_futex, &turn, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void wait_for(uint32_t who)
{
	uint32_t now;
	while ((now = turn) != who)
		syscall(SYS_futex, &turn, FUTEX_WAIT_PRIVATE, now, NULL, NULL, 0);
}

static void *other(void *arg)
{
	(void)arg;
	for (long i = 0; i < rounds; i++) {
		wait_for(1);
		pass_to(0);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;
	rounds = argc > 1 ? atol(argv[1]) : 10000;
	if (rounds < 1) {
		fprintf(stderr, "usage: futexpp ROUNDS\n");
		return 2;
	}
	if (pthread_create(&t, NULL, other, NULL) != 0)
		return 1;
	double t0 = bench_now();
	for (long i = 0; i < rounds; i++) {
		pass_to(1);
		wait_for(0);
	}
	double secs = bench_now() - t0;
	pthread_join(t, NULL);
	printf("wall_s %.3f\nrounds %ld\n", secs, rounds);
	return 0;
}
