/* confine_guard.h - om-run --confine: the deputy's limits (call_limits.h)
 * on the calls the confined processes make themselves.
 *
 * The deputy checks the calls a node forwards. But a node can also have
 * home run a program of its choosing (a forwarded execve: sh -c '...'),
 * or send the job home with data that steers the job's own code to a
 * call (a return address into libc's kill): those calls are the home
 * process's own, made natively, and the deputy never sees them. Under
 * --confine, Landlock keeps them from files and TCP (confine.h), and from
 * signalling processes outside the job only from Linux 6.12 (ABI 6); it
 * never covers prlimit, setpriority, the scheduler's and ioprio's
 * setters, kcmp, pidfds, setpgid into another group (whose members kill(0)
 * would then reach) or a descriptor's signal owner (F_SETOWN, F_SETSIG:
 * the kernel's own signals to whoever the owner names).
 *
 * So the confined process also gets a seccomp filter that hands those
 * calls (the ones call_limits.h checks, less ptrace, which Landlock
 * scopes, and TIOCSPGRP, whose argument lies in memory; owners set
 * through memory are refused) to a guard process (seccomp_unotify(2)):
 * the guard decides each one with the deputy's rules for the calling
 * process, and the kernel then runs it
 * (SECCOMP_USER_NOTIF_FLAG_CONTINUE) or returns the error without running
 * it (EPERM, ESRCH: what Linux answers for a process the caller may not
 * touch). A call that names the caller itself by 0 (prlimit64(0, ...),
 * setpriority(PRIO_PROCESS, 0, ...), glibc's own getrlimit, setpgid to a
 * group of its own) never leaves the kernel. A refused call that sends a
 * signal is said on om-run's standard error, after the answer and at most
 * 20 times.
 *
 * The guard is no child of om-run (it would confuse om-run's waits): it
 * is reparented to init, keeps only the listener and om-run's standard
 * error, has a session of its own (a job's kill(0, ...) does not reach
 * it, and it refuses the job any other way to it), ignores every signal
 * it can, and ends when the last process of the filter has been reaped.
 * Should it die, the filtered calls fail with ENOSYS: closed, not open.
 *
 * What it does not stop: a process that changes a pidfd's number
 * between the check and the call (another thread of the same confined
 * process, running code of its own already). */
#ifndef OM_CONFINE_GUARD_H
#define OM_CONFINE_GUARD_H

#include <sys/types.h>

/* In the program's process after confine_apply (no_new_privs is set):
 * installs the filter and sends its listener over sock (an AF_UNIX
 * socket whose other end confine_guard_start reads), then closes sock.
 * Returns 0, or -errno. */
int confine_guard_install(int sock);

/* In om-run, once the program (root) has execed: takes the listener from
 * sock and starts the guard for the tree of root. Returns 0, or -errno
 * (no listener came, or no guard could start: the program's filtered
 * calls would fail, so it must not run). Closes sock. */
int confine_guard_start(int sock, pid_t root);

#endif
