/* inject.c - system calls run inside the stopped tracee (contract in
 * inject.h; see ptrace(2), process_vm_readv(2), proc(5) "mem"). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "inject.h"

/* syscall (0f 05), int3 (cc): after the stop rip is 3 bytes past the start. */
static const uint8_t inject_code[3] = { 0x0f, 0x05, 0xcc };

int
inject_open(struct inject *in, pid_t pid)
{
	char path[64];

	memset(in, 0, sizeof *in);
	in->pid = pid;
	in->watch_fd = in->chld_fd = -1;
	snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
	if ((in->memfd = open(path, O_RDWR | O_CLOEXEC)) == -1)
		return -errno;
	return 0;
}

void
inject_close(struct inject *in)
{
	if (in->memfd != -1)
		close(in->memfd);
	in->memfd = -1;
}

unsigned
inject_take_signals(struct inject *in, struct inject_sig *out)
{
	unsigned n = in->nsigs;

	memcpy(out, in->sigs, n * sizeof *out);
	in->nsigs = 0;
	return n;
}

void
inject_drop_signals(struct inject *in, unsigned n)
{
	if (n > in->nsigs)
		n = in->nsigs;
	memmove(in->sigs, in->sigs + n, (in->nsigs - n) * sizeof in->sigs[0]);
	in->nsigs -= n;
}

void
inject_raise(pid_t tid, const struct inject_sig *s)
{
	int32_t code;

	memcpy(&code, s->info + 8, sizeof code);
	if (code == SI_TKILL) {
		syscall(SYS_tkill, tid, s->sig);
		return;
	}
	if (code >= 0 || syscall(SYS_rt_sigqueueinfo, tid, s->sig, s->info) != 0)
		kill(tid, s->sig);
}

/* Keeps a signal the tracee stopped with: each real-time instance, one of
 * any other (a second would merge with it in the kernel too). */
static void
record_signal(struct inject *in, int sig)
{
	unsigned i;

	for (i = 0; sig < 32 && i < in->nsigs; i++)
		if (in->sigs[i].sig == sig)
			return;
	if (in->nsigs == INJECT_SIGS_MAX)
		return; /* beyond: the kernel's queue would be long full too */
	in->sigs[in->nsigs].sig = sig;
	memset(in->sigs[in->nsigs].info, 0, INJECT_SIGINFO_SIZE);
	(void)ptrace(PTRACE_GETSIGINFO, in->pid, NULL, in->sigs[in->nsigs].info);
	in->nsigs++;
}

int
inject_read(struct inject *in, uint64_t addr, void *buf, size_t n)
{
	struct iovec local = { buf, n }, remote = { (void *)addr, n };
	size_t done = 0;
	ssize_t k;

	if (n == 0)
		return 0;
	if (process_vm_readv(in->pid, &local, 1, &remote, 1, 0) == (ssize_t)n)
		return 0;
	while (done < n) {
		k = pread(in->memfd, (char *)buf + done, n - done, (off_t)(addr + done));
		if (k <= 0)
			return k == 0 ? -EIO : -errno;
		done += (size_t)k;
	}
	return 0;
}

int
inject_write(struct inject *in, uint64_t addr, const void *buf, size_t n)
{
	struct iovec local = { (void *)buf, n }, remote = { (void *)addr, n };
	size_t done = 0;
	ssize_t k;

	if (n == 0)
		return 0;
	if (process_vm_writev(in->pid, &local, 1, &remote, 1, 0) == (ssize_t)n)
		return 0;
	while (done < n) {
		k = pwrite(in->memfd, (const char *)buf + done, n - done, (off_t)(addr + done));
		if (k <= 0)
			return k == 0 ? -EIO : -errno;
		done += (size_t)k;
	}
	return 0;
}

#define INTERRUPT_AFTER_MS 20 /* a call still running then is taken as blocked */
#define WATCH_POLL_MS 100

/* Waits for the tracee to stop, watching watch_fd meanwhile; 1 when the
 * watcher asks for the call to be cut short. */
