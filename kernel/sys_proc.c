/* sys_proc.c - process-level calls answered on the node: identity (values
 * captured at home), thread-area and libc bookkeeping (arch_prctl,
 * set_tid_address, robust lists, rseq), randomness, yield, futex for one
 * thread, and exit. */
#include <stdint.h>
#include <string.h>

#include "cpu.h"
#include "job.h"
#include "linux_abi.h"
#include "syscall.h"
#include "sysnr.h"

#define ROBUST_LIST_HEAD_SIZE 24
#define RSEQ_MIN_LEN 32
#define RSEQ_FLAG_UNREGISTER 1
#define FUTEX_CMD_MASK 0x7f /* without FUTEX_PRIVATE_FLAG / CLOCK_REALTIME */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10

static void sys_ident(struct job *j, struct sys_call *sc)
{
	const struct job_identity *id = &j->ident;
	switch (sc->nr) {
	case NR_getpid: sc->ret = id->pid; break;
	case NR_gettid: sc->ret = id->tid; break;
	case NR_getppid: sc->ret = id->ppid; break;
	case NR_getuid: sc->ret = id->uid; break;
	case NR_geteuid: sc->ret = id->euid; break;
	case NR_getgid: sc->ret = id->gid; break;
	case NR_getegid: sc->ret = id->egid; break;
	case NR_getpgrp: sc->ret = id->pgid; break;
	}
}

/* getpgid/getsid of the job itself are known; of anyone else, home knows. */
static void sys_pgid_sid(struct job *j, struct sys_call *sc)
{
	if (sc->a[0] != 0 && (int64_t)sc->a[0] != j->ident.pid) {
		sc->outcome = SYS_FORWARD;
		return;
	}
	sc->ret = sc->nr == NR_getpgid ? j->ident.pgid : j->ident.sid;
}

static void sys_getres(struct job *j, struct sys_call *sc)
{
	const struct job_identity *id = &j->ident;
	int64_t v[3];
	if (sc->nr == NR_getresuid)
		v[0] = id->uid, v[1] = id->euid, v[2] = id->suid;
	else
		v[0] = id->gid, v[1] = id->egid, v[2] = id->sgid;
	sc->ret = 0;
	for (int i = 0; i < 3; i++) {
		uint32_t x = (uint32_t)v[i];
		if (uvm_write(&j->uvm, sc->a[i], &x, sizeof x, 0) < 0)
			sc->ret = -LX_EFAULT;
	}
}

static void sys_uname(struct job *j, struct sys_call *sc)
{
	sc->ret = uvm_write(&j->uvm, sc->a[0], j->ident.uts, sizeof j->ident.uts, 0) < 0 ? -LX_EFAULT : 0;
}

static void sys_arch_prctl(struct job *j, struct sys_call *sc)
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
		if (uvm_write(&j->uvm, v, &base, sizeof base, 0) < 0)
			sc->ret = -LX_EFAULT;
		return;
	}
	default:
		sc->outcome = SYS_HOME; /* CPUID faulting, shadow stacks, ...: home decides */
	}
}

static void sys_set_tid_address(struct job *j, struct sys_call *sc)
{
	j->clear_child_tid = sc->a[0];
	sc->ret = j->ident.tid;
}

static void sys_set_robust_list(struct job *j, struct sys_call *sc)
{
	if (sc->a[1] != ROBUST_LIST_HEAD_SIZE) {
		sc->ret = -LX_EINVAL;
		return;
	}
	j->robust_list = sc->a[0];
	j->robust_len = sc->a[1];
	sc->ret = 0;
}

/* The rseq area's cpu_id_start and cpu_id (offsets 0 and 4) read 0: one CPU. */
static int rseq_publish_cpu(struct job *j)
{
	uint32_t cpu[2] = { 0, 0 };
	return uvm_write(&j->uvm, j->rseq, cpu, sizeof cpu, 0);
}

static void sys_rseq(struct job *j, struct sys_call *sc)
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

