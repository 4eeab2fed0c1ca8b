/* signal.h - signals on the node, with Linux's semantics and frame layout
 * (so the program's libc handles them as at home). Main-loop context. */
#ifndef OM_SIGNAL_H
#define OM_SIGNAL_H

#include "job.h"
#include "syscall.h"

#define SIG_BIT(sig) (1ULL << ((sig) - 1))
#define SIG_UNBLOCKABLE (SIG_BIT(9) | SIG_BIT(19)) /* SIGKILL, SIGSTOP */

/* Makes sig pending for j's process with this info (the first of its
 * threads that does not block it takes it): a signal below SIGRTMIN at most
 * once (a second instance is merged into the first), a real-time signal or
 * a timer's once per instance. SIGCONT and SIGKILL end a stop here, at once
 * (the caller sees j->stopped drop to 0). Returns 0, -LX_EINVAL for a bad
 * number, -LX_EAGAIN when the queue is full for a signal that must carry
 * its info (sigqueue). */
int signal_raise(struct job *j, int sig, const struct job_siginfo *info);
/* Whether j has signals to take now, every one raised by its process's
 * timers here (decide.h holds those a while). */
int signal_ready_from_timers(const struct job *j);
/* The same for one thread only (tgkill, tkill; its faults). */
int signal_raise_thread(struct job *j, int sig, const struct job_siginfo *info);
/* The signals pending for j: its own and its process's. */
uint64_t signal_pending(const struct job *j);
/* Moves the process's pending instances to j's own (a process of one
 * thread leaving the node: its image has one pending set). */
void signal_unshare(struct job *j);
/* Drops every pending instance of the signals in sigs (a bit mask), the
 * process's and every thread's. */
void signal_discard(struct job *j, uint64_t sigs);
/* siginfo of a signal a process sent: si_code, and the _kill / _rt
 * layout's pid, uid and value. */
struct job_siginfo signal_info_sender(int code, int32_t pid, uint32_t uid, uint64_t value);
/* Ends a stop without a SIGCONT (home's JOB_CONTINUE); 1 if j was stopped. */
int signal_continue(struct job *j);
/* A fault the job caused: delivered even if blocked or ignored, as Linux's
 * force_sig does (it kills the job then). */
void signal_force(struct job *j, int sig, int code, uint64_t addr);
/* The same for a CPU exception: sigcontext gets its vector and error code. */
void signal_fault(struct job *j, int sig, int code, uint64_t addr, uint32_t trapno, uint32_t err);
/* A forwarded call home cut short (its restart code in rax) is settled as
 * Linux's signal code would: started again, or failed with EINTR when the
 * handler of the first deliverable signal says so. Before the job runs, or
 * leaves (its image then holds the call's outcome, not the code). */
void signal_settle_restart(struct job *j);
/* 1 if a pending signal would do something now (not blocked, not ignored). */
int signal_ready(const struct job *j);
/* A pending signal that would end the job now (its default action kills),
 * or 0. */
int signal_fatal_ready(const struct job *j);
/* Ends the job as sig's default action does (state JOB_EXITED). */
void signal_die(struct job *j, int sig);
/* Delivers the first deliverable pending signal, if any: runs its default
 * action (the job may end: state JOB_EXITED) or builds a handler frame.
 * Call before resuming the job. Returns 1 if something was delivered. */
int signal_deliver(struct job *j);
/* rt_sigtimedwait's core: returns at once with a pending signal of set
 * (its siginfo written to the user address info, if not 0), fails with
 * EAGAIN if wake_ns (node time) has passed, or sleeps until one comes, the
 * deadline (EAGAIN) or another signal (EINTR). */
void signal_wait(struct job *j, struct sys_call *sc, uint64_t set, uint64_t info, uint64_t wake_ns);
/* Its deadline came: a signal of the set pending by now still wins, else
 * the call fails with EAGAIN; the job's mask is back either way. */
void signal_wait_timeout(struct job *j);

#endif
