/* home_state: what a job has when it comes home (here: at a clone with
 * CLONE_PTRACE, which the node leaves to home, and which is a plain fork
 * for a program nobody traces) must be what it had on the node. Live vector and x87
 * registers, MXCSR and the x87 control word cross one SYSCALL instruction
 * (a raw clone, so no libc code touches them); armed timers still fire
 * after it, a POSIX timer keeps its id, a blocked real-time signal queued
 * before it is still pending. Prints the same on any machine. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t alarms, rt_id = -1;

static void on_alarm(int sig) { (void)sig; alarms++; }
static void on_rt(int sig, siginfo_t *si, void *uc) { (void)sig, (void)uc; rt_id = si->si_value.sival_int; }

/* Sets the registers, forks with a raw clone, reads them back. */
static long fork_with_state(uint64_t out[5])
{
	static const uint64_t pattern[2] = { 0x0123456789abcdefULL, 0xfedcba9876543210ULL };
	uint32_t mxcsr = 0x3f80 | 0x8000; /* round toward zero, flush to zero, all masked */
	uint16_t cw = 0x0e7f;              /* round down, 64-bit precision */
	long ret;
	__asm__ volatile("movdqu %[pat], %%xmm8\n\t"
			 "ldmxcsr %[mx]\n\t"
			 "fldcw %[cw]\n\t"
			 "fldpi\n\t"
			 "mov $56, %%eax\n\t" /* clone(CLONE_PTRACE | SIGCHLD, 0, 0, 0, 0) */
			 "mov $0x2011, %%edi\n\t"
			 "xor %%esi, %%esi\n\t"
			 "xor %%edx, %%edx\n\t"
			 "xor %%r10d, %%r10d\n\t"
			 "xor %%r8d, %%r8d\n\t"
			 "syscall\n\t"
			 "mov %%rax, %[ret]\n\t"
			 "movq %%xmm8, %[o0]\n\t"
			 "stmxcsr %[o1]\n\t"
			 "fnstcw %[o2]\n\t"
			 "fstpt %[o3]\n\t"
			 : [ret] "=m"(ret), [o0] "=m"(out[0]), [o1] "=m"(out[1]), [o2] "=m"(out[2]), [o3] "=m"(out[3])
			 : [pat] "m"(pattern), [mx] "m"(mxcsr), [cw] "m"(cw)
			 : "rax", "rcx", "rdi", "rsi", "rdx", "r8", "r10", "r11", "xmm8", "memory");
	return ret;
}

int main(void)
{
	struct sigaction sa;
	struct sigevent ev;
	struct itimerval it = { { 0, 0 }, { 0, 300000 } };
	struct itimerspec its = { { 0, 0 }, { 0, 400000000 } };
	timer_t t0, t1;
	sigset_t rt;
	uint64_t out[5] = { 0 }; /* fstpt writes 10 bytes at out[3] */

	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGALRM, on_alarm);
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_rt;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGRTMIN + 1, &sa, NULL);
	sigaction(SIGRTMIN + 2, &sa, NULL);
	memset(&ev, 0, sizeof ev);
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGRTMIN + 1;
	ev.sigev_value.sival_int = 11;
	timer_create(CLOCK_MONOTONIC, &ev, &t0); /* a spare: the next one is id 1 */
	ev.sigev_value.sival_int = 22;
	timer_create(CLOCK_MONOTONIC, &ev, &t1);
	timer_delete(t0);
	timer_settime(t1, 0, &its, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	sigemptyset(&rt);
	sigaddset(&rt, SIGRTMIN + 2);
	sigprocmask(SIG_BLOCK, &rt, NULL);
	union sigval v = { .sival_int = 33 };
	sigqueue(getpid(), SIGRTMIN + 2, v);

	long pid = fork_with_state(out);
	if (pid == 0)
		_exit(0);
	waitpid((pid_t)pid, NULL, 0);
	printf("xmm8 %#llx, mxcsr %#llx, fcw %#llx, st0 mantissa %#llx\n", (unsigned long long)out[0],
	       (unsigned long long)(out[1] & 0xffffffff), (unsigned long long)(out[2] & 0xffff),
	       (unsigned long long)out[3]);
	printf("timer id %d\n", (int)(intptr_t)t1);
	while (!alarms || rt_id < 0)
		pause();
	printf("SIGALRM came, the timer's signal said %d\n", (int)rt_id);
	sigprocmask(SIG_UNBLOCK, &rt, NULL);
	printf("the queued signal said %d\n", (int)rt_id);
	return 0;
}
