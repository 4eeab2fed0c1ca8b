/* call_limits.h - whether a call a node forwards stays inside the job.
 *
 * The deputy runs a forwarded call inside the job's home process, with
 * the user's rights: a node, which may be hostile (a laptop that
 * registered as one), would otherwise have them all. The deputy is the
 * job's own authority and no more: a call that names a process outside
 * the job is refused before anything is injected, with the error Linux
 * gives for a process the caller may not touch (EPERM), or ESRCH where
 * Linux would say there is no such process.
 *
 * The job is the program om-run started (its root) and every process
 * descended from it at home: a fork made on a node has its home process
 * forked inside its parent's (remote_fork), one made at home is forked
 * there, so the parent links of /proc/PID/stat lead from every process of
 * the tree to the root. The root's pid and start time are taken once by
 * om-run (call_job_init in deputy_run) and travel to every deputy of the
 * tree in struct job_ctx. A thread counts as its process. The caller and
 * its own descendants count too, for a process whose parent ended before
 * it (an orphan, then the child of init or a subreaper): it still
 * reaches itself and what it made, but not the rest of the tree.
 *
 * The calls checked, among those the node forwards (migrate/syscalls.def
 * and om_syscall_where_at; the deputy's decoder refuses every other):
 *   kill            pid > 0 in the job; -1 (every process the user may
 *                   signal) EPERM; a group -pid (0: the caller's) is the
 *                   job's home group, or one whose every member is in the
 *                   job (none: ESRCH) - the caller's own group is no
 *                   exception, as a process may join another group of its
 *                   session;
 *   tkill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo  the target (the
 *                   thread, for tgkill) in the job;
 *   pidfd_open, get_robust_list, prlimit64, sched_setaffinity,
 *   sched_setscheduler, sched_setparam, kcmp (both)  0 or in the job;
 *   setpriority, ioprio_set  a process as above, a group as kill's, a
 *                   user (every process of one) EPERM;
 *   pidfd_send_signal, pidfd_getfd, process_mrelease  the process the
 *                   descriptor names (a pidfd, by its fdinfo's Pid:, or a
 *                   /proc/PID directory, which pidfd_send_signal takes too)
 *                   in the job (with PIDFD_SIGNAL_PROCESS_GROUP, its group
 *                   as kill's); any other descriptor runs, and the kernel
 *                   answers EBADF or EINVAL;
 *   setpgid         a group of the process's own (pgid 0 or its pid), or
 *                   one kill could reach;
 *   fcntl F_SETOWN  the descriptor's SIGIO owner as kill's target; the
 *                   owner set through memory (F_SETOWN_EX, ioctl
 *                   FIOSETOWN, SIOCSPGRP) EPERM;
 *   ioctl TIOCSPGRP  the terminal's new foreground group as kill's: a
 *                   node must not hand the user's terminal to a group
 *                   outside the job.
 * The same rules cover calls that go home today instead (the process then
 * runs them natively there, where under --confine the guard applies them,
 * confine_guard.h): ptrace (always EPERM: the job is traced by its deputy
 * already), process_vm_readv/writev, migrate_pages, move_pages,
 * sched_setattr, process_madvise, setpgid, fcntl's and ioctl's owners;
 * should the table forward them one day, they are limited already.
 *
 * No check is needed for: getters that any process may use on any other
 * (getpgid, getsid, getpriority, sched_get*, ioprio_get); wait4 and
 * waitid, which reach only the caller's children; calls that need a
 * privilege the user's om-run does not have (mount, umount2, pivot_root,
 * chroot, swapon, acct, vhangup, fanotify's permission events). A group 0, a pid 0 and a
 * negative pid where the call takes none run as they are: they mean the
 * caller, or the kernel refuses them itself. Not decided here: what a
 * path names (/proc/PID/mem, a socket of another program), which the
 * kernel checks as for any program of the user.
 *
 * Pure decision (call_limits_check) and /proc (call_limits_proc) are
 * apart, so the rules can be tested against any world. Home side only. */
#ifndef OM_CALL_LIMITS_H
#define OM_CALL_LIMITS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "syscall_codec.h"

#define CALL_LIMITS_DEPTH 4096 /* parent links walked at most */

/* The job's root as the deputy knows it. */
struct call_job {
	pid_t root;                    /* the program om-run started; 0: unknown */
	unsigned long long root_start; /* its start time (/proc/PID/stat field
					* 22): a pid the root's once, reused
					* after its end, is not the root */
	pid_t home_pgrp;               /* the process group it started in,
					* which it reaches with kill(0, ...) */
};

/* Fills job for root, which exists (om-run's child before exec). Returns
 * 0, or -errno (job then knows no root: only the caller's own
 * descendants count). */
int call_job_init(struct call_job *job, pid_t root);

/* What the decision asks about processes: from /proc (call_limits_proc),
 * or whatever a test makes up. */
struct call_world {
	pid_t self;      /* the calling process (a tgid) */
	pid_t home_pgrp; /* the job's (struct call_job) */
	/* The process group of pid, or -ESRCH. */
	pid_t (*pgrp)(const struct call_world *w, pid_t pid);
	/* 0 when pid, a process or a thread, is in the job; -EPERM when it
	 * is not; -ESRCH when there is no such process. */
	int (*member)(const struct call_world *w, pid_t pid);
	/* 0 when every process of group pgrp is in the job; -EPERM when one
	 * is not; -ESRCH when the group has none. */
	int (*group)(const struct call_world *w, pid_t pgrp);
	/* The process the caller's descriptor fd names: a pid (> 0); 0 when
	 * it names none (no such descriptor, another kind of file) or that
	 * process ended (the kernel answers); -EPERM when it cannot be told. */
	pid_t (*fd_pid)(const struct call_world *w, int fd);
	const struct call_job *job; /* for call_limits_proc */
	pid_t tid;                  /* the calling thread: its descriptors */
};

/* Decides req (a decoded SYSCALL_REQ) for w->self. Returns 0 when it may
 * run, or -EPERM / -ESRCH, the call's result, with why it may not in why
 * ("pid 4242 is not in this job"). */
int call_limits_check(const struct call_world *w, const struct om_sysreq *req, char *why, size_t len);

/* The world as /proc shows it, for the process self (0: the one thread
 * tid belongs to), whose thread tid makes the call. It reads nothing yet: a call that names no process
 * costs the check nothing. */
void call_limits_proc(struct call_world *w, const struct call_job *job, pid_t self, pid_t tid);

/* The signal req sends (0 for an existence probe), or -1 for a call that
 * sends none. */
int call_limits_signal(const struct om_sysreq *req);
/* req for a message: "kill(4242, SIGKILL)". */
void call_limits_describe(const struct om_sysreq *req, char *out, size_t len);

#endif
