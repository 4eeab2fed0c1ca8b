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
/* The thread of j's process a tkill, tgkill or rt_tgsigqueueinfo names
 * (NULL: none here; kill and rt_sigqueueinfo: j). */
struct job *job_signal_target(struct job *j, const struct sys_call *sc);
/* Writes a finished call's result back into the job's registers the way
 * the SYSCALL/SYSRET pair leaves them (RCX = RIP, R11 = RFLAGS). */
void syscall_return(struct job *j, int64_t ret);

/* The node's handler for every call syscalls.def marks LOCAL: sys_<name>,
 * defined in the file of its family (sys_mm.c, sys_time.c, sys_proc.c,
 * signal.c, timers.c, ...). The dispatch table in syscall.c names each one,
 * so a LOCAL call without a handler fails the link. */
#define SYS_DECLARE_LOCAL(name) void sys_##name(struct job *j, struct sys_call *sc);
#define SYS_DECLARE_FORWARD(name)
#define SYS_DECLARE_HOME(name)
#define SYSCALL(nr, name, where, a0, a1, a2, a3, a4, a5) SYS_DECLARE_##where(name)
#include "syscalls.def"
#undef SYSCALL
#undef SYS_DECLARE_LOCAL
#undef SYS_DECLARE_FORWARD
#undef SYS_DECLARE_HOME

/* The job's clock (LX_CLOCK_*, one the node keeps) in ns: home's time as
 * the node keeps it, or the CPU time spent at home and here. */
int64_t job_clock_ns(const struct job *j, int clock);
/* The process's CPU time: at home until the image left, then on the
 * node (every thread's, those ended too). */
uint64_t job_cpu_ns(const struct job *j);
/* Its CPU time on the node only. */
uint64_t job_ran_ns(const struct proc *p);
/* Reads a struct timespec from the job's memory into *ns (saturating):
 * 0, -LX_EFAULT, or -LX_EINVAL for one Linux refuses. */
int job_read_timespec(struct job *j, uint64_t uaddr, int64_t *ns);
/* The node time (timer_ns) of a timeout: ns from now (clock -1), or when
 * the job's clock reaches ns (at once if it has); saturates. */
uint64_t job_deadline(const struct job *j, int64_t ns, int clock);

#endif
