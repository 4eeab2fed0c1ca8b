/* signal.c - pending signals, default actions, and the x86-64 rt_sigframe
 * (Linux arch/x86/kernel/signal_64.c layout: return address, ucontext,
 * siginfo, then the 64-byte aligned XSAVE image with its software bytes). */
#include <stdint.h>
#include <string.h>

#include "console.h"
#include "fpu.h"
#include "futex.h"
#include "job.h"
#include "job_thread.h"
#include "linux_abi.h"
#include "sched.h"
#include "signal.h"
#include "timers.h"
#include "syscall.h"
#include "sysnr.h"
#include "timer.h"

#define BIT(sig) (1ULL << ((sig) - 1))
#define UNBLOCKABLE SIG_UNBLOCKABLE
#define CORE_SIGS (BIT(LX_SIGQUIT) | BIT(LX_SIGILL) | BIT(LX_SIGTRAP) | BIT(LX_SIGABRT) | \
		   BIT(LX_SIGBUS) | BIT(LX_SIGFPE) | BIT(LX_SIGSEGV) | BIT(24) | BIT(25) | BIT(31))
#define IGNORE_SIGS (BIT(LX_SIGCHLD) | BIT(LX_SIGCONT) | BIT(LX_SIGURG) | BIT(LX_SIGWINCH))
/* Their default action stops the job until SIGCONT (or home's JOB_CONTINUE). */
#define STOP_SIGS (BIT(LX_SIGSTOP) | BIT(LX_SIGTSTP) | BIT(LX_SIGTTIN) | BIT(LX_SIGTTOU))

#define RED_ZONE 128
#define SS_AUTODISARM (1u << 31)
#define FP_XSTATE_MAGIC1 0x46505853u
#define FP_XSTATE_MAGIC2 0x46505845u
#define UC_FP_XSTATE 0x1
#define UC_SIGCONTEXT_SS 0x2
#define UC_STRICT_RESTORE_SS 0x4
/* Linux's user selectors (arch/x86/include/asm/segment.h, __USER_CS and
 * __USER_DS): a frame made here may be returned from at home, where
 * rt_sigreturn loads them (this kernel's own, 0x2b and 0x23, are other
 * segments there: the return would fault). This kernel's sigreturn keeps
 * its own. */
#define LX_USER_CS 0x33
#define LX_USER_DS 0x2b
#define RFLAGS_TF 0x100
#define RFLAGS_DF 0x400

struct lx_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2, fpstate;
	uint64_t reserved1[8];
};

struct lx_ucontext {
	uint64_t uc_flags, uc_link;
	uint64_t ss_sp;
	int32_t ss_flags, pad;
	uint64_t ss_size;
	struct lx_sigcontext mc;
	uint64_t sigmask;
};

struct lx_siginfo {
	int32_t signo, err, code, pad;
	union {
		uint8_t bytes[112];
	} u;
};

struct lx_rt_sigframe {
	uint64_t pretcode;
	struct lx_ucontext uc;
	struct lx_siginfo info;
};

_Static_assert(sizeof(struct lx_sigcontext) == 256, "sigcontext is 256 bytes");
_Static_assert(sizeof(struct lx_ucontext) == 304, "kernel ucontext is 304 bytes");
_Static_assert(sizeof(struct lx_siginfo) == 128, "siginfo is 128 bytes");

int signal_continue(struct job *j)
{
	int was = j->p->stopped != 0;
	j->p->stopped = 0;
	signal_discard(j, STOP_SIGS); /* as a SIGCONT would: no stop right after */
	return was;
}

struct job_siginfo signal_info_sender(int code, int32_t pid, uint32_t uid, uint64_t value)
{
	struct job_siginfo info = { .code = code };
	memcpy(info.fields + 0, &pid, 4);
	memcpy(info.fields + 4, &uid, 4);
	memcpy(info.fields + 8, &value, 8);
	return info;
}

