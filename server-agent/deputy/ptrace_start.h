/* ptrace_start.h - start a program under ptrace and stop it at its entry
 * point (AT_ENTRY), the moment om captures it.
 *
 * Home side only (Linux). The tracee is a child of the caller and carries
 * PTRACE_O_EXITKILL: it never outlives the tracer. */
#ifndef OM_PTRACE_START_H
#define OM_PTRACE_START_H

#include <stdint.h>
#include <sys/types.h>

/* Forks, execs prog (searched in PATH when it has no '/', like a shell) with
 * argv and envp under ptrace, and runs it to AT_ENTRY. For a dynamic program
 * the loader has then run at home. On success returns 0 with *pid stopped at
 * the entry (rip == *entry, no signal pending from the stop) and 'entry' set.
 * On failure returns -errno: an exec failure (reported by the child through
 * a close-on-exec pipe) is the exec's errno, with the child reaped; a
 * failure after the exec kills and reaps the child. */
int ptrace_start(const char *prog, char *const argv[], char *const envp[],
    pid_t *pid, uint64_t *entry);

/* The exit status a shell gives for an exec failure -err: 127 when the
 * program was not found, 126 otherwise. */
int ptrace_start_status(int err);

/* Runs a stopped tracee to addr with a temporary int3 and stops it there
 * (rip == addr). Signals that arrive on the way are delivered. Returns 0, or
 * -errno (-ESRCH when the tracee died; then *status holds its wait status
 * when status is not NULL). */
int ptrace_run_to(pid_t pid, uint64_t addr, int *status);

/* Reads AT_ENTRY (or any auxv type) from /proc/PID/auxv; 0 if absent. */
uint64_t ptrace_auxv(pid_t pid, uint64_t type);

#endif
