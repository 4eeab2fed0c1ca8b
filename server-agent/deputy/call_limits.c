/* call_limits.c - whether a forwarded call stays inside the job
 * (call_limits.h): the rules, then the world as /proc shows it. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/ioprio.h>
#include <linux/magic.h>

#include "call_limits.h"

#ifndef PIDFD_SIGNAL_PROCESS_GROUP
#define PIDFD_SIGNAL_PROCESS_GROUP (1u << 2) /* Linux 6.9 */
#endif

/* ------------------------------------------------------------ the rules */

static int refuse(char *why, size_t len, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int refuse(char *why, size_t len, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return rc;
}

/* A process or thread the call names (pid > 0). */
static int pid_in(const struct call_world *w, pid_t pid, char *why, size_t len)
{
	int rc = w->member(w, pid);
	if (rc == -ESRCH)
		return refuse(why, len, rc, "no process %d", (int)pid);
	if (rc != 0)
		return refuse(why, len, -EPERM, "pid %d is not in this job", (int)pid);
	return 0;
}

/* A pid argument where 0 is the caller and a negative one names nothing
 * (the kernel answers EINVAL or ESRCH itself). */
static int target_in(const struct call_world *w, uint64_t arg, char *why, size_t len)
{
	int32_t pid = (int32_t)arg; /* the kernel's pid_t */
	return pid > 0 ? pid_in(w, pid, why, len) : 0;
}

/* A process group (pgrp > 0): the one the job started in is its to
 * reach; another only when every member is in the job. The caller's own
 * group is no exception: a process may join another group of its session
 * (setpgid), one of processes outside the job. */
static int group_in(const struct call_world *w, pid_t pgrp, char *why, size_t len)
{
	if (w->home_pgrp > 0 && pgrp == w->home_pgrp)
		return 0;
	int rc = w->group(w, pgrp);
	if (rc == -ESRCH)
		return refuse(why, len, rc, "no process group %d", (int)pgrp);
	if (rc != 0)
		return refuse(why, len, -EPERM, "process group %d has processes outside this job", (int)pgrp);
	return 0;
}

/* The process a descriptor of the caller names (pidfd_*, process_mrelease). */
static int fd_in(const struct call_world *w, uint64_t arg, pid_t *named, char *why, size_t len)
{
	int fd = (int)(int32_t)arg;
	pid_t pid = *named = w->fd_pid(w, fd);
	if (pid == -EPERM)
		return refuse(why, len, -EPERM, "descriptor %d names a process the deputy cannot see", fd);
	if (pid <= 0)
		return 0; /* not a process's: the kernel answers */
	int rc = w->member(w, pid);
	if (rc == -ESRCH)
		return refuse(why, len, rc, "descriptor %d names pid %d, which is gone", fd, (int)pid);
	if (rc != 0)
		return refuse(why, len, -EPERM, "descriptor %d names pid %d, which is not in this job", fd, (int)pid);
	return 0;
}

/* The caller's own group, as a call that names it by 0 reaches it. */
static int own_group_in(const struct call_world *w, char *why, size_t len)
{
	pid_t pgrp = w->pgrp(w, w->self);
	return pgrp > 0 ? group_in(w, pgrp, why, len) : 0;
}

/* kill(pid, sig) (kill(2)): one process, the caller's group, every
 * process, or a group. */
static int kill_in(const struct call_world *w, int32_t pid, char *why, size_t len)
{
	if (pid > 0)
		return pid_in(w, pid, why, len);
	if (pid == 0)
		return own_group_in(w, why, len);
	if (pid == -1)
		return refuse(why, len, -EPERM, "-1 names every process the user may signal");
	if (pid == INT32_MIN)
		return 0; /* no group: the kernel's ESRCH */
	return group_in(w, -pid, why, len);
}

/* setpriority and ioprio_set: which is a process, a group or a user, by
 * each call's own numbering (kinds: process, group, user). */
static int who_in(const struct call_world *w, int32_t which, int32_t who, const int kinds[3], char *why,
		  size_t len)
{
	if (which == kinds[0])
		return who > 0 ? pid_in(w, who, why, len) : 0;
	if (which == kinds[1])
		return who > 0 ? group_in(w, who, why, len) : who == 0 ? own_group_in(w, why, len) : 0;
	if (which == kinds[2])
		return refuse(why, len, -EPERM, "a user's processes are not all in this job");
	return 0; /* the kernel's EINVAL */
}

/* ioctl(fd, TIOCSPGRP, &pgrp): the group travels in the call's buffer. */
static int tiocspgrp_in(const struct call_world *w, const struct om_sysreq *req, char *why, size_t len)
{
	for (unsigned i = 0; i < req->nbuf; i++) {
		const struct om_sysbuf *b = &req->buf[i];
		int32_t pgrp;
		if (b->arg != 2 || b->len != sizeof pgrp)
			continue;
		memcpy(&pgrp, b->data, sizeof pgrp); /* x86-64: little-endian, as on the wire */
		return pgrp > 0 ? group_in(w, pgrp, why, len) : 0;
	}
	return 0; /* a NULL pointer: the kernel's EFAULT */
}

/* setpgid(pid, pgid): a new group of its own is the process's to make;
 * joining another is joining its members. */
static int setpgid_in(const struct call_world *w, int32_t pid, int32_t pgid, char *why, size_t len)
{
	if (pgid <= 0 || pgid == (pid > 0 ? pid : w->self))
		return 0; /* its own, or the kernel's EINVAL */
	return group_in(w, pgid, why, len);
}

/* pidfd_send_signal(fd, sig, info, flags): the process the descriptor
 * names, or with PIDFD_SIGNAL_PROCESS_GROUP (Linux 6.9) its whole group. */
static int pidfd_signal_in(const struct call_world *w, const uint64_t *a, char *why, size_t len)
{
	pid_t pid, pgrp;
	int rc = fd_in(w, a[0], &pid, why, len);
	if (rc != 0 || !((uint32_t)a[3] & PIDFD_SIGNAL_PROCESS_GROUP) || pid <= 0 || (pgrp = w->pgrp(w, pid)) <= 0)
		return rc;
	return group_in(w, pgrp, why, len);
}

/* Who gets a descriptor's SIGIO (or the signal F_SETSIG names): fcntl's
 * F_SETOWN takes a pid, or a group as a negative number. The forms whose
 * owner lies in memory (F_SETOWN_EX, FIOSETOWN, SIOCSPGRP) are never
 * forwarded; the confinement's guard, which reads no memory, refuses
 * them. */
static int owner_in(const struct call_world *w, const struct om_sysreq *req, char *why, size_t len)
{
	int32_t cmd = (int32_t)req->args[1], who = (int32_t)req->args[2];
	if (req->nr == SYS_fcntl && cmd == F_SETOWN)
		return who > 0 ? pid_in(w, who, why, len) : who < 0 && who != INT32_MIN ? group_in(w, -who, why, len) : 0;
	if ((req->nr == SYS_fcntl && cmd == F_SETOWN_EX) ||
	    (req->nr == SYS_ioctl && ((uint32_t)cmd == FIOSETOWN || (uint32_t)cmd == SIOCSPGRP)))
		return refuse(why, len, -EPERM, "the owner it sets lies in memory, which is not checked");
	return 0;
}

int call_limits_check(const struct call_world *w, const struct om_sysreq *req, char *why, size_t len)
{
	static const int prio[3] = { PRIO_PROCESS, PRIO_PGRP, PRIO_USER };
	static const int ioprio[3] = { IOPRIO_WHO_PROCESS, IOPRIO_WHO_PGRP, IOPRIO_WHO_USER };
	const uint64_t *a = req->args;
	int rc;
	switch (req->nr) {
	case SYS_kill:
		return kill_in(w, (int32_t)a[0], why, len);
	case SYS_tgkill:
	case SYS_rt_tgsigqueueinfo:
		return target_in(w, a[1], why, len); /* the thread: only it gets the signal */
	case SYS_tkill:
	case SYS_rt_sigqueueinfo:
	case SYS_pidfd_open:
	case SYS_get_robust_list:
	case SYS_prlimit64:
	case SYS_sched_setaffinity:
	case SYS_sched_setscheduler:
	case SYS_sched_setparam:
	case SYS_sched_setattr:
	case SYS_process_vm_readv:
	case SYS_process_vm_writev:
	case SYS_migrate_pages:
	case SYS_move_pages:
		return target_in(w, a[0], why, len);
	case SYS_kcmp:
		if ((rc = target_in(w, a[0], why, len)) != 0)
			return rc;
		return target_in(w, a[1], why, len);
	case SYS_setpriority:
		return who_in(w, (int32_t)a[0], (int32_t)a[1], prio, why, len);
	case SYS_ioprio_set:
		return who_in(w, (int32_t)a[0], (int32_t)a[1], ioprio, why, len);
	case SYS_pidfd_send_signal:
		return pidfd_signal_in(w, a, why, len);
	case SYS_setpgid:
		return setpgid_in(w, (int32_t)a[0], (int32_t)a[1], why, len);
	case SYS_fcntl:
		return owner_in(w, req, why, len);
	case SYS_pidfd_getfd:
	case SYS_process_mrelease:
	case SYS_process_madvise:
		return fd_in(w, a[0], &(pid_t){ 0 }, why, len);
	case SYS_ptrace:
		return refuse(why, len, -EPERM, "a node may not trace a process");
	case SYS_ioctl:
		return (uint32_t)a[1] == TIOCSPGRP ? tiocspgrp_in(w, req, why, len) : owner_in(w, req, why, len);
	}
	return 0;
}

int call_limits_signal(const struct om_sysreq *req)
{
	switch (req->nr) {
	case SYS_kill:
	case SYS_tkill:
	case SYS_rt_sigqueueinfo:
	case SYS_pidfd_send_signal:
		return (int)(int32_t)req->args[1];
	case SYS_tgkill:
	case SYS_rt_tgsigqueueinfo:
		return (int)(int32_t)req->args[2];
	}
	return -1;
}

void call_limits_describe(const struct om_sysreq *req, char *out, size_t len)
{
	const struct om_syscall *e = om_syscall_get(req->nr);
	int sig = call_limits_signal(req), sig_at = -1;
	size_t k;
	if (sig >= 0)
		sig_at = req->nr == SYS_tgkill || req->nr == SYS_rt_tgsigqueueinfo ? 2 : 1;
	if (!e || len == 0) {
		snprintf(out, len, "system call %u", req->nr);
		return;
	}
	k = (size_t)snprintf(out, len, "%s(", e->name);
	for (int i = 0, n = om_syscall_nargs(e); i < n && k < len; i++) {
		const char *sep = i ? ", " : "";
		uint64_t v = req->args[i];
		const char *abbrev = i == sig_at && sig > 0 ? sigabbrev_np(sig) : NULL;
		if (abbrev)
			k += (size_t)snprintf(out + k, len - k, "%sSIG%s", sep, abbrev);
		else if (e->arg[i].kind != OM_K_VAL)
			k += (size_t)snprintf(out + k, len - k, "%s...", sep); /* a pointer */
		else if (v >> 32 == 0 || (int64_t)(int32_t)v == (int64_t)v) /* an int, as a node or libc passes it */
			k += (size_t)snprintf(out + k, len - k, "%s%d", sep, (int)(int32_t)v);
		else
			k += (size_t)snprintf(out + k, len - k, "%s%#llx", sep, (unsigned long long)v);
	}
	if (k < len)
		snprintf(out + k, len - k, ")");
}

/* ------------------------------------------------------------ /proc */

/* What the walk needs of /proc/PID/stat. */
struct proc_line {
	pid_t ppid, pgrp;
	unsigned long long start;
};

/* Reads a /proc file (at most len - 1 bytes, NUL-terminated). Returns the
 * length, or -errno. */
static ssize_t proc_read(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, len - 1);
	int err = errno;
	close(fd);
	if (n < 0)
		return -err;
	buf[n] = '\0';
	return n;
}