/* The _sigfault layout: si_addr first. */
static struct job_siginfo info_fault(int code, uint64_t addr, uint32_t trapno, uint32_t err)
{
	struct job_siginfo info = { .code = code, .trapno = trapno, .err = err };
	memcpy(info.fields, &addr, 8);
	return info;
}

static int queued(const struct sigpend *sp, int sig)
{
	for (uint32_t i = 0; i < sp->nsigq; i++)
		if (sp->sigq[i].sig == sig)
			return 1;
	return 0;
}

static void discard(struct job *j, struct sigpend *sp, uint64_t sigs)
{
	uint32_t k = 0;
	for (uint32_t i = 0; i < sp->nsigq; i++) {
		if (sigs & BIT(sp->sigq[i].sig)) {
			if (sp->sigq[i].info.timer)
				timers_signal_gone(j, &sp->sigq[i].info);
			continue;
		}
		sp->sigq[k++] = sp->sigq[i];
	}
	sp->nsigq = k;
	sp->pending &= ~sigs;
	sp->info_pending &= ~sigs;
}

/* Every thread's and the process's pending instances, as Linux's
 * flush_sigqueue_mask over the thread group. */
void signal_discard(struct job *j, uint64_t sigs)
{
	discard(j, &j->p->shared, sigs);
	for (struct job *t = j->p->threads; t; t = t->sibling)
		discard(t, &t->own, sigs);
}

uint64_t signal_pending(const struct job *j)
{
	return j->own.pending | j->p->shared.pending;
}

/* Whether each of sigs pending in sp came from a timer of the process
 * here, and only from one. */
static int from_timers(const struct sigpend *sp, uint64_t sigs)
{
	for (int sig = 1; sig <= JOB_NSIG; sig++) {
		if (!(sigs & sp->pending & BIT(sig)))
			continue;
		int timer = 0, other = 0;
		if (sp->info_pending & BIT(sig)) {
			timer |= sp->info[sig - 1].node_timer;
			other |= !sp->info[sig - 1].node_timer;
		}
		for (uint32_t i = 0; i < sp->nsigq; i++)
			if (sp->sigq[i].sig == sig) {
				timer |= sp->sigq[i].info.node_timer;
				other |= !sp->sigq[i].info.node_timer;
			}
		if (other || !timer)
			return 0;
	}
	return 1;
}

int signal_ready_from_timers(const struct job *j)
{
	uint64_t ready = signal_pending(j) & ~(j->blocked & ~UNBLOCKABLE);
	return ready && from_timers(&j->own, ready) && from_timers(&j->p->shared, ready);
}

static int ignored(const struct job *j, int sig)
{
	const struct job_sigaction *a = &j->p->act[sig - 1];
	return sig != LX_SIGKILL && (a->handler == LX_SIG_IGN || (a->handler == LX_SIG_DFL && (IGNORE_SIGS & BIT(sig))));
}

/* The instance kept in info[]: a signal below SIGRTMIN is pending at most
 * once (a second is lost, the first's info stays). */
static void keep_one(struct sigpend *sp, int sig, const struct job_siginfo *info)
{
	if (!(sp->info_pending & BIT(sig)))
		sp->info[sig - 1] = *info;
	sp->info_pending |= BIT(sig);
	sp->pending |= BIT(sig);
}

/* Whether every thread of j's process holds sig back (blocked, or
 * sigwaiting without it in its set). */
static uint64_t held(const struct job *t)
{
	return t->blocked | (t->sigwaiting ? t->sigwait_mask : 0);
}

static int blocked_by_all(const struct job *j, int sig)
{
	for (const struct job *t = j->p->threads; t; t = t->sibling)
		if (job_thread_live(t) && !(held(t) & BIT(sig)))
			return 0;
	return 1;
}

