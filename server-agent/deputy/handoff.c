/* handoff.c - a traced process passed between deputies (handoff.h;
 * ptrace(2): "Attaching and detaching", PTRACE_SEIZE, PTRACE_INTERRUPT). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "handoff.h"
#include "inject.h"

/* Yama's ptrace_scope (0 without Yama): at 1 only an ancestor, or one the
 * tracee named, may attach. */
static int yama_scope(void)
{
	FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "re");
	int v = 0;
	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

int handoff_give(pid_t pid, pid_t to, struct handoff *h)
{
	struct user_regs_struct park;
	uint64_t all = ~0ull;
	uint8_t insn[2];
	struct iovec local = { insn, 2 }, remote;

	memset(h, 0, sizeof *h);
	h->pid = pid;
	if (ptrace(PTRACE_GETREGS, pid, NULL, &h->regs) == -1 ||
	    ptrace(PTRACE_GETSIGMASK, pid, (void *)sizeof h->sigmask, &h->sigmask) == -1)
		return -errno;
	remote.iov_base = (void *)(h->regs.rip - 2);
	remote.iov_len = 2;
	if (process_vm_readv(pid, &local, 1, &remote, 1, 0) != 2 || insn[0] != 0x0f || insn[1] != 0x05)
		return -EINVAL; /* not stopped just after a system call */
	if (yama_scope() == 1) {
		struct inject in;
		uint64_t args[6] = { PR_SET_PTRACER, (uint64_t)to };
		int64_t ret;
		int rc = inject_open(&in, pid);
		if (rc == 0)
			rc = inject_syscall_here(&in, SYS_prctl, args, &ret);
		inject_close(&in);
		if (rc != 0 || ret != 0)
			return rc ? rc : (int)ret;
	}
	park = h->regs;
	park.rip -= 2;
	park.rax = SYS_pause;
	park.orig_rax = (uint64_t)-1;
	if (ptrace(PTRACE_SETSIGMASK, pid, (void *)sizeof all, &all) == -1 ||
	    ptrace(PTRACE_SETREGS, pid, NULL, &park) == -1)
		return -errno;
	if (ptrace(PTRACE_DETACH, pid, NULL, NULL) == -1)
		return -errno;
	return 0;
}

int handoff_take(const struct handoff *h, long options)
{
	int st, err;
	if (ptrace(PTRACE_SEIZE, h->pid, NULL, (void *)options) == -1)
		return -errno;
	if (ptrace(PTRACE_INTERRUPT, h->pid, NULL, NULL) == -1)
		goto untouched;
	for (;;) {
		if (waitpid(h->pid, &st, __WALL) == -1) {
			if (errno == EINTR)
				continue;
			goto untouched;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st))
			return -ESRCH; /* SIGKILL while parked */
		if (WIFSTOPPED(st) && (st >> 16) == PTRACE_EVENT_STOP)
			break;
		/* Nothing else can stop it while every signal is blocked but a
		 * SIGSTOP: it stays pending for when the mask is back. */
		ptrace(PTRACE_CONT, h->pid, NULL, NULL);
	}
	if (ptrace(PTRACE_SETREGS, h->pid, NULL, &h->regs) == -1 ||
	    ptrace(PTRACE_SETSIGMASK, h->pid, (void *)sizeof h->sigmask, &h->sigmask) == -1)
		return -errno;
	if (yama_scope() == 1) {
		struct inject in;
		uint64_t args[6] = { PR_SET_PTRACER, 0 };
		int64_t ret;
		if (inject_open(&in, h->pid) == 0) {
			inject_syscall_here(&in, SYS_prctl, args, &ret); /* no one else from now on */
			inject_close(&in);
		}
	}
	return 0;
untouched:
	/* Still parked: let it go (with PTRACE_O_EXITKILL our end would kill
	 * it), so that the deputy that gave it can take it back. */
	err = errno;
	ptrace(PTRACE_DETACH, h->pid, NULL, NULL);
	return -err;
}
