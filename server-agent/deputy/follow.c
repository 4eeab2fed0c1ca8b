/* follow.c - a process followed natively at home (follow.h; ptrace(2):
 * "Stopped states", "Group-stop", PTRACE_LISTEN). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "deputy.h"
#include "follow.h"
#include "thread_seize.h"
#include "vdso_leave.h"
#include "stats.h"

long follow_options_away(void)
{
	/* Not TRACECLONE: the threads of a process at home are its own. */
	return PTRACE_O_TRACEEXEC | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_EXITKILL;
}

long follow_options(void)
{
	return follow_options_away() | PTRACE_O_TRACEEXIT;
}

static int is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* om-run's own child stopped: om-run stops likewise, and when it goes on
 * so must the child. The SIGCONT the shell sent the whole group wakes it
 * (a PTRACE_EVENT_STOP with SIGTRAP, within 100 ms); if om-run alone was
 * continued, it is sent one. */
static void root_stop(struct follow *f, int sig)
{
	struct timespec nap = { 0, 1000000 };
	int st;
	ptrace(PTRACE_LISTEN, f->pid, NULL, NULL);
	job_stop_like(sig);
	for (int i = 0; i < 100; i++) {
		pid_t got = waitpid(f->pid, &st, WNOHANG | __WALL);
		if (got == f->pid) {
			if (WIFEXITED(st) || WIFSIGNALED(st)) {
				f->status = st;
				f->stopped = -1;
				return;
			}
			ptrace(PTRACE_CONT, f->pid, NULL, NULL);
			return;
		}
		nanosleep(&nap, NULL);
	}
	kill(f->pid, SIGCONT);
}

/* Lets the stopped tracee go on, with sig. A stop it makes inside a
 * system call (a fork, exec or exit event) takes a pending
 * PTRACE_INTERRUPT with it (the kernel clears it at every ptrace stop
 * but the one it asked for), so one still wanted is asked for again.
 * Returns 0, or -1 (errno). */
static int resume(struct follow *f, int sig)
{
	if (ptrace(PTRACE_CONT, f->pid, NULL, (void *)(long)sig) == -1)
		return -1;
	if (f->interrupting && ptrace(PTRACE_INTERRUPT, f->pid, NULL, NULL) == -1)
		f->interrupting = 0; /* it is on its way out */
	return 0;
}

/* The tracee cannot be resumed (ESRCH): killed (SIGKILL) while it was
 * held. Its end is its status, once threads a move seized are collected
 * (thread_seize.h: Linux reports the leader's end after theirs). */
static enum follow_event gone(struct follow *f)
{
	int st;
	for (;;) {
		pid_t got = waitpid(f->pid, &st, __WALL | WNOHANG);
		if (got == 0) { /* until a thread's end (SIGCHLD) lets its end show */
			struct pollfd pfd = { f->chld_fd, POLLIN, 0 };
			struct signalfd_siginfo si;
			thread_seize_settle();
			if (poll(&pfd, 1, 1000) > 0)
				while (read(f->chld_fd, &si, sizeof si) == (ssize_t)sizeof si)
					;
			continue;
		}
		if (got == -1) {
			if (errno == EINTR)
				continue;
			return FOLLOW_ERROR;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			f->status = st;
			f->interrupting = 0;
			return FOLLOW_EXITED;
		}
		ptrace(PTRACE_CONT, f->pid, NULL, NULL); /* a last stop on its way out */
	}
}

/* One wait status of the tracee: -1 nothing for the caller (f->stopped:
 * it is to be resumed), else the event. */
static int on_status(struct follow *f, int st)
{
	if (WIFEXITED(st) || WIFSIGNALED(st)) {
		f->status = st;
		f->interrupting = 0;
		return FOLLOW_EXITED;
	}
	if (!WIFSTOPPED(st))
		return -1;
	int ev = st >> 16, sig = WSTOPSIG(st);
	f->stopped = 1;
	switch (ev) {
	case PTRACE_EVENT_EXEC:
		/* A worker that exec'd is the leader now, with the options a
		 * move seized it with (thread_seize.h): ours again. */
		ptrace(PTRACE_SETOPTIONS, f->pid, NULL, (void *)follow_options());
		return FOLLOW_EXEC;
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK: {
		unsigned long msg;
		int cst;
		if (ptrace(PTRACE_GETEVENTMSG, f->pid, NULL, &msg) == -1)
			return -1; /* resuming it tells what happened to it */
		f->child = (pid_t)msg;
		while (waitpid(f->child, &cst, __WALL) == -1)
			if (errno != EINTR)
				return -1; /* no child of ours to follow */
		if (!WIFSTOPPED(cst))
			return -1; /* killed before its first stop: the parent goes on */
		return FOLLOW_FORK;
	}
	case PTRACE_EVENT_STOP:
		if (is_stop_signal(sig)) { /* a group-stop */
			f->stopped = 0;
			f->interrupting = 0; /* a stopped process stays as it is */
			if (f->root) {
				root_stop(f, sig);
				if (f->stopped == -1) {
					f->stopped = 0;
					return FOLLOW_EXITED;
				}
				return -1;
			}
			ptrace(PTRACE_LISTEN, f->pid, NULL, NULL);
			return -1;
		}
		if (f->interrupting) {
			f->interrupting = 0;
			return FOLLOW_STOPPED;
		}
		return -1; /* woken from LISTEN */
	case PTRACE_EVENT_EXIT:
		f->exit_cpu_ms = stats_home_cpu_ms(f->pid);
		f->interrupting = 0; /* it goes nowhere but its end */
		return -1;
	case 0: /* a signal on its way: its own */
		f->stopped = 0;
		/* About to move: a handler must not start with its frame inside
		 * the vDSO (the move would stop it in the handler, and it would
		 * return there on the node). Otherwise as natively. */
		if (f->interrupting)
			sig = vdso_leave_for_signal(f->pid, sig);
		if (resume(f, sig) == -1)
			f->stopped = 1; /* resumed below, which finds out why */
		return -1;
	default:
		return -1;
	}
}

int follow_interrupt(struct follow *f)
{
	if (ptrace(PTRACE_INTERRUPT, f->pid, NULL, NULL) == -1)
		return -errno;
	f->interrupting = 1;
	return 0;
}

enum follow_event follow_run(struct follow *f)
{
	for (;;) {
		int st, ev;
		thread_seize_settle(); /* threads a move could not stop, once they have */
		if (f->stopped) {
			f->stopped = 0;
			if (resume(f, 0) == -1)
				return errno == ESRCH ? gone(f) : FOLLOW_ERROR;
		}
		pid_t got = waitpid(f->pid, &st, WNOHANG | __WALL);
		if (got == -1 && errno != EINTR)
			return FOLLOW_ERROR;
		if (got == f->pid) {
			if ((ev = on_status(f, st)) >= 0)
				return (enum follow_event)ev;
			continue;
		}
		struct pollfd pfd[2] = { { f->chld_fd, POLLIN, 0 }, { f->watch_fd, POLLIN, 0 } };
		int n = poll(pfd, f->watch_fd >= 0 ? 2 : 1, -1);
		if (n < 0 && errno != EINTR)
			return FOLLOW_ERROR;
		if (n > 0 && (pfd[0].revents & POLLIN)) {
			struct signalfd_siginfo si;
			while (read(f->chld_fd, &si, sizeof si) == (ssize_t)sizeof si)
				;
		}
		if (n > 0 && f->watch_fd >= 0 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)))
			return FOLLOW_READABLE;
	}
}