/* /proc/PID/stat's fields 4 (ppid), 5 (pgrp) and 22 (starttime), after
 * the command, which may hold spaces and parentheses (it ends at the last
 * ')'). Returns 0, -ESRCH when the process is gone, -EIO when the line
 * does not parse. */
static int proc_line_of(pid_t pid, struct proc_line *l)
{
	char path[64], buf[2048], *p, *end;
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	ssize_t n = proc_read(path, buf, sizeof buf);
	if (n == -ENOENT || n == -ESRCH)
		return -ESRCH;
	if (n <= 0 || !(p = strrchr(buf, ')')) || p[1] != ' ' || !p[2] || p[3] != ' ')
		return -EIO;
	p += 4; /* ") S ": field 4 next */
	for (int field = 4; field <= 22; field++) {
		errno = 0;
		long long v = strtoll(p, &end, 10);
		if (end == p || errno != 0 || (*end != ' ' && *end != '\n'))
			return -EIO;
		if (field == 4)
			l->ppid = (pid_t)v;
		else if (field == 5)
			l->pgrp = (pid_t)v;
		else if (field == 22)
			l->start = (unsigned long long)v;
		p = end;
	}
	return 0;
}

/* The process of thread tid (/proc/TID/status Tgid; a process's own id
 * for its leader), or -ESRCH. */
