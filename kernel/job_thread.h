/* job_thread.h - threads of a process on the node: made by clone/clone3
 * with CLONE_VM|CLONE_THREAD (glibc's and musl's pthread_create), ended by
 * exit (the thread) or exit_group and fatal signals (all of them).
 *
 * The tid is home's: the clone goes to the job's host like a forwarded
 * call, and its answer (the tid) makes the thread here (sched_reply).
 * Main-loop context only. */
#ifndef OM_JOB_THREAD_H
#define OM_JOB_THREAD_H

#include <stdint.h>

#include "job.h"
#include "syscall.h"

/* Reads a clone's arguments: 1 and *c filled if sc makes a thread of
 * j's process the way the C libraries do (its flags within the ones this
 * kernel keeps), 0 if it is some other clone (it goes home), or -errno
 * for arguments Linux refuses. */
int job_thread_clone(struct job *j, const struct sys_call *sc, struct job_clone *c);
/* The thread that clone made: j's registers with rax 0 and the new
 * stack, TLS and tid as c says, its FPU state and mask copied; it joins
 * j's process. NULL when out of memory. */
struct job *job_thread_new(struct job *j, const struct job_clone *c, int64_t tid);
/* The new thread runs: its tid goes where CLONE_CHILD_SETTID and
 * CLONE_PARENT_SETTID ask. */
void job_thread_set_tids(struct job *j, const struct job_clone *c, int64_t tid);
/* What Linux does as a thread ends while its memory lives on: its robust
 * futexes marked FUTEX_OWNER_DIED (a waiter woken), and 0 written to its
 * clear_child_tid word with a futex wake there (pthread_join). */
void job_thread_exit(struct job *j);
/* The threads of j's process that have exited but were not seen to yet
 * (the scheduler does that on its next step) end now, as job_thread_exit
 * says; the leader stays, JOB_DONE. Every one must be off the run list,
 * and the process not ending (exit_group, a fatal signal). */
void job_threads_reap(struct job *j);
/* Whether thread t still runs (it has not exited). */
static inline int job_thread_live(const struct job *t)
{
	return t->state != JOB_EXITED && t->state != JOB_DONE;
}
/* The live thread of p with this tid, or NULL. */
struct job *job_thread_find(struct proc *p, int64_t tid);
/* Takes j out of its process's thread list (before job_destroy). */
void job_thread_unlink(struct job *j);
/* The threads of j's process that still run (not JOB_EXITED nor
 * JOB_DONE), j aside. */
int job_threads_live(const struct job *j);
/* The thread of j's process its host knows: the first (its tid is the
 * pid), or the header's of the image that brought it (the leader had
 * ended); kept, JOB_DONE, while others run. j if it has none left. */
struct job *job_thread_leader(struct job *j);

#endif
