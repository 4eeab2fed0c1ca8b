/* signal.c - pending signals, default actions, and the x86-64 rt_sigframe
 * (Linux arch/x86/kernel/signal_64.c layout: return address, ucontext,
 * siginfo, then the 64-byte aligned XSAVE image with its software bytes). */
#include <stdint.h>
#include <string.h>

#include "console.h"
#include "cpuinfo.h"
#include "job.h"
#include "linux_abi.h"
#include "signal.h"
#include "syscall.h"
#include "sysnr.h"
#include "timer.h"

#define BIT(sig) (1ULL << ((sig) - 1))
#define UNBLOCKABLE (BIT(LX_SIGKILL) | BIT(LX_SIGSTOP))
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
		struct { int32_t pid; uint32_t uid; } kill;
		uint64_t addr;
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
	int was = j->stopped != 0;
	j->stopped = 0;
	j->pending &= ~STOP_SIGS; /* as a SIGCONT would: no stop right after */
	return was;
}

void signal_raise(struct job *j, int sig, const struct job_siginfo *info)
{
	if (sig < 1 || sig > JOB_NSIG)
		return;
	/* As Linux's prepare_signal: SIGCONT (and SIGKILL) end a stop at once,
	 * whatever the job does with the signal; a stop and a SIGCONT cancel
	 * each other's pending instance. */
	if (sig == LX_SIGCONT || sig == LX_SIGKILL) {
		signal_continue(j);
	} else if (STOP_SIGS & BIT(sig)) {
		j->pending &= ~BIT(LX_SIGCONT);
	}
	j->pending |= BIT(sig);
	j->info[sig - 1] = *info;
}

void signal_fault(struct job *j, int sig, int code, uint64_t addr, uint32_t trapno, uint32_t err)
{
	signal_force(j, sig, code, addr);
	j->info[sig - 1].trapno = trapno;
	j->info[sig - 1].err = err;
}

void signal_force(struct job *j, int sig, int code, uint64_t addr)
{
	struct job_sigaction *a = &j->act[sig - 1];
	if ((j->blocked & BIT(sig)) || a->handler == LX_SIG_IGN) {
		a->handler = LX_SIG_DFL;
		j->blocked &= ~BIT(sig);
	}
	struct job_siginfo info = { .code = code, .addr = addr };
	signal_raise(j, sig, &info);
}

static int on_altstack(const struct job *j, uint64_t sp)
{
	return j->altstack_size && sp > j->altstack_sp && sp <= j->altstack_sp + j->altstack_size;
}

static void job_die(struct job *j, int sig)
{
	j->exit_code = LX_W_SIGNALED((uint32_t)sig, (CORE_SIGS & BIT(sig)) != 0);
	j->state = JOB_EXITED;
}

/* Builds the frame; returns -1 if the stack cannot take it (Linux then
 * forces SIGSEGV). */
static int signal_frame(struct job *j, int sig, const struct job_sigaction *a, uint64_t old_mask)
{
	uint32_t xsize = cpu_xsave_size();
	int xsave = xsize > 512;
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
		uint32_t sw[12] = { FP_XSTATE_MAGIC1, xsize + 4, 0, 0, xsize };
		__asm__ volatile("xgetbv" : "=a"(sw[2]), "=d"(sw[3]) : "c"(0)); /* xfeatures */
		memcpy(j->xsave + 464, sw, sizeof sw);
		uint32_t m2 = FP_XSTATE_MAGIC2;
		if (uvm_write(&j->uvm, fp + xsize, &m2, 4, 0) < 0)
			return -1;
	}
	if (uvm_write(&j->uvm, fp, j->xsave, xsize, 0) < 0)
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
	mc->cs = (uint16_t)r->cs, mc->ss = (uint16_t)r->ss;
	const struct job_siginfo *si = &j->info[sig - 1];
	mc->trapno = si->trapno;
	mc->err = si->err;
	if (si->trapno == 14)
		mc->cr2 = si->addr;
	mc->oldmask = old_mask;
	mc->fpstate = fp;
	f.uc.sigmask = old_mask;
	f.info.signo = sig;
	f.info.code = si->code;
	if (sig == LX_SIGSEGV || sig == LX_SIGBUS || sig == LX_SIGFPE || sig == LX_SIGILL || sig == LX_SIGTRAP)
		f.info.u.addr = si->addr;
	else
		f.info.u.kill.pid = si->pid, f.info.u.kill.uid = si->uid;
	if (uvm_write(&j->uvm, frame, &f, sizeof f, 0) < 0)
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
	const struct job_sigaction *a = sig ? &j->act[sig - 1] : NULL;
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

