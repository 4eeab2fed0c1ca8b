/* vdso_leave.c - step a stopped process out of the vDSO (see vdso_leave.h). */
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>

#include "inject.h"
#include "ptrace_start.h"
#include "vdso.h"
#include "vdso_leave.h"

#define HELD_MAX 32

static int inside(uint64_t rip, uint64_t base, size_t len)
{
	return rip >= base && rip - base < len;
}

int vdso_range(pid_t pid, uint64_t *base, const uint8_t **img, size_t *len)
{
	*base = ptrace_auxv(pid, AT_SYSINFO_EHDR);
	return *base != 0 && vdso_self(img, len) == 0 ? 0 : -1;
}

/* Whether the next instruction is a syscall the vDSO's own code does not
 * make (a program can jump into the vDSO's bytes anywhere: stepping a
 * pause or a fork there is not ours to do). */
static int vdso_call(uint64_t nr)
{
	switch (nr) {
	case SYS_clock_gettime: case SYS_gettimeofday: case SYS_time: case SYS_clock_getres:
	case SYS_getcpu: case SYS_getrandom:
		return 1;
	}
	return 0;
}

static int foreign_syscall(pid_t pid, const struct user_regs_struct *regs)
{
	/* Stopped in a call (a step restarts it), or about to make one. */
	if ((int64_t)regs->orig_rax >= 0 && !vdso_call(regs->orig_rax))
		return 1;
	errno = 0;
	long word = ptrace(PTRACE_PEEKTEXT, pid, (void *)regs->rip, NULL);
	if (errno != 0)
		return 1;
	return (word & 0xffff) == 0x050f && !vdso_call(regs->rax); /* syscall */
}

/* The next stop after a step: 1 with a plain stop consumed into *st; 0
 * when it exited or stopped at an event, which is left for the follower
 * to see (WNOWAIT); -1 on error. */
static int next_stop(pid_t pid, int *st)
{
	siginfo_t info;
	memset(&info, 0, sizeof info);
	while (waitid(P_PID, (id_t)pid, &info, WEXITED | WSTOPPED | __WALL | WNOWAIT) == -1)
		if (errno != EINTR)
			return -1;
	if (info.si_code != CLD_TRAPPED || info.si_status >> 8 != 0)
		return 0;
	while (waitpid(pid, st, __WALL) == -1)
		if (errno != EINTR)
			return -1;
	return 1;
}

int vdso_leave(pid_t pid)
{
	static struct inject_sig held[HELD_MAX];
	struct user_regs_struct regs;
	uint64_t base;
	const uint8_t *img;
	size_t len;
	unsigned nheld = 0, i;
	int st, rc = -1;
	if (vdso_range(pid, &base, &img, &len) != 0)
		return 0; /* no vDSO: nothing to leave */
	if (ptrace(PTRACE_GETREGS, pid, NULL, &regs) == -1)
		return -1;
	for (long step = 0; inside(regs.rip, base, len); step++) {
		if (step >= VDSO_LEAVE_STEPS || foreign_syscall(pid, &regs) ||
		    ptrace(PTRACE_SINGLESTEP, pid, NULL, NULL) == -1)
			goto out;
		if (next_stop(pid, &st) != 1)
			goto out; /* it died, or an event: the follower sees it */
		int sig = WSTOPSIG(st);
		siginfo_t si;
		if (ptrace(PTRACE_GETSIGINFO, pid, NULL, &si) == -1)
			goto out;
		/* The step's own trap comes from the kernel (si_code > 0); a SIGTRAP
		 * someone sent (SI_USER, SI_TKILL, SI_QUEUE: <= 0) is a signal. */
		if (sig != SIGTRAP || si.si_code <= 0) {
			/* A signal for it: held, queued again once it is out. */
			if (nheld == HELD_MAX)
				goto out;
			held[nheld].sig = sig;
			memcpy(held[nheld].info, &si, sizeof held[nheld].info);
			nheld++;
		}
		if (ptrace(PTRACE_GETREGS, pid, NULL, &regs) == -1)
			goto out;
	}
	rc = 0;
out:
	for (i = 0; i < nheld; i++)
		inject_raise(pid, &held[i]);
	return rc;
}

int vdso_leave_for_signal(pid_t pid, int sig)
{
	struct user_regs_struct regs;
	uint64_t base;
	const uint8_t *img;
	size_t len;
	struct inject_sig s;
	siginfo_t si;
	if (vdso_range(pid, &base, &img, &len) != 0 || ptrace(PTRACE_GETREGS, pid, NULL, &regs) == -1 ||
	    !inside(regs.rip, base, len) || ptrace(PTRACE_GETSIGINFO, pid, NULL, &si) == -1)
		return sig;
	s.sig = sig;
	memcpy(s.info, &si, sizeof s.info);
	if (vdso_leave(pid) != 0)
		return sig; /* delivered where it is, as before */
	inject_raise(pid, &s); /* pending again: delivered outside the vDSO */
	return 0;
}
