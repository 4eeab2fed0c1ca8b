/* confine_calls.h - the system calls a process under om-run --confine may
 * not make, where Landlock (confine.h) does not reach.
 *
 * Landlock does not cover connecting to a Unix socket by its path (an
 * ssh-agent, a D-Bus session bus, gpg-agent, the user's other services),
 * and a node could ask for exactly that. A seccomp filter, installed with
 * the ruleset and kept across execve, answers:
 *   - socket(AF_UNIX, ...) with EACCES, as Landlock answers a denied
 *     file (socketpair, which connects to nothing outside, works);
 *   - ioctl TIOCSTI and TIOCLINUX with EPERM: typed into the terminal
 *     (or pasted from the console's selection), a command would run in
 *     the user's shell, outside the confinement;
 *   - io_uring_setup with ENOSYS (io_uring can make sockets and open
 *     files past the filter; programs fall back to plain calls);
 *   - every 32-bit system call (int $0x80, x32) with ENOSYS: their
 *     socketcall passes its arguments in memory, where the filter cannot
 *     look, and x86-64 programs make none.
 * The deputy's own injected calls go through the filter too; it injects
 * none of these. */
#ifndef OM_CONFINE_CALLS_H
#define OM_CONFINE_CALLS_H

/* Installs the filter in the calling process (no_new_privs set). Returns
 * 0, or -errno. */
int confine_calls_apply(void);

#endif
