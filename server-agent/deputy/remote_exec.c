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
#include <sys/ptrace.h>
#include <sys/user.h>

#include "remote.h"

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

/* Injected at the exec stop, before any of the new program runs (inject.h);
 * the structures go below the stack pointer, in stack it has not used. */
static int settle_signals(struct remote *r)
{
	struct user_regs_struct regs;
	uint64_t home = 0;
	if (ptrace(PTRACE_GETREGS, r->pid, NULL, &regs) != 0 || home_ignored(r->pid, &home) != 0)
		return -1;
	uint64_t at = (regs.rsp - 512) & ~15ull;
	int rc = 0;
	for (int sig = 1; rc == 0 && sig <= 64; sig++) {
		uint64_t bit = 1ull << (sig - 1);
		if (sig != SIGKILL && sig != SIGSTOP && ((home ^ r->exec_ignored) & bit))
			rc = inject_sigaction(&r->in, sig, (uint64_t)(uintptr_t)(r->exec_ignored & bit ? SIG_IGN : SIG_DFL),
					      0, at);
	}
	return rc == 0 ? inject_sigmask(&r->in, SIG_SETMASK, r->exec_blocked, at) : rc;
}

void remote_exec_settle(struct remote *r)
{
	static struct inject_sig came[INJECT_SIGS_MAX];
	r->execed = 0;
	r->next_node = 0; /* a move asked for the old program is moot */
	r->moving = 0;
	ptrace(PTRACE_SETOPTIONS, r->pid, NULL, (void *)follow_options());
	if (settle_signals(r) != 0)
		fprintf(stderr, "om-run: %s: the signal mask and ignored signals it had on node %u could not be set "
				"at home\n", r->prog, r->jc->placed.node);
	/* Those that came during the exec or waited in the kernel since (the
	 * settling calls took them) are the new program's. */
	unsigned n = inject_take_signals(&r->in, came);
	inject_close(&r->in);
	for (unsigned i = 0; i < n; i++)
		inject_raise(r->pid, &came[i]);
	stats_move(&r->stats, 0); /* the new program starts at home */
}
