/* confine.h - om-run --confine: the program's process at home, and every
 * process it becomes or starts, confined with Landlock (Linux 5.13 and
 * later; docs/security.md, "Confinement").
 *
 * A node's forwarded calls run inside that process (deputy_call.h), so
 * what Landlock denies the process a hostile node cannot reach either,
 * whatever it asks. om-run builds the ruleset before it forks the program
 * (confine_build: errors are om-run's to print before anything runs) and
 * the child applies it to itself just before its execve (confine_apply,
 * job.c), so the program, its children and every call the deputy injects
 * are confined from the first instruction; om-run and the deputies
 * themselves are not (they trace the process and read its memory, which
 * Landlock allows an unconfined tracer).
 *
 * What the process may reach:
 *   - the working directory, with everything beneath it: every right;
 *   - each --allow PATH likewise, each --allow-read PATH to read and run;
 *   - the program file itself, to read and run;
 *   - /usr, /bin, /sbin, /lib, /lib32, /lib64, /libx32, /etc, /opt (those
 *     that exist): read and run, which is what loading and running a
 *     program takes; /proc and /sys: read;
 *   - /dev/null, /dev/zero, /dev/full, /dev/random, /dev/urandom, /dev/tty
 *     and the terminal on its standard input, output or error, if any:
 *     read and write (and their ioctls).
 * Nothing else: not the user's home directory, /tmp, /dev/shm, /run (with
 * /run/user/UID), unless named. TCP bind and connect are denied unless
 * allow_tcp (Landlock ABI 4 and later); signals to processes outside the
 * confined tree and connections to abstract Unix sockets made outside it
 * too (ABI 6). Landlock also keeps the process from tracing, or reading
 * the /proc files of, any process outside the tree. What Landlock does not
 * cover (Unix sockets by path, io_uring, 32-bit calls) a seccomp filter
 * refuses (confine_calls.h), and calls aimed at other processes a guard
 * decides with the deputy's limits (confine_guard.h). */
#ifndef OM_CONFINE_H
#define OM_CONFINE_H

#include <stddef.h>

#define CONFINE_ALLOW_MAX 64 /* --allow and --allow-read paths, in all */

struct confine_path {
	const char *path;
	int write;                 /* 1: --allow (every right), 0: --allow-read */
};

struct confine_spec {
	const struct confine_path *allow;
	size_t nallow;
	const char *program;       /* the file om-run runs, as resolved */
	int allow_tcp;             /* --allow-tcp: TCP bind and connect as usual */
};

/* Builds the ruleset for spec with the best Landlock ABI the kernel has
 * (its number in *abi) and returns its descriptor (close-on-exec), to be
 * inherited by the child that confine_apply's it. Returns -1 with the
 * reason in err: no Landlock in this kernel, Landlock disabled at boot, a
 * path of spec that cannot be opened, or a rule the kernel refused. Call
 * from the directory the program is to run in. */
int confine_build(const struct confine_spec *spec, int *abi, char *err, size_t errlen);

/* In the program's process, before its execve: no new privileges (set-uid
 * and file capabilities no longer raise them, which Landlock requires of
 * an unprivileged caller), then the ruleset of confine_build (closed),
 * then confine_calls_apply's filter. Returns 0, or -errno. */
int confine_apply(int ruleset);

#endif
