/* itimers: setitimer/getitimer/alarm and POSIX timers (timer_create ...),
 * delivered as signals to handlers and to sigwaitinfo; an alarm cutting a
 * blocked read of a pipe short. Prints only what does not depend on how
 * fast the machine is. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "show.h"

static volatile sig_atomic_t alarms, vtalarms, rt_hits;
static volatile int rt_value, rt_code;

static void on_alarm(int sig) { (void)sig; alarms++; }
static void on_vtalarm(int sig) { (void)sig; vtalarms++; }

static void on_rt(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	rt_hits++;
	rt_value = si->si_value.sival_int;
	rt_code = si->si_code;
}

static void handle(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fn;
	sa.sa_flags = flags;
	sigaction(sig, &sa, NULL);
}

static void interval_timers(void)
{
	struct itimerval it = { { 0, 20000 }, { 0, 20000 } }, cur, old;
	handle(SIGALRM, on_alarm, SA_RESTART);
	SHOW("setitimer real", setitimer(ITIMER_REAL, &it, NULL));
	getitimer(ITIMER_REAL, &cur);
	printf("getitimer real: interval %ld us, armed %d\n", (long)cur.it_interval.tv_usec,
	       cur.it_value.tv_sec || cur.it_value.tv_usec);
	while (alarms < 5)
		pause();
	memset(&it, 0, sizeof it);
	SHOW("disarm", setitimer(ITIMER_REAL, &it, &old));
	printf("old interval %ld us\n", (long)old.it_interval.tv_usec);
	getitimer(ITIMER_REAL, &cur);
	printf("after disarm: %ld %ld\n", (long)cur.it_value.tv_sec, (long)cur.it_value.tv_usec);

	/* CPU time: only a busy loop makes it fire */
	struct itimerval vt = { { 0, 0 }, { 0, 50000 } };
	handle(SIGVTALRM, on_vtalarm, 0);
	SHOW("setitimer virtual", setitimer(ITIMER_VIRTUAL, &vt, NULL));
	for (volatile unsigned long i = 0; !vtalarms; i++)
		;
	printf("virtual fired %d\n", (int)vtalarms);

	SHOW("alarm(5)", alarm(5));
	SHOW("alarm(0)", alarm(0)); /* 5: rounded to the nearest second */
	SHOW("setitimer(7)", setitimer(7, &it, NULL));
	struct itimerval bad = { { 0, 0 }, { 0, 1000000 } };
	SHOW("setitimer bad usec", setitimer(ITIMER_REAL, &bad, NULL));
	SHOW("getitimer bad pointer", getitimer(ITIMER_PROF, (struct itimerval *)8));
	/* disarmed with an interval: ITIMER_REAL forgets it, ITIMER_PROF keeps it */
	struct itimerval idle = { { 1, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &idle, NULL);
	setitimer(ITIMER_PROF, &idle, NULL);
	getitimer(ITIMER_REAL, &cur);
	getitimer(ITIMER_PROF, &old);
	printf("disarmed intervals: real %ld, prof %ld\n", (long)cur.it_interval.tv_sec, (long)old.it_interval.tv_sec);
	/* 584 years: no wrap-around into a short timer */
	struct itimerval far = { { 0, 0 }, { 18446744074L, 0 } };
	setitimer(ITIMER_REAL, &far, NULL);
	getitimer(ITIMER_REAL, &cur);
	printf("far timer more than a year away: %d\n", cur.it_value.tv_sec > 365L * 86400);
	memset(&far, 0, sizeof far);
	setitimer(ITIMER_REAL, &far, NULL);
	setitimer(ITIMER_PROF, &far, NULL);
}

static void posix_timers(void)
{
	timer_t t1, t2;
	struct sigevent ev;
	struct itimerspec its = { { 0, 0 }, { 0, 30000000 } }, cur;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_rt;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGRTMIN + 1, &sa, NULL);
	memset(&ev, 0, sizeof ev);
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGRTMIN + 1;
	ev.sigev_value.sival_int = 4242;
	SHOW("timer_create", timer_create(CLOCK_MONOTONIC, &ev, &t1));
	SHOW("timer_settime", timer_settime(t1, 0, &its, NULL));
	while (!rt_hits)
		pause();
	printf("timer signal: value %d, SI_TIMER %d\n", rt_value, rt_code == SI_TIMER);
	timer_gettime(t1, &cur);
	printf("one-shot now disarmed: %d\n", !cur.it_value.tv_sec && !cur.it_value.tv_nsec);

	/* blocked: the expiries pile up as overruns, collected by sigwaitinfo */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	ev.sigev_signo = SIGRTMIN + 2;
	ev.sigev_value.sival_int = 7;
	SHOW("timer_create realtime", timer_create(CLOCK_REALTIME, &ev, &t2));
	struct itimerspec per = { { 0, 10000000 }, { 0, 10000000 } };
	timer_settime(t2, 0, &per, NULL);
	struct timespec nap = { 0, 200000000 };
	nanosleep(&nap, NULL);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	int sig = sigwaitinfo(&set, &si);
	printf("sigwaitinfo: %d, value %d, overruns > 0: %d\n", sig - SIGRTMIN, si.si_value.sival_int,
	       si.si_overrun > 0);
	printf("timer_getoverrun > 0: %d\n", timer_getoverrun(t2) > 0);
	SHOW("timer_delete", timer_delete(t2));
	SHOW("timer_delete", timer_delete(t1));
	SHOW("timer_delete again", timer_delete(t1));
	SHOW("timer_settime bad pointer", timer_settime(t2, 0, (struct itimerspec *)8, NULL));
	SHOW("timer_create bad clock", timer_create(99, &ev, &t1));
	SHOW("timer_create raw clock", timer_create(CLOCK_MONOTONIC_RAW, &ev, &t1));
	ev.sigev_signo = 99;
	SHOW("timer_create bad signal", timer_create(CLOCK_MONOTONIC, &ev, &t1));
	signal(SIGRTMIN + 2, SIG_IGN); /* drops what t2 still queued */
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* The read blocks at home, where the files are; the alarm goes off where
 * the program runs and must still cut the read short. */
static void alarm_in_read(void)
{
	int p[2];
	char c;
	handle(SIGALRM, on_alarm, 0);
	alarms = 0;
	pipe(p);
	alarm(1);
	ssize_t n = read(p[0], &c, 1);
	printf("read: %zd (%s), alarms %d\n", n, n < 0 ? strerror(errno) : "data", (int)alarms);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	interval_timers();
	posix_timers();
	alarm_in_read();
	return 0;
}
