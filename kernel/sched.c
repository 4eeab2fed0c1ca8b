/* sched.c - the jobs' run loop: run, handle the trap, repeat, on every
 * core. The kernel lock (klock.h) is held except while a job runs in
 * ring 3; job->cpu says which core runs it there. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "console.h"
#include "cpu.h"
#include "job.h"
#include "futex.h"
#include "job_exec.h"
#include "job_thread.h"
#include "klock.h"
#include "lapic.h"
#include "linux_abi.h"
#include "percpu.h"
#include "sched.h"
#include "signal.h"
#include "smp.h"
#include "syscall.h"
#include "syscall_codec.h"
#include "sysnr.h"
#include "timer.h"
#include "timers.h"

#define PF_WRITE 0x2 /* page-fault error code bits (SDM vol. 3, 4.7) */
#define PF_INSTR 0x10

#define SLICE_NS (1000000000ull / TIMER_HZ)

/* The jobs here, in the order they take turns, each with its host. */
static struct {
	struct job *job;
	const struct job_host *host;
	uint64_t prepared; /* the step that last prepared it */
} run[SCHED_THREADS_MAX];
static int nrun;
static int rr;            /* where the next core looks for a job first */
static uint64_t steps;

static int slot_of(const struct job *j)
{
	for (int i = 0; i < nrun; i++)
		if (run[i].job == j)
			return i;
	return -1;
}

static const struct job_host *host_of(const struct job *j)
{
	int i = slot_of(j);
	return i < 0 ? NULL : run[i].host;
}

int sched_count(void) { return nrun; }

int sched_processes(void)
{
	int n = 0;
	for (int i = 0; i < nrun; i++)
		n += job_thread_leader(run[i].job) == run[i].job;
	return n;
}
struct job *sched_job(int i) { return i >= 0 && i < nrun ? run[i].job : NULL; }

struct job *sched_find(uint32_t id)
{
	for (int i = 0; i < nrun; i++)
		if (run[i].job->id == id)
			return run[i].job;
	return NULL;
}

static void shootdown(struct uvm *u);

int sched_start(struct job *j, const struct job_host *host)
{
	if (nrun == SCHED_THREADS_MAX || (job_thread_leader(j) == j && sched_processes() >= SCHED_JOBS_MAX))
		return -1;
	uvm_shootdown = shootdown;
	run[nrun].job = j;
	run[nrun].host = host;
	nrun++;
	j->state = JOB_RUNNABLE;
	j->cpu = -1;
	smp_wake_idle();
	return 0;
}

/* Takes j off the run list; the caller now owns it. */
static void unlist(struct job *j)
{
	int i = slot_of(j);
	if (i < 0)
		return;
	memmove(&run[i], &run[i + 1], (size_t)(nrun - i - 1) * sizeof run[0]);
	nrun--;
	for (int c = 0; c < ncpus; c++)
		if (cpus[c].last == j) /* the next job's turn begins */
			cpus[c].last = NULL;
	if (rr > i)
		rr--;
	if (rr >= nrun)
		rr = 0;
}

void sched_yield_turn(void)
{
	this_cpu()->turn_over = 1;
}

/* Home made the thread's tid (ret): the thread starts here. */
static int64_t clone_done(struct job *j, int64_t tid)
{
	j->cloning = 0;
	if (tid <= 0)
		return tid;
	struct job *t = job_thread_new(j, &j->clone, tid);
	if (t && sched_start(t, host_of(j)) == 0) {
		job_thread_set_tids(j, &j->clone, tid);
		return tid;
	}
	/* Its home thread stays, unused, until the process ends there. */
	if (t) {
		job_thread_unlink(t);
		job_destroy(t);
	}
	return -LX_EAGAIN;
}

void sched_reply(struct job *j, int64_t ret)
{
	if (slot_of(j) < 0 || j->state != JOB_WAIT_HOME)
		return;
	if (j->cloning)
		ret = clone_done(j, ret);
	syscall_return(j, ret);
	j->restart_pending = ret >= LX_ERESTART_MIN && ret <= LX_ERESTART_MAX;
	j->state = JOB_RUNNABLE;
	/* Prepared again before it runs: a reply made while the others are
	 * prepared (a vfork's child ending there) must not let it run past
	 * the signals that came while it waited. */
	sched_ready(j);
}

