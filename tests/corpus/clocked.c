/* clocked COUNT PERIOD_MS [ticking]: a job whose output is what its node
 * decides. For i = 1..COUNT it spins on the monotonic clock for 5 ms (how
 * many readings that takes depends on what the clock said), reads the
 * other clocks (gettimeofday, time, its CPU clock) and 16 random bytes
 * (getrandom), prints "line i: mono NS, reads N, rand HEX" and sleeps
 * PERIOD_MS. With "ticking", an interval timer's SIGALRM every 3 ms cuts
 * the sleep short (it sleeps on to its end) and the reads; the handler
 * counts them and adds to a sum the reads' loop works on, so the sum
 * depends on which read each came after; a 2 ms nanosleep after the
 * reads reports the time it had left when one cut it short; the line
 * ends with ", ticks N, sum HEX, left NS". A clock that goes backwards:
 * exit 1. Its
 * lines differ from run to run, so a job restarted from a checkpoint
 * writes again what it wrote only if its node answers those reads and
 * delivers those signals as the first time: else home ends it (it went
 * another way). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long long sum;
static volatile sig_atomic_t ticks;

static void tick(int sig)
{
	(void)sig;
	ticks++;
	sum += 1000003;
}

static long long ns(clockid_t clock)
{
	struct timespec t;
	clock_gettime(clock, &t);
	return (long long)t.tv_sec * 1000000000 + t.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: clocked COUNT PERIOD_MS [ticking]\n");
		return 2;
	}
	int ticking = argc == 4 && strcmp(argv[3], "ticking") == 0;
	if (ticking) {
		struct sigaction sa = { .sa_handler = tick, .sa_flags = SA_RESTART };
		struct itimerval it = { { 0, 3000 }, { 0, 3000 } };
		sigaction(SIGALRM, &sa, NULL);
		setitimer(ITIMER_REAL, &it, NULL);
	}
	unsigned count = (unsigned)strtoul(argv[1], NULL, 10);
	long period = strtol(argv[2], NULL, 10);
	long long last = 0, last_cpu = 0;
	for (unsigned i = 1; i <= count; i++) {
		long long t0 = ns(CLOCK_MONOTONIC), t = t0, cpu = ns(CLOCK_PROCESS_CPUTIME_ID);
		unsigned reads = 1;
		while (t - t0 < 5000000) {
			t = ns(CLOCK_MONOTONIC);
			reads++;
			sum = sum * 31 + (unsigned long long)t;
		}
		struct timeval tv;
		gettimeofday(&tv, NULL);
		if (t0 < last || cpu < last_cpu || time(NULL) < tv.tv_sec - 1) {
			printf("line %u: a clock went backwards\n", i);
			return 1;
		}
		last = t, last_cpu = cpu;
		unsigned char r[16];
		if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
			printf("line %u: getrandom failed\n", i);
			return 1;
		}
		printf("line %u: mono %lld, reads %u, rand ", i, t, reads);
		for (unsigned k = 0; k < sizeof r; k++)
			printf("%02x", r[k]);
		if (ticking) {
			struct timespec want = { 0, 2000000 }, left = { 0, 0 };
			if (nanosleep(&want, &left) == 0)
				left.tv_nsec = 0;
			printf(", ticks %d, sum %016llx, left %ld", (int)ticks, sum, left.tv_nsec);
		}
		printf("\n");
		fflush(stdout);
		/* Until then, whatever signals cut the sleep short. */
		long long until = ns(CLOCK_MONOTONIC) + period * 1000000;
		struct timespec d = { until / 1000000000, until % 1000000000 };
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &d, NULL) == EINTR)
			;
	}
	return 0;
}
