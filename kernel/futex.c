/* futex.c - futex(2) on the node (futex.h): waits, wakes, requeues and
 * FUTEX_WAKE_OP between a process's threads, on any of the cores. */
#include <stdint.h>

#include "futex.h"
#include "job.h"
#include "linux_abi.h"
#include "sched.h"
#include "smp.h"
#include "syscall.h"

#define FUTEX_CMD_MASK 0x7f /* without FUTEX_PRIVATE_FLAG / CLOCK_REALTIME */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_FD 2
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_OP 5
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_BITSET_ANY 0xffffffffu

static uint64_t waits; /* orders the waiters */

static int aligned(uint64_t addr) { return !(addr & 3); }

/* A wake's count: Linux wakes one for 0 or less. */
static int at_least_one(uint64_t n) { return (int)n > 0 ? (int)n : 1; }

static int waits_on(const struct job *t, uint64_t addr, uint32_t mask)
{
	return t->state == JOB_SLEEPING && t->futex_addr == addr && (t->futex_bitset & mask);
}

/* The oldest waiter on addr in p whose bitset meets mask, or NULL. */
static struct job *oldest_waiter(struct proc *p, uint64_t addr, uint32_t mask)
{
	struct job *best = NULL;
	for (struct job *t = p->threads; t; t = t->sibling)
		if (waits_on(t, addr, mask) && (!best || t->futex_since < best->futex_since))
			best = t;
	return best;
}

int futex_wake(struct job *j, uint64_t addr, int n, uint32_t mask)
{
	int woken = 0;
	struct job *t;
	while (woken < n && (t = oldest_waiter(j->p, addr, mask))) {
		futex_forget(t);
		t->state = JOB_RUNNABLE;
		syscall_return(t, 0);
		sched_ready(t);
		woken++;
	}
	return woken;
}

/* Moves up to n waiters on addr to addr2 (they are woken from there).
 * Onto the same address, they stay and count, as on Linux. */
static int requeue(struct job *j, uint64_t addr, uint64_t addr2, int n)
{
	int moved = 0;
	struct job *t;
	if (addr == addr2) {
		for (t = j->p->threads; t && moved < n; t = t->sibling)
			moved += waits_on(t, addr, FUTEX_BITSET_ANY);
		return moved;
	}
	while (moved < n && (t = oldest_waiter(j->p, addr, FUTEX_BITSET_ANY))) {
		t->futex_addr = addr2;
		moved++;
	}
	return moved;
}

/* The node-time deadline of a futex wait's timeout: FUTEX_WAIT's is
 * relative, FUTEX_WAIT_BITSET's absolute on CLOCK_MONOTONIC or, with
 * FUTEX_CLOCK_REALTIME, CLOCK_REALTIME (Linux's futex_init_timeout). */
static int deadline(struct job *j, struct sys_call *sc, int op, uint64_t *wake)
{
	int64_t ns;
	int rc = job_read_timespec(j, sc->a[3], &ns);
	if (rc < 0)
		return rc;
	int clock = (sc->a[1] & FUTEX_CLOCK_REALTIME) ? LX_CLOCK_REALTIME : LX_CLOCK_MONOTONIC;
	*wake = job_deadline(j, ns, op == FUTEX_WAIT_BITSET ? clock : -1);
	return 0;
}

static void wait(struct job *j, struct sys_call *sc, int op)
{
	uint64_t wake = UINT64_MAX;
	uint32_t mask = op == FUTEX_WAIT_BITSET ? (uint32_t)sc->a[5] : FUTEX_BITSET_ANY;
	if (mask == 0) {
		sc->ret = -LX_EINVAL;
		return;
	}
	if (sc->a[3]) {
		int rc = deadline(j, sc, op, &wake);
		if (rc < 0) {
			sc->ret = rc;
			return;
		}
	}
	uint32_t cur;
	if (sc->a[0] & 3) {
		sc->ret = -LX_EINVAL;
		return;
	}
	if (uvm_read(&j->p->uvm, sc->a[0], &cur, sizeof cur) < 0) {
		sc->ret = -LX_EFAULT;
		return;
	}
	if (cur != (uint32_t)sc->a[2]) {
		sc->ret = -LX_EAGAIN;
		return;
	}
	sched_sleep(j, sc, wake, -LX_ETIMEDOUT);
	j->futex_addr = sc->a[0];
	j->futex_bitset = mask;
	j->futex_since = ++waits;
	/* Without a timeout a handler with SA_RESTART starts the wait again;
	 * with one the call fails with EINTR (its restart block, on Linux). */
	j->sleep_restart = !sc->a[3];
}

