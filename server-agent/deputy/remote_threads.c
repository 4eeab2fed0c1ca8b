/* remote_threads.c - one home thread per node thread (remote_threads.h).
 * A traced thread that ends stays a zombie until its tracer collects it,
 * and its process's leader is not reported before every other thread is
 * collected: every path that ends the process ends or reaps these first. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>

#include "follow.h"
#include "home_thread.h"
#include "remote.h"
#include "remote_threads.h"
#include "thread_seize.h"

/* Signals a home thread took for the process during injected calls (the
 * exit that ends it, say) stay the process's: the leader's record keeps
 * them, for the node or for home. */
static void keep_signals(struct remote *r, struct remote_thread *t)
{
	for (unsigned i = 0; i < t->in.nsigs && r->in.nsigs < INJECT_SIGS_MAX; i++)
		r->in.sigs[r->in.nsigs++] = t->in.sigs[i];
	t->in.nsigs = 0;
}

/* An exit injected in t, its signals kept: 1 if it ended. */
static int end_one(struct remote *r, struct remote_thread *t)
{
	int rc = home_thread_end(&t->in);
	keep_signals(r, t);
	return rc == 0 || t->in.dead;
}

long remote_thread_new(struct remote *r)
{
	struct remote_thread *t, **grown;
	pid_t tid;
	int rc;
	if (r->nthreads >= REMOTE_THREADS_MAX)
		return -EAGAIN;
	if (!(grown = realloc(r->threads, (size_t)(r->nthreads + 1) * sizeof *grown)))
		return -ENOMEM;
	r->threads = grown;
	if (!(t = calloc(1, sizeof *t)))
		return -ENOMEM;
	if ((rc = home_thread_new(&r->in, follow_options_away(), &t->in, &tid)) != 0) {
		free(t);
		return rc;
	}
	t->tid = tid;
	r->threads[r->nthreads++] = t;
	return tid;
}

void remote_thread_end(struct remote *r, pid_t tid)
{
	for (int i = 0; i < r->nthreads; i++) {
		struct remote_thread *t = r->threads[i];
		if (t->tid != tid)
			continue;
		if (!end_one(r, t))
			return; /* kept: it ends with the process */
		free(t);
		r->threads[i] = r->threads[--r->nthreads];
		return;
	}
}

int remote_threads_hold(struct remote *r, const pid_t *tids, int n)
{
	struct remote_thread **grown;
	if (n <= 0)
		return 0;
	if (r->nthreads + n > REMOTE_THREADS_MAX)
		return -EAGAIN;
	if (!(grown = realloc(r->threads, (size_t)(r->nthreads + n) * sizeof *grown)))
		return -ENOMEM;
	r->threads = grown;
	int before = r->nthreads;
	for (int i = 0; i < n; i++) {
		struct remote_thread *t = calloc(1, sizeof *t);
		int rc = t ? inject_open(&t->in, tids[i]) : -ENOMEM;
		if (rc != 0) {
			free(t);
			while (r->nthreads > before) {
				inject_close(&r->threads[--r->nthreads]->in);
				free(r->threads[r->nthreads]);
			}
			return rc;
		}
		t->tid = tids[i];
		r->threads[r->nthreads++] = t;
		ptrace(PTRACE_SETOPTIONS, tids[i], NULL, (void *)follow_options_away());
	}
	return 0;
}

void remote_threads_share(struct remote *r)
{
	for (int i = 0; i < r->nthreads; i++) {
		home_thread_share(&r->in, &r->threads[i]->in);
		r->threads[i]->in.interruptible = 0; /* as the leader's, for the capture */
	}
}

static int by_tid(const void *a, const void *b)
{
	pid_t x = (*(struct remote_thread *const *)a)->tid, y = (*(struct remote_thread *const *)b)->tid;
	return (x > y) - (x < y);
}

void remote_threads_sort(struct remote *r)
{
	if (r->nthreads > 1)
		qsort(r->threads, (size_t)r->nthreads, sizeof *r->threads, by_tid);
}

struct inject *remote_thread_in(struct remote *r, pid_t tid)
{
	for (int i = 0; i < r->nthreads; i++)
		if (r->threads[i]->tid == tid)
			return &r->threads[i]->in;
	return NULL;
}

struct inject *remote_thread_restore_in(void *ctx, pid_t tid)
{
	struct remote *r = ctx;
	for (int i = 0; i < r->nthreads; i++)
		if (r->threads[i]->tid == tid) {
			r->threads[i]->restored = 1;
			return &r->threads[i]->in;
		}
	return NULL;
}

static void forget(struct remote *r);

void remote_threads_end_unrestored(struct remote *r)
{
	int kept = 0;
	for (int i = 0; i < r->nthreads; i++) {
		struct remote_thread *t = r->threads[i];
		if (t->restored) {
			r->threads[kept++] = t;
			continue;
		}
		end_one(r, t);
		free(t);
	}
	r->nthreads = kept;
}

void remote_threads_release(struct remote *r,
    void (*fix)(struct remote *r, pid_t tid, struct user_regs_struct *regs))
{
	for (int i = 0; i < r->nthreads; i++) {
		struct remote_thread *t = r->threads[i];
		struct user_regs_struct regs;
		/* What it took during injected calls is pending again, for it
		 * or, not sent to it alone, for the process. */
		for (unsigned k = 0; k < t->in.nsigs; k++)
			inject_raise(t->tid, &t->in.sigs[k]);
		t->in.nsigs = 0;
		if (fix && ptrace(PTRACE_GETREGS, t->tid, NULL, &regs) == 0) {
			fix(r, t->tid, &regs);
			ptrace(PTRACE_SETREGS, t->tid, NULL, &regs);
		}
		if (ptrace(PTRACE_DETACH, t->tid, NULL, NULL) == -1)
			thread_seize_linger(t->tid); /* killed: collected as it ends */
		inject_close(&t->in);
	}
	forget(r);
}

static void forget(struct remote *r)
{
	for (int i = 0; i < r->nthreads; i++)
		free(r->threads[i]);
	free(r->threads);
	r->threads = NULL;
	r->nthreads = 0;
}

void remote_threads_end(struct remote *r)
{
	for (int i = 0; i < r->nthreads; i++) {
		struct remote_thread *t = r->threads[i];
		if (!end_one(r, t)) {
			/* It would not end alone: the process goes with it. */
			kill(r->in.pid, SIGKILL);
			remote_threads_reap(r, 1);
			return;
		}
	}
	forget(r);
}

void remote_threads_reap(struct remote *r, int wait)
{
	int kept = 0;
	for (int i = 0; i < r->nthreads; i++) {
		struct remote_thread *t = r->threads[i];
		int st;
		pid_t got;
		do
			got = waitpid(t->tid, &st, __WALL | (wait ? 0 : WNOHANG));
		while (got > 0 && !WIFEXITED(st) && !WIFSIGNALED(st) && wait);
		if (got == -1 && errno == EINTR) {
			i--;
			continue;
		}
		if (got == 0 || (got > 0 && !WIFEXITED(st) && !WIFSIGNALED(st))) {
			r->threads[kept++] = t; /* still there */
			continue;
		}
		inject_close(&t->in);
		free(t);
	}
	r->nthreads = kept;
	if (!kept)
		forget(r);
}