static int
wait_watching(struct inject *in, int *st)
{
	struct pollfd pfd[2] = { { in->chld_fd, POLLIN, 0 }, { in->watch_fd, POLLIN, 0 } };
	uint64_t drain[16];

	if (in->watch(in->watch_ctx, 0) == 1)
		return 1;
	for (;;) {
		pid_t got = waitpid(in->pid, st, __WALL | WNOHANG);
		if (got > 0)
			return 0;
		if (got == -1 && errno != EINTR)
			return -errno;
		if (in->reap)
			in->reap(in->reap_ctx);
		/* SIGCHLD says the tracee stopped; waitpid is the real test, so
		 * a lost one costs WATCH_POLL_MS at most. */
		if (poll(pfd, 2, WATCH_POLL_MS) == -1 && errno != EINTR)
			return -errno;
		if (pfd[0].revents & POLLIN)
			while (read(in->chld_fd, drain, sizeof drain) > 0)
				;
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			int w = in->watch(in->watch_ctx, 1);
			if (w == 1)
				return 1;
			if (w < 0)
				pfd[1].fd = -1; /* its stream is over: the caller finds out */
		}
	}
}

/* waitpid for the tracee; with *poke, a tracee that does not stop within
 * INTERRUPT_AFTER_MS gets a PTRACE_INTERRUPT (and again each period). A
 * watcher (inject.h) that asks for it sets *poke and interrupts at once. */
static int
wait_tracee(struct inject *in, int *st, int *poke)
{
	struct timespec nap = { 0, 1000000 };
	int waited = 0, rc;

	for (;;) {
		if (!*poke && in->watch_fd >= 0) {
			if ((rc = wait_watching(in, st)) <= 0)
				return rc;
			*poke = 1;
			(void)ptrace(PTRACE_INTERRUPT, in->pid, NULL, NULL);
			continue;
		}
		pid_t got = waitpid(in->pid, st, __WALL | (*poke || in->reap ? WNOHANG : 0));
		if (got > 0)
			return 0;
		if (got == -1 && errno != EINTR)
			return -errno;
		if (!*poke && got == 0) { /* in->reap: a blocking wait could wait for ever */
			struct pollfd pfd = { in->chld_fd, POLLIN, 0 };
			uint64_t drain[16];
			in->reap(in->reap_ctx);
			if (poll(&pfd, in->chld_fd >= 0, in->chld_fd >= 0 ? 10 : 1) > 0) /* SIGCHLD */
				while (read(in->chld_fd, drain, sizeof drain) > 0)
					;
			continue;
		}
		if (!*poke || got == -1)
			continue;
		if (in->reap)
			in->reap(in->reap_ctx);
		nanosleep(&nap, NULL);
		if (++waited % INTERRUPT_AFTER_MS == 0) /* ESRCH: gone; waitpid says how */
			(void)ptrace(PTRACE_INTERRUPT, in->pid, NULL, NULL);
	}
}

/* An interrupted call (rax a restart code, the call still in orig_rax) is
 * made to return that code instead of restarting: orig_rax -1 says there
 * is no call to restart. */
static void
end_interrupted(struct inject *in, const struct user_regs_struct *regs)
{
	struct user_regs_struct now;

	if (ptrace(PTRACE_GETREGS, in->pid, NULL, &now) == 0 &&
	    (int64_t)now.orig_rax == (int64_t)regs->rax &&
	    (int64_t)now.rax >= INJECT_ERESTART_MIN && (int64_t)now.rax <= INJECT_ERESTART_MAX) {
		now.orig_rax = (uint64_t)-1;
		ptrace(PTRACE_SETREGS, in->pid, NULL, &now);
	}
}

/* Runs the tracee from regs (rip at a `syscall; int3`) until it stops on
 * that int3, recording other signals. *out gets the registers there. */
static int
run_stub(struct inject *in, const struct user_regs_struct *regs, uint64_t code,
    struct user_regs_struct *out)
{
	int st, rc, poke = in->interrupt_next;

