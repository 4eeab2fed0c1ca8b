/* job_thread.c - threads of a process on the node (job_thread.h). */
#include <stdlib.h>
#include <string.h>

#include "fpu.h"
#include "futex.h"
#include "job_thread.h"
#include "linux_abi.h"
#include "sysnr.h"

#define CLONE_VM 0x00000100ull
#define CLONE_FS 0x00000200ull
#define CLONE_FILES 0x00000400ull
#define CLONE_SIGHAND 0x00000800ull
#define CLONE_THREAD 0x00010000ull
#define CLONE_SYSVSEM 0x00040000ull
#define CLONE_SETTLS 0x00080000ull
#define CLONE_PARENT_SETTID 0x00100000ull
#define CLONE_CHILD_CLEARTID 0x00200000ull
#define CLONE_DETACHED 0x00400000ull
#define CLONE_CHILD_SETTID 0x01000000ull
/* What a thread of a C library always asks for, and what it may add. */
#define THREAD_NEEDS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM)
#define THREAD_MAY (CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_DETACHED | CLONE_CHILD_SETTID)
#define CLONE_ARGS_VER0 64 /* struct clone_args up to tls */

#define FUTEX_WAITERS 0x80000000u
#define FUTEX_OWNER_DIED 0x40000000u
#define FUTEX_TID_MASK 0x3fffffffu
#define ROBUST_LIST_LIMIT 2048 /* Linux's bound on a list's walk */
#define TASK_SIZE_MAX ((1ULL << 47) - 4096) /* the lowest FS base that is not a user address */

int job_thread_clone(struct job *j, const struct sys_call *sc, struct job_clone *c)
{
	memset(c, 0, sizeof *c);
	if (sc->nr == NR_clone) {
		c->flags = sc->a[0], c->stack = sc->a[1], c->parent_tid = sc->a[2];
		c->child_tid = sc->a[3], c->tls = sc->a[4];
	} else if (sc->nr == NR_clone3) {
		struct {
			uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
		} a;
		if (sc->a[1] < CLONE_ARGS_VER0)
			return -LX_EINVAL;
		if (uvm_read(&j->p->uvm, sc->a[0], &a, sizeof a) < 0)
			return -LX_EFAULT;
		/* Only a thread's fields: set_tid and cgroup (later versions) must be 0. */
		if (sc->a[1] > CLONE_ARGS_VER0) {
			uint64_t rest[3] = { 0 };
			size_t n = sc->a[1] - CLONE_ARGS_VER0 < sizeof rest ? sc->a[1] - CLONE_ARGS_VER0 : sizeof rest;
			if (uvm_read(&j->p->uvm, sc->a[0] + CLONE_ARGS_VER0, rest, n) < 0)
				return -LX_EFAULT;
			if (rest[0] || rest[1] || rest[2] || sc->a[1] > CLONE_ARGS_VER0 + sizeof rest)
				return 0;
		}
		/* pidfd is read only with CLONE_PIDFD (glibc fills it anyway) */
		if (a.exit_signal)
			return 0;
		if ((a.stack == 0) != (a.stack_size == 0))
			return -LX_EINVAL;
		c->flags = a.flags, c->stack = a.stack + a.stack_size, c->parent_tid = a.parent_tid;
		c->child_tid = a.child_tid, c->tls = a.tls;
	} else {
		return 0;
	}
	if ((c->flags & THREAD_NEEDS) != THREAD_NEEDS || (c->flags & ~(THREAD_NEEDS | THREAD_MAY | 0xff)))
		return 0;
	if ((c->flags & 0xff) || !c->stack)
		return 0; /* an exit signal, or the caller's stack: not a C library's thread */
	if ((c->flags & CLONE_SETTLS) && c->tls >= TASK_SIZE_MAX)
		return -LX_EPERM; /* Linux's do_set_thread_area_64 */
	return 1;
}

struct job *job_thread_new(struct job *j, const struct job_clone *c, int64_t tid)
{
	struct job *t = job_create_thread(j->p, j->id);
	if (!t)
		return NULL;
	t->tid = tid;
	t->regs = j->regs;
	t->regs.rax = 0;
	t->regs.rsp = c->stack;
	t->regs.rcx = t->regs.rip; /* as SYSRET leaves them */
	t->regs.r11 = t->regs.rflags;
	t->fs_base = (c->flags & CLONE_SETTLS) ? c->tls : j->fs_base;
	t->gs_base = j->gs_base;
	memcpy(t->xsave, j->xsave, fpu_area_size());
	t->blocked = j->blocked;
	t->state = JOB_RUNNABLE;
	/* A new thread has no alternate stack, rseq or robust list of its
	 * own (Linux's copy_process with CLONE_VM). */
	t->clear_child_tid = (c->flags & CLONE_CHILD_CLEARTID) ? c->child_tid : 0;
	return t;
}

