/* thread_seize.c - every other thread of a process, stopped (see
 * thread_seize.h; ptrace(2): PTRACE_SEIZE, PTRACE_INTERRUPT, "Group-stop",
 * "Signal-delivery-stop"). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "thread_seize.h"
#include "vdso_leave.h"

struct seized {
	pid_t tid;
	int stopped;
};

static pid_t *linger;
static int nlinger;

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void nap(void)
{
	struct timespec ts = { 0, 1000000 };
	nanosleep(&ts, NULL);
}

static int is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* Whether a thread of pid is in execve now (/proc/PID/task/TID/syscall):
 * seizing another thread would wait for that exec, which waits for the
 * threads it ends to be collected, by us. A thread that enters execve
 * right after this look can still hold the seizing up that way: a window
 * of microseconds, which a process being moved rarely hits. */
static int execing(pid_t pid)
{
	char path[320], line[64];
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	struct dirent *e;
	int found = 0;
	while (d && !found && (e = readdir(d)) != NULL) {
		if (atoi(e->d_name) <= 0)
			continue;
		snprintf(path, sizeof path, "/proc/%d/task/%s/syscall", (int)pid, e->d_name);
		FILE *f = fopen(path, "re");
		long nr = -1;
		if (f && fgets(line, sizeof line, f))
			nr = strtol(line, NULL, 10);
		if (f)
			fclose(f);
		found = nr == SYS_execve || nr == SYS_execveat;
	}
	if (d)
		closedir(d);
	return found;
}

/* The leader has news for its tracer: it ended (killed, or a worker's
 * execve ended it), or it is that worker now, at its exec stop. */
static int leader_news(pid_t pid)
{
	siginfo_t news;
	memset(&news, 0, sizeof news);
	return waitid(P_PID, (id_t)pid, &news, WEXITED | WSTOPPED | WNOHANG | WNOWAIT | __WALL) == 0 &&
	       news.si_pid == pid;
}

/* One look at a seized thread: 1 stopped, 0 not yet, 2 gone (collected:
 * one that stopped may be killed since, and must be, for a worker's
 * execve waits until the threads it ends are collected), -1 it cannot be
 * taken (a group-stop). */
static int look(struct seized *s)
{
	int st;
	pid_t got = waitpid(s->tid, &st, WNOHANG | __WALL);
	if (got == 0 || (got == -1 && errno == EINTR))
		return s->stopped;
	if (got == -1 || WIFEXITED(st) || WIFSIGNALED(st))
		return 2;
	if (!WIFSTOPPED(st))
		return s->stopped;
	int sig = WSTOPSIG(st);
	if (st >> 16 == PTRACE_EVENT_STOP) {
		if (is_stop_signal(sig)) {
			s->stopped = 1; /* in the process's group-stop: detaching leaves it there */
			return -1;
		}
		s->stopped = 1;
		return 1;
	}
	/* A signal on its way: it is delivered as natively, then the stop
	 * asked for comes (a handler's frame must not return into the vDSO:
	 * vdso_leave.h). */
	sig = vdso_leave_for_signal(s->tid, sig);
	if (ptrace(PTRACE_CONT, s->tid, NULL, (void *)(long)sig) == -1 ||
	    ptrace(PTRACE_INTERRUPT, s->tid, NULL, NULL) == -1)
		return errno == ESRCH ? 0 : -1; /* killed: its end comes */
	return 0;
}

/* Waits until every seized thread has stopped or gone (gone ones leave
 * the set). Returns 0, -1 with why, or -2 (leader_news). */
static int wait_stops(pid_t pid, struct seized *set, int *n, long deadline, char *why, size_t whylen)
{
	for (;;) {
		int waiting = 0;
		if (leader_news(pid)) {
			snprintf(why, whylen, "it ended or exec'd meanwhile");
			return -2;
		}
		for (int i = 0; i < *n; i++) {
			int rc = look(&set[i]);
			if (rc == 2) {
				set[i--] = set[--*n];
				continue;
			}
			if (rc < 0) {
				snprintf(why, whylen, "its thread %d is stopping", (int)set[i].tid);
				return -1;
			}
			waiting += rc == 0;
		}
		if (!waiting)
			return 0;
		if (now_ms() > deadline) {
			for (int i = 0; i < *n; i++)
				if (!set[i].stopped) {
					snprintf(why, whylen, "its thread %d would not stop", (int)set[i].tid);
					break;
				}
			return -1;
		}
		nap();
	}
}

static int known(const struct seized *set, int n, pid_t tid)
{
	for (int i = 0; i < n; i++)
		if (set[i].tid == tid)
			return 1;
	return 0;
}

