/* home_thread.c - a thread made by the deputy, never run on its own (see
 * home_thread.h). ptrace(2): with PTRACE_O_TRACECLONE the new thread is
 * attached at once and starts in a stop (PTRACE_EVENT_STOP when its process
 * was seized); it never leaves that stop but for injected calls. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "home_thread.h"

#define THREAD_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM)

int home_thread_new(struct inject *in, long options, struct inject *out, pid_t *tid)
{
	/* No stack of its own: it never runs its own code. */
	uint64_t args[6] = { THREAD_FLAGS, 0, 0, 0, 0, 0 };
	int64_t ret;
	int st, rc;

	if (ptrace(PTRACE_SETOPTIONS, in->pid, NULL, (void *)(options | PTRACE_O_TRACECLONE)) == -1)
		return -errno;
	rc = inject_syscall(in, SYS_clone, args, &ret);
	if (ptrace(PTRACE_SETOPTIONS, in->pid, NULL, (void *)options) == -1 && rc == 0)
		rc = -errno;
	if (rc == 0 && ret < 0)
		rc = (int)ret;
	if (rc != 0)
		return rc;
	while (waitpid((pid_t)ret, &st, __WALL) == -1)
		if (errno != EINTR)
			return -errno;
	if (!WIFSTOPPED(st))
		return -ESRCH;
	if ((rc = inject_open(out, (pid_t)ret)) != 0) {
		kill((pid_t)ret, SIGKILL); /* the whole process: it cannot be held */
		return rc;
	}
	home_thread_share(in, out);
	*tid = (pid_t)ret;
	return 0;
}

void home_thread_share(const struct inject *in, struct inject *out)
{
	/* The scratch region is its process's: the same memory. */
	out->scratch = in->scratch;
	out->scratch_len = in->scratch_len;
	out->stub = in->stub;
	out->data = in->data;
	out->interruptible = in->interruptible;
}

int home_thread_end(struct inject *t)
{
	uint64_t args[6] = { 0, 0, 0, 0, 0, 0 };
	int64_t ret;
	int rc = inject_syscall(t, SYS_exit, args, &ret);

	inject_close(t);
	/* Its exit is where the call ends: the tracee is gone. */
	return rc == -ESRCH && t->dead && WIFEXITED(t->status) ? 0 : rc == 0 ? -EPROTO : rc;
}
