/* return_calls.c - the deputy's limits for the call a returning image
 * makes first (contract in return_calls.h). */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>

#include "call_limits.h"
#include "remote.h"
#include "return_calls.h"

static int is_syscall(const uint8_t *b)
{
	return b && b[0] == 0x0f && b[1] == 0x05;
}

static int is_compat_call(const uint8_t *b)
{
	return b && ((b[0] == 0xcd && b[1] == 0x80) || (b[0] == 0x0f && b[1] == 0x34));
}

enum return_call return_call_kind(int32_t pending, const uint8_t *before, const uint8_t *at, const char **why)
{
	*why = "";
	if (pending >= 0) {
		if (is_syscall(before))
			return RETURN_PENDING;
		*why = "the node says it waits in a system call, but it does not stand after one";
		return RETURN_BAD;
	}
	if (is_syscall(at))
		return RETURN_AT;
	if (is_compat_call(at)) {
		*why = "it stands at a 32-bit system call, which om does not check";
		return RETURN_BAD;
	}
	return RETURN_NONE;
}

/* One thread, stopped with its restored registers. */
static int check_thread(struct remote *r, pid_t tid, int32_t *pending)
{
	struct user_regs_struct regs;
	uint8_t before[2], at[2];
	const char *why;
	if (ptrace(PTRACE_GETREGS, tid, NULL, &regs) != 0) {
		fprintf(stderr, "om-run: thread %d of the returning image: PTRACE_GETREGS: %m\n", (int)tid);
		return -1;
	}
	int have_before = inject_read(&r->in, regs.rip - 2, before, 2) == 0;
	int have_at = inject_read(&r->in, regs.rip, at, 2) == 0;
	enum return_call k = return_call_kind(*pending, have_before ? before : NULL, have_at ? at : NULL, &why);
	if (k == RETURN_BAD) {
		fprintf(stderr, "om-run: the image node %u returned does not run: thread %d at %#llx: %s\n",
			r->jc->placed.node, (int)tid, (unsigned long long)regs.rip, why);
		return -1;
	}
	if (k == RETURN_NONE)
		return 0;
	struct inject as = { .pid = tid };
	struct om_sysreq req = {
		.nr = k == RETURN_PENDING ? (uint32_t)*pending : (uint32_t)regs.rax,
		.tid = (uint32_t)tid,
		.args = { regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9 },
	};
	int rc = remote_limited(r, &as, &req);
	if (rc == 0)
		return 0;
	/* It returns its error without running: after the SYSCALL. */
	if (k == RETURN_AT)
		regs.rip += 2;
	else
		*pending = -1;
	regs.rax = (uint64_t)(int64_t)rc;
	regs.orig_rax = (uint64_t)-1;
	if (ptrace(PTRACE_SETREGS, tid, NULL, &regs) != 0) {
		fprintf(stderr, "om-run: thread %d of the returning image: PTRACE_SETREGS: %m\n", (int)tid);
		return -1;
	}
	return 0;
}

int return_calls_check(struct remote *r)
{
	int32_t none = -1;
	if (check_thread(r, r->in.pid, &r->pending_nr) != 0)
		return -1;
	for (int i = 0; i < r->nthreads; i++)
		if (r->threads[i]->restored && check_thread(r, r->threads[i]->tid, &none) != 0)
			return -1;
	return 0;
}
