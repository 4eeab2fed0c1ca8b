/* confine_guard.c - the deputy's limits on a confined tree's own calls
 * (contract in confine_guard.h; seccomp_unotify(2)). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/sockios.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "call_limits.h"
#include "confine_guard.h"

#define DATA(field) offsetof(struct seccomp_data, field)
#define ARG_LO(i) (DATA(args) + (i) * 8) /* the low half: pid_t and int are 32 bits */
#define PROG_MAX 160

/* Calls that name a process by an argument, 0 being the caller itself
 * (setpgid: pgid 0, a group of its own). */
static const struct { int nr, arg; } by_pid[] = {
	{ SYS_prlimit64, 0 }, { SYS_sched_setaffinity, 0 }, { SYS_sched_setscheduler, 0 },
	{ SYS_sched_setparam, 0 }, { SYS_sched_setattr, 0 }, { SYS_get_robust_list, 0 },
	{ SYS_migrate_pages, 0 }, { SYS_move_pages, 0 }, { SYS_setpgid, 1 },
};
/* Calls that set who gets a descriptor's signals, by their request. */
static const struct { int nr; uint32_t req[2]; } by_request[] = {
	{ SYS_fcntl, { F_SETOWN, F_SETOWN_EX } }, { SYS_ioctl, { FIOSETOWN, SIOCSPGRP } },
};
/* Calls that name one by (which, who): the caller itself only for the
 * process kind with who 0 (PRIO_PROCESS is 0, IOPRIO_WHO_PROCESS 1). */
static const struct { int nr, process; } by_which[] = {
	{ SYS_setpriority, PRIO_PROCESS }, { SYS_ioprio_set, 1 },
};
/* Calls the guard always decides. */
static const int always[] = {
	SYS_kill, SYS_tkill, SYS_tgkill, SYS_rt_sigqueueinfo, SYS_rt_tgsigqueueinfo, SYS_pidfd_open,
	SYS_pidfd_send_signal, SYS_pidfd_getfd, SYS_process_mrelease, SYS_kcmp, SYS_process_vm_readv,
	SYS_process_vm_writev, SYS_process_madvise,
};

#define N(a) (sizeof (a) / sizeof (a)[0])
#define STMT(c, k) ((struct sock_filter)BPF_STMT(c, k))
#define JUMP(c, k, t, f) ((struct sock_filter)BPF_JUMP(c, k, t, f))

static size_t build(struct sock_filter *p)
{
	const struct sock_filter allow = STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	const struct sock_filter notify = STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
	size_t n = 0, i;
	/* Another architecture's calls: confine_calls.c's filter refuses them. */
	p[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, DATA(arch));
	p[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	p[n++] = allow;
	for (i = 0; i < N(by_pid); i++) {
		p[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, DATA(nr));
		p[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)by_pid[i].nr, 0, 4);
		p[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(by_pid[i].arg));
		p[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1);
		p[n++] = allow;
		p[n++] = notify;
	}
	for (i = 0; i < N(by_which); i++) {
		p[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, DATA(nr));
		p[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)by_which[i].nr, 0, 6);
		p[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(0));
		p[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)by_which[i].process, 0, 3);
		p[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(1));
		p[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1);
		p[n++] = allow;
		p[n++] = notify;
	}
	for (i = 0; i < N(by_request); i++) {
		p[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, DATA(nr));
		p[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)by_request[i].nr, 0, 5);
		p[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(1));
		p[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, by_request[i].req[0], 2, 0);
		p[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, by_request[i].req[1], 1, 0);
		p[n++] = allow;
		p[n++] = notify;
	}
	p[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, DATA(nr));
	for (i = 0; i < N(always); i++) {
		p[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)always[i], 0, 1);
		p[n++] = notify;
	}
	p[n++] = allow;
	_Static_assert(3 + 6 * N(by_pid) + 8 * N(by_which) + 7 * N(by_request) + 1 + 2 * N(always) + 1 <= PROG_MAX,
		       "PROG_MAX");
	return n;
}