static pid_t proc_tgid(pid_t tid)
{
	char path[64], buf[2048], *p;
	snprintf(path, sizeof path, "/proc/%d/status", (int)tid);
	if (proc_read(path, buf, sizeof buf) <= 0 || !(p = strstr(buf, "\nTgid:")))
		return -ESRCH;
	long v = strtol(p + 6, NULL, 10);
	return v > 0 && v <= INT_MAX ? (pid_t)v : -ESRCH;
}

/* From process p up its parents: 0 at the caller or at the job's root;
 * -EPERM at the top, or after CALL_LIMITS_DEPTH links, or a line that
 * does not parse; -ESRCH when p itself is gone; -EAGAIN when a parent
 * went on the way (its children have a new one now: walk again). */
static int walk_up(const struct call_world *w, pid_t p)
{
	const struct call_job *job = w->job;
	struct proc_line l;
	for (int depth = 0; depth < CALL_LIMITS_DEPTH && p > 0; depth++) {
		if (p == w->self)
			return 0;
		int rc = proc_line_of(p, &l);
		if (rc == -ESRCH)
			return depth == 0 ? -ESRCH : -EAGAIN;
		if (rc != 0)
			return -EPERM;
		if (job->root > 0 && p == job->root && l.start == job->root_start)
			return 0;
		p = l.ppid;
	}
	return -EPERM;
}

