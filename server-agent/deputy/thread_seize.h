/* thread_seize.h - the other threads of a process at home, stopped where
 * they are, so that the process can be captured whole (its leader is
 * stopped already: follow_interrupt). Each thread is seized
 * (PTRACE_SEIZE) and interrupted (PTRACE_INTERRUPT); /proc/PID/task is
 * read again until every thread in it is stopped, so that a thread made
 * meanwhile by one still running is not missed. Home side only (Linux).
 *
 * A thread that does not stop in time (a vfork parent waits for its
 * child, uninterruptibly) cannot be let go at once: ptrace detaches only
 * a stopped tracee. It lingers: thread_seize_settle, called from the
 * follower's loop, detaches it when it stops, or collects it when it
 * ends. */
#ifndef OM_THREAD_SEIZE_H
#define OM_THREAD_SEIZE_H

#include <sys/types.h>

#define THREAD_SEIZE_WAIT_MS 2000 /* for every thread to stop */

/* Stops every thread of pid but pid itself, seized with options (with
 * PTRACE_O_TRACEEXEC, a worker's execve shows at pid as the follower's
 * event). Returns how many (their tids ascending in *tids, malloc'd; NULL
 * for none), or -1 with why said in why: every thread it had stopped runs
 * on; -2 when pid has news for its tracer meanwhile (it ended, or a
 * worker's execve made it the new program at its exec stop), left for it
 * to read. A thread that exits meanwhile is collected and left out. */
int thread_seize_all(pid_t pid, long options, pid_t **tids, char *why, size_t whylen);
/* Lets them run on (detached), each where it was; frees tids. */
void thread_seize_release(pid_t *tids, int n);
/* A traced thread that could not be let go (not stopped, or killed):
 * detached when it stops, collected when it ends (a traced thread that
 * ends stays a zombie until then, and holds back its leader's end). */
void thread_seize_linger(pid_t tid);
/* Lingering threads that stopped or ended since: detached or collected. */
void thread_seize_settle(void);

#endif