static int raise_in(struct job *j, struct sigpend *sp, int sig, const struct job_siginfo *info, int held)
{
	if (sig < 1 || sig > JOB_NSIG)
		return -LX_EINVAL;
	/* As Linux's prepare_signal: SIGCONT (and SIGKILL) end a stop at once,
	 * whatever the job does with the signal; a stop and a SIGCONT cancel
	 * each other's pending instance; then an ignored signal is dropped
	 * unless blocked (its action may change before it is unblocked). */
	if (sig == LX_SIGCONT || sig == LX_SIGKILL)
		signal_continue(j);
	else if (STOP_SIGS & BIT(sig))
		signal_discard(j, BIT(LX_SIGCONT));
	if (!held && ignored(j, sig))
		return 0;
	if (sig < LX_SIGRTMIN && !info->timer) {
		keep_one(sp, sig, info);
		return 0;
	}
	/* Real-time signals queue, each with its info; a timer's signal has a
	 * slot of its own (Linux preallocates it), so only the others can find
	 * the queue full: from kill() or the kernel the signal still comes,
	 * without its info; from sigqueue it fails (Linux's
	 * __send_signal_locked). */
	if (!info->timer && sp->nsigq >= JOB_SIGQUEUE_MAX) {
		if (info->code != LX_SI_USER && info->code != LX_SI_KERNEL)
			return -LX_EAGAIN;
		struct job_siginfo bare = { .code = LX_SI_USER };
		keep_one(sp, sig, &bare);
		return 0;
	}
	sp->sigq[sp->nsigq].sig = sig;
	sp->sigq[sp->nsigq].info = *info;
	sp->nsigq++;
	sp->pending |= BIT(sig);
	return 0;
}

int signal_raise(struct job *j, int sig, const struct job_siginfo *info)
{
	return raise_in(j, &j->p->shared, sig, info, sig >= 1 && sig <= JOB_NSIG && blocked_by_all(j, sig));
}

int signal_raise_thread(struct job *j, int sig, const struct job_siginfo *info)
{
	return raise_in(j, &j->own, sig, info, sig >= 1 && sig <= JOB_NSIG && (held(j) & BIT(sig)));
}

static struct job_siginfo dequeue_from(struct job *j, struct sigpend *sp, int sig)
{
	struct job_siginfo info = sp->info[sig - 1];
	if (sp->info_pending & BIT(sig)) {
		sp->info_pending &= ~BIT(sig);
	} else {
		uint32_t i;
		for (i = 0; i < sp->nsigq && sp->sigq[i].sig != sig; i++)
			;
		if (i < sp->nsigq) {
			info = sp->sigq[i].info;
			memmove(&sp->sigq[i], &sp->sigq[i + 1], (sp->nsigq - i - 1) * sizeof sp->sigq[0]);
			sp->nsigq--;
			if (info.timer)
				timers_signal_delivered(j, &info);
		}
	}
	if (!(sp->info_pending & BIT(sig)) && !queued(sp, sig))
		sp->pending &= ~BIT(sig);
	return info;
}

/* Takes one instance of sig off the pending sets and returns its info:
 * the thread's own first, then the process's (as Linux's dequeue_signal);
 * in each the one kept in info[] first (it came before any queued beside
 * it, a timer's aside), then the queue's oldest. */
static struct job_siginfo dequeue(struct job *j, int sig)
{
	return dequeue_from(j, (j->own.pending & BIT(sig)) ? &j->own : &j->p->shared, sig);
}

void signal_unshare(struct job *j)
{
	struct sigpend *sh = &j->p->shared, *own = &j->own;
	for (uint64_t r = sh->info_pending & ~own->info_pending; r; r &= r - 1)
		own->info[__builtin_ctzll(r)] = sh->info[__builtin_ctzll(r)];
	own->info_pending |= sh->info_pending;
	/* Both queues together hold at most what one can: the timers' slots
	 * are the process's, the others are bounded per sender by the cap. */
	for (uint32_t i = 0; i < sh->nsigq && own->nsigq < JOB_SIGQUEUE_MAX + JOB_TIMERS_MAX; i++)
		own->sigq[own->nsigq++] = sh->sigq[i];
	own->pending |= sh->pending;
	sh->pending = sh->info_pending = 0;
	sh->nsigq = 0;
}

