/* memcheck [SECONDS] [MIB]: fills MIB MiB (default 32) with a pattern and,
 * for SECONDS (default 4) of CLOCK_MONOTONIC time, checks it and rewrites
 * it with the next one, round after round, with an interval timer ticking
 * (SIGALRM every 100 ms) and the vector registers in use. A move of the
 * program between machines while it runs (openMosix's migtorture) must
 * change none of it. Prints "ready" when it starts checking, then what any
 * correct run prints. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static volatile sig_atomic_t alarms;

static void on_alarm(int sig) { (void)sig; alarms++; }

static uint64_t word(uint64_t round, uint64_t i)
{
	uint64_t x = (round + 1) * 0x9e3779b97f4a7c15ULL ^ i;
	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ULL;
	return x ^ (x >> 29);
}

int main(int argc, char **argv)
{
	long secs = argc > 1 ? atol(argv[1]) : 4, mib = argc > 2 ? atol(argv[2]) : 32;
	size_t n = (size_t)mib << 17; /* 64-bit words */
	uint64_t *m = malloc(n * sizeof *m), round = 0, bad = 0;
	struct itimerval it = { { 0, 100000 }, { 0, 100000 } };
	struct timespec t0, t;
	double acc = 0;
	if (!m)
		return 1;
	signal(SIGALRM, on_alarm);
	setitimer(ITIMER_REAL, &it, NULL);
	for (size_t i = 0; i < n; i++)
		m[i] = word(0, i);
	printf("ready\n");
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (size_t i = 0; i < n; i++) {
			bad += m[i] != word(round, i);
			m[i] = word(round + 1, i);
			acc += (double)(m[i] & 0xff) * 0.5; /* keeps an SSE register busy */
		}
		round++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec < secs);
	for (size_t i = 0; i < n; i++)
		bad += m[i] != word(round, i);
	printf("words wrong: %llu, rounds > 0: %d, alarms > 0: %d, sum finite: %d\n", (unsigned long long)bad,
	       round > 0, alarms > 0, acc == acc);
	return bad != 0;
}
