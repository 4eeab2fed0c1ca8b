/* ptrace_start.c - fork, exec under ptrace, run to AT_ENTRY (contract in
 * ptrace_start.h; see ptrace(2), proc(5) "auxv"). */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ptrace_start.h"

uint64_t
ptrace_auxv(pid_t pid, uint64_t type)
{
	char path[64];
	uint64_t av[2], val = 0;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/auxv", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	while (read(fd, av, sizeof av) == (ssize_t)sizeof av && av[0] != AT_NULL)
		if (av[0] == type) {
			val = av[1];
			break;
		}
	close(fd);
	return val;
}

int
ptrace_start_status(int err)
{
	return err == -ENOENT ? 127 : 126;
}

static int
wait_tracee(pid_t pid, int *status)
{
	while (waitpid(pid, status, __WALL) == -1)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* Stop signals would put the tracee in group-stop and report again: on the
 * way to the entry point they are dropped, every other signal delivered. */
static int
deliverable(int sig)
{
	return sig != SIGSTOP && sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU &&
	    sig != SIGTRAP;
}

int
ptrace_run_to(pid_t pid, uint64_t addr, int *status)
{
	struct user_regs_struct regs;
	long orig;
	int st, sig = 0, rc;

	errno = 0;
	orig = ptrace(PTRACE_PEEKTEXT, pid, (void *)addr, NULL);
	if (errno != 0)
		return -errno;
	/* int3 (0xcc) over the first byte; little-endian: the low byte. */
	if (ptrace(PTRACE_POKETEXT, pid, (void *)addr,
	    (void *)(((unsigned long)orig & ~0xfful) | 0xcc)) == -1)
		return -errno;
	for (;;) {
		if (ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig) == -1)
			return -errno;
		if ((rc = wait_tracee(pid, &st)) != 0)
			return rc;
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			if (status != NULL)
				*status = st;
			return -ESRCH;
		}
		sig = 0;
		if (!WIFSTOPPED(st) || (st >> 16) != 0)
			continue; /* a ptrace event: nothing to deliver */
		if (WSTOPSIG(st) == SIGTRAP) {
			if (ptrace(PTRACE_GETREGS, pid, NULL, &regs) == -1)
				return -errno;
			if (regs.rip == addr + 1)
				break;
		}
		if (deliverable(WSTOPSIG(st)))
			sig = WSTOPSIG(st);
	}
	if (ptrace(PTRACE_POKETEXT, pid, (void *)addr, (void *)orig) == -1)
		return -errno;
	regs.rip = addr;
	if (ptrace(PTRACE_SETREGS, pid, NULL, &regs) == -1)
		return -errno;
	return 0;
}

/* The child: become traceable, stop so the parent can set options before
 * anything else happens, then exec. An exec failure travels back as errno
 * through the pipe, which a successful exec closes. */
static void __attribute__((noreturn))
child(int wfd, const char *prog, char *const argv[], char *const envp[])
{
	int err;

	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0 && raise(SIGSTOP) == 0)
		execvpe(prog, argv, envp);
	err = errno;
	(void)!write(wfd, &err, sizeof err);
	_exit(127);
}

int
ptrace_start(const char *prog, char *const argv[], char *const envp[],
    pid_t *pidp, uint64_t *entryp)
{
	int pfd[2], st, err = 0, rc, sig;
	uint64_t entry;
	pid_t pid;
	ssize_t n;

	if (pipe2(pfd, O_CLOEXEC) == -1)
		return -errno;
	if ((pid = fork()) == -1) {
		rc = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return rc;
	}
	if (pid == 0)
		child(pfd[1], prog, argv, envp);
	close(pfd[1]);

	/* The SIGSTOP the child raised itself, then the exec event. */
	if ((rc = wait_tracee(pid, &st)) != 0)
		goto fail_kill;
	if (!WIFSTOPPED(st))
		goto exited;
	if (ptrace(PTRACE_SETOPTIONS, pid, NULL,
	    (void *)(long)(PTRACE_O_EXITKILL | PTRACE_O_TRACEEXEC)) == -1) {
		rc = -errno;
		goto fail_kill;
	}
	sig = 0;
	for (;;) {
		if (ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig) == -1) {
			rc = -errno;
			goto fail_kill;
		}
		if ((rc = wait_tracee(pid, &st)) != 0)
			goto fail_kill;
		if (!WIFSTOPPED(st))
			goto exited;
		if (st >> 8 == (SIGTRAP | (PTRACE_EVENT_EXEC << 8)))
			break;
		sig = deliverable(WSTOPSIG(st)) ? WSTOPSIG(st) : 0;
	}
	close(pfd[0]);

	if ((entry = ptrace_auxv(pid, AT_ENTRY)) == 0) {
		rc = -ENOEXEC;
		goto fail_kill_closed;
	}
	if ((rc = ptrace_run_to(pid, entry, NULL)) != 0)
		goto fail_kill_closed;
	*pidp = pid;
	*entryp = entry;
	return 0;

exited:
	/* The child ended before its exec completed: the pipe says why. */
	n = read(pfd[0], &err, sizeof err);
	close(pfd[0]);
	return n == (ssize_t)sizeof err && err != 0 ? -err : -ECHILD;
fail_kill:
	close(pfd[0]);
fail_kill_closed:
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, __WALL) == -1 && errno == EINTR)
		;
	return rc != 0 ? rc : -ECHILD;
}