	in->interrupt_next = 0;
	if (ptrace(PTRACE_SETREGS, in->pid, NULL, regs) == -1)
		return -errno;
	for (;;) {
		if (ptrace(PTRACE_CONT, in->pid, NULL, NULL) == -1)
			return -errno;
		if ((rc = wait_tracee(in, &st, &poke)) != 0)
			return rc;
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			in->dead = 1;
			in->status = st;
			return -ESRCH;
		}
		if (WIFSTOPPED(st) && (st >> 16) == PTRACE_EVENT_EXEC)
			return INJECT_EXECED; /* the old registers are gone with its memory */
		if (WIFSTOPPED(st) && (st >> 16) == PTRACE_EVENT_STOP && poke) {
			/* Our PTRACE_INTERRUPT: a call it found blocked ends. */
			end_interrupted(in, regs);
			continue;
		}
		if (!WIFSTOPPED(st) || (st >> 16) != 0)
			continue; /* a ptrace event stop: nothing to deliver */
		if (WSTOPSIG(st) == SIGTRAP) {
			if (ptrace(PTRACE_GETREGS, in->pid, NULL, out) == -1)
				return -errno;
			if (out->rip == code + sizeof inject_code)
				return 0;
		}
		/* A fault the injection itself caused (si_code > 0: the
		 * kernel's, e.g. SIGSEGV because the rseq area is gone) would
		 * recur forever if cancelled: give up on the call. */
		if (WSTOPSIG(st) == SIGSEGV || WSTOPSIG(st) == SIGBUS ||
		    WSTOPSIG(st) == SIGILL || WSTOPSIG(st) == SIGFPE || WSTOPSIG(st) == SIGTRAP) {
			siginfo_t si;

			if (ptrace(PTRACE_GETSIGINFO, in->pid, NULL, &si) == 0 && si.si_code > 0)
				return -EFAULT;
		}
		/* Cancelled here, reported to the caller; the interrupted
		 * call is restarted by the kernel unless 'interruptible' says
		 * to end it: without a system call number to go back to
		 * (orig_rax -1) the kernel returns the restart code instead. */
		if (WSTOPSIG(st) >= 1 && WSTOPSIG(st) <= 64)
			record_signal(in, WSTOPSIG(st));
		if (in->interruptible) {
			end_interrupted(in, regs);
			/* It may have come before the call began: then the call
			 * must still not block. */
			poke = 1;
		}
	}
}

/* The tracee is at its exec stop, its old memory gone: /proc/PID/mem is
 * opened again for the new, and inject_exec_turn runs. */
static int
leave_exec_stop(struct inject *in)
{
	char path[64];
	int rc;

	inject_close(in);
	snprintf(path, sizeof path, "/proc/%d/mem", (int)in->pid);
	if ((in->memfd = open(path, O_RDWR | O_CLOEXEC)) == -1)
		return -errno;
	rc = inject_exec_turn(in);
	return rc != 0 ? rc : INJECT_EXECED;
}

int
inject_exec_turn(struct inject *in)
{
	uint64_t none[6] = { (uint64_t)-1, 0, 0, 0, 0, 0 };
	int64_t ret;

	return inject_syscall_here(in, SYS_read, none, &ret);
}

/* The common part: save registers, load the call, run the code at 'code',
 * restore registers. */
static int
do_syscall(struct inject *in, uint64_t code, long nr, const uint64_t args[6],
    int64_t *ret, int use_scratch_stack)
{
	struct user_regs_struct saved, regs, after;
	int rc, rc2;

	if (in->dead)
		return -ESRCH;
	if (ptrace(PTRACE_GETREGS, in->pid, NULL, &saved) == -1)
		return -errno;
	regs = saved;
	regs.rax = (uint64_t)nr;
	regs.rdi = args[0];
	regs.rsi = args[1];
	regs.rdx = args[2];
	regs.r10 = args[3];
	regs.r8 = args[4];
	regs.r9 = args[5];
	regs.rip = code;
	/* No syscall restart for the stop we resume from: orig_rax = -1. */
	regs.orig_rax = (uint64_t)-1;
	/* The stack pointer the kernel judges sigaltstack by is the injected
	 * one: keep it in the scratch region, off the job's own stacks. */
	if (use_scratch_stack)
		regs.rsp = in->data + INJECT_DATA_SIZE - 256;
	rc = run_stub(in, &regs, code, &after);
	if (rc == 0)
		*ret = (int64_t)after.rax;
	if (rc == INJECT_EXECED) {
		*ret = 0;
		in->scratch = in->stub = in->data = in->scratch_len = 0;
		return leave_exec_stop(in);
	}
	if (in->dead)
		return rc;
	rc2 = ptrace(PTRACE_SETREGS, in->pid, NULL, &saved) == -1 ? -errno : 0;
	return rc != 0 ? rc : rc2;
}

int
inject_syscall(struct inject *in, long nr, const uint64_t args[6], int64_t *ret)
{
	if (in->stub == 0)
		return inject_syscall_here(in, nr, args, ret);
	return do_syscall(in, in->stub, nr, args, ret, 1);
}

