/* return_calls.h - the system call a returning image makes first at home.
 *
 * A thread of an image that comes home from a node may stand at a system
 * call: the header thread's pending one (JOB_HOME names it; settle_home
 * moves the thread back over its SYSCALL to make it again), or any
 * thread whose instruction pointer is at a SYSCALL instruction (the node
 * sends a thread that waits in a call that way, restart.h). That call
 * runs natively at home, where the deputy does not see it, so a hostile
 * node could smuggle in what the deputy would refuse it: a kill of the
 * user's other processes, a ptrace, a process_vm_writev. Such a call gets
 * the deputy's limits (call_limits.h) before the image runs: refused, it
 * returns its error (EPERM, ESRCH) as a forwarded call would, and does
 * not run. A pending call whose thread does not stand after a SYSCALL,
 * and a thread at a 32-bit system call instruction (int $0x80, sysenter:
 * another numbering, which the limits do not read), end the job.
 * Arguments in memory (TIOCSPGRP's group) are not read: a terminal's
 * foreground group is the job's own business at home. Home side only. */
#ifndef OM_RETURN_CALLS_H
#define OM_RETURN_CALLS_H

#include <stddef.h>
#include <stdint.h>

enum return_call {
	RETURN_NONE,    /* the thread goes on in its code, no call first */
	RETURN_PENDING, /* the pending call, at the SYSCALL before rip */
	RETURN_AT,      /* the call at rip, numbered by rax */
	RETURN_BAD      /* the job ends (why says so) */
};

/* Decides from the pending call (-1: none) and the two bytes before the
 * instruction pointer and at it (NULL where home cannot read them). */
enum return_call return_call_kind(int32_t pending, const uint8_t *before, const uint8_t *at, const char **why);

struct remote;
/* Checks the restored leader (with r->pending_nr) and each restored
 * thread of r. Returns 0 (refused calls now return their error; the
 * leader's pending call is then dropped) or -1 with the reason said on
 * stderr (the job ends). */
int return_calls_check(struct remote *r);

#endif
