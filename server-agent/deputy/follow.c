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

/* One wait status of the tracee: -1 nothing for the caller, else the
 * event. */
static int on_status(struct follow *f, int st)
{
	if (WIFEXITED(st) || WIFSIGNALED(st)) {
		f->status = st;
		return FOLLOW_EXITED;
	}
	if (!WIFSTOPPED(st))
		return -1;
	int ev = st >> 16, sig = WSTOPSIG(st);
	switch (ev) {
	case PTRACE_EVENT_EXEC:
		f->stopped = 1;
		return FOLLOW_EXEC;
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK: {
		unsigned long msg;
		int cst;
		f->stopped = 1;
		if (ptrace(PTRACE_GETEVENTMSG, f->pid, NULL, &msg) == -1)
			return FOLLOW_ERROR;
		f->child = (pid_t)msg;
		while (waitpid(f->child, &cst, __WALL) == -1)
			if (errno != EINTR)
				return FOLLOW_ERROR;
		if (!WIFSTOPPED(cst))
			return -1; /* killed at once: nothing to follow */
		return FOLLOW_FORK;
	}
	case PTRACE_EVENT_STOP:
		if (is_stop_signal(sig)) { /* a group-stop */
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
			f->stopped = 1;
			return FOLLOW_STOPPED;
		}
		ptrace(PTRACE_CONT, f->pid, NULL, NULL); /* woken from LISTEN */
		return -1;
	case PTRACE_EVENT_EXIT:
		f->exit_cpu_ms = stats_home_cpu_ms(f->pid);
		ptrace(PTRACE_CONT, f->pid, NULL, NULL);
		return -1;
	case 0: /* a signal on its way: its own */
		ptrace(PTRACE_CONT, f->pid, NULL, (void *)(long)sig);
		return -1;
	default:
		ptrace(PTRACE_CONT, f->pid, NULL, NULL);
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
	if (f->stopped) {
		f->stopped = 0;
		if (ptrace(PTRACE_CONT, f->pid, NULL, NULL) == -1)
			return FOLLOW_ERROR;
	}
	for (;;) {
		int st, ev;
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
