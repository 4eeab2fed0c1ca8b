/* job_fork.c - the child of a fork made on the node (job_fork.h): the
 * parent's copy, as Linux's fork(2) leaves a child. */
#include <stdlib.h>
#include <string.h>

#include "fpu.h"
#include "job_fork.h"
#include "linux_abi.h"
#include "mm.h"
#include "syscall_codec.h"
#include "syscall.h"
#include "timers.h"

#define CLONE_PARENT_SETTID 0x00100000ull
#define CLONE_CHILD_CLEARTID 0x00200000ull
#define CLONE_CHILD_SETTID 0x01000000ull
/* Kept free for the kernel (its heap, the link's buffers) after a copy. */
#define FORK_RESERVE (8ull << 20)

int job_fork_fits(const struct job *j)
{
	for (uint32_t i = 0; i < j->p->uvm.nregions; i++)
		if (j->p->uvm.regions[i].kind == UVM_SHARED_ANON)
			return 0; /* processes that share memory stay together: home */
	/* Its pages, and about one table page for 512 of them. */
	uint64_t need = (j->p->uvm.pages + j->p->uvm.pages / 512 + 16) * PAGE_SIZE + FORK_RESERVE;
	return pmm_free_bytes() >= need;
}

struct job *job_fork(struct job *parent, uint32_t id, int64_t pid, uint64_t flags, uint64_t child_tid)
{
	struct job *c = job_create(id);
	if (!c)
		return NULL;
	if (uvm_clone(&c->p->uvm, &parent->p->uvm) < 0) {
		job_destroy(c);
		return NULL;
	}
	/* Everything is the parent's, but for what the child owns (its
	 * memory, FPU area, signal queue) and what fork(2) says it does not
	 * inherit: pending signals, timers, resource usage, robust futexes,
	 * memory locks. */
	struct proc *p = c->p;
	struct uvm uvm = p->uvm;
	uint8_t *xsave = c->xsave;
	struct job_sigqueued *sigq = c->own.sigq, *shared_q = p->shared.sigq;
	*c = *parent;
	*p = *parent->p;
	c->p = p;
	c->sibling = NULL;
	p->threads = p->leader = c; /* only the thread that forks is in the child */
	p->nthreads = 1;
	p->uvm = uvm;
	p->id = id;
	memset(&p->shared, 0, sizeof p->shared);
	p->shared.sigq = shared_q;
	p->ran_gone_ns = 0;
	memset(&p->dec, 0, sizeof p->dec); /* the child's calls start its own */
	p->dying = 0;
	p->exit_code = 0;
	c->xsave = xsave;
	c->own.sigq = sigq;
	memcpy(c->xsave, parent->xsave, fpu_area_size());
	c->id = id;
	c->state = JOB_RUNNABLE;
	c->own.pending = c->own.info_pending = 0;
	c->own.nsigq = 0;
	memset(c->own.info, 0, sizeof c->own.info);
	c->p->stopped = 0;
	c->suspended = c->sigwaiting = 0;
	memset(c->p->itimer, 0, sizeof c->p->itimer);
	memset(c->p->timer, 0, sizeof c->p->timer);
	c->p->timer_next_id = 0;
	timers_init(c);
	/* mlock and mlockall(MCL_FUTURE) are not inherited either */
	for (uint32_t i = 0; i < c->p->uvm.nregions; i++)
		c->p->uvm.regions[i].locked = 0;
	c->p->lock_future = 0;
	c->clear_child_tid = flags & CLONE_CHILD_CLEARTID ? child_tid : 0;
	c->robust_list = c->robust_len = 0;
	uint64_t maxrss = parent->p->home_usage.maxrss_kb, ticks = parent->p->home_usage.ticks;
	memset(&c->p->home_usage, 0, sizeof c->p->home_usage);
	c->p->home_usage.maxrss_kb = maxrss;
	c->p->home_usage.ticks = ticks;
	c->p->ident.pid = c->p->ident.tid = c->tid = pid;
	c->p->ident.ppid = parent->p->ident.pid;
	memset(&c->fill, 0, sizeof c->fill);
	c->fault_addr = c->wake_ns = c->sleep_rem = 0;
	c->wake_ret = 0;
	c->cpu_ns = c->came_ns = 0;
	c->cloning = 0;
	c->futex_addr = 0;
	c->futex_bitset = 0;
	c->sleep_restart = c->restart_pending = 0;
	c->last_nr = 0;
	c->exit_code = 0;
	c->p->seq = c->p->sent = 0; /* its own calls, numbered from 1 */
	c->syscalls_local = c->syscalls_forwarded = c->faults = 0;
	syscall_return(c, 0);
	if (flags & CLONE_CHILD_SETTID) {
		int32_t tid = (int32_t)pid;
		uvm_write(&c->p->uvm, child_tid, &tid, sizeof tid, 0); /* Linux ignores a fault here too */
	}
	return c;
}

uint64_t job_fork_sigchld(const struct job *j)
{
	const struct job_sigaction *a = &j->p->act[LX_SIGCHLD - 1];
	return (a->flags & (LX_SA_NOCLDSTOP | LX_SA_NOCLDWAIT)) | (a->handler == LX_SIG_IGN ? OM_FORK_CHLD_IGN : 0);
}

void job_fork_parent_done(struct job *parent, int64_t pid, uint64_t flags, uint64_t parent_tid)
{
	if (pid > 0 && (flags & CLONE_PARENT_SETTID)) {
		int32_t tid = (int32_t)pid;
		uvm_write(&parent->p->uvm, parent_tid, &tid, sizeof tid, 0);
	}
}
