/* handoff.h - a traced process passed from one deputy to another.
 *
 * The tracer of a process sees its forks (PTRACE_O_TRACEFORK): the child
 * is auto-attached to the same tracer. Each process of a job has its own
 * deputy (its own agent link, blocking as it likes), so the child must
 * change tracers, and neither its parent nor the child may notice: no
 * stop a parent's wait4 could report, no signal lost or delivered early.
 * The old tracer parks the child in pause() on the `syscall` instruction
 * of the fork itself, every signal blocked, and detaches it; the new one
 * seizes it, interrupts the pause and puts back the registers and the
 * mask it had at the fork. Signals sent in between stay pending. Under
 * Yama's ptrace_scope 1 the child is first told (PR_SET_PTRACER) that the
 * new deputy, which is not its ancestor, may trace it. Home side only. */
#ifndef OM_HANDOFF_H
#define OM_HANDOFF_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

struct handoff {
	pid_t pid;
	struct user_regs_struct regs; /* as at the fork: rax 0, rip after it */
	uint64_t sigmask;
};

/* The old tracer, with pid in its first stop after the fork event: fills
 * h, parks pid and detaches it; to is the deputy that will take it.
 * Returns 0, or -errno (the child is then still ours, stopped). */
int handoff_give(pid_t pid, pid_t to, struct handoff *h);
/* The new tracer: seizes h->pid with the ptrace options given and leaves
 * it in a ptrace stop, as it was at the fork. Returns 0, or -errno (the
 * child then parked as it was and not traced by us, or dead). */
int handoff_take(const struct handoff *h, long options);

#endif