int signal_deliver(struct job *j)
{
	uint64_t ready = j->pending & ~(j->blocked & ~UNBLOCKABLE);
	if (j->stopped)
		ready &= BIT(LX_SIGKILL); /* the rest wait for SIGCONT */
	if (j->restart_pending && j->state == JOB_RUNNABLE) {
		/* Linux decides by the signal whose handler runs first; stops,
		 * ignored and fatal signals restart the call. */
		int by = 0;
		for (uint64_t r = ready; r && !by; r &= r - 1) {
			int s = __builtin_ctzll(r) + 1;
			if (s != LX_SIGKILL && j->act[s - 1].handler > LX_SIG_IGN)
				by = s;
		}
		signal_restart(j, by);
	}
	if (!ready || j->state == JOB_EXITED)
		return 0;
	int sig = __builtin_ctzll(ready) + 1;
	j->pending &= ~BIT(sig);
	struct job_sigaction *a = &j->act[sig - 1];

	/* An ignored signal is dropped without a trace: it wakes nothing. */
	if (sig != LX_SIGKILL && (a->handler == LX_SIG_IGN ||
				  (a->handler == LX_SIG_DFL && (IGNORE_SIGS & BIT(sig)))))
		return 1;
	/* A stop leaves a sleep or sigsuspend as it is: it goes on after
	 * SIGCONT, as Linux restarts it. */
	if (a->handler == LX_SIG_DFL && (STOP_SIGS & BIT(sig))) {
		j->stopped = sig;
		return 1;
	}

	/* A signal ends a sleep (nanosleep, pause, sigsuspend): the call fails
	 * with EINTR (nanosleep saying how much was left), or starts again
	 * when SA_RESTART says so. */
	if (j->state == JOB_SLEEPING) {
		j->state = JOB_RUNNABLE;
		if (j->sleep_restart && a->handler > LX_SIG_IGN && (a->flags & LX_SA_RESTART)) {
			j->regs.rip -= 2; /* back over SYSCALL; RAX still holds its number */
		} else {
			syscall_return(j, -LX_EINTR);
			if (j->sleep_rem) {
				uint64_t now = timer_ns(), left = j->wake_ns > now ? j->wake_ns - now : 0;
				struct lx_timespec ts = { (int64_t)(left / 1000000000u), (int64_t)(left % 1000000000u) };
				if (uvm_write(&j->uvm, j->sleep_rem, &ts, sizeof ts, 0) < 0)
					syscall_return(j, -LX_EFAULT);
			}
		}
		j->sleep_rem = 0;
	}
	uint64_t old_mask = j->suspended ? j->suspend_mask : j->blocked;
	if (j->suspended && a->handler <= LX_SIG_IGN)
		j->blocked = j->suspend_mask; /* no frame will carry the mask back */
	j->suspended = 0;

	if (sig == LX_SIGKILL || a->handler == LX_SIG_DFL) {
		job_die(j, sig);
		return 1;
	}
	if (!(a->flags & LX_SA_RESTORER) || signal_frame(j, sig, a, old_mask) < 0) {
		job_die(j, LX_SIGSEGV); /* what Linux's force_sigsegv amounts to here */
		return 1;
	}
	j->blocked = (j->blocked | a->mask | ((a->flags & LX_SA_NODEFER) ? 0 : BIT(sig))) & ~UNBLOCKABLE;
	if (a->flags & LX_SA_RESETHAND)
		a->handler = LX_SIG_DFL;
	return 1;
}

/* ---- the system calls */

static void sys_rt_sigaction(struct job *j, struct sys_call *sc)
{
	int sig = (int)sc->a[0];
	if (sc->a[3] != 8 || sig < 1 || sig > JOB_NSIG) {
		sc->ret = -LX_EINVAL;
		return;
	}
	struct job_sigaction *a = &j->act[sig - 1], neu;
	if (sc->a[1]) {
		if (sig == LX_SIGKILL || sig == LX_SIGSTOP) {
			sc->ret = -LX_EINVAL;
			return;
		}
		if (uvm_read(&j->uvm, sc->a[1], &neu, sizeof neu) < 0) {
			sc->ret = -LX_EFAULT;
			return;
		}
	}
	if (sc->a[2] && uvm_write(&j->uvm, sc->a[2], a, sizeof *a, 0) < 0) {
		sc->ret = -LX_EFAULT;
		return;
	}
	if (sc->a[1]) {
		neu.mask &= ~UNBLOCKABLE;
		*a = neu;
		if (a->handler == LX_SIG_IGN || (a->handler == LX_SIG_DFL && (IGNORE_SIGS & BIT(sig))))
			j->pending &= ~BIT(sig); /* POSIX: setting SIG_IGN discards it */
	}
	sc->ret = 0;
}

static void sys_rt_sigprocmask(struct job *j, struct sys_call *sc)
{
	uint64_t set, old = j->blocked;
	if (sc->a[3] != 8) {
		sc->ret = -LX_EINVAL;
		return;
	}
	if (sc->a[1]) {
		if (uvm_read(&j->uvm, sc->a[1], &set, sizeof set) < 0) {
			sc->ret = -LX_EFAULT;
			return;
		}
		switch (sc->a[0]) {
		case LX_SIG_BLOCK: j->blocked |= set; break;
		case LX_SIG_UNBLOCK: j->blocked &= ~set; break;
		case LX_SIG_SETMASK: j->blocked = set; break;
		default: sc->ret = -LX_EINVAL; return;
		}
		j->blocked &= ~UNBLOCKABLE;
	}
	sc->ret = 0;
	if (sc->a[2] && uvm_write(&j->uvm, sc->a[2], &old, sizeof old, 0) < 0)
		sc->ret = -LX_EFAULT;
}

