/* vdso_leave.c - step a stopped process out of the vDSO (see vdso_leave.h). */
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
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

int vdso_leave(pid_t pid)
{
	static struct inject_sig held[HELD_MAX];
	struct user_regs_struct regs;
	uint64_t base = ptrace_auxv(pid, AT_SYSINFO_EHDR);
	const uint8_t *img;
	size_t len;
	unsigned nheld = 0, i;
	int st, rc = -1;
	if (!base || vdso_self(&img, &len) != 0)
		return 0; /* no vDSO: nothing to leave */
	if (ptrace(PTRACE_GETREGS, pid, NULL, &regs) == -1)
		return -1;
	for (long step = 0; inside(regs.rip, base, len); step++) {
		if (step >= VDSO_LEAVE_STEPS || ptrace(PTRACE_SINGLESTEP, pid, NULL, NULL) == -1)
			goto out;
		while (waitpid(pid, &st, __WALL) == -1)
			if (errno != EINTR)
				goto out;
		if (!WIFSTOPPED(st))
			goto out; /* it died */
		int sig = WSTOPSIG(st);
		siginfo_t si;
		if (st >> 16 != 0)
			goto out; /* an event stop (a fork or exec inside the vDSO?): not ours to step */
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
	uint64_t base = ptrace_auxv(pid, AT_SYSINFO_EHDR);
	const uint8_t *img;
	size_t len;
	struct inject_sig s;
	siginfo_t si;
	if (!base || vdso_self(&img, &len) != 0 || ptrace(PTRACE_GETREGS, pid, NULL, &regs) == -1 ||
	    !inside(regs.rip, base, len) || ptrace(PTRACE_GETSIGINFO, pid, NULL, &si) == -1)
		return sig;
	s.sig = sig;
	memcpy(s.info, &si, sizeof s.info);
	if (vdso_leave(pid) != 0)
		return sig; /* delivered where it is, as before */
	inject_raise(pid, &s); /* pending again: delivered outside the vDSO */
	return 0;
}
