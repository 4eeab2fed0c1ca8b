/* sigqueue: signals the program sends itself and waits for: real-time
 * signals queue each instance with its value, in order; a blocked legacy
 * signal sent twice is delivered once; sigpending, sigtimedwait (poll,
 * timeout, a signal that arrives), sigwaitinfo, rt_sigqueueinfo's checks. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "show.h"

static int order[16], values[16], codes[16], n;
static volatile sig_atomic_t usr1;

static void on_rt(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (n < 16) {
		order[n] = sig - SIGRTMIN;
		values[n] = si->si_value.sival_int;
		codes[n] = si->si_code;
		n++;
	}
}

static void on_usr1(int sig) { (void)sig; usr1++; }

int main(void)
{
	struct sigaction sa;
	sigset_t set, pend;
	siginfo_t si;
	struct timespec zero = { 0, 0 }, short_wait = { 0, 50000000 };

	setvbuf(stdout, NULL, _IONBF, 0);
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_rt;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGRTMIN, &sa, NULL);
	sigaction(SIGRTMIN + 3, &sa, NULL);
	signal(SIGUSR1, on_usr1);

	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	sigaddset(&set, SIGRTMIN + 3);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (int i = 0; i < 3; i++) {
		union sigval v = { .sival_int = 100 + i };
		SHOW("sigqueue", sigqueue(getpid(), SIGRTMIN + 3, v));
	}
	union sigval v0 = { .sival_int = 7 };
	sigqueue(getpid(), SIGRTMIN, v0);
	kill(getpid(), SIGUSR1);
	kill(getpid(), SIGUSR1);
	sigpending(&pend);
	printf("pending: rtmin %d rtmin+3 %d usr1 %d usr2 %d\n", sigismember(&pend, SIGRTMIN),
	       sigismember(&pend, SIGRTMIN + 3), sigismember(&pend, SIGUSR1), sigismember(&pend, SIGUSR2));
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	printf("delivered %d real-time, usr1 %d times\n", n, (int)usr1);
	for (int i = 0; i < n; i++)
		printf("  rtmin+%d value %d SI_QUEUE %d\n", order[i], values[i], codes[i] == SI_QUEUE);

	/* waiting for signals */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	SHOW("sigtimedwait poll", sigtimedwait(&set, &si, &zero));
	SHOW("sigtimedwait 50ms", sigtimedwait(&set, &si, &short_wait));
	kill(getpid(), SIGUSR2);
	memset(&si, 0, sizeof si);
	int sig = sigtimedwait(&set, &si, &short_wait);
	printf("sigtimedwait: %s, SI_USER %d, from me %d\n", sig == SIGUSR2 ? "SIGUSR2" : "other",
	       si.si_code == SI_USER, si.si_pid == getpid());
	union sigval v = { .sival_int = 31337 };
	sigqueue(getpid(), SIGUSR2, v);
	sig = sigwaitinfo(&set, &si);
	printf("sigwaitinfo: %s value %d\n", sig == SIGUSR2 ? "SIGUSR2" : "other", si.si_value.sival_int);
	sigpending(&pend);
	printf("nothing pending: %d\n", !sigismember(&pend, SIGUSR2));

	/* the kernel's checks */
	memset(&si, 0, sizeof si);
	si.si_code = SI_QUEUE;
	SHOW("rt_sigqueueinfo bad signal", syscall(SYS_rt_sigqueueinfo, getpid(), 99, &si));
	SHOW("rt_sigqueueinfo bad pointer", syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR2, (void *)8));
	SHOW("rt_sigqueueinfo sig 0", syscall(SYS_rt_sigqueueinfo, getpid(), 0, &si));
	SHOW("rt_tgsigqueueinfo bad tid", syscall(SYS_rt_tgsigqueueinfo, getpid(), 0, SIGUSR2, &si));
	SHOW("rt_sigtimedwait bad size", syscall(SYS_rt_sigtimedwait, &set, NULL, &zero, 4));
	SHOW("rt_sigtimedwait bad timeout", syscall(SYS_rt_sigtimedwait, &set, NULL, (void *)8, 8));
	SHOW("rt_sigpending bad size", syscall(SYS_rt_sigpending, &pend, 16));
	SHOW("rt_sigpending short", syscall(SYS_rt_sigpending, &pend, 4));
	return 0;
}