void signal_fault(struct job *j, int sig, int code, uint64_t addr, uint32_t trapno, uint32_t err)
{
	struct job_sigaction *a = &j->p->act[sig - 1];
	if ((j->blocked & BIT(sig)) || a->handler == LX_SIG_IGN) {
		a->handler = LX_SIG_DFL;
		j->blocked &= ~BIT(sig);
	}
	/* A fault's info is the fault's, even if the signal was pending. */
	discard(j, &j->own, BIT(sig));
	struct job_siginfo info = info_fault(code, addr, trapno, err);
	signal_raise_thread(j, sig, &info);
}

void signal_force(struct job *j, int sig, int code, uint64_t addr)
{
	signal_fault(j, sig, code, addr, 0, 0);
}

static int on_altstack(const struct job *j, uint64_t sp)
{
	return j->altstack_size && sp > j->altstack_sp && sp <= j->altstack_sp + j->altstack_size;
}

void signal_die(struct job *j, int sig)
{
	j->exit_code = LX_W_SIGNALED((uint32_t)sig, (CORE_SIGS & BIT(sig)) != 0);
	j->state = JOB_EXITED;
	if (!j->p->dying) { /* the whole process: every thread ends */
		j->p->dying = 1;
		j->p->exit_code = j->exit_code;
	}
}

/* A thread interrupted inside a vDSO trampoline (the home side patched
 * each entry to `mov $NR, %eax; syscall; ret`, or `mov $-ENOSYS, %rax;
 * ret`): the frame must not return there, since a process that goes home
 * with it finds the real vDSO's code at those addresses. The same point
 * outside: at the ret, the caller, with the result; at the syscall, the
 * entry, which makes the call again. */
static void frame_outside_vdso(struct job *j)
{
	const struct uvm_region *r = uvm_find(&j->p->uvm, j->regs.rip);
	uint8_t at[2], mov;
	uint64_t ret;
	if (!r || r->kind != UVM_VDSO || uvm_read(&j->p->uvm, j->regs.rip, at, 1) < 0)
		return;
	if (at[0] == 0xc3) {
		if (uvm_read(&j->p->uvm, j->regs.rsp, &ret, 8) == 0) {
			j->regs.rip = ret;
			j->regs.rsp += 8;
		}
		return;
	}
	if (j->regs.rip >= r->start + 5 && uvm_read(&j->p->uvm, j->regs.rip, at, 2) == 0 && at[0] == 0x0f &&
	    at[1] == 0x05 && uvm_read(&j->p->uvm, j->regs.rip - 5, &mov, 1) == 0 && mov == 0xb8)
		j->regs.rip -= 5;
}

/* Builds the frame; returns -1 if the stack cannot take it (Linux then
 * forces SIGSEGV). */
