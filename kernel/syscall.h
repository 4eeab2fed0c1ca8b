/* syscall.h - system calls a job makes on the node.
 *
 * syscall_handle decides, per call, whether the node answers it (the local
 * calls of DESIGN.md), forwards it home, or must send the job home. Local
 * handlers fill sc->ret (a value or -LX_errno) and may change the outcome:
 * block the job (sleeps), end it (exit), or leave its registers alone
 * (rt_sigreturn). Main-loop context only. */
#ifndef OM_SYSCALL_H
#define OM_SYSCALL_H

#include <stdint.h>

#include "job.h"

enum sys_outcome {
	SYS_RETURN,   /* put ret in rax and resume */
	SYS_KEEP_REGS,/* registers were set by the handler (rt_sigreturn) */
	SYS_BLOCK,    /* the job waits: j->wake_ns or a reply from home */
	SYS_FORWARD,  /* the deputy at home must run it */
	SYS_HOME,     /* the job must migrate home to run it */
	SYS_FILL,     /* a file mapping was made: j->fill says what to read */
	SYS_EXITED    /* the job is over: j->exit_code */
};

struct sys_call {
	uint64_t nr;
	uint64_t a[6];
	int64_t ret;
	enum sys_outcome outcome;
};

typedef void (*sys_fn)(struct job *j, struct sys_call *sc);

/* Fills sc from the job's registers and runs the local handler, if any. */
void syscall_handle(struct job *j, struct sys_call *sc);
/* Writes a finished call's result back into the job's registers the way
 * the SYSCALL/SYSRET pair leaves them (RCX = RIP, R11 = RFLAGS). */
void syscall_return(struct job *j, int64_t ret);

/* Local handlers, one file per family. Each returns NULL for numbers it does
 * not own. */
sys_fn sys_mm_lookup(uint64_t nr);
sys_fn sys_time_lookup(uint64_t nr);
sys_fn sys_proc_lookup(uint64_t nr);
sys_fn sys_signal_lookup(uint64_t nr);

/* Node time as the home sees it (ns). */
int64_t job_clock_ns(const struct job *j, int clock);

#endif