/* FUTEX_WAKE_OP: the operation on the second word, atomically, as other
 * cores' threads may be changing it; then the wakes. */
static void wake_op(struct job *j, struct sys_call *sc)
{
	uint32_t v3 = (uint32_t)sc->a[5];
	int op = (v3 >> 28) & 7, cmp = (v3 >> 24) & 15;
	int32_t oparg = (int32_t)(v3 << 8) >> 20, cmparg = (int32_t)(v3 << 20) >> 20;
	if (v3 & (8u << 28))
		oparg = (int32_t)(1u << (oparg & 31)); /* Linux masks a shift out of range */
	if (!aligned(sc->a[0]) || !aligned(sc->a[4])) {
		sc->ret = -LX_EINVAL;
		return;
	}
	if (op > 4 || cmp > 5) {
		sc->ret = -LX_ENOSYS;
		return;
	}
	uint32_t *w = uvm_word(&j->p->uvm, sc->a[4]);
	if (!w) {
		sc->ret = -LX_EFAULT;
		return;
	}
	uint32_t old = __atomic_load_n(w, __ATOMIC_RELAXED), new;
	do {
		switch (op) {
		case 0: new = (uint32_t)oparg; break;
		case 1: new = old + (uint32_t)oparg; break;
		case 2: new = old | (uint32_t)oparg; break;
		case 3: new = old & ~(uint32_t)oparg; break;
		default: new = old ^ (uint32_t)oparg; break;
		}
	} while (!__atomic_compare_exchange_n(w, &old, new, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
	int32_t o = (int32_t)old;
	int hit = cmp == 0 ? o == cmparg : cmp == 1 ? o != cmparg : cmp == 2 ? o < cmparg
		: cmp == 3 ? o <= cmparg : cmp == 4 ? o > cmparg : o >= cmparg;
	int n = futex_wake(j, sc->a[0], at_least_one(sc->a[2]), FUTEX_BITSET_ANY);
	if (hit)
		n += futex_wake(j, sc->a[4], at_least_one(sc->a[3]), FUTEX_BITSET_ANY);
	sc->ret = n;
}

static void do_requeue(struct job *j, struct sys_call *sc, int cmp)
{
	uint32_t cur;
	int nwake = (int)sc->a[2], nmove = (int)sc->a[3];
	if (nwake < 0 || nmove < 0 || !aligned(sc->a[0]) || !aligned(sc->a[4])) {
		sc->ret = -LX_EINVAL;
		return;
	}
	if (cmp) {
		if (uvm_read(&j->p->uvm, sc->a[0], &cur, sizeof cur) < 0) {
			sc->ret = -LX_EFAULT;
			return;
		}
		if (cur != (uint32_t)sc->a[5]) {
			sc->ret = -LX_EAGAIN;
			return;
		}
	}
	int n = futex_wake(j, sc->a[0], nwake, FUTEX_BITSET_ANY);
	sc->ret = n + requeue(j, sc->a[0], sc->a[4], nmove);
}

void sys_futex(struct job *j, struct sys_call *sc)
{
	int op = (int)(sc->a[1] & FUTEX_CMD_MASK);
	/* Linux 6.1 takes FUTEX_CLOCK_REALTIME with a bitset wait only. */
	if ((sc->a[1] & FUTEX_CLOCK_REALTIME) && op != FUTEX_WAIT_BITSET && op <= FUTEX_WAKE_BITSET) {
		sc->ret = -LX_ENOSYS;
		return;
	}
	switch (op) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET: wait(j, sc, op); return;
	case FUTEX_WAKE:
	case FUTEX_WAKE_BITSET: {
		uint32_t mask = op == FUTEX_WAKE ? FUTEX_BITSET_ANY : (uint32_t)sc->a[5];
		if (mask == 0 || !aligned(sc->a[0])) {
			sc->ret = -LX_EINVAL;
			return;
		}
		sc->ret = futex_wake(j, sc->a[0], at_least_one(sc->a[2]), mask);
		return;
	}
	case FUTEX_REQUEUE: do_requeue(j, sc, 0); return;
	case FUTEX_CMP_REQUEUE: do_requeue(j, sc, 1); return;
	case FUTEX_WAKE_OP: wake_op(j, sc); return;
	case FUTEX_FD: sc->ret = -LX_ENOSYS; return;
	default: sc->outcome = SYS_HOME; return; /* the PI family: home has it */
	}
}