static int signal_frame(struct job *j, int sig, const struct job_siginfo *si, const struct job_sigaction *a,
			uint64_t old_mask)
{
	frame_outside_vdso(j);
	uint32_t xsize = fpu_area_size();
	int xsave = fpu_has_xsave();
	uint64_t sp = j->regs.rsp;
	int was_on = on_altstack(j, sp), frame_on_alt = 0;
	if ((a->flags & LX_SA_ONSTACK) && j->altstack_size && !(j->altstack_flags & LX_SS_DISABLE) && !was_on) {
		sp = j->altstack_sp + j->altstack_size;
		frame_on_alt = 1;
	} else {
		sp -= RED_ZONE;
	}
	uint64_t fp = (sp - xsize - (xsave ? 4 : 0)) & ~63ULL;
	uint64_t frame = ((fp - sizeof(struct lx_rt_sigframe)) & ~15ULL) - 8;

	/* The program's FPU state goes out with its software bytes, which tell
	 * libc and sigreturn the layout (arch/x86/include/uapi/asm/sigcontext.h). */
	if (xsave) {
		uint64_t xfeatures = fpu_xcr0();
		uint32_t sw[12] = { FP_XSTATE_MAGIC1, xsize + 4, (uint32_t)xfeatures, (uint32_t)(xfeatures >> 32),
				    xsize };
		memcpy(j->xsave + 464, sw, sizeof sw);
		uint32_t m2 = FP_XSTATE_MAGIC2;
		if (uvm_write(&j->p->uvm, fp + xsize, &m2, 4, 0) < 0)
			return -1;
	}
	if (uvm_write(&j->p->uvm, fp, j->xsave, xsize, 0) < 0)
		return -1;

	struct lx_rt_sigframe f;
	memset(&f, 0, sizeof f);
	f.pretcode = a->restorer;
	f.uc.uc_flags = UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS | (xsave ? UC_FP_XSTATE : 0);
	f.uc.ss_sp = j->altstack_sp;
	f.uc.ss_size = j->altstack_size;
	f.uc.ss_flags = (int32_t)(j->altstack_size ? (was_on ? LX_SS_ONSTACK : 0) | (int32_t)j->altstack_flags
						  : LX_SS_DISABLE);
	const struct trap_frame *r = &j->regs;
	struct lx_sigcontext *mc = &f.uc.mc;
	mc->r8 = r->r8, mc->r9 = r->r9, mc->r10 = r->r10, mc->r11 = r->r11;
	mc->r12 = r->r12, mc->r13 = r->r13, mc->r14 = r->r14, mc->r15 = r->r15;
	mc->rdi = r->rdi, mc->rsi = r->rsi, mc->rbp = r->rbp, mc->rbx = r->rbx;
	mc->rdx = r->rdx, mc->rax = r->rax, mc->rcx = r->rcx, mc->rsp = r->rsp;
	mc->rip = r->rip, mc->eflags = r->rflags;
	mc->cs = LX_USER_CS, mc->ss = LX_USER_DS;
	mc->trapno = si->trapno;
	mc->err = si->err;
	if (si->trapno == 14)
		memcpy(&mc->cr2, si->fields, 8); /* si_addr */
	mc->oldmask = old_mask;
	mc->fpstate = fp;
	f.uc.sigmask = old_mask;
	f.info.signo = sig;
	f.info.err = si->errnum;
	f.info.code = si->code;
	memcpy(f.info.u.bytes, si->fields, sizeof si->fields);
	if (uvm_write(&j->p->uvm, frame, &f, sizeof f, 0) < 0)
		return -1;

	if (frame_on_alt && (j->altstack_flags & SS_AUTODISARM))
		j->altstack_sp = j->altstack_size = j->altstack_flags = 0; /* uc_stack has it */
	j->regs.rsp = frame;
	j->regs.rip = a->handler;
	j->regs.rdi = (uint64_t)sig;
	j->regs.rsi = frame + offsetof(struct lx_rt_sigframe, info);
	j->regs.rdx = frame + offsetof(struct lx_rt_sigframe, uc);
	j->regs.rax = 0;
	j->regs.rflags &= ~(uint64_t)(RFLAGS_TF | RFLAGS_DF);
	job_fpu_init(j);
	return 0;
}

/* A forwarded call that home interrupted for a signal: starts again or
 * fails with EINTR, by the rules of Linux's handle_signal (x86). */
static void signal_restart(struct job *j, int sig)
{
	int64_t code = (int64_t)j->regs.rax;
	const struct job_sigaction *a = sig ? &j->p->act[sig - 1] : NULL;
	int handler = a && a->handler > LX_SIG_IGN && sig != LX_SIGKILL;
	int restart = !handler || code == LX_ERESTARTNOINTR ||
		      (code == LX_ERESTARTSYS && (a->flags & LX_SA_RESTART));
	j->restart_pending = 0;
	if (restart) {
		j->regs.rip -= 2; /* back over SYSCALL: it goes home again */
		j->regs.rax = j->last_nr;
	} else {
		j->regs.rax = (uint64_t)-LX_EINTR;
	}
}