int confine_guard_install(int sock)
{
	static struct sock_filter code[PROG_MAX];
	struct sock_fprog prog = { (unsigned short)build(code), code };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	char byte = 'g';
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			      .msg_controllen = sizeof ctl.buf };
	int fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	int e = 0;
	if (fd < 0) {
		e = -errno;
		close(sock);
		return e;
	}
	memset(ctl.buf, 0, sizeof ctl.buf);
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof fd);
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) != 1)
		e = -errno;
	close(fd);
	close(sock);
	return e;
}

#define SAY_MAX 20
static int said;

static void say_refused(pid_t pid, const struct om_sysreq *req, const char *why, int last)
{
	char path[64], comm[32] = "?", call[160];
	snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, comm, sizeof comm - 1);
		comm[n > 0 ? n - 1 : 0] = '\0'; /* its newline */
		close(fd);
	}
	call_limits_describe(req, call, sizeof call);
	fprintf(stderr, "om-run: pid %d (%s): refused %s: %s (--confine)%s\n", (int)pid, comm, call, why,
		last ? "; further refusals are not said" : "");
}

/* One call: run it (flags CONTINUE) or answer the error. */
static void decide(int fd, const struct call_job *job, const struct seccomp_notif *n)
{
	struct seccomp_notif_resp resp = { .id = n->id };
	struct om_sysreq req = { .nr = (uint32_t)n->data.nr, .tid = n->pid };
	struct call_world w;
	char why[160];
	memcpy(req.args, n->data.args, sizeof req.args);
	call_limits_proc(&w, job, 0, (pid_t)n->pid);
	int rc = call_limits_check(&w, &req, why, sizeof why);
	/* What /proc said was about the caller that waits, not a process
	 * that took its pid since. */
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &n->id) != 0)
		return;
	if (rc == 0)
		resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	else
		resp.error = rc;
	(void)ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp); /* ENOENT: it went meanwhile */
	/* After the answer, and only so often: stderr may be a pipe nobody
	 * reads, and a job refused in a loop must not fill it. */
	if (rc != 0 && call_limits_signal(&req) > 0 && said < SAY_MAX)
		say_refused(w.self, &req, why, ++said == SAY_MAX);
}

static void serve(int fd, const struct call_job *job)
{
	struct seccomp_notif n;
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (p.revents & POLLIN) {
			memset(&n, 0, sizeof n);
			if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &n) == 0)
				decide(fd, job, &n);
			else if (errno != EINTR && errno != ENOENT)
				return;
		} else if (p.revents & (POLLHUP | POLLERR | POLLNVAL)) {
			return; /* no process uses the filter any more */
		}
	}
}

/* The guard's process: nothing of om-run's but the listener and stderr;
 * a session of its own, out of the job's reach (kill(0, ...) of a job in
 * om-run's group), deaf to every signal it may ignore. */
static void guard_main(int listener, const struct call_job *job)
{
	sigset_t none;
	prctl(PR_SET_NAME, "om-run-guard", 0, 0, 0);
	setsid();
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_IGN); /* SIGKILL and SIGSTOP refuse, as they should */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(listener, 3) != 3)
		_exit(1);
	syscall(SYS_close_range, 4u, ~0u, 0u);
	serve(3, job);
	_exit(0);
}

int confine_guard_start(int sock, pid_t root)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	char byte;
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			      .msg_controllen = sizeof ctl.buf };
	struct call_job job;
	int listener = -1, st = 0;
	ssize_t got = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	close(sock);
	struct cmsghdr *c = got == 1 ? CMSG_FIRSTHDR(&msg) : NULL;
	if (c == NULL || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int)))
		return -EPROTO;
	memcpy(&listener, CMSG_DATA(c), sizeof listener);
	if (call_job_init(&job, root) != 0)
		memset(&job, 0, sizeof job); /* only each caller's own descendants count */
	/* Twice forked: not om-run's child, whose waits it would disturb. */
	pid_t mid = fork();
	if (mid == 0) {
		pid_t guard = fork();
		if (guard == 0)
			guard_main(listener, &job);
		_exit(guard > 0 ? 0 : 1);
	}
	int e = mid < 0 ? -errno : 0;
	close(listener);
	if (mid > 0) {
		while (waitpid(mid, &st, 0) == -1 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			e = -EAGAIN;
	}
	return e;
}
