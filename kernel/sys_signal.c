/* sys_signal.c - the signal system calls answered on the node: actions,
 * masks, pending sets, waiting for signals, and signals the job sends
 * itself (signals to anyone else are forwarded: om_syscall_where_at). */
#include <stdint.h>
#include <string.h>

#include "job.h"
#include "linux_abi.h"
#include "sched.h"
#include "signal.h"
#include "syscall.h"
#include "sysnr.h"

#define IGNORE_SIGS (SIG_BIT(LX_SIGCHLD) | SIG_BIT(LX_SIGCONT) | SIG_BIT(LX_SIGURG) | SIG_BIT(LX_SIGWINCH))
#define SIGSET_SIZE 8

void sys_rt_sigaction(struct job *j, struct sys_call *sc)
{
	int sig = (int)sc->a[0];
	if (sc->a[3] != SIGSET_SIZE || sig < 1 || sig > JOB_NSIG) {
		sc->ret = -LX_EINVAL;
		return;
	}
	struct job_sigaction *a = &j->p->act[sig - 1], neu;
	if (sc->a[1]) {
		if (sig == LX_SIGKILL || sig == LX_SIGSTOP) {
			sc->ret = -LX_EINVAL;
			return;
		}
		if (uvm_read(&j->p->uvm, sc->a[1], &neu, sizeof neu) < 0) {
			sc->ret = -LX_EFAULT;
			return;
		}
	}
	if (sc->a[2] && uvm_write(&j->p->uvm, sc->a[2], a, sizeof *a, 0) < 0) {
		sc->ret = -LX_EFAULT;
		return;
	}
	if (sc->a[1]) {
		neu.mask &= ~SIG_UNBLOCKABLE;
		*a = neu;
		if (a->handler == LX_SIG_IGN || (a->handler == LX_SIG_DFL && (IGNORE_SIGS & SIG_BIT(sig))))
			signal_discard(j, SIG_BIT(sig)); /* POSIX: setting SIG_IGN discards it */
	}
	sc->ret = 0;
}

void sys_rt_sigprocmask(struct job *j, struct sys_call *sc)
{
	uint64_t set, old = j->blocked;
	if (sc->a[3] != SIGSET_SIZE) {
		sc->ret = -LX_EINVAL;
		return;
	}
	if (sc->a[1]) {
		if (uvm_read(&j->p->uvm, sc->a[1], &set, sizeof set) < 0) {
			sc->ret = -LX_EFAULT;
			return;
		}
		switch (sc->a[0]) {
		case LX_SIG_BLOCK: j->blocked |= set; break;
		case LX_SIG_UNBLOCK: j->blocked &= ~set; break;
		case LX_SIG_SETMASK: j->blocked = set; break;
		default: sc->ret = -LX_EINVAL; return;
		}
		j->blocked &= ~SIG_UNBLOCKABLE;
	}
	sc->ret = 0;
	if (sc->a[2] && uvm_write(&j->p->uvm, sc->a[2], &old, sizeof old, 0) < 0)
		sc->ret = -LX_EFAULT;
}

/* The pending signals the mask holds back (the others are on their way);
 * a shorter set gets its first bytes, as Linux's do_sigpending. */
void sys_rt_sigpending(struct job *j, struct sys_call *sc)
{
	uint64_t set = (j->own.pending | j->p->shared.pending) & j->blocked;
	if (sc->a[1] > SIGSET_SIZE) {
		sc->ret = -LX_EINVAL;
		return;
	}
	sc->ret = uvm_write(&j->p->uvm, sc->a[0], &set, sc->a[1], 0) < 0 ? -LX_EFAULT : 0;
}

static void sleep_for_signal(struct job *j, struct sys_call *sc)
{
	sched_sleep(j, sc, UINT64_MAX, 0);
}

void sys_pause(struct job *j, struct sys_call *sc) { sleep_for_signal(j, sc); }

