/* remote_threads.h - the home threads of a process whose threads run on a
 * node: one per node thread, made when the node's clone comes (its tid is
 * the node thread's), held in a ptrace stop, where the forwarded calls of
 * that thread run (its tid, its place in the kernel's signal routing).
 * A thread that ends on the node leaves its home thread held until the
 * process ends or comes home. Home side only. */
#ifndef OM_REMOTE_THREADS_H
#define OM_REMOTE_THREADS_H

#include <sys/types.h>

#include "inject.h"

#define REMOTE_THREADS_MAX 1024 /* per process: more clones get EAGAIN */

struct remote;

struct remote_thread {
	pid_t tid;
	int restored;           /* an image coming home gave it its node thread's state */
	uint64_t anew_undo;     /* its call made anew as it goes (life.c) */
	struct inject in;
};

/* A home thread for a node thread of r's process (stopped, scratch set
 * up): its tid, or -errno (EAGAIN past REMOTE_THREADS_MAX). */
long remote_thread_new(struct remote *r);
/* The process's own threads tids[0..n), stopped (thread_seize.h), become
 * its home threads, held as the process goes to a node (they inject once
 * remote_threads_share gives them the scratch region): their node threads
 * are their own selves. 0, or -errno (none is held: they
 * are the caller's to let go). */
int remote_threads_hold(struct remote *r, const pid_t *tids, int n);
/* Every home thread injects through the leader's scratch region. */
void remote_threads_share(struct remote *r);
/* Ends the home thread of that tid (its node thread ended), if there is
 * one. */
void remote_thread_end(struct remote *r, pid_t tid);
/* In ascending tid order, as an image has them. */
void remote_threads_sort(struct remote *r);
/* The home thread of that tid, or NULL. */
struct inject *remote_thread_in(struct remote *r, pid_t tid);
/* restore's thread_in (restore.h): ctx is the remote; marks it restored. */
struct inject *remote_thread_restore_in(void *ctx, pid_t tid);
/* The process came home: the home threads the image did not restore end
 * (before the scratch region goes: they need it), ... */
void remote_threads_end_unrestored(struct remote *r);
/* ... then, the leader set to run, each restored one runs as the
 * process's own (detached, the registers it has; fix(r, tid, regs), unless
 * NULL, may change them first), what it took during injected calls pending
 * again. None is left. */
struct user_regs_struct;
void remote_threads_release(struct remote *r,
    void (*fix)(struct remote *r, pid_t tid, struct user_regs_struct *regs));
/* Ends every home thread (an exit injected in each) and forgets them: the
 * process has one thread again. */
void remote_threads_end(struct remote *r);
/* The process was killed: every home thread is collected as it goes
 * (wait: block until each has), and forgotten. */
void remote_threads_reap(struct remote *r, int wait);

#endif
