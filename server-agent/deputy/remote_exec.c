/* remote_exec.c - an execve the job made on its node ran at home (the
 * loader, the program and its files are here): the home process is the
 * new program, stopped at its exec, and takes over what Linux keeps
 * across an exec but only the node knew: the blocked mask and the ignored
 * signals (the node's execve request carries them, syscalls.def). Pending
 * signals and armed interval timers the node does not hand over: a job
 * with those comes home for its exec (docs/migration.md, "Exec on a
 * node"). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>

#include "remote.h"

#define SIGSET_BYTES 8
#define KSIGACTION_BYTES 32 /* handler, flags, restorer, mask */

/* SigIgn of /proc/PID/status: the signals ignored at home (bit sig - 1). */
static int home_ignored(pid_t pid, uint64_t *set)
{
	char path[64], line[128];
	int found = 0;
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	while (f && !found && fgets(line, sizeof line, f))
		found = sscanf(line, "SigIgn: %lx", set) == 1;
	if (f)
		fclose(f);
	return found ? 0 : -1;
}

/* Injected at the exec stop, before any of the new program runs; its
 * structures go below the stack pointer, in stack it has not used. */
static int settle_signals(struct remote *r, uint64_t below)
{
	uint64_t home = 0, act[4] = { 0 }, at = (below - 512) & ~15ull;
	int64_t ret;
	/* The execve has not returned at its stop: the kernel sets rax to
	 * its result (0, read) after it, so the first call injected here runs
	 * as a read. One of nothing from no descriptor takes that turn. */
	uint64_t none[6] = { (uint64_t)-1, 0, 0, 0, 0, 0 };
	int rc = inject_syscall_here(&r->in, SYS_read, none, &ret);
	if (rc == 0)
		rc = home_ignored(r->pid, &home);
	for (int sig = 1; rc == 0 && sig <= 64; sig++) {
		uint64_t bit = 1ull << (sig - 1);
		if (sig == SIGKILL || sig == SIGSTOP || !((home ^ r->exec_ignored) & bit))
			continue;
		act[0] = r->exec_ignored & bit ? (uint64_t)(uintptr_t)SIG_IGN : (uint64_t)(uintptr_t)SIG_DFL;
		uint64_t a[6] = { (uint64_t)sig, at, 0, SIGSET_BYTES, 0, 0 };
		if ((rc = inject_write(&r->in, at, act, KSIGACTION_BYTES)) == 0)
			rc = inject_syscall_here(&r->in, SYS_rt_sigaction, a, &ret);
		if (rc == 0 && ret != 0)
			rc = (int)ret;
	}
	uint64_t m[6] = { SIG_SETMASK, at, 0, SIGSET_BYTES, 0, 0 };
	if (rc == 0 && (rc = inject_write(&r->in, at, &r->exec_blocked, SIGSET_BYTES)) == 0)
		rc = inject_syscall_here(&r->in, SYS_rt_sigprocmask, m, &ret);
	return rc == 0 ? (int)ret : rc;
}

void remote_exec_settle(struct remote *r)
{
	static struct inject_sig came[INJECT_SIGS_MAX], later[INJECT_SIGS_MAX];
	struct user_regs_struct regs;
	unsigned n = inject_take_signals(&r->in, came), m;
	r->execed = 0;
	r->next_node = 0; /* a move asked for the old program is moot */
	r->moving = 0;
	ptrace(PTRACE_SETOPTIONS, r->pid, NULL, (void *)follow_options());
	if (inject_open(&r->in, r->pid) != 0 || ptrace(PTRACE_GETREGS, r->pid, NULL, &regs) != 0 ||
	    settle_signals(r, regs.rsp) != 0)
		fprintf(stderr, "om-run: %s: the signal mask and ignored signals it had on node %u could not be set "
				"at home\n", r->prog, r->jc->placed.node);
	/* Those that came during the exec, then those that waited in the
	 * kernel since (the settling calls took them): the new program's. */
	m = inject_take_signals(&r->in, later);
	inject_close(&r->in);
	for (unsigned i = 0; i < n; i++)
		inject_raise(r->pid, &came[i]);
	for (unsigned i = 0; i < m; i++)
		inject_raise(r->pid, &later[i]);
	stats_move(&r->stats, 0); /* the new program starts at home */
	r->fw.stopped = 1;
	r->fw.interrupting = 0;
	r->fw.watch_fd = r->jc->ctl_fd;
}