void sched_ready(struct job *j)
{
	int i = slot_of(j);
	if (i >= 0)
		run[i].prepared = 0;
	smp_wake_idle();
}

/* A CPU exception in ring 3 becomes what Linux makes of it. */
/* Linux's si_code for an x87 (#MF) or SSE (#XM) exception: the first
 * unmasked flag in its order (arch/x86/kernel/fpu/core.c). */
static int fpe_code(struct job *j, int simd)
{
	uint32_t flags;
	if (simd) {
		uint32_t mxcsr = *(uint32_t *)(j->xsave + 24);
		flags = mxcsr & ~(mxcsr >> 7) & 0x3f;
	} else {
		uint16_t fcw = *(uint16_t *)(j->xsave + 0), fsw = *(uint16_t *)(j->xsave + 2);
		flags = fsw & ~fcw & 0x3f;
	}
	if (flags & 0x01)
		return 7; /* FPE_FLTINV */
	if (flags & 0x04)
		return 3; /* FPE_FLTDIV */
	if (flags & 0x08)
		return 4; /* FPE_FLTOVF */
	if (flags & 0x12)
		return 5; /* FPE_FLTUND */
	if (flags & 0x20)
		return 6; /* FPE_FLTRES */
	return 0;
}

/* A CPU exception in ring 3 becomes what Linux makes of it. */
static void sched_fault(struct job *j)
{
	const struct trap_frame *r = &j->regs;
	uint32_t vec = (uint32_t)r->vector, err = (uint32_t)r->error;
	j->faults++;
	switch (vec) {
	case 14: {
		int rc = uvm_fault(&j->p->uvm, j->fault_addr, (err & PF_WRITE) != 0, (err & PF_INSTR) != 0);
		if (rc == 0)
			return;
		if (rc == -LX_ENOMEM)
			kprintf("job %u: out of memory at %#lx\n", j->id, j->fault_addr);
		else if (j->p->act[LX_SIGSEGV - 1].handler == LX_SIG_DFL) /* as Linux's log line, when it kills */
			kprintf("job %u: segfault at %#lx rip %#lx rsp %#lx error %x\n", j->id, j->fault_addr, r->rip,
				r->rsp, err | 4);
		signal_fault(j, LX_SIGSEGV, rc == -LX_EACCES ? LX_SEGV_ACCERR : LX_SEGV_MAPERR, j->fault_addr, vec,
			     err | 4 /* user */);
		return;
	}
	case 0: signal_fault(j, LX_SIGFPE, LX_FPE_INTDIV, r->rip, vec, 0); return;
	case 1: signal_fault(j, LX_SIGTRAP, LX_TRAP_BRKPT, r->rip, vec, 0); return;
	case 3: signal_fault(j, LX_SIGTRAP, LX_SI_KERNEL, 0, vec, 0); return;
	case 6: {
		/* An instruction this CPU does not have: at home the job runs it,
		 * or gets its SIGILL there if no CPU has it. */
		uint8_t op[4] = { 0 };
		char what[48];
		uvm_read(&j->p->uvm, r->rip, op, sizeof op);
		snprintf(what, sizeof what, "invalid opcode %02x %02x %02x %02x at %#lx", op[0], op[1], op[2],
			 op[3], r->rip);
		j->state = JOB_WAIT_HOME;
		j->home_fault = 1;
		host_of(j)->go_home(j, 1, -1, what);
		return;
	}
	case 16: signal_fault(j, LX_SIGFPE, fpe_code(j, 0), r->rip, vec, 0); return;
	case 19: signal_fault(j, LX_SIGFPE, fpe_code(j, 1), r->rip, vec, 0); return;
	case 12: signal_fault(j, LX_SIGBUS, LX_SI_KERNEL, 0, vec, err); return;
	case 17: signal_fault(j, LX_SIGBUS, LX_BUS_ADRALN, 0, vec, err); return;
	default: signal_fault(j, LX_SIGSEGV, LX_SI_KERNEL, 0, vec, err); return;
	}
}