/* rt_sigtimedwait got a signal of its set: it returns the number and the
 * siginfo, and the job's own mask is back (Linux's do_sigtimedwait). */
static void sigwait_complete(struct job *j, int sig)
{
	struct job_siginfo si = dequeue(j, sig);
	decide_taken(j, sig, &si, 1, 0, NULL);
	struct lx_siginfo out;
	memset(&out, 0, sizeof out);
	out.signo = sig;
	out.err = si.errnum;
	out.code = si.code;
	memcpy(out.u.bytes, si.fields, sizeof si.fields);
	j->blocked = j->sigwait_mask;
	j->sigwaiting = 0;
	j->state = JOB_RUNNABLE;
	syscall_return(j, sig);
	if (j->sigwait_info && uvm_write(&j->p->uvm, j->sigwait_info, &out, sizeof out, 0) < 0)
		syscall_return(j, -LX_EFAULT);
}

void signal_wait(struct job *j, struct sys_call *sc, uint64_t set, uint64_t info, uint64_t wake_ns)
{
	set &= ~UNBLOCKABLE;
	uint64_t ready = signal_pending(j) & set;
	if (ready) {
		j->sigwait_mask = j->blocked;
		j->sigwait_info = info;
		sigwait_complete(j, __builtin_ctzll(ready) + 1);
		sc->outcome = SYS_KEEP_REGS;
		return;
	}
	if (wake_ns <= timer_ns()) {
		sc->ret = -LX_EAGAIN;
		return;
	}
	sched_sleep(j, sc, wake_ns, -LX_EAGAIN);
	j->sigwaiting = 1;
	j->sigwait_set = set;
	j->sigwait_mask = j->blocked;
	j->sigwait_info = info;
	j->blocked &= ~set; /* they must reach the job now: they wake it */
}

void signal_settle_restart(struct job *j)
{
	if (!j->restart_pending)
		return;
	/* Linux decides by the signal whose handler runs first; stops,
	 * ignored and fatal signals restart the call. */
	uint64_t ready = signal_pending(j) & ~(j->blocked & ~UNBLOCKABLE);
	int by = 0;
	for (uint64_t r = ready; r && !by; r &= r - 1) {
		int s = __builtin_ctzll(r) + 1;
		if (s != LX_SIGKILL && j->p->act[s - 1].handler > LX_SIG_IGN)
			by = s;
	}
	signal_restart(j, by);
}

int signal_ready(const struct job *j)
{
	uint64_t ready = signal_pending(j) & ~(j->blocked & ~UNBLOCKABLE);
	for (; ready; ready &= ready - 1)
		if (!ignored(j, __builtin_ctzll(ready) + 1))
			return 1;
	return 0;
}

int signal_fatal_ready(const struct job *j)
{
	uint64_t ready = signal_pending(j) & ~(j->blocked & ~UNBLOCKABLE);
	for (; ready; ready &= ready - 1) {
		int s = __builtin_ctzll(ready) + 1;
		if (s == LX_SIGKILL || (j->p->act[s - 1].handler == LX_SIG_DFL && !((IGNORE_SIGS | STOP_SIGS) & BIT(s))))
			return s;
	}
	return 0;
}

void signal_wait_timeout(struct job *j)
{
	uint64_t ready = signal_pending(j) & j->sigwait_set;
	if (ready) { /* it came in the same step as the deadline: it wins */
		sigwait_complete(j, __builtin_ctzll(ready) + 1);
		return;
	}
	j->blocked = j->sigwait_mask;
	j->sigwaiting = 0;
	j->state = JOB_RUNNABLE;
	syscall_return(j, -LX_EAGAIN);
}