/* A sigset argument with its size argument: 0, -EINVAL, -EFAULT. */
static int64_t read_sigset(struct job *j, uint64_t uaddr, uint64_t size, uint64_t *set)
{
	if (size != SIGSET_SIZE)
		return -LX_EINVAL;
	return uvm_read(&j->p->uvm, uaddr, set, sizeof *set) < 0 ? -LX_EFAULT : 0;
}

void sys_rt_sigsuspend(struct job *j, struct sys_call *sc)
{
	uint64_t mask;
	if ((sc->ret = read_sigset(j, sc->a[0], sc->a[1], &mask)) < 0)
		return;
	j->suspend_mask = j->blocked;
	j->suspended = 1;
	j->blocked = mask & ~SIG_UNBLOCKABLE;
	sleep_for_signal(j, sc);
}

/* rt_sigtimedwait(set, info, timeout, sigsetsize): the timeout is relative
 * (CLOCK_MONOTONIC); NULL waits for ever, zero only polls. */
void sys_rt_sigtimedwait(struct job *j, struct sys_call *sc)
{
	uint64_t set, wake = UINT64_MAX;
	int64_t ns;
	if ((sc->ret = read_sigset(j, sc->a[0], sc->a[3], &set)) < 0)
		return;
	if (sc->a[2]) {
		if ((sc->ret = job_read_timespec(j, sc->a[2], &ns)) < 0)
			return;
		wake = job_deadline(j, ns, -1);
	}
	signal_wait(j, sc, set, sc->a[1], wake);
}

/* kill reaches here only aimed at the process itself, tkill and tgkill
 * at one of its threads (job_signal_target). */
static void kill_self(struct job *j, struct sys_call *sc, int sig, int code)
{
	if (sig < 0 || sig > JOB_NSIG) {
		sc->ret = -LX_EINVAL;
		return;
	}
	sc->ret = 0;
	if (sig == 0)
		return;
	struct job_siginfo info = signal_info_sender(code, (int32_t)j->p->ident.pid, (uint32_t)j->p->ident.uid, 0);
	struct job *t = job_signal_target(j, sc);
	if (!t)
		sc->ret = -LX_ESRCH; /* a thread that ended since */
	else
		sc->ret = sc->nr == NR_kill ? signal_raise(j, sig, &info) : signal_raise_thread(t, sig, &info);
}

void sys_kill(struct job *j, struct sys_call *sc) { kill_self(j, sc, (int)sc->a[1], LX_SI_USER); }
void sys_tkill(struct job *j, struct sys_call *sc) { kill_self(j, sc, (int)sc->a[1], LX_SI_TKILL); }
void sys_tgkill(struct job *j, struct sys_call *sc) { kill_self(j, sc, (int)sc->a[2], LX_SI_TKILL); }

/* rt_(tg)sigqueueinfo to the job itself: the caller's siginfo is queued as
 * it is (its si_signo set to sig). Sent to oneself, any si_code is allowed. */
static void queue_self(struct job *j, struct sys_call *sc, int sig, uint64_t uinfo)
{
	struct {
		int32_t signo, errnum, code, pad;
		uint8_t fields[32];
	} u;
	if (uvm_read(&j->p->uvm, uinfo, &u, sizeof u) < 0) {
		sc->ret = -LX_EFAULT;
		return;
	}
	if (sig < 0 || sig > JOB_NSIG) {
		sc->ret = -LX_EINVAL;
		return;
	}
	sc->ret = 0;
	if (sig == 0)
		return;
	struct job_siginfo info = { .code = u.code, .errnum = u.errnum };
	memcpy(info.fields, u.fields, sizeof info.fields);
	struct job *t = job_signal_target(j, sc);
	if (!t)
		sc->ret = -LX_ESRCH;
	else
		sc->ret = sc->nr == NR_rt_sigqueueinfo ? signal_raise(j, sig, &info) : signal_raise_thread(t, sig, &info);
}

void sys_rt_sigqueueinfo(struct job *j, struct sys_call *sc) { queue_self(j, sc, (int)sc->a[1], sc->a[2]); }

void sys_rt_tgsigqueueinfo(struct job *j, struct sys_call *sc)
{
	queue_self(j, sc, (int)sc->a[2], sc->a[3]);
}