static void sched_syscall(struct job *j)
{
	const struct job_host *host = host_of(j);
	struct sys_call sc;
	syscall_handle(j, &sc);
	/* A program's own clone that looks like the node's request for a
	 * home thread is no such request. */
	if (sc.outcome == SYS_FORWARD && om_syscall_is_thread((unsigned)sc.nr, sc.a))
		sc.outcome = SYS_HOME;
	/* pthread_create: home makes the tid, the thread starts here (or the
	 * process goes home, if its host cannot). */
	if (sc.outcome == SYS_HOME && (sc.nr == NR_clone || sc.nr == NR_clone3) && host->thread_ok &&
	    host->thread_ok(j)) {
		int rc = job_thread_clone(j, &sc, &j->clone);
		if (rc < 0) {
			sc.outcome = SYS_RETURN;
			sc.ret = rc;
		} else if (rc == 1) {
			sc.outcome = SYS_FORWARD;
			j->cloning = 1;
		}
	}
	/* A fork the host cannot make here (no room for the child) goes
	 * home, and so does an execve whose state the call cannot carry. */
	if (sc.outcome == SYS_FORWARD && om_syscall_is_fork((unsigned)sc.nr, sc.a) &&
	    !(host->fork_ok && host->fork_ok(j)))
		sc.outcome = SYS_HOME;
	/* A threaded process's execve goes home with its threads: the deputy
	 * runs a forwarded execve in the leader's home thread only. */
	if (sc.outcome == SYS_FORWARD && sc.nr == NR_execve &&
	    (!job_exec_fits(j) || job_thread_leader(j) != j || job_threads_live(j) > 0))
		sc.outcome = SYS_HOME;
	switch (sc.outcome) {
	case SYS_RETURN: syscall_return(j, sc.ret); break;
	case SYS_KEEP_REGS:
	case SYS_BLOCK:
	case SYS_EXITED: break;
	case SYS_FORWARD:
		j->state = JOB_WAIT_HOME;
		j->last_nr = sc.nr;
		j->syscalls_forwarded++;
		host->forward(j, &sc);
		break;
	case SYS_FILL:
		j->state = JOB_WAIT_HOME;
		j->last_nr = sc.nr;
		host->fill(j);
		break;
	case SYS_HOME:
		j->state = JOB_WAIT_HOME;
		host->go_home(j, 0, (int32_t)sc.nr, om_syscall_name((unsigned)sc.nr));
		break;
	}
}

void sched_sleep(struct job *j, struct sys_call *sc, uint64_t wake_ns, int64_t at_deadline)
{
	j->wake_ns = wake_ns;
	j->wake_ret = at_deadline;
	j->state = JOB_SLEEPING;
	futex_forget(j);
	j->sleep_restart = 0;
	j->sleep_rem = 0;
	sc->ret = 0;
	sc->outcome = SYS_BLOCK;
}

/* Every other thread of a process that is ending comes off its core. */
static void park_threads(struct job *j)
{
	for (struct job *t = j->p->threads; t; t = t->sibling)
		if (t != j)
			sched_park(t);
}

/* j ended (JOB_EXITED). A thread of a process that goes on is let go; the
 * last one ends the process, which its host hears of through the first
 * thread (the one it knows), with the process's status: exit_group's or
 * the fatal signal's, else the last thread's own exit. Returns 0 (j is
 * gone, or kept as JOB_DONE: either way it does not run). */
static int thread_end(struct job *j, const struct job_host *host)
{
	struct proc *p = j->p;
	if (p->dying) {
		park_threads(j);
		/* Each is prepared again in this step, and ends there. */
		for (struct job *t = p->threads; t; t = t->sibling)
			if (t != j)
				sched_ready(t);
	}
	if (job_threads_live(j) > 0) {
		job_thread_exit(j);
		struct job *leader = job_thread_leader(j);
		if (leader == j) {
			j->state = JOB_DONE;
			return 1;
		}
		if (host->thread_gone)
			host->thread_gone(j);
		unlist(j);
		job_thread_unlink(j);
		job_destroy(j);
		return 0;
	}
	/* Each thread called exit: the leader's status, as Linux reports. */
	struct job *leader = job_thread_leader(j);
	uint32_t status = p->dying ? p->exit_code : leader->exit_code;
	if (leader != j) {
		unlist(j);
		job_thread_unlink(j);
		job_destroy(j);
	}
	/* Threads done or not yet gone (dying: each ends on its own turn)
	 * go with the process. */
	for (struct job *t = p->threads, *next; t; t = next) {
		next = t->sibling;
		if (t != leader) {
			unlist(t);
			job_thread_unlink(t);
			job_destroy(t);
		}
	}
	leader->exit_code = status;
	leader->state = JOB_EXITED;
	leader->cpu_ns = job_ran_ns(p); /* the host reports the process's time */
	p->ran_gone_ns = 0;
	unlist(leader);
	host->exited(leader);
	job_destroy(leader);
	return 0;
}