int signal_deliver(struct job *j)
{
	uint64_t ready = signal_pending(j) & ~(j->blocked & ~UNBLOCKABLE);
	if (j->p->stopped)
		ready &= BIT(LX_SIGKILL); /* the rest wait for SIGCONT */
	if (ready && j->p->dec.on)
		decide_place(j); /* where it is, before a call cut short is settled */
	if (j->state == JOB_RUNNABLE)
		signal_settle_restart(j);
	if (!ready || j->state == JOB_EXITED)
		return 0;
	if (j->sigwaiting && (ready & j->sigwait_set)) {
		sigwait_complete(j, __builtin_ctzll(ready & j->sigwait_set) + 1);
		return 1;
	}
	int sig = __builtin_ctzll(ready) + 1;
	struct job_sigaction *a = &j->p->act[sig - 1];
	struct job_siginfo info = dequeue(j, sig);

	/* An ignored signal is dropped without a trace: it wakes nothing. */
	if (ignored(j, sig))
		return 1;
	/* The time left a sleep it cuts short reports (nanosleep's rem),
	 * known before it is kept. */
	int sleep_restarts = j->sleep_restart && a->handler > LX_SIG_IGN && (a->flags & LX_SA_RESTART);
	uint64_t rem_at = j->state == JOB_SLEEPING && !sleep_restarts ? j->sleep_rem : 0;
	struct lx_timespec rem = { 0, 0 };
	if (rem_at) {
		uint64_t now = timer_ns(), left = j->wake_ns > now ? j->wake_ns - now : 0;
		rem = (struct lx_timespec){ (int64_t)(left / 1000000000u), (int64_t)(left % 1000000000u) };
		decide_rem(j, rem_at, &rem);
	}
	decide_taken(j, sig, &info, j->state == JOB_SLEEPING, rem_at, &rem);
	/* A stop leaves a sleep or sigsuspend as it is: it goes on after
	 * SIGCONT, as Linux restarts it. */
	if (a->handler == LX_SIG_DFL && (STOP_SIGS & BIT(sig))) {
		j->p->stopped = sig;
		return 1;
	}

	/* A signal ends a sleep (nanosleep, pause, sigsuspend): the call fails
	 * with EINTR (nanosleep saying how much was left), or starts again
	 * when SA_RESTART says so. */
	if (j->state == JOB_SLEEPING) {
		j->state = JOB_RUNNABLE;
		futex_forget(j);
		if (j->sigwaiting) { /* rt_sigtimedwait: its mask is back before the handler runs */
			j->blocked = j->sigwait_mask;
			j->sigwaiting = 0;
		}
		if (sleep_restarts) {
			j->regs.rip -= 2; /* back over SYSCALL; RAX still holds its number */
		} else {
			syscall_return(j, -LX_EINTR);
			if (rem_at && uvm_write(&j->p->uvm, rem_at, &rem, sizeof rem, 0) < 0)
				syscall_return(j, -LX_EFAULT);
		}
		j->sleep_rem = 0;
	}
	uint64_t old_mask = j->suspended ? j->suspend_mask : j->blocked;
	if (j->suspended && a->handler <= LX_SIG_IGN)
		j->blocked = j->suspend_mask; /* no frame will carry the mask back */
	j->suspended = 0;

	if (sig == LX_SIGKILL || a->handler == LX_SIG_DFL) {
		signal_die(j, sig);
		return 1;
	}
	if (!(a->flags & LX_SA_RESTORER) || signal_frame(j, sig, &info, a, old_mask) < 0) {
		signal_die(j, LX_SIGSEGV); /* what Linux's force_sigsegv amounts to here */
		return 1;
	}
	j->blocked = (j->blocked | a->mask | ((a->flags & LX_SA_NODEFER) ? 0 : BIT(sig))) & ~UNBLOCKABLE;
	if (a->flags & LX_SA_RESETHAND)
		a->handler = LX_SIG_DFL;
	return 1;
}

/* ---- the system calls that touch the frame */

