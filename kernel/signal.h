/* signal.h - signals on the node, with Linux's semantics and frame layout
 * (so the program's libc handles them as at home). Main-loop context. */
#ifndef OM_SIGNAL_H
#define OM_SIGNAL_H

#include "job.h"

/* Makes sig pending for j with this info. SIGCONT and SIGKILL end a stop
 * here, at once (the caller sees j->stopped drop to 0). */
void signal_raise(struct job *j, int sig, const struct job_siginfo *info);
/* Ends a stop without a SIGCONT (home's JOB_CONTINUE); 1 if j was stopped. */
int signal_continue(struct job *j);
/* A fault the job caused: delivered even if blocked or ignored, as Linux's
 * force_sig does (it kills the job then). */
void signal_force(struct job *j, int sig, int code, uint64_t addr);
/* The same for a CPU exception: sigcontext gets its vector and error code. */
void signal_fault(struct job *j, int sig, int code, uint64_t addr, uint32_t trapno, uint32_t err);
/* Delivers the first deliverable pending signal, if any: runs its default
 * action (the job may end: state JOB_EXITED) or builds a handler frame.
 * Call before resuming the job. Returns 1 if something was delivered. */
int signal_deliver(struct job *j);

#endif
