/* sys_proc.c - process-level calls answered on the node: identity (values
 * captured at home), thread-area and libc bookkeeping (arch_prctl,
 * set_tid_address, robust lists, rseq), randomness, yield, and exit. */
#include <stdint.h>
#include <string.h>

#include "cpu.h"
#include "job.h"
#include "linux_abi.h"
#include "random.h"
#include "sched.h"
#include "syscall.h"
#include "sysnr.h"

#define ROBUST_LIST_HEAD_SIZE 24
#define RSEQ_MIN_LEN 32
#define RSEQ_FLAG_UNREGISTER 1

/* Identity: the values captured at home. */
#define SYS_IDENTITY(name, field)                               \
	void sys_##name(struct job *j, struct sys_call *sc)     \
	{                                                       \
		sc->ret = j->p->ident.field;                       \
	}
SYS_IDENTITY(getpid, pid)
SYS_IDENTITY(getuid, uid)
SYS_IDENTITY(geteuid, euid)
SYS_IDENTITY(getgid, gid)
SYS_IDENTITY(getegid, egid)
SYS_IDENTITY(getpgrp, pgid)

/* getpgid/getsid of anyone but the job are forwarded (om_syscall_where_at). */
void sys_getpgid(struct job *j, struct sys_call *sc) { sc->ret = j->p->ident.pgid; }
void sys_getsid(struct job *j, struct sys_call *sc) { sc->ret = j->p->ident.sid; }

static void put_ids(struct job *j, struct sys_call *sc, int64_t r, int64_t e, int64_t saved)
{
	int64_t v[3] = { r, e, saved };
	sc->ret = 0;
	for (int i = 0; i < 3; i++) {
		uint32_t x = (uint32_t)v[i];
		if (uvm_write(&j->p->uvm, sc->a[i], &x, sizeof x, 0) < 0)
			sc->ret = -LX_EFAULT;
	}
}

void sys_getresuid(struct job *j, struct sys_call *sc)
{
	put_ids(j, sc, j->p->ident.uid, j->p->ident.euid, j->p->ident.suid);
}

void sys_getresgid(struct job *j, struct sys_call *sc)
{
	put_ids(j, sc, j->p->ident.gid, j->p->ident.egid, j->p->ident.sgid);
}

void sys_uname(struct job *j, struct sys_call *sc)
{
	sc->ret = uvm_write(&j->p->uvm, sc->a[0], j->p->ident.uts, sizeof j->p->ident.uts, 0) < 0 ? -LX_EFAULT : 0;
}

void sys_arch_prctl(struct job *j, struct sys_call *sc)
{
	uint64_t v = sc->a[1];
	sc->ret = 0;
	switch (sc->a[0]) {
	case LX_ARCH_SET_FS:
	case LX_ARCH_SET_GS:
		if (v >= UVM_TOP) {
			sc->ret = -LX_EPERM;
			return;
		}
		if (sc->a[0] == LX_ARCH_SET_FS)
			j->fs_base = v;
		else
			j->gs_base = v;
		return;
	case LX_ARCH_GET_FS:
	case LX_ARCH_GET_GS: {
		uint64_t base = sc->a[0] == LX_ARCH_GET_FS ? j->fs_base : j->gs_base;
		if (uvm_write(&j->p->uvm, v, &base, sizeof base, 0) < 0)
			sc->ret = -LX_EFAULT;
		return;
	}
	default:
		sc->outcome = SYS_HOME; /* CPUID faulting, shadow stacks, ...: home decides */
	}
}

void sys_gettid(struct job *j, struct sys_call *sc) { sc->ret = j->tid; }

void sys_set_tid_address(struct job *j, struct sys_call *sc)
{
	j->clear_child_tid = sc->a[0];
	sc->ret = j->tid;
}

void sys_set_robust_list(struct job *j, struct sys_call *sc)
{
	if (sc->a[1] != ROBUST_LIST_HEAD_SIZE) {
		sc->ret = -LX_EINVAL;
		return;
	}
	j->robust_list = sc->a[0];
	j->robust_len = sc->a[1];
	sc->ret = 0;
}

