/* syscall.c - the node's system call entry: one table indexed by number,
 * made from migrate/syscalls.def, picks the local handler; the shared
 * run-time rule (om_syscall_where_at) says when a call must be forwarded
 * or sent home instead. */
#include <stdint.h>

#include "job.h"
#include "job_thread.h"
#include "linux_abi.h"
#include "syscall.h"
#include "syscall_codec.h"
#include "sysnr.h"

/* xv6's shape: an array indexed by number. A LOCAL entry names its
 * handler, so a call marked local without one does not link. */
#define SYS_ENTRY_LOCAL(name) sys_##name
#define SYS_ENTRY_FORWARD(name) 0
#define SYS_ENTRY_HOME(name) 0
static const sys_fn sys_table[] = {
#define SYSCALL(nr, name, where, a0, a1, a2, a3, a4, a5) [nr] = SYS_ENTRY_##where(name),
#include "syscalls.def"
#undef SYSCALL
};

/* Calls Linux no longer implements (sys_ni_syscall there): the node says
 * ENOSYS too, without a round trip. */
#define SYS_NOT_IMPLEMENTED(name)                                 \
	void sys_##name(struct job *j, struct sys_call *sc)       \
	{                                                         \
		(void)j;                                          \
		sc->ret = -LX_ENOSYS;                             \
	}
SYS_NOT_IMPLEMENTED(create_module)
SYS_NOT_IMPLEMENTED(get_kernel_syms)
SYS_NOT_IMPLEMENTED(query_module)
SYS_NOT_IMPLEMENTED(nfsservctl)
SYS_NOT_IMPLEMENTED(getpmsg)
SYS_NOT_IMPLEMENTED(putpmsg)
SYS_NOT_IMPLEMENTED(afs_syscall)
SYS_NOT_IMPLEMENTED(tuxcall)
SYS_NOT_IMPLEMENTED(security)
SYS_NOT_IMPLEMENTED(epoll_ctl_old)
SYS_NOT_IMPLEMENTED(epoll_wait_old)
SYS_NOT_IMPLEMENTED(vserver)

void syscall_return(struct job *j, int64_t ret)
{
	j->regs.rax = (uint64_t)ret;
	/* SYSRET semantics, which programs may rely on: RCX and R11 hold the
	 * return address and flags afterwards. */
	j->regs.rcx = j->regs.rip;
	j->regs.r11 = j->regs.rflags;
}

struct job *job_signal_target(struct job *j, const struct sys_call *sc)
{
	int64_t tgid = -1, tid;
	if (sc->nr == NR_tkill)
		tid = (int32_t)sc->a[0];
	else if (sc->nr == NR_tgkill || sc->nr == NR_rt_tgsigqueueinfo)
		tgid = (int32_t)sc->a[0], tid = (int32_t)sc->a[1];
	else
		return sc->nr == NR_kill || sc->nr == NR_rt_sigqueueinfo ? j : NULL;
	if (tgid != -1 && tgid != j->p->ident.pid)
		return NULL;
	return job_thread_find(j->p, tid);
}

void syscall_handle(struct job *j, struct sys_call *sc)
{
	const struct trap_frame *r = &j->regs;
	sc->nr = r->rax;
	sc->a[0] = r->rdi, sc->a[1] = r->rsi, sc->a[2] = r->rdx;
	sc->a[3] = r->r10, sc->a[4] = r->r8, sc->a[5] = r->r9;
	sc->ret = -LX_ENOSYS;
	sc->outcome = SYS_RETURN;
	decide_enter(j);

	int where = sc->nr < sizeof sys_table / sizeof sys_table[0]
			    ? om_syscall_where_at((unsigned)sc->nr, sc->a, (uint32_t)j->p->ident.pid)
			    : OM_HOME;
	if (where == OM_FORWARD && (sc->nr == NR_tkill || sc->nr == NR_tgkill || sc->nr == NR_rt_tgsigqueueinfo) &&
	    job_signal_target(j, sc))
		where = OM_LOCAL; /* to another thread of the process here */
	if (where == OM_FORWARD) {
		sc->outcome = SYS_FORWARD;
		return;
	}
	sys_fn fn = where == OM_LOCAL ? sys_table[sc->nr] : 0;
	if (!fn) { /* home runs it, or gives its own ENOSYS for an unknown number */
		sc->outcome = SYS_HOME;
		return;
	}
	j->syscalls_local++;
	fn(j, sc);
	if (sc->outcome == SYS_RETURN)
		decide_call(j, sc);
}
