/* sched.h - runs the node's jobs between rounds of network work.
 *
 * Several jobs share the node's core, preemptively: each runs until it
 * traps, and keeps its turn across its system calls until its slice (one
 * timer tick's worth of time, counted in the kernel too) is over, it
 * waits or it yields, then the next runnable one goes (round robin). The scheduler answers local system calls and faults itself and
 * hands the rest to each job's host: the link to its deputy at home, or
 * the self-test's console. Main-loop context only. */
#ifndef OM_SCHED_H
#define OM_SCHED_H

#include "job.h"
#include "proto.h"
#include "syscall.h"

struct job_host {
	/* Sends a call home; the job waits (JOB_WAIT_HOME) for sched_reply. */
	void (*forward)(struct job *j, const struct sys_call *sc);
	/* The job needs something only home has: a system call (fork, execve,
	 * ...: pending is its number, to run again at home) or an instruction
	 * this CPU lacks (pending -1). what says which, for the logs. */
	void (*go_home)(struct job *j, int feature, int32_t pending, const char *what);
	/* Fills the private file mapping j->fill describes from home (pread of
	 * the file into it), then sched_reply's mmap's result: its address, or
	 * the error with the mapping removed. */
	void (*fill)(struct job *j);
	/* A stop signal stopped the job (j->stopped says which); it stays until
	 * SIGCONT or home's JOB_CONTINUE. */
	void (*stopped)(struct job *j);
	/* A signal the job must take is pending while it waits for home
	 * (JOB_WAIT_HOME): home should cut the call short. Called on every
	 * step while that lasts, before signals are delivered: the host may
	 * end the job there (JOB_EXITED) for a signal that kills. */
	void (*interrupt)(struct job *j);
	/* The job ended; j->exit_code is its wait(2) status. The host must not
	 * keep j: the scheduler frees it after this returns. */
	void (*exited)(struct job *j);
	/* Whether the host can make the child of a fork j makes here (the
	 * call is then forwarded); NULL or 0: the job goes home for it. */
	int (*fork_ok)(struct job *j);
	/* Whether the host can make a thread of j's process here: the clone
	 * goes to forward (j->cloning set) and its answer is the new tid.
	 * NULL or 0: the process goes home for it. */
	int (*thread_ok)(struct job *j);
	/* A thread of a process that goes on, or ends thread by thread (a
	 * fatal signal), is about to be freed: the host drops what it keeps
	 * of it. NULL: nothing to drop. */
	void (*thread_gone)(struct job *j);
};

/* Puts the job to sleep in the call sc: until wake_ns (node time,
 * UINT64_MAX for ever), when the call returns at_deadline, or until a
 * signal ends it (signal.c). The caller may then set sleep_restart and
 * sleep_rem. */
void sched_sleep(struct job *j, struct sys_call *sc, uint64_t wake_ns, int64_t at_deadline);
#define SCHED_JOBS_MAX OM_NODE_JOBS_MAX /* processes */
#define SCHED_THREADS_MAX 256            /* threads of them all */

/* Takes ownership of j and starts running it. Returns -1 when the node
 * runs SCHED_THREADS_MAX threads, or j begins a process (it is its
 * leader) and the node runs SCHED_JOBS_MAX processes. */
int sched_start(struct job *j, const struct job_host *host);
/* The processes on the run list: each counted once, by its leader. */
int sched_processes(void);
/* Completes the forwarded call j waits for (a thread's clone: ret is the
 * new thread's tid, and it starts). */
void sched_reply(struct job *j, int64_t ret);
/* j may run again (a futex woke it): it is prepared first. */
void sched_ready(struct job *j);
/* Deals with every job's timers, sleeps and signals, then runs the job
 * whose turn it is until its next trap. Returns 1 if a job ran. */
int sched_step(void);
/* The jobs here: how many, the i-th (0 <= i < count), the one with an id. */
int sched_count(void);
struct job *sched_job(int i);
struct job *sched_find(uint32_t id);
/* Makes sure no other core runs j in ring 3: one that does is kicked and
 * j comes back as it was (a system call it had just made is made again
 * when it next runs). Everything that reads or changes a job's registers
 * or takes it off the list does this first. */
void sched_park(struct job *j);
/* Drops j without calling its host (the deputy is gone). */
void sched_abort(struct job *j);
/* Hands j to the caller, who now owns it (it goes home). */
void sched_take(struct job *j);
/* The job whose turn it is gives it up (sched_yield). */
void sched_yield_turn(void);

#endif