/* Another process's list is forwarded (om_syscall_where_at). */
void sys_get_robust_list(struct job *j, struct sys_call *sc)
{
	uint64_t head = j->robust_list, len = ROBUST_LIST_HEAD_SIZE; /* Linux: always its size */
	sc->ret = 0;
	if (uvm_write(&j->p->uvm, sc->a[2], &len, sizeof len, 0) < 0 ||
	    uvm_write(&j->p->uvm, sc->a[1], &head, sizeof head, 0) < 0)
		sc->ret = -LX_EFAULT;
}

/* One CPU, one NUMA node: both 0. Either pointer may be NULL. */
void sys_getcpu(struct job *j, struct sys_call *sc)
{
	uint32_t zero = 0;
	sc->ret = 0;
	for (int i = 0; i < 2; i++)
		if (sc->a[i] && uvm_write(&j->p->uvm, sc->a[i], &zero, sizeof zero, 0) < 0)
			sc->ret = -LX_EFAULT;
}

/* The kernel points an interrupted call's restart here; on the node a call
 * interrupted by a handler fails with EINTR or starts over by number
 * (signal.c), so no restart is ever pending: Linux's answer then. */
void sys_restart_syscall(struct job *j, struct sys_call *sc)
{
	(void)j;
	sc->ret = -LX_EINTR;
}

/* The rseq area's cpu_id_start and cpu_id (offsets 0 and 4) read 0: one CPU. */
static int rseq_publish_cpu(struct job *j)
{
	uint32_t cpu[2] = { 0, 0 };
	return uvm_write(&j->p->uvm, j->rseq, cpu, sizeof cpu, 0);
}

void sys_rseq(struct job *j, struct sys_call *sc)
{
	uint64_t addr = sc->a[0], len = sc->a[1], flags = sc->a[2];
	uint32_t sig = (uint32_t)sc->a[3];
	if (flags & RSEQ_FLAG_UNREGISTER) {
		if (!j->rseq || addr != j->rseq || len != j->rseq_len || sig != j->rseq_sig) {
			sc->ret = -LX_EINVAL;
			return;
		}
		j->rseq = 0;
		sc->ret = 0;
		return;
	}
	if (flags || len < RSEQ_MIN_LEN || (addr & 31)) {
		sc->ret = -LX_EINVAL;
		return;
	}
	if (j->rseq) {
		sc->ret = (addr == j->rseq && len == j->rseq_len && sig == j->rseq_sig) ? -16 /* EBUSY */ : -LX_EINVAL;
		return;
	}
	j->rseq = addr;
	j->rseq_len = len;
	j->rseq_sig = sig;
	sc->ret = rseq_publish_cpu(j) < 0 ? -LX_EFAULT : 0;
	if (sc->ret)
		j->rseq = 0;
}

/* Without a hardware generator the node has no entropy worth the name:
 * the home's kernel answers instead. */
void sys_getrandom(struct job *j, struct sys_call *sc)
{
	uint64_t buf = sc->a[0], len = sc->a[1];
	if (!random_have_rdrand()) {
		sc->outcome = SYS_FORWARD;
		return;
	}
	if (len > 33554431) /* getrandom(2) caps a call at 32 MiB - 1 */
		len = 33554431;
	for (uint64_t off = 0; off < len; off += 8) {
		uint64_t v;
		if (random_rdrand64(&v) < 0) {
			sc->outcome = SYS_FORWARD;
			return;
		}
		uint64_t n = len - off < 8 ? len - off : 8;
		if (uvm_write(&j->p->uvm, buf + off, &v, n, 0) < 0) {
			sc->ret = -LX_EFAULT;
			return;
		}
	}
	sc->ret = (int64_t)len;
}

void sys_sched_yield(struct job *j, struct sys_call *sc)
{
	(void)j;
	sched_yield_turn(); /* another job here may go first */
	sc->ret = 0;
}

/* exit ends the thread (the process with its last one), exit_group all
 * of them (kernel/sched.c sees to the others). */
void sys_exit(struct job *j, struct sys_call *sc)
{
	j->exit_code = LX_W_EXITED((uint32_t)sc->a[0]);
	j->state = JOB_EXITED;
	sc->outcome = SYS_EXITED;
}

void sys_exit_group(struct job *j, struct sys_call *sc)
{
	sys_exit(j, sc);
	if (!j->p->dying) { /* the first exit_group or fatal signal says it */
		j->p->dying = 1;
		j->p->exit_code = j->exit_code;
	}
}