/* What the kernel does for j before it may run: its timers, the end of a
 * sleep, its pending signals (all of them, as Linux on its way back to user
 * mode: handler frames nest), and asking home to cut a call short. Returns
 * 0 when j has ended (and is gone). */
static int prepare(struct job *j, const struct job_host *host)
{
	timers_run(j);
	if (j->state == JOB_DONE)
		return 1;
	if (j->p->dying && j->state != JOB_EXITED) {
		j->state = JOB_EXITED; /* another thread ended the process */
		j->exit_code = j->p->exit_code;
	}
	if (j->state == JOB_SLEEPING && timer_ns() >= j->wake_ns && !decide_cuts_sleep(j)) {
		futex_forget(j);
		if (j->sigwaiting) {
			signal_wait_timeout(j);
		} else {
			j->state = JOB_RUNNABLE;
			syscall_return(j, j->wake_ret);
		}
	}
	/* Before the signals: a vfork's parent killed in its wait dies
	 * there (host->interrupt), and ends below. */
	if (j->state == JOB_WAIT_HOME && !j->p->stopped && signal_ready(j))
		host->interrupt(j);
	int may = decide_may_deliver(j); /* else they wait for its next call */
	for (int n = 0; may && n <= JOB_NSIG && j->state != JOB_WAIT_HOME && j->state != JOB_EXITED; n++) {
		int was_stopped = j->p->stopped;
		decide_prepare(j); /* a replay's signal, where the job took it the first time */
		if (!signal_deliver(j))
			break;
		if (j->p->stopped && !was_stopped)
			host->stopped(j); /* may end the stop at once */
		if (j->p->stopped)
			break;
	}
	if (j->state == JOB_EXITED)
		return thread_end(j, host);
	return 1;
}

/* Only a job prepared in this step may run: one that moved in the list
 * while another was prepared (a job leaving shifts those after it) would
 * otherwise run with its signals or a restart not yet seen to. Nor may a
 * thread of a process another thread has ended since it was prepared (a
 * fatal signal): it ends when it is prepared next. */
static int runnable(int i)
{
	const struct job *j = run[i].job;
	return run[i].prepared == steps && !j->p->stopped && !j->p->dying && j->state == JOB_RUNNABLE &&
	       j->cpu < 0;
}

/* Until every job is prepared in this step: preparing one may end another
 * job's wait (sched_reply), or shift the list (a job ended). */
static void prepare_all(void)
{
	steps++;
	for (int again = 1; again;) {
		again = 0;
		for (int i = 0; i < nrun; i++) {
			if (run[i].prepared == steps)
				continue;
			run[i].prepared = steps;
			if (run[i].job->cpu >= 0)
				continue; /* in ring 3 on another core: its own core prepares it */
			again = 1;
			if (!prepare(run[i].job, run[i].host))
				break; /* the list shifted: look at it afresh */
		}
	}
}

/* uvm_shootdown: an entry of the page tables is about to be removed or
 * weakened; the process's threads in ring 3 on other cores may hold it in
 * their TLBs. They come off their cores first (a core reloads changed
 * tables before it runs one), as Linux's TLB shootdown IPI would flush
 * them; under the kernel lock, none goes back before the change is made. */
static void shootdown(struct uvm *u)
{
	struct proc *p = (struct proc *)((char *)u - offsetof(struct proc, uvm));
	if (p->nthreads > 1)
		for (struct job *t = p->threads; t; t = t->sibling)
			sched_park(t);
}