static void sys_sigaltstack(struct job *j, struct sys_call *sc)
{
	struct { uint64_t sp; int32_t flags, pad; uint64_t size; } neu, old = {
		j->altstack_sp, (int32_t)(j->altstack_size ? (on_altstack(j, j->regs.rsp) ? LX_SS_ONSTACK : 0) |
							     (int32_t)j->altstack_flags
						   : LX_SS_DISABLE), 0, j->altstack_size };
	if (sc->a[0]) {
		if (uvm_read(&j->uvm, sc->a[0], &neu, sizeof neu) < 0) {
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
	if (sc->a[1] && uvm_write(&j->uvm, sc->a[1], &old, sizeof old, 0) < 0)
		sc->ret = -LX_EFAULT;
}

static void sys_rt_sigreturn(struct job *j, struct sys_call *sc)
{
	struct lx_ucontext uc;
	uint64_t ucp = j->regs.rsp - 8 + offsetof(struct lx_rt_sigframe, uc);
	sc->outcome = SYS_KEEP_REGS;
	if (uvm_read(&j->uvm, ucp, &uc, sizeof uc) < 0) {
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
		uint32_t xsize = cpu_xsave_size();
		if (uvm_read(&j->uvm, mc->fpstate, j->xsave, xsize) < 0) {
			job_fpu_init(j);
			signal_force(j, LX_SIGSEGV, LX_SI_KERNEL, 0);
			return;
		}
		/* Whatever the program wrote there must not fault XRSTOR in the
		 * kernel: keep only components this CPU has, standard format, and
		 * an MXCSR without reserved bits. */
		*(uint32_t *)(j->xsave + 24) &= 0xffff;
		memset(j->xsave + 464, 0, 48);
		if (xsize > 512) {
			uint32_t lo, hi;
			__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
			*(uint64_t *)(j->xsave + 512) &= ((uint64_t)hi << 32) | lo;
			*(uint64_t *)(j->xsave + 520) = 0;
			memset(j->xsave + 528, 0, 48);
		}
	} else {
		job_fpu_init(j);
	}
}

static void sys_kill_self(struct job *j, struct sys_call *sc)
{
	int64_t target = sc->nr == NR_tgkill ? (int64_t)sc->a[1] : (int64_t)sc->a[0];
	int sig = (int)(sc->nr == NR_tgkill ? sc->a[2] : sc->a[1]);
	int self = sc->nr == NR_kill ? target == j->ident.pid : target == j->ident.tid;
	if (sc->nr == NR_tgkill && (int64_t)sc->a[0] != j->ident.pid)
		self = 0;
	if (!self) {
		sc->outcome = SYS_FORWARD; /* someone else: the home kernel delivers it */
		return;
	}
	if (sig < 0 || sig > JOB_NSIG) {
		sc->ret = -LX_EINVAL;
		return;
	}
	sc->ret = 0;
	if (sig == 0)
		return;
	struct job_siginfo info = { .code = sc->nr == NR_kill ? LX_SI_USER : LX_SI_TKILL,
				    .pid = (int32_t)j->ident.pid, .uid = (uint32_t)j->ident.uid };
	signal_raise(j, sig, &info);
}

static void sys_pause(struct job *j, struct sys_call *sc)
{
	if (sc->nr == NR_rt_sigsuspend) {
		uint64_t mask;
		if (sc->a[1] != 8) {
			sc->ret = -LX_EINVAL;
			return;
		}
		if (uvm_read(&j->uvm, sc->a[0], &mask, sizeof mask) < 0) {
			sc->ret = -LX_EFAULT;
			return;
		}
		j->suspend_mask = j->blocked;
		j->suspended = 1;
		j->blocked = mask & ~UNBLOCKABLE;
	}
	j->wake_ns = UINT64_MAX;
	j->state = JOB_SLEEPING;
	j->sleep_restart = 0;
	j->sleep_rem = 0;
	sc->outcome = SYS_BLOCK;
}

sys_fn sys_signal_lookup(uint64_t nr)
{
	switch (nr) {
	case NR_rt_sigaction: return sys_rt_sigaction;
	case NR_rt_sigprocmask: return sys_rt_sigprocmask;
	case NR_sigaltstack: return sys_sigaltstack;
	case NR_rt_sigreturn: return sys_rt_sigreturn;
	case NR_kill: case NR_tkill: case NR_tgkill: return sys_kill_self;
	case NR_pause: case NR_rt_sigsuspend: return sys_pause;
	default: return NULL;
	}
}