void sys_sigaltstack(struct job *j, struct sys_call *sc)
{
	struct { uint64_t sp; int32_t flags, pad; uint64_t size; } neu, old = {
		j->altstack_sp, (int32_t)(j->altstack_size ? (on_altstack(j, j->regs.rsp) ? LX_SS_ONSTACK : 0) |
							     (int32_t)j->altstack_flags
						   : LX_SS_DISABLE), 0, j->altstack_size };
	if (sc->a[0]) {
		if (uvm_read(&j->p->uvm, sc->a[0], &neu, sizeof neu) < 0) {
			sc->ret = -LX_EFAULT;
			return;
		}
		/* On an autodisarmed stack the handler may set a new one. */
		if (on_altstack(j, j->regs.rsp) && !(j->altstack_flags & SS_AUTODISARM)) {
			sc->ret = -LX_EPERM;
			return;
		}
		uint32_t mode = (uint32_t)neu.flags & ~SS_AUTODISARM;
		if (mode != 0 && mode != LX_SS_ONSTACK && mode != LX_SS_DISABLE) {
			sc->ret = -LX_EINVAL; /* SS_ONSTACK is accepted as 0, as Linux does */
			return;
		}
		if (neu.flags & LX_SS_DISABLE) {
			j->altstack_sp = j->altstack_size = 0;
		} else {
			if (neu.size < 2048) { /* MINSIGSTKSZ */
				sc->ret = -12; /* ENOMEM */
				return;
			}
			j->altstack_sp = neu.sp;
			j->altstack_size = neu.size;
		}
		j->altstack_flags = (neu.flags & LX_SS_DISABLE) ? 0 : (uint32_t)neu.flags & SS_AUTODISARM;
	}
	sc->ret = 0;
	if (sc->a[1] && uvm_write(&j->p->uvm, sc->a[1], &old, sizeof old, 0) < 0)
		sc->ret = -LX_EFAULT;
}

void sys_rt_sigreturn(struct job *j, struct sys_call *sc)
{
	struct lx_ucontext uc;
	uint64_t ucp = j->regs.rsp - 8 + offsetof(struct lx_rt_sigframe, uc);
	sc->outcome = SYS_KEEP_REGS;
	if (uvm_read(&j->p->uvm, ucp, &uc, sizeof uc) < 0) {
		signal_force(j, LX_SIGSEGV, LX_SI_KERNEL, 0);
		return;
	}
	struct trap_frame *r = &j->regs;
	const struct lx_sigcontext *mc = &uc.mc;
	r->r8 = mc->r8, r->r9 = mc->r9, r->r10 = mc->r10, r->r11 = mc->r11;
	r->r12 = mc->r12, r->r13 = mc->r13, r->r14 = mc->r14, r->r15 = mc->r15;
	r->rdi = mc->rdi, r->rsi = mc->rsi, r->rbp = mc->rbp, r->rbx = mc->rbx;
	r->rdx = mc->rdx, r->rax = mc->rax, r->rcx = mc->rcx, r->rsp = mc->rsp;
	r->rip = mc->rip, r->rflags = mc->eflags; /* job_run masks the flags */
	j->blocked = uc.sigmask & ~UNBLOCKABLE;
	/* restore_altstack: the frame's uc_stack is the stack again (an
	 * autodisarmed one comes back), unless the job is running on it. */
	if (!on_altstack(j, r->rsp)) {
		uint32_t fl = (uint32_t)uc.ss_flags;
		if ((fl & LX_SS_DISABLE) || uc.ss_size < 2048) {
			j->altstack_sp = j->altstack_size = j->altstack_flags = 0;
		} else {
			j->altstack_sp = uc.ss_sp;
			j->altstack_size = uc.ss_size;
			j->altstack_flags = fl & SS_AUTODISARM;
		}
	}
	if (mc->fpstate) {
		if (uvm_read(&j->p->uvm, mc->fpstate, j->xsave, fpu_area_size()) < 0) {
			job_fpu_init(j);
			signal_force(j, LX_SIGSEGV, LX_SI_KERNEL, 0);
			return;
		}
		/* Whatever the program wrote there must not fault (F)XRSTOR in
		 * the kernel. */
		fpu_area_sanitize(j->xsave);
	} else {
		job_fpu_init(j);
	}
}
