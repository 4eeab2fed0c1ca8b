/* vdso_leave.h - a process at home about to move must not be inside the
 * vDSO: the real vDSO's code reads this kernel's vvar page, which a node
 * does not have (a node gets a copy whose entry points are syscall
 * trampolines, vdso.h). Stopped in the middle of clock_gettime, it would
 * resume there on the node and fault. */
#ifndef OM_VDSO_LEAVE_H
#define OM_VDSO_LEAVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Where pid's vDSO is (*base, from its auxv) and its unpatched image
 * (*img, *len: the deputy's own, the same on this kernel). Returns 0, or
 * -1 when it has none. */
int vdso_range(pid_t pid, uint64_t *base, const uint8_t **img, size_t *len);

#define VDSO_LEAVE_STEPS 100000 /* single steps at most (a vDSO call is short) */

/* pid is in a ptrace-stop at home. If its rip is inside its vDSO, single-
 * steps it until it is out (it has returned to its caller); a signal that
 * comes meanwhile is held and queued to it again, with its siginfo,
 * afterwards (so no handler runs with a frame that returns into the vDSO).
 * Returns 0 when the process is outside the vDSO, -1 when it could not be
 * got out: it died or stopped at an event (left unreaped for the follower
 * to see), ptrace failed, too many steps, or its next instruction is a
 * syscall the vDSO's code does not make (a program that jumped into the
 * vDSO's bytes: stepping that is not ours to do). */
int vdso_leave(pid_t pid);

/* pid is in a signal-delivery-stop for sig at home, about to move. A
 * handler must not run with its frame's saved rip inside the vDSO (the
 * move stops it in the handler, which would return there on the node): if
 * the process is inside, it is stepped out and sig queued to it again
 * (with its siginfo where the kernel lets another process queue it; a
 * kernel-made siginfo becomes SI_USER). Returns the signal to resume it
 * with: sig, or 0 when it was queued again. */
int vdso_leave_for_signal(pid_t pid, int sig);

#endif