void thread_seize_linger(pid_t tid)
{
	pid_t *grown = realloc(linger, (size_t)(nlinger + 1) * sizeof *grown);
	int st;
	if (grown) {
		linger = grown;
		linger[nlinger++] = tid;
		return;
	}
	/* No room to remember it: waited for here (it stops or ends). */
	while (waitpid(tid, &st, __WALL) == -1 && errno == EINTR)
		;
	if (WIFSTOPPED(st))
		ptrace(PTRACE_DETACH, tid, NULL, NULL);
}

/* Gives up: stopped threads run on, the others linger. */
static void let_go(struct seized *set, int n)
{
	for (int i = 0; i < n; i++)
		if (!set[i].stopped || ptrace(PTRACE_DETACH, set[i].tid, NULL, NULL) == -1)
			thread_seize_linger(set[i].tid);
	free(set);
}

static int by_tid(const void *a, const void *b)
{
	pid_t x = ((const struct seized *)a)->tid, y = ((const struct seized *)b)->tid;
	return (x > y) - (x < y);
}

int thread_seize_all(pid_t pid, long options, pid_t **tids, char *why, size_t whylen)
{
	struct seized *set = NULL;
	int n = 0, cap = 0;
	long deadline = now_ms() + THREAD_SEIZE_WAIT_MS;
	char path[64];
	*tids = NULL;
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	for (;;) {
		DIR *d = opendir(path);
		struct dirent *e;
		int fresh = 0, missed = 0;
		if (!d) {
			snprintf(why, whylen, "%s: %s", path, strerror(errno));
			let_go(set, n);
			return -1;
		}
		if (execing(pid)) {
			closedir(d);
			snprintf(why, whylen, "a thread of it is in execve");
			let_go(set, n);
			return -1;
		}
		while ((e = readdir(d)) != NULL) {
			pid_t tid = (pid_t)atoi(e->d_name);
			if (tid <= 0 || tid == pid || known(set, n, tid))
				continue;
			if (n == cap) {
				struct seized *grown = realloc(set, (size_t)(cap ? cap * 2 : 16) * sizeof *grown);
				if (!grown) {
					closedir(d);
					snprintf(why, whylen, "out of memory");
					let_go(set, n);
					return -1;
				}
				set = grown;
				cap = cap ? cap * 2 : 16;
			}
			if (ptrace(PTRACE_SEIZE, tid, NULL, (void *)options) == -1) {
				missed++; /* ending: gone from the list soon */
				continue;
			}
			set[n++] = (struct seized){ tid, 0 };
			ptrace(PTRACE_INTERRUPT, tid, NULL, NULL);
			fresh++;
		}
		closedir(d);
		int rc = wait_stops(pid, set, &n, deadline, why, whylen);
		if (rc != 0) {
			let_go(set, n);
			return rc;
		}
		/* Every thread listed was stopped by now: none is left running. */
		if (!fresh && !missed)
			break;
		if (missed && now_ms() > deadline) {
			snprintf(why, whylen, "a thread of it could not be traced");
			let_go(set, n);
			return -1;
		}
		if (missed)
			nap();
	}
	if (leader_news(pid)) {
		snprintf(why, whylen, "it ended or exec'd meanwhile");
		let_go(set, n);
		return -2;
	}
	qsort(set, (size_t)n, sizeof *set, by_tid);
	if (n && !(*tids = malloc((size_t)n * sizeof **tids))) {
		snprintf(why, whylen, "out of memory");
		let_go(set, n);
		return -1;
	}
	for (int i = 0; i < n; i++)
		(*tids)[i] = set[i].tid;
	free(set);
	return n;
}

void thread_seize_release(pid_t *tids, int n)
{
	for (int i = 0; i < n; i++)
		if (ptrace(PTRACE_DETACH, tids[i], NULL, NULL) == -1)
			thread_seize_linger(tids[i]);
	free(tids);
}

void thread_seize_settle(void)
{
	for (int i = 0; i < nlinger; i++) {
		int st;
		pid_t got = waitpid(linger[i], &st, WNOHANG | __WALL);
		if (got == 0 || (got == -1 && errno == EINTR))
			continue;
		if (got > 0 && WIFSTOPPED(st)) {
			int sig = st >> 16 ? 0 : WSTOPSIG(st); /* a signal on its way goes on with it */
			ptrace(PTRACE_DETACH, linger[i], NULL, (void *)(long)sig);
		}
		linger[i--] = linger[--nlinger];
	}
}