static int proc_member(const struct call_world *w, pid_t pid)
{
	for (int tries = 0; tries < 3; tries++) {
		pid_t tgid = proc_tgid(pid);
		if (tgid < 0)
			return -ESRCH;
		int rc = walk_up(w, tgid);
		if (rc != -EAGAIN)
			return rc;
	}
	return -EPERM; /* its ancestors keep going: not known to be ours */
}

/* Every process of pgrp, from a scan of /proc. */
static int proc_group(const struct call_world *w, pid_t pgrp)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = 0, rc = 0;
	if (!d)
		return -EPERM; /* cannot tell */
	while (rc == 0 && (e = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		struct proc_line l;
		if (*end != '\0' || pid <= 0 || pid > INT_MAX || proc_line_of((pid_t)pid, &l) != 0 ||
		    l.pgrp != pgrp)
			continue;
		int in = proc_member(w, (pid_t)pid);
		if (in == -ESRCH)
			continue; /* gone meanwhile */
		found = 1;
		rc = in;
	}
	closedir(d);
	return rc != 0 ? -EPERM : found ? 0 : -ESRCH;
}

/* A directory of procfs that the caller holds (pidfd_send_signal takes a
 * /proc/PID one): its process, from its own stat. 0 when it is not one,
 * or its process ended. */
static pid_t proc_dir_pid(pid_t tid, int fd)
{
	char path[64], buf[128], *end;
	struct statfs sf;
	snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)tid, fd);
	int d = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (d < 0)
		return 0;
	if (fstatfs(d, &sf) != 0 || sf.f_type != PROC_SUPER_MAGIC) {
		close(d);
		return 0;
	}
	int s = openat(d, "stat", O_RDONLY | O_CLOEXEC);
	int err = errno;
	close(d);
	if (s < 0)
		return err == ENOENT || err == ESRCH ? 0 : -EPERM;
	ssize_t n = read(s, buf, sizeof buf - 1);
	close(s);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	long v = strtol(buf, &end, 10);
	/* "PID (comm) ...": /proc itself has a stat of another form */
	return end != buf && *end == ' ' && v > 0 && v <= INT_MAX ? (pid_t)v : 0;
}

/* fdinfo's "Pid:" for a pidfd (proc(5)): the pid, -1 once the process
 * ended, 0 when it is not in our pid namespace. */
static pid_t proc_fd_pid(const struct call_world *w, int fd)
{
	char path[64], buf[4096], *p;
	if (fd < 0)
		return 0;
	snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", (int)w->tid, fd);
	if (proc_read(path, buf, sizeof buf) <= 0)
		return 0; /* no such descriptor: the kernel's EBADF */
	if (!(p = strstr(buf, "\nPid:")))
		return proc_dir_pid(w->tid, fd);
	long v = strtol(p + 5, NULL, 10);
	if (v == 0 || v > INT_MAX)
		return -EPERM;
	return v > 0 ? (pid_t)v : 0;
}

static pid_t proc_pgrp(const struct call_world *w, pid_t pid)
{
	struct proc_line l;
	(void)w;
	return proc_line_of(pid, &l) == 0 ? l.pgrp : -ESRCH;
}

void call_limits_proc(struct call_world *w, const struct call_job *job, pid_t self, pid_t tid)
{
	if (self <= 0 && (self = proc_tgid(tid)) <= 0)
		self = tid; /* gone: the checks answer ESRCH */
	*w = (struct call_world){ .self = self, .home_pgrp = job->home_pgrp, .pgrp = proc_pgrp,
				  .member = proc_member, .group = proc_group, .fd_pid = proc_fd_pid,
				  .job = job, .tid = tid > 0 ? tid : self };
}

int call_job_init(struct call_job *job, pid_t root)
{
	struct proc_line l;
	int rc = proc_line_of(root, &l);
	memset(job, 0, sizeof *job);
	if (rc != 0)
		return rc;
	job->root = root;
	job->root_start = l.start;
	job->home_pgrp = l.pgrp;
	return 0;
}