void job_thread_set_tids(struct job *j, const struct job_clone *c, int64_t tid)
{
	int32_t t32 = (int32_t)tid;
	if (c->flags & CLONE_CHILD_SETTID)
		uvm_write(&j->p->uvm, c->child_tid, &t32, sizeof t32, 0); /* a fault is ignored, as Linux does */
	if (c->flags & CLONE_PARENT_SETTID)
		uvm_write(&j->p->uvm, c->parent_tid, &t32, sizeof t32, 0);
}

/* One robust futex of an ending thread: if it holds it, the word says its
 * owner died and a waiter is woken (Linux's handle_futex_death). The one
 * it was taking (pending, not PI) with the word still 0 may have been
 * released to it with a wake it never saw: a waiter is woken. */
static void futex_death(struct job *j, uint64_t addr, int pending)
{
	uint32_t *w = uvm_word(&j->p->uvm, addr);
	if (!w)
		return;
	uint32_t old = __atomic_load_n(w, __ATOMIC_RELAXED);
	if (pending && old == 0) {
		futex_wake(j, addr, 1, ~0u);
		return;
	}
	do {
		if ((old & FUTEX_TID_MASK) != (uint32_t)j->tid)
			return;
	} while (!__atomic_compare_exchange_n(w, &old, (old & FUTEX_WAITERS) | FUTEX_OWNER_DIED, 0,
					      __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
	if (old & FUTEX_WAITERS)
		futex_wake(j, addr, 1, ~0u);
}

static void robust_list_exit(struct job *j)
{
	struct {
		uint64_t list;
		int64_t futex_offset;
		uint64_t pending;
	} head;
	if (!j->robust_list || uvm_read(&j->p->uvm, j->robust_list, &head, sizeof head) < 0)
		return;
	uint64_t entry = head.list;
	for (int n = 0; entry != j->robust_list && n < ROBUST_LIST_LIMIT; n++) {
		uint64_t next;
		if (uvm_read(&j->p->uvm, entry & ~1ull, &next, sizeof next) < 0)
			return;
		if ((entry & ~1ull) != (head.pending & ~1ull))
			futex_death(j, (entry & ~1ull) + (uint64_t)head.futex_offset, 0);
		entry = next;
	}
	if (head.pending)
		futex_death(j, (head.pending & ~1ull) + (uint64_t)head.futex_offset, !(head.pending & 1));
}

void job_thread_exit(struct job *j)
{
	robust_list_exit(j);
	if (j->clear_child_tid) {
		uint32_t zero = 0;
		if (uvm_write(&j->p->uvm, j->clear_child_tid, &zero, sizeof zero, 0) == 0)
			futex_wake(j, j->clear_child_tid, 1, ~0u);
		j->clear_child_tid = 0;
	}
}

void job_thread_unlink(struct job *j)
{
	for (struct job **pp = &j->p->threads; *pp; pp = &(*pp)->sibling)
		if (*pp == j) {
			*pp = j->sibling;
			j->sibling = NULL;
			break;
		}
	j->p->ran_gone_ns += j->cpu_ns;
	j->cpu_ns = 0;
}

void job_threads_reap(struct job *j)
{
	struct job *leader = job_thread_leader(j);
	for (struct job *t = j->p->threads, *next; t; t = next) {
		next = t->sibling;
		if (t->state != JOB_EXITED)
			continue;
		job_thread_exit(t);
		if (t == leader)
			t->state = JOB_DONE;
		else
			job_destroy(t);
	}
}

struct job *job_thread_find(struct proc *p, int64_t tid)
{
	for (struct job *t = p->threads; t; t = t->sibling)
		if (t->tid == tid && job_thread_live(t))
			return t;
	return NULL;
}

int job_threads_live(const struct job *j)
{
	int n = 0;
	for (const struct job *t = j->p->threads; t; t = t->sibling)
		if (t != j && job_thread_live(t))
			n++;
	return n;
}

struct job *job_thread_leader(struct job *j)
{
	return j->p->leader ? j->p->leader : j;
}