/* What the kernel does after j came back from ring 3 on core c. */
static void handle_trap(struct job *j, enum job_event ev, struct cpu *c)
{
	j->cpu_ns += c->ran_ns;
	/* Time in the kernel on the job's behalf counts too: a job making
	 * cheap local calls in a loop gets no longer slice than one that
	 * only computes. */
	if (ev == JOB_EV_IRQ || timer_ns() - c->turn_ns >= SLICE_NS)
		c->turn_over = 1;
	if (ev == JOB_EV_SYSCALL)
		sched_syscall(j);
	else if (ev == JOB_EV_FAULT)
		sched_fault(j);
	else if (ev == JOB_EV_BADSTATE) {
		/* Not runnable as it is: the state is unrecoverable, as a
		 * fault in Linux's sigreturn would be. */
		j->regs.rip = 0;
		j->fs_base = j->gs_base = 0;
		j->p->act[LX_SIGSEGV - 1].handler = LX_SIG_DFL; /* as force_sigsegv */
		signal_force(j, LX_SIGSEGV, LX_SI_KERNEL, 0);
	}
}

/* The job this core runs next: the one it ran, until its slice is over,
 * then the next one no core runs (round robin). -1: none. */
static int pick(struct cpu *c)
{
	int cur = c->last ? slot_of(c->last) : -1, i;

	if (cur >= 0 && !c->turn_over && runnable(cur))
		return cur;
	for (int k = 1; k <= nrun; k++)
		if ((i = (rr + k) % nrun) != cur && runnable(i)) {
			rr = i;
			c->turn_ns = timer_ns();
			return i;
		}
	if (cur >= 0 && runnable(cur)) {
		c->turn_ns = timer_ns();
		return cur;
	}
	return -1;
}

int sched_step(void)
{
	struct cpu *c = this_cpu();
	int i;

	prepare_all();
	if (nrun == 0 || (i = pick(c)) < 0)
		return 0;
	c->turn_over = 0;
	struct job *j = run[i].job;
	c->last = c->cur = j;
	j->cpu = c->index;
	j->in_user = 1;
	j->p->uvm.shot = 0;
	kunlock();
	uint64_t t0 = timer_ns();
	c->ev = job_run(j);
	c->ran_ns = timer_ns() - t0;
	/* From here j may be another core's (sched_park): only the lock
	 * tells whether it is still this core's to deal with. */
	__atomic_store_n(&j->in_user, 0, __ATOMIC_RELEASE);
	klock();
	c->kick = 0;
	if (c->cur != j)
		return 1;
	c->cur = NULL;
	j->cpu = -1;
	handle_trap(j, (enum job_event)c->ev, c);
	return 1;
}

void sched_park(struct job *j)
{
	if (j->cpu < 0)
		return;
	struct cpu *o = &cpus[j->cpu];
	o->kick = 1;
	lapic_send(o->apic_id, T_IPI_KICK);
	while (__atomic_load_n(&j->in_user, __ATOMIC_ACQUIRE))
		cpu_pause();
	o->kick = 0; /* it came back (on its own, maybe): its next job runs */
	o->cur = NULL;
	o->turn_over = 1;
	j->cpu = -1;
	j->cpu_ns += o->ran_ns;
	/* What brought it back is undone, not dealt with here: a system
	 * call is made again when it next runs (SYSCALL is 2 bytes, RAX
	 * still holds its number), a fault faults again. The traps that
	 * leave RIP past their instruction become their signal now. */
	if (o->ev == JOB_EV_SYSCALL)
		j->regs.rip -= 2;
	else if (o->ev == JOB_EV_FAULT && (j->regs.vector == 1 || j->regs.vector == 3 || j->regs.vector == 4))
		sched_fault(j);
	int slot = slot_of(j);
	if (slot >= 0)
		run[slot].prepared = 0;
	smp_wake_idle(); /* its core took another job, maybe: another core may run it */
}

void sched_abort(struct job *j)
{
	sched_park(j);
	unlist(j);
	job_destroy(j);
}

void sched_take(struct job *j)
{
	sched_park(j);
	unlist(j);
}
