/* clockloop SECS [caught]: reads the clock through the vDSO as fast as it
 * can for SECS seconds, checking it never goes backwards, then prints
 * "clock ok". A process that moves while it does this is nearly always
 * stopped inside clock_gettime (on a node: its vDSO trampoline).
 * With "caught", a timer's signal (every 10 ms) that interrupts a clock
 * read once says "in the handler" and stays in its handler for 2 s before
 * it returns: a move meanwhile takes the handler's frame, whose saved
 * place is inside the clock read, to where the process goes. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t in_read, held;

static double since(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void on_alarm(int sig)
{
	struct timespec t0, t;
	(void)sig;
	if (!in_read || held)
		return;
	held = 1;
	static const char msg[] = "in the handler\n";
	(void)!write(1, msg, sizeof msg - 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do
		clock_gettime(CLOCK_MONOTONIC, &t);
	while (since(&t0, &t) < 2);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 5;
	struct timespec t0, t, last;
	if (argc > 2 && strcmp(argv[2], "caught") == 0) {
		struct itimerval it = { { 0, 10000 }, { 0, 10000 } };
		signal(SIGALRM, on_alarm);
		setitimer(ITIMER_REAL, &it, NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	last = t0;
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		in_read = 1;
		clock_gettime(CLOCK_MONOTONIC, &t);
		in_read = 0;
		if (t.tv_sec < last.tv_sec || (t.tv_sec == last.tv_sec && t.tv_nsec < last.tv_nsec)) {
			printf("clock went backwards\n");
			return 1;
		}
		last = t;
		if (since(&t0, &t) >= secs)
			break;
	}
	printf("clock ok\n");
	return 0;
}
