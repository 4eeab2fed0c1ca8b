/* syscall.c - the node's system call entry: pick the local handler or say
 * the call must be forwarded or sent home. */
#include <stdint.h>

#include "job.h"
#include "linux_abi.h"
#include "syscall.h"

void syscall_return(struct job *j, int64_t ret)
{
	j->regs.rax = (uint64_t)ret;
	/* SYSRET semantics, which programs may rely on: RCX and R11 hold the
	 * return address and flags afterwards. */
	j->regs.rcx = j->regs.rip;
	j->regs.r11 = j->regs.rflags;
}

void syscall_handle(struct job *j, struct sys_call *sc)
{
	const struct trap_frame *r = &j->regs;
	sc->nr = r->rax;
	sc->a[0] = r->rdi, sc->a[1] = r->rsi, sc->a[2] = r->rdx;
	sc->a[3] = r->r10, sc->a[4] = r->r8, sc->a[5] = r->r9;
	sc->ret = -LX_ENOSYS;
	sc->outcome = SYS_RETURN;

	sys_fn fn = sys_mm_lookup(sc->nr);
	if (!fn)
		fn = sys_time_lookup(sc->nr);
	if (!fn)
		fn = sys_proc_lookup(sc->nr);
	if (!fn)
		fn = sys_signal_lookup(sc->nr);
	if (!fn) {
		sc->outcome = SYS_FORWARD;
		return;
	}
	j->syscalls_local++;
	fn(j, sc);
}