static int have_rdrand(void)
{
	uint32_t r[4];
	cpuid(1, 0, r);
	return (r[2] >> 30) & 1;
}

static int rdrand64(uint64_t *v)
{
	for (int i = 0; i < 10; i++) { /* Intel's DRNG guide: retry up to 10 times */
		unsigned char ok;
		__asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok));
		if (ok)
			return 0;
	}
	return -1;
}

/* Without a hardware generator the node has no entropy worth the name:
 * the home's kernel answers instead. */
static void sys_getrandom(struct job *j, struct sys_call *sc)
{
	uint64_t buf = sc->a[0], len = sc->a[1];
	if (!have_rdrand()) {
		sc->outcome = SYS_FORWARD;
		return;
	}
	if (len > 33554431) /* getrandom(2) caps a call at 32 MiB - 1 */
		len = 33554431;
	for (uint64_t off = 0; off < len; off += 8) {
		uint64_t v;
		if (rdrand64(&v) < 0) {
			sc->outcome = SYS_FORWARD;
			return;
		}
		uint64_t n = len - off < 8 ? len - off : 8;
		if (uvm_write(&j->uvm, buf + off, &v, n, 0) < 0) {
			sc->ret = -LX_EFAULT;
			return;
		}
	}
	sc->ret = (int64_t)len;
}

static void sys_sched_yield(struct job *j, struct sys_call *sc)
{
	(void)j;
	sc->ret = 0;
}

/* One thread: nobody else can wake a waiter, so a wait either fails at once
 * (value changed), times out, or lasts until a signal, as it would on Linux. */
static void sys_futex(struct job *j, struct sys_call *sc)
{
	int op = (int)(sc->a[1] & FUTEX_CMD_MASK);
	if (op == FUTEX_WAKE || op == FUTEX_WAKE_BITSET) {
		sc->ret = 0;
		return;
	}
	if (op != FUTEX_WAIT && op != FUTEX_WAIT_BITSET) {
		sc->outcome = SYS_HOME;
		return;
	}
	uint32_t cur;
	if (uvm_read(&j->uvm, sc->a[0], &cur, sizeof cur) < 0) {
		sc->ret = -LX_EFAULT;
		return;
	}
	if (cur != (uint32_t)sc->a[2]) {
		sc->ret = -LX_EAGAIN;
		return;
	}
	if (sc->a[3]) { /* a timeout: sleep it out */
		sc->outcome = SYS_HOME; /* relative vs. absolute by op and clock: home is exact */
		return;
	}
	j->wake_ns = UINT64_MAX;
	j->state = JOB_SLEEPING;
	j->sleep_restart = 1;
	j->sleep_rem = 0;
	sc->outcome = SYS_BLOCK;
}

static void sys_exit(struct job *j, struct sys_call *sc)
{
	j->exit_code = LX_W_EXITED((uint32_t)sc->a[0]);
	j->state = JOB_EXITED;
	sc->outcome = SYS_EXITED;
}

sys_fn sys_proc_lookup(uint64_t nr)
{
	switch (nr) {
	case NR_getpid: case NR_gettid: case NR_getppid: case NR_getuid: case NR_geteuid:
	case NR_getgid: case NR_getegid: case NR_getpgrp:
		return sys_ident;
	case NR_getpgid: case NR_getsid: return sys_pgid_sid;
	case NR_getresuid: case NR_getresgid: return sys_getres;
	case NR_uname: return sys_uname;
	case NR_arch_prctl: return sys_arch_prctl;
	case NR_set_tid_address: return sys_set_tid_address;
	case NR_set_robust_list: return sys_set_robust_list;
	case NR_rseq: return sys_rseq;
	case NR_getrandom: return sys_getrandom;
	case NR_sched_yield: return sys_sched_yield;
	case NR_futex: return sys_futex;
	case NR_exit: case NR_exit_group: return sys_exit;
	default: return NULL;
	}
}