int
inject_syscall_here(struct inject *in, long nr, const uint64_t args[6], int64_t *ret)
{
	struct user_regs_struct regs;
	uint8_t orig[sizeof inject_code];
	int rc, rc2;

	if (in->dead)
		return -ESRCH;
	if (ptrace(PTRACE_GETREGS, in->pid, NULL, &regs) == -1)
		return -errno;
	/* /proc/PID/mem writes ignore the page's protection (FOLL_FORCE), so
	 * read-only text can carry the stub for one call. */
	if ((rc = inject_read(in, regs.rip, orig, sizeof orig)) != 0)
		return rc;
	if (pwrite(in->memfd, inject_code, sizeof inject_code, (off_t)regs.rip) !=
	    (ssize_t)sizeof inject_code)
		return -EIO;
	rc = do_syscall(in, regs.rip, nr, args, ret, 0);
	if (in->dead || rc == INJECT_EXECED)
		return rc;
	rc2 = pwrite(in->memfd, orig, sizeof orig, (off_t)regs.rip) ==
	    (ssize_t)sizeof orig ? 0 : -EIO;
	return rc != 0 ? rc : rc2;
}

int
inject_sigaction(struct inject *in, int sig, uint64_t handler, uint64_t flags, uint64_t at)
{
	uint64_t act[4] = { handler, flags, 0, 0 }; /* handler, flags, restorer, mask */
	uint64_t a[6] = { (uint64_t)sig, at, 0, 8, 0, 0 };
	int64_t ret;
	int rc = inject_write(in, at, act, sizeof act);

	if (rc == 0)
		rc = inject_syscall(in, SYS_rt_sigaction, a, &ret);
	return rc != 0 ? rc : (int)ret;
}

int
inject_sigmask(struct inject *in, int how, uint64_t set, uint64_t at)
{
	uint64_t a[6] = { (uint64_t)how, at, 0, 8, 0, 0 };
	int64_t ret;
	int rc = inject_write(in, at, &set, sizeof set);

	if (rc == 0)
		rc = inject_syscall(in, SYS_rt_sigprocmask, a, &ret);
	return rc != 0 ? rc : (int)ret;
}

static int
setup(struct inject *in, uint64_t at)
{
	uint64_t a[6] = { 0 }, len = INJECT_CODE_SIZE + INJECT_DATA_SIZE;
	int64_t ret;
	int rc;

	a[0] = at;
	a[1] = len;
	a[2] = PROT_READ | PROT_WRITE;
	a[3] = MAP_PRIVATE | MAP_ANONYMOUS | (at ? MAP_FIXED : 0);
	a[4] = (uint64_t)-1;
	if ((rc = inject_syscall_here(in, SYS_mmap, a, &ret)) != 0)
		return rc;
	if (ret < 0 && ret > -4096)
		return (int)ret;
	if (at && (uint64_t)ret != at)
		return -ENOMEM;
	in->scratch = (uint64_t)ret;
	in->scratch_len = len;
	/* The code page becomes R-X; its stub goes in through /proc/PID/mem. */
	memset(a, 0, sizeof a);
	a[0] = in->scratch;
	a[1] = INJECT_CODE_SIZE;
	a[2] = PROT_READ | PROT_EXEC;
	if ((rc = inject_syscall_here(in, SYS_mprotect, a, &ret)) != 0)
		return rc;
	if (ret != 0)
		return (int)ret;
	if (pwrite(in->memfd, inject_code, sizeof inject_code, (off_t)in->scratch) !=
	    (ssize_t)sizeof inject_code)
		return -EIO;
	in->stub = in->scratch;
	in->data = in->scratch + INJECT_CODE_SIZE;
	return 0;
}

int
inject_setup(struct inject *in)
{
	return setup(in, 0);
}

int
inject_setup_at(struct inject *in, uint64_t addr)
{
	struct user_regs_struct regs;

	if (addr == 0 || addr % INJECT_CODE_SIZE != 0)
		return -EINVAL;
	if (ptrace(PTRACE_GETREGS, in->pid, NULL, &regs) == -1)
		return -errno;
	if (regs.rip + sizeof inject_code > addr && regs.rip < addr + INJECT_CODE_SIZE + INJECT_DATA_SIZE)
		return -EBUSY;
	return setup(in, addr);
}

int
inject_teardown(struct inject *in)
{
	uint64_t a[6] = { in->scratch, in->scratch_len, 0, 0, 0, 0 };
	int64_t ret = 0;
	int rc = 0;

	if (!in->dead && in->scratch != 0) {
		rc = inject_syscall_here(in, SYS_munmap, a, &ret);
		if (rc == 0 && ret != 0)
			rc = (int)ret;
		in->scratch = in->stub = in->data = 0;
		in->scratch_len = 0;
	}
	inject_close(in);
	return rc;
}
