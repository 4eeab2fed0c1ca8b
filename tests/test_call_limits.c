/* test_call_limits.c - what a node may ask of the deputy (call_limits.h):
 * the rules against a made-up world, then against a real process tree as
 * /proc shows it. The test stands for om-run: its child R is the job's
 * root, R's child C the caller, C's children G and G2 the rest of the
 * job; F and F2, R's siblings, are the user's other processes. Requests
 * the node forwards go through the real codec, as the deputy gets them.
 * Every process started is waited for. */
#define _GNU_SOURCE
#define CHECK_PREFIX "call_limits/"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "call_limits.h"
#include "node_code.h"
#include "return_calls.h"
#include "check.h"
#include "proto.h"
#include "syscall_codec.h"

/* ------------------------------------------------------------ requests */

static struct om_sysctx ctx;
static uint8_t reqbuf[1 << 16];

static int user_read(void *c, uint64_t addr, uint32_t len, void *dst)
{
	(void)c;
	memcpy(dst, (const void *)(uintptr_t)addr, len);
	return 0;
}

/* The call as the deputy gets it from a node: encoded and decoded by the
 * codec. OM_E_RANGE for one the node does not forward. */
static int forwarded(unsigned nr, const uint64_t a[6], struct om_sysreq *req)
{
	int uerr, n = om_sysreq_encode(&ctx, nr, 77, a, user_read, NULL, reqbuf, sizeof reqbuf, &uerr);
	return n < 0 ? n : om_sysreq_decode(reqbuf, (size_t)n, req);
}

static const struct call_world *world;
static char why[160];

/* The decision on nr(a0, a1, a2, a3) in world; one the node does not
 * forward is decided as it stands (the rules cover some of those too). */
static int decide4(unsigned nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3)
{
	struct om_sysreq req;
	uint64_t a[6] = { a0, a1, a2, a3, 0, 0 };
	if (forwarded(nr, a, &req) != OM_OK) {
		memset(&req, 0, sizeof req);
		req.nr = nr;
		memcpy(req.args, a, sizeof a);
	}
	why[0] = '\0';
	return call_limits_check(world, &req, why, sizeof why);
}

#define decide(nr, a0, a1, a2) decide4(nr, a0, a1, a2, 0)
#define P(x) ((uint64_t)(int64_t)(x)) /* a negative pid as a register holds it */

/* ------------------------------------------------------------ a made-up world */

enum {
	SELF = 100, IN = 101, IN_THREAD = 102, OUT = 200, GONE = 300,
	SELF_PGRP = 100, HOME_PGRP = 50, JOB_PGRP = 101, MIXED_PGRP = 102, EMPTY_PGRP = 300,
	FD_IN = 10, FD_OUT = 11, FD_FILE = 12, FD_HIDDEN = 13, FD_GONE = 14,
};

static int asks; /* questions the rules asked the world */

static int fake_member(const struct call_world *w, pid_t pid)
{
	(void)w;
	asks++;
	return pid == SELF || pid == IN || pid == IN_THREAD ? 0 : pid == GONE ? -ESRCH : -EPERM;
}

static int fake_group(const struct call_world *w, pid_t pgrp)
{
	(void)w;
	asks++;
	return pgrp == JOB_PGRP ? 0 : pgrp == EMPTY_PGRP ? -ESRCH : -EPERM;
}

static pid_t fake_fd_pid(const struct call_world *w, int fd)
{
	(void)w;
	asks++;
	switch (fd) {
	case FD_IN: return IN;
	case FD_OUT: return OUT;
	case FD_HIDDEN: return -EPERM;
	case FD_GONE: return GONE;
	}
	return 0;
}

static pid_t fake_pgrp(const struct call_world *w, pid_t pid)
{
	(void)w;
	return pid == SELF ? SELF_PGRP : pid == IN ? MIXED_PGRP : -ESRCH;
}

static const struct call_world fake = {
	.self = SELF, .home_pgrp = HOME_PGRP, .pgrp = fake_pgrp,
	.member = fake_member, .group = fake_group, .fd_pid = fake_fd_pid,
};

/* The same world with the caller in a group of the job's own. */
static pid_t fake_pgrp_job(const struct call_world *w, pid_t pid)
{
	(void)w;
	return pid == SELF || pid == IN ? JOB_PGRP : -ESRCH;
}

static const struct call_world fake_in_job_group = {
	.self = SELF, .home_pgrp = HOME_PGRP, .pgrp = fake_pgrp_job,
	.member = fake_member, .group = fake_group, .fd_pid = fake_fd_pid,
};

/* Which of the calls the rules name reach the deputy at all. */
static void forwarded_calls(void)
{
	struct om_sysreq req;
	int pgrp = 7;
	CHECK_EQ(forwarded(SYS_kill, (uint64_t[6]){ OUT, SIGKILL }, &req), OM_OK);
	CHECK_EQ(forwarded(SYS_kill, (uint64_t[6]){ P(-1), SIGKILL }, &req), OM_OK);
	CHECK_EQ(forwarded(SYS_tgkill, (uint64_t[6]){ OUT, OUT, SIGKILL }, &req), OM_OK);
	CHECK_EQ(forwarded(SYS_pidfd_open, (uint64_t[6]){ OUT }, &req), OM_OK);
	CHECK_EQ(forwarded(SYS_pidfd_send_signal, (uint64_t[6]){ 3, SIGKILL }, &req), OM_OK);
	CHECK_EQ(forwarded(SYS_pidfd_getfd, (uint64_t[6]){ 3, 0 }, &req), OM_OK);
	CHECK_EQ(forwarded(SYS_process_mrelease, (uint64_t[6]){ 3 }, &req), OM_OK);
	CHECK_EQ(forwarded(SYS_prlimit64, (uint64_t[6]){ OUT }, &req), OM_OK);
	CHECK_EQ(forwarded(SYS_setpriority, (uint64_t[6]){ PRIO_USER }, &req), OM_OK);
	CHECK_EQ(forwarded(SYS_ioprio_set, (uint64_t[6]){ 3 }, &req), OM_OK);
	CHECK_EQ(forwarded(SYS_kcmp, (uint64_t[6]){ OUT, OUT }, &req), OM_OK);
	CHECK_EQ(forwarded(SYS_get_robust_list, (uint64_t[6]){ OUT }, &req), OM_OK);
	CHECK_EQ(forwarded(SYS_ioctl, (uint64_t[6]){ 0, TIOCSPGRP, (uintptr_t)&pgrp }, &req), OM_OK);
	CHECK_EQ(req.nbuf, 1);
	CHECK_EQ(req.buf[0].arg, 2);
	/* These go home: the node never sends them. */
	CHECK_EQ(forwarded(SYS_ptrace, (uint64_t[6]){ PTRACE_ATTACH, OUT }, &req), OM_E_RANGE);
	CHECK_EQ(forwarded(SYS_process_vm_readv, (uint64_t[6]){ OUT }, &req), OM_E_RANGE);
	CHECK_EQ(forwarded(SYS_sched_setattr, (uint64_t[6]){ OUT }, &req), OM_E_RANGE);
	CHECK_EQ(forwarded(SYS_setpgid, (uint64_t[6]){ OUT, OUT }, &req), OM_E_RANGE);
}

static void rules_kill(void)
{
	world = &fake;
	for (int sig = 0; sig <= SIGKILL; sig += SIGKILL) { /* a probe follows the same rules */
		CHECK_EQ(decide(SYS_kill, IN, sig, 0), 0);
		CHECK_EQ(decide(SYS_kill, IN_THREAD, sig, 0), 0);
		CHECK_EQ(decide(SYS_kill, OUT, sig, 0), -EPERM);
		CHECK(strcmp(why, "pid 200 is not in this job") == 0);
		CHECK_EQ(decide(SYS_kill, GONE, sig, 0), -ESRCH);
		CHECK(strcmp(why, "no process 300") == 0);
		CHECK_EQ(decide(SYS_kill, P(-1), sig, 0), -EPERM);
		CHECK_EQ(decide(SYS_kill, P(-JOB_PGRP), sig, 0), 0);
		CHECK_EQ(decide(SYS_kill, P(-MIXED_PGRP), sig, 0), -EPERM);
		CHECK(strcmp(why, "process group 102 has processes outside this job") == 0);
		CHECK_EQ(decide(SYS_kill, P(-EMPTY_PGRP), sig, 0), -ESRCH);
		CHECK(strcmp(why, "no process group 300") == 0);
		/* The group the job started in is the job's without asking; so
		 * is INT_MIN (ESRCH from the kernel). */
		asks = 0;
		CHECK_EQ(decide(SYS_kill, P(-HOME_PGRP), sig, 0), 0);
		CHECK_EQ(decide(SYS_kill, P(INT32_MIN), sig, 0), 0);
		CHECK_EQ(asks, 0);
		/* Its own group is asked about as any other: it may have joined
		 * one with processes outside (setpgid). */
		CHECK_EQ(decide(SYS_kill, 0, sig, 0), -EPERM);
		CHECK_EQ(decide(SYS_kill, P(-SELF_PGRP), sig, 0), -EPERM);
		CHECK_EQ(asks, 2);
		world = &fake_in_job_group;
		CHECK_EQ(decide(SYS_kill, 0, sig, 0), 0);
		world = &fake;
	}
	/* The kernel's pid_t is the register's low half. */
	CHECK_EQ(decide(SYS_kill, 0xffffffff00000000ull | OUT, SIGKILL, 0), -EPERM);
	CHECK_EQ(decide(SYS_kill, 0xffffffffull, SIGKILL, 0), -EPERM); /* -1 */
}

static void rules_threads(void)
{
	world = &fake;
	CHECK_EQ(decide(SYS_tkill, IN_THREAD, SIGUSR1, 0), 0);
	CHECK_EQ(decide(SYS_tkill, OUT, SIGUSR1, 0), -EPERM);
	CHECK_EQ(decide(SYS_tkill, GONE, SIGUSR1, 0), -ESRCH);
	/* tgkill's signal goes to the thread: its process is the kernel's
	 * to check (ESRCH when they do not match). */
	CHECK_EQ(decide(SYS_tgkill, IN, IN_THREAD, SIGUSR1), 0);
	CHECK_EQ(decide(SYS_tgkill, OUT, OUT, SIGUSR1), -EPERM);
	CHECK_EQ(decide(SYS_tgkill, IN, OUT, SIGUSR1), -EPERM);
	CHECK_EQ(decide(SYS_tgkill, OUT, IN, SIGUSR1), 0);
	CHECK_EQ(decide(SYS_rt_sigqueueinfo, OUT, SIGUSR1, 0), -EPERM);
	CHECK_EQ(decide(SYS_rt_sigqueueinfo, IN, SIGUSR1, 0), 0);
	CHECK_EQ(decide4(SYS_rt_tgsigqueueinfo, OUT, OUT, SIGUSR1, 0), -EPERM);
	CHECK_EQ(decide4(SYS_rt_tgsigqueueinfo, IN, IN_THREAD, SIGUSR1, 0), 0);
	/* None named: the kernel's EINVAL or ESRCH. */
	asks = 0;
	CHECK_EQ(decide(SYS_tkill, 0, SIGUSR1, 0), 0);
	CHECK_EQ(decide(SYS_tkill, P(-5), SIGUSR1, 0), 0);
	CHECK_EQ(decide(SYS_tgkill, P(-1), P(-1), SIGUSR1), 0);
	CHECK_EQ(asks, 0);
}

static void rules_pid_calls(void)
{
	static const unsigned one[] = { SYS_pidfd_open, SYS_get_robust_list, SYS_prlimit64, SYS_sched_setaffinity,
		SYS_sched_setscheduler, SYS_sched_setparam, SYS_sched_setattr, SYS_process_vm_readv,
		SYS_process_vm_writev, SYS_migrate_pages, SYS_move_pages };
	world = &fake;
	for (size_t i = 0; i < sizeof one / sizeof one[0]; i++) {
		CHECK_EQ(decide(one[i], 0, 0, 0), 0);
		CHECK_EQ(decide(one[i], IN, 0, 0), 0);
		CHECK_EQ(decide(one[i], SELF, 0, 0), 0);
		CHECK_EQ(decide(one[i], OUT, 0, 0), -EPERM);
		CHECK_EQ(decide(one[i], GONE, 0, 0), -ESRCH);
	}
	CHECK_EQ(decide(SYS_kcmp, IN, SELF, 0), 0);
	CHECK_EQ(decide(SYS_kcmp, IN, OUT, 0), -EPERM);
	CHECK_EQ(decide(SYS_kcmp, OUT, IN, 0), -EPERM);
	/* Getters stay. */
	asks = 0;
	CHECK_EQ(decide(SYS_sched_getaffinity, OUT, 0, 0), 0);
	CHECK_EQ(decide(SYS_sched_getscheduler, OUT, 0, 0), 0);
	CHECK_EQ(decide(SYS_getpriority, PRIO_PROCESS, OUT, 0), 0);
	CHECK_EQ(decide(SYS_getpgid, OUT, 0, 0), 0);
	CHECK_EQ(decide(SYS_wait4, OUT, 0, 0), 0);
	CHECK_EQ(decide(SYS_waitid, P_PID, OUT, 0), 0);
	CHECK_EQ(decide(SYS_write, 1, 0, 0), 0);
	CHECK_EQ(asks, 0);
}

static void rules_priority(void)
{
	world = &fake;
	CHECK_EQ(decide(SYS_setpriority, PRIO_PROCESS, 0, 5), 0);
	CHECK_EQ(decide(SYS_setpriority, PRIO_PROCESS, IN, 5), 0);
	CHECK_EQ(decide(SYS_setpriority, PRIO_PROCESS, OUT, 5), -EPERM);
	CHECK_EQ(decide(SYS_setpriority, PRIO_PGRP, 0, 5), -EPERM); /* its own group: mixed here */
	world = &fake_in_job_group;
	CHECK_EQ(decide(SYS_setpriority, PRIO_PGRP, 0, 5), 0);
	world = &fake;
	CHECK_EQ(decide(SYS_setpriority, PRIO_PGRP, JOB_PGRP, 5), 0);
	CHECK_EQ(decide(SYS_setpriority, PRIO_PGRP, MIXED_PGRP, 5), -EPERM);
	CHECK_EQ(decide(SYS_setpriority, PRIO_PGRP, EMPTY_PGRP, 5), -ESRCH);
	CHECK_EQ(decide(SYS_setpriority, PRIO_USER, 0, 5), -EPERM);
	CHECK_EQ(decide(SYS_setpriority, PRIO_USER, getuid(), 5), -EPERM);
	CHECK_EQ(decide(SYS_setpriority, 9, OUT, 5), 0); /* the kernel's EINVAL */
	/* ioprio_set counts from 1: process, group, user. */
	CHECK_EQ(decide(SYS_ioprio_set, 1, 0, 0), 0);
	CHECK_EQ(decide(SYS_ioprio_set, 1, IN, 0), 0);
	CHECK_EQ(decide(SYS_ioprio_set, 1, OUT, 0), -EPERM);
	CHECK_EQ(decide(SYS_ioprio_set, 2, JOB_PGRP, 0), 0);
	CHECK_EQ(decide(SYS_ioprio_set, 2, MIXED_PGRP, 0), -EPERM);
	CHECK_EQ(decide(SYS_ioprio_set, 3, 0, 0), -EPERM);
	CHECK_EQ(decide(SYS_ioprio_set, PRIO_PROCESS, OUT, 0), 0); /* 0: the kernel's EINVAL */
}

static void rules_pidfd(void)
{
	static const unsigned calls[] = { SYS_pidfd_send_signal, SYS_pidfd_getfd, SYS_process_mrelease,
		SYS_process_madvise };
	world = &fake;
	for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
		CHECK_EQ(decide(calls[i], FD_IN, 0, 0), 0);
		CHECK_EQ(decide(calls[i], FD_OUT, 0, 0), -EPERM);
		CHECK(strcmp(why, "descriptor 11 names pid 200, which is not in this job") == 0);
		CHECK_EQ(decide(calls[i], FD_HIDDEN, 0, 0), -EPERM);
		CHECK_EQ(decide(calls[i], FD_GONE, 0, 0), -ESRCH);
		CHECK_EQ(decide(calls[i], FD_FILE, 0, 0), 0); /* the kernel's EBADF */
	}
}

/* Joining a group, a descriptor's signal owner, a pidfd's group. */
static void rules_groups_and_owners(void)
{
	world = &fake;
	CHECK_EQ(decide(SYS_setpgid, 0, 0, 0), 0);       /* a group of its own */
	CHECK_EQ(decide(SYS_setpgid, 0, SELF, 0), 0);
	CHECK_EQ(decide(SYS_setpgid, IN, IN, 0), 0);     /* a child's own */
	CHECK_EQ(decide(SYS_setpgid, 0, JOB_PGRP, 0), 0);
	CHECK_EQ(decide(SYS_setpgid, 0, HOME_PGRP, 0), 0);
	CHECK_EQ(decide(SYS_setpgid, 0, MIXED_PGRP, 0), -EPERM);
	CHECK(strcmp(why, "process group 102 has processes outside this job") == 0);
	CHECK_EQ(decide(SYS_setpgid, 0, P(-4), 0), 0);  /* the kernel's EINVAL */
	CHECK_EQ(decide(SYS_fcntl, 3, F_SETOWN, IN), 0);
	CHECK_EQ(decide(SYS_fcntl, 3, F_SETOWN, OUT), -EPERM);
	CHECK_EQ(decide(SYS_fcntl, 3, F_SETOWN, P(-JOB_PGRP)), 0);
	CHECK_EQ(decide(SYS_fcntl, 3, F_SETOWN, P(-MIXED_PGRP)), -EPERM);
	CHECK_EQ(decide(SYS_fcntl, 3, F_SETOWN, 0), 0);
	CHECK_EQ(decide(SYS_fcntl, 3, F_SETOWN_EX, 0x1000), -EPERM);
	CHECK_EQ(decide(SYS_ioctl, 3, FIOSETOWN, 0x1000), -EPERM);
	CHECK_EQ(decide(SYS_ioctl, 3, SIOCSPGRP, 0x1000), -EPERM);
	CHECK_EQ(decide(SYS_fcntl, 3, F_GETOWN, 0), 0);
	/* PIDFD_SIGNAL_PROCESS_GROUP: the group of the process named. */
	CHECK_EQ(decide4(SYS_pidfd_send_signal, FD_IN, SIGKILL, 0, 0), 0);
	CHECK_EQ(decide4(SYS_pidfd_send_signal, FD_IN, SIGKILL, 0, 4), -EPERM); /* IN's group is mixed here */
	world = &fake_in_job_group;
	CHECK_EQ(decide4(SYS_pidfd_send_signal, FD_IN, SIGKILL, 0, 4), 0);
}

static void rules_ptrace_and_terminal(void)
{
	int32_t pgrp;
	world = &fake;
	CHECK_EQ(decide(SYS_ptrace, PTRACE_ATTACH, IN, 0), -EPERM);
	CHECK_EQ(decide(SYS_ptrace, PTRACE_PEEKDATA, OUT, 0), -EPERM);
	CHECK_EQ(decide(SYS_ptrace, PTRACE_TRACEME, 0, 0), -EPERM);
	/* The terminal's foreground group: as kill's groups. */
	pgrp = SELF_PGRP; /* its own: mixed here */
	CHECK_EQ(decide(SYS_ioctl, 0, TIOCSPGRP, (uintptr_t)&pgrp), -EPERM);
	pgrp = HOME_PGRP;
	CHECK_EQ(decide(SYS_ioctl, 0, TIOCSPGRP, (uintptr_t)&pgrp), 0);
	pgrp = JOB_PGRP;
	CHECK_EQ(decide(SYS_ioctl, 0, TIOCSPGRP, (uintptr_t)&pgrp), 0);
	pgrp = MIXED_PGRP;
	CHECK_EQ(decide(SYS_ioctl, 0, TIOCSPGRP, (uintptr_t)&pgrp), -EPERM);
	pgrp = EMPTY_PGRP;
	CHECK_EQ(decide(SYS_ioctl, 0, TIOCSPGRP, (uintptr_t)&pgrp), -ESRCH);
	CHECK_EQ(decide(SYS_ioctl, 0, TIOCSPGRP, 0), 0); /* the kernel's EFAULT */
	CHECK_EQ(decide(SYS_ioctl, 0, TIOCGPGRP, (uintptr_t)&pgrp), 0);
}

/* The call a returning image makes first (return_calls.h), by the
 * pending call and the bytes around its instruction pointer. */
static void returning_calls(void)
{
	static const uint8_t sc[2] = { 0x0f, 0x05 }, int80[2] = { 0xcd, 0x80 }, sysenter[2] = { 0x0f, 0x34 };
	static const uint8_t other[2] = { 0x31, 0xff };
	const char *why;
	CHECK_EQ(return_call_kind(-1, other, other, &why), RETURN_NONE);
	CHECK_EQ(return_call_kind(-1, NULL, NULL, &why), RETURN_NONE);
	CHECK_EQ(return_call_kind(-1, sc, other, &why), RETURN_NONE); /* it returned already */
	CHECK_EQ(return_call_kind(-1, other, sc, &why), RETURN_AT);
	CHECK_EQ(return_call_kind(62, sc, other, &why), RETURN_PENDING);
	CHECK_EQ(return_call_kind(62, other, sc, &why), RETURN_BAD);
	CHECK(strstr(why, "does not stand after one") != NULL);
	CHECK_EQ(return_call_kind(62, NULL, sc, &why), RETURN_BAD);
	CHECK_EQ(return_call_kind(-1, other, int80, &why), RETURN_BAD);
	CHECK(strstr(why, "32-bit") != NULL);
	CHECK_EQ(return_call_kind(-1, other, sysenter, &why), RETURN_BAD);
}

/* Code a node mapped from a file (node_code.h): its pages must read as
 * the file the deputy read for it, wherever the reads put the bytes. */
static void node_code_copies(void)
{
	static uint8_t file[8192], page[4096];
	char path[] = "/tmp/om-node-code-XXXXXX", why[256];
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	for (size_t i = 0; i < sizeof file; i++)
		file[i] = (uint8_t)(i * 7 + i / 251 + 1); /* no period of 4096 */
	CHECK_EQ(write(fd, file, sizeof file), (ssize_t)sizeof file);
	usleep(20000); /* ctime's clock is coarse */
	node_code_since_now(); /* the job starts */
	/* One read of 6000 bytes at 0x10000, one of the rest at 0x10000 + 6000
	 * (a fill in two parts): one record. */
	struct om_sysreq req = { .nr = SYS_pread64, .args = { (uint64_t)fd, 0x10000, 6000, 0 } };
	node_code_note(getpid(), &req, 6000);
	CHECK_EQ(node_code_check(NULL, 0x10000, file, why, sizeof why), 0);
	struct om_sysreq rest = { .nr = SYS_pread64, .args = { (uint64_t)fd, 0x10000 + 6000, 2192, 6000 } };
	node_code_note(getpid(), &rest, 2192);
	CHECK_EQ(node_code_check(NULL, 0x11000, file + 4096, why, sizeof why), 0);
	memcpy(page, file + 4096, sizeof page);
	page[3000] ^= 1;
	CHECK_EQ(node_code_check(NULL, 0x11000, page, why, sizeof why), -1);
	CHECK(strstr(why, "is not what") != NULL && strstr(why, path) != NULL);
	/* A page is one file's page as a whole: a byte read at a page's start
	 * does not make the rest of the page the node's to choose. */
	struct om_sysreq one = { .nr = SYS_pread64, .args = { (uint64_t)fd, 0x50000, 1, 4096 } };
	node_code_note(getpid(), &one, 1);
	CHECK_EQ(node_code_check(NULL, 0x50000, file + 4096, why, sizeof why), 0);
	memcpy(page, file + 4096, 1);
	memset(page + 1, 0x90, sizeof page - 1);
	CHECK_EQ(node_code_check(NULL, 0x50000, page, why, sizeof why), -1);
	/* Bytes read where a page and the file's pages do not line up are no
	 * page of a mapping. */
	struct om_sysreq askew = { .nr = SYS_pread64, .args = { (uint64_t)fd, 0x30006, 4090, 0 } };
	node_code_note(getpid(), &askew, 4090);
	memset(page, 0, sizeof page);
	memcpy(page + 6, file, 4090);
	CHECK_EQ(node_code_check(NULL, 0x30000, page, why, sizeof why), -1);
	CHECK(strstr(why, "no file was read there") != NULL);
	memset(page, 0, sizeof page);
	CHECK_EQ(node_code_check(NULL, 0x40000, page, why, sizeof why), 0); /* zeros are no code */
	page[0] = 0xcc;
	CHECK_EQ(node_code_check(NULL, 0x40000, page, why, sizeof why), -1);
	/* A read that lands over part of an older one takes those bytes; the
	 * rest stays the older one's. */
	struct om_sysreq over = { .nr = SYS_pread64, .args = { (uint64_t)fd, 0x10000, 4096, 4096 } };
	node_code_note(getpid(), &over, 4096);
	CHECK_EQ(node_code_check(NULL, 0x10000, file + 4096, why, sizeof why), 0);
	CHECK_EQ(node_code_check(NULL, 0x10000, file, why, sizeof why), -1);
	CHECK_EQ(node_code_check(NULL, 0x11000, file + 4096, why, sizeof why), 0);
	/* Past a file's end a page reads as zero, as mmap has it. */
	char short_path[] = "/tmp/om-node-code-XXXXXX";
	int sfd = mkstemp(short_path);
	CHECK(sfd >= 0);
	CHECK_EQ(write(sfd, file, 5000), 5000);
	struct om_sysreq fill = { .nr = SYS_pread64, .args = { (uint64_t)sfd, 0x20000, 8192, 0 } };
	node_code_note(getpid(), &fill, 5000);
	memset(page, 0, sizeof page);
	memcpy(page, file + 4096, 5000 - 4096);
	CHECK_EQ(node_code_check(NULL, 0x21000, page, why, sizeof why), -1); /* changed: written after the start */
	CHECK(strstr(why, "changed after the job started") != NULL);
	usleep(20000);
	node_code_since_now();
	CHECK_EQ(node_code_check(NULL, 0x21000, page, why, sizeof why), 0);
	page[4000] = 1;
	CHECK_EQ(node_code_check(NULL, 0x21000, page, why, sizeof why), -1);
	close(sfd);
	unlink(short_path);
	/* A file the kernel makes as it is read: no code, whatever it held. */
	int pfd = open("/proc/self/cmdline", O_RDONLY);
	CHECK(pfd >= 0);
	ssize_t got = pread(pfd, page, sizeof page, 0);
	CHECK(got > 0);
	memset(page + got, 0, sizeof page - (size_t)got);
	struct om_sysreq procread = { .nr = SYS_pread64, .args = { (uint64_t)pfd, 0x60000, 4096, 0 } };
	node_code_note(getpid(), &procread, got);
	CHECK_EQ(node_code_check(NULL, 0x60000, page, why, sizeof why), -1);
	close(pfd);
	/* A file changed after the job started brings no code: a node could
	 * have written it through the deputy. */
	usleep(20000);
	CHECK_EQ(pwrite(fd, file + 4096, 1, 4096), 1); /* the same byte: only ctime changes */
	CHECK_EQ(node_code_check(NULL, 0x10000, file + 4096, why, sizeof why), -1);
	CHECK(strstr(why, "changed after the job started") != NULL);
	/* Another file under the same name is not the one the node read
	 * (the old one kept, so that its inode is not reused). */
	char old[sizeof path + 4];
	snprintf(old, sizeof old, "%s.old", path);
	CHECK_EQ(rename(path, old), 0);
	close(fd);
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
	CHECK(fd >= 0);
	CHECK_EQ(write(fd, file, sizeof file), (ssize_t)sizeof file);
	CHECK_EQ(node_code_check(NULL, 0x10000, file + 4096, why, sizeof why), -1);
	CHECK(strstr(why, "no longer the file") != NULL);
	node_code_forget();
	CHECK_EQ(node_code_check(NULL, 0x10000, file + 4096, why, sizeof why), -1);
	close(fd);
	unlink(path);
	unlink(old);
}

static void describe(void)
{
	struct om_sysreq req;
	char s[160];
	CHECK_EQ(forwarded(SYS_kill, (uint64_t[6]){ 4242, SIGKILL }, &req), OM_OK);
	call_limits_describe(&req, s, sizeof s);
	CHECK(strcmp(s, "kill(4242, SIGKILL)") == 0);
	CHECK_EQ(call_limits_signal(&req), SIGKILL);
	CHECK_EQ(forwarded(SYS_kill, (uint64_t[6]){ P(-77), 0 }, &req), OM_OK);
	call_limits_describe(&req, s, sizeof s);
	CHECK(strcmp(s, "kill(-77, 0)") == 0);
	CHECK_EQ(call_limits_signal(&req), 0);
	CHECK_EQ(forwarded(SYS_kill, (uint64_t[6]){ 0xffffffffu, 0 }, &req), OM_OK); /* an int, zero-extended */
	call_limits_describe(&req, s, sizeof s);
	CHECK(strcmp(s, "kill(-1, 0)") == 0);
	CHECK_EQ(forwarded(SYS_process_mrelease, (uint64_t[6]){ 3, 1ull << 40 }, &req), OM_OK);
	call_limits_describe(&req, s, sizeof s);
	CHECK(strcmp(s, "process_mrelease(3, 0x10000000000)") == 0);
	CHECK_EQ(forwarded(SYS_tgkill, (uint64_t[6]){ 5, 6, SIGTERM }, &req), OM_OK);
	call_limits_describe(&req, s, sizeof s);
	CHECK(strcmp(s, "tgkill(5, 6, SIGTERM)") == 0);
	CHECK_EQ(forwarded(SYS_pidfd_send_signal, (uint64_t[6]){ 3, SIGUSR1, 0, 0 }, &req), OM_OK);
	call_limits_describe(&req, s, sizeof s);
	CHECK(strcmp(s, "pidfd_send_signal(3, SIGUSR1, ..., 0)") == 0);
	CHECK_EQ(forwarded(SYS_pidfd_open, (uint64_t[6]){ 4242, 0 }, &req), OM_OK);
	call_limits_describe(&req, s, sizeof s);
	CHECK(strcmp(s, "pidfd_open(4242, 0)") == 0);
	CHECK_EQ(call_limits_signal(&req), -1);
	call_limits_describe(&req, s, 8); /* cut, still a string */
	CHECK(strcmp(s, "pidfd_o") == 0);
}

/* ------------------------------------------------------------ a real tree */

enum { ROLE_R_THREAD, ROLE_C, ROLE_G, ROLE_G2, ROLE_F, ROLE_F_THREAD, ROLES };

static struct {
	pid_t r, c, g, g2, f, f2, gone;
	pid_t r_thread, f_thread;
	int hold[2]; /* every process lives until the write end closes */
	int rep[2];  /* each says who it is once ready */
	struct call_job job;
	struct call_world w; /* C calls, with this test's descriptors */
	int ready;
} t;

struct born {
	int role;
	pid_t pid;
};

static void tell(int role, pid_t pid)
{
	struct born b = { role, pid };
	(void)!write(t.rep[1], &b, sizeof b);
}

static void hold_on(void)
{
	char b;
	while (read(t.hold[0], &b, 1) == -1 && errno == EINTR)
		;
}

static void *thread_main(void *role)
{
	tell((int)(intptr_t)role, (pid_t)syscall(SYS_gettid));
	hold_on();
	return NULL;
}

/* A child that holds on (its own group with own_group), telling role. */
static pid_t spawn(int role, int own_group, int thread_role)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	close(t.hold[1]);
	close(t.rep[0]);
	if (own_group)
		setpgid(0, 0);
	if (role >= 0)
		tell(role, getpid());
	if (thread_role >= 0) {
		pthread_t th;
		pthread_create(&th, NULL, thread_main, (void *)(intptr_t)thread_role);
	}
	hold_on();
	_exit(0);
}

/* R, with C (its own group) and C's G and G2 (each its own group); F
 * (its own group) and F2 (moved into G2's, which is then mixed); gone, a
 * reaped pid. */
static int tree_make(void)
{
	struct born b;
	int got = 0;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0 || pipe2(t.hold, O_CLOEXEC) != 0 || pipe2(t.rep, O_CLOEXEC) != 0)
		return -1;
	if ((t.r = fork()) == 0) {
		pthread_t th;
		close(t.hold[1]);
		if (fork() == 0) { /* C, before R has a thread to fork beside */
			setpgid(0, 0);
			tell(ROLE_C, getpid());
			if (spawn(ROLE_G, 1, -1) > 0 && spawn(ROLE_G2, 1, -1) > 0)
				hold_on();
			_exit(0);
		}
		pthread_create(&th, NULL, thread_main, (void *)(intptr_t)ROLE_R_THREAD);
		hold_on();
		_exit(0);
	}
	t.f = spawn(ROLE_F, 1, ROLE_F_THREAD);
	t.f2 = spawn(-1, 0, -1);
	if ((t.gone = fork()) == 0)
		_exit(0);
	waitpid(t.gone, NULL, 0);
	while (got != (1 << ROLES) - 1) {
		struct pollfd p = { t.rep[0], POLLIN, 0 };
		if (poll(&p, 1, 10000) != 1 || read(t.rep[0], &b, sizeof b) != (ssize_t)sizeof b)
			return -1;
		pid_t *slot[ROLES] = { &t.r_thread, &t.c, &t.g, &t.g2, &t.f, &t.f_thread };
		*slot[b.role] = b.pid;
		got |= 1 << b.role;
	}
	if (setpgid(t.f2, t.g2) != 0 || call_job_init(&t.job, t.r) != 0)
		return -1;
	call_limits_proc(&t.w, &t.job, t.c, getpid());
	t.ready = 1;
	return 0;
}

/* Every process goes (their hold closes) and is reaped: ours, and the
 * orphans this subreaper took in. */
static void tree_end(void)
{
	close(t.hold[1]);
	close(t.rep[0]);
	close(t.rep[1]);
	while (waitpid(-1, NULL, __WALL) != -1 || errno == EINTR)
		;
	prctl(PR_SET_CHILD_SUBREAPER, 0);
}

/* The state letter of /proc/PID/stat, '?' once it is gone. */
static char state_of(pid_t pid)
{
	char path[64], buf[512], *p;
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	return (p = strrchr(buf, ')')) && p[1] == ' ' ? p[2] : '?';
}

static int alive(pid_t pid)
{
	char s = state_of(pid);
	return s != '?' && s != 'Z' && s != 'X';
}

static void proc_members(void)
{
	CHECK(t.ready);
	world = &t.w;
	CHECK_EQ(t.job.root, t.r);
	CHECK_EQ(t.job.home_pgrp, getpgrp()); /* om-run's, where the root started */
	CHECK_EQ(t.w.member(&t.w, t.r), 0);
	CHECK_EQ(t.w.member(&t.w, t.r_thread), 0);
	CHECK_EQ(t.w.member(&t.w, t.c), 0);
	CHECK_EQ(t.w.member(&t.w, t.g), 0);
	CHECK_EQ(t.w.member(&t.w, t.g2), 0);
	CHECK_EQ(t.w.member(&t.w, t.f), -EPERM);
	CHECK_EQ(t.w.member(&t.w, t.f_thread), -EPERM);
	CHECK_EQ(t.w.member(&t.w, t.f2), -EPERM);
	CHECK_EQ(t.w.member(&t.w, getpid()), -EPERM); /* om-run itself */
	CHECK_EQ(t.w.member(&t.w, 1), -EPERM);
	CHECK_EQ(t.w.member(&t.w, t.gone), -ESRCH);
	/* Through the rules, as a node asks. */
	CHECK_EQ(decide(SYS_kill, t.r, SIGKILL, 0), 0);
	CHECK_EQ(decide(SYS_kill, t.f, SIGKILL, 0), -EPERM);
	CHECK_EQ(decide(SYS_kill, t.f, 0, 0), -EPERM);
	CHECK_EQ(decide(SYS_kill, t.gone, SIGKILL, 0), -ESRCH);
	CHECK_EQ(decide(SYS_kill, P(-1), 0, 0), -EPERM);
	CHECK_EQ(decide(SYS_tgkill, t.r, t.r_thread, SIGKILL), 0);
	CHECK_EQ(decide(SYS_tgkill, t.f, t.f_thread, SIGKILL), -EPERM);
	CHECK_EQ(decide(SYS_tkill, t.f_thread, SIGKILL, 0), -EPERM);
	CHECK_EQ(decide4(SYS_rt_tgsigqueueinfo, t.f, t.f_thread, SIGUSR1, 0), -EPERM);
	CHECK_EQ(decide(SYS_rt_sigqueueinfo, t.g, SIGUSR1, 0), 0);
	CHECK_EQ(decide(SYS_pidfd_open, t.g2, 0, 0), 0);
	CHECK_EQ(decide(SYS_pidfd_open, t.f, 0, 0), -EPERM);
	CHECK_EQ(decide(SYS_pidfd_open, t.gone, 0, 0), -ESRCH);
	CHECK_EQ(decide(SYS_prlimit64, t.f2, 0, 0), -EPERM);
	CHECK_EQ(decide(SYS_sched_setaffinity, t.g, 0, 0), 0);
	CHECK_EQ(decide(SYS_kcmp, t.c, t.f, 0), -EPERM);
	CHECK_EQ(decide(SYS_setpriority, PRIO_PROCESS, t.f, 5), -EPERM);
	CHECK_EQ(decide(SYS_setpriority, PRIO_PROCESS, t.r_thread, 5), 0);
}

static void proc_groups(void)
{
	CHECK(t.ready);
	world = &t.w;
	CHECK_EQ(getpgid(t.c), t.c);
	CHECK_EQ(getpgid(t.g2), t.g2);
	CHECK_EQ(getpgid(t.f2), t.g2);
	CHECK_EQ(decide(SYS_kill, 0, 0, 0), 0);
	CHECK_EQ(decide(SYS_kill, P(-t.c), 0, 0), 0);        /* the caller's own */
	CHECK_EQ(decide(SYS_kill, P(-t.g), 0, 0), 0);        /* all in the job */
	CHECK_EQ(decide(SYS_kill, P(-getpgrp()), 0, 0), 0);  /* where the job started */
	CHECK_EQ(decide(SYS_kill, P(-t.g2), 0, 0), -EPERM);  /* G2 and F2 */
	CHECK_EQ(decide(SYS_kill, P(-t.f), 0, 0), -EPERM);
	CHECK_EQ(decide(SYS_kill, P(-t.gone), 0, 0), -ESRCH);
	CHECK_EQ(decide(SYS_setpriority, PRIO_PGRP, t.g, 5), 0);
	CHECK_EQ(decide(SYS_setpriority, PRIO_PGRP, t.g2, 5), -EPERM);
	CHECK_EQ(decide(SYS_setpriority, PRIO_USER, 0, 5), -EPERM);
	CHECK_EQ(decide(SYS_ioprio_set, 2, t.f, 0), -EPERM);
	CHECK_EQ(decide(SYS_ioprio_set, 2, t.g, 0), 0);
}

/* The caller's descriptors are this test's (t.w.tid): pidfds, /proc/PID
 * directories, and other files. */
static void proc_pidfds(void)
{
	char path[64];
	int fd_f, fd_g2, dir_f, dir_r, thr_f, ended, p[2];
	pid_t kid;
	CHECK(t.ready);
	world = &t.w;
	fd_f = (int)syscall(SYS_pidfd_open, t.f, 0);
	fd_g2 = (int)syscall(SYS_pidfd_open, t.g2, 0);
	snprintf(path, sizeof path, "/proc/%d", (int)t.f);
	dir_f = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(path, sizeof path, "/proc/%d", (int)t.r);
	dir_r = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	thr_f = (int)syscall(SYS_pidfd_open, t.f_thread, O_EXCL); /* PIDFD_THREAD, Linux 6.9 */
	if ((kid = fork()) == 0)
		_exit(0);
	ended = (int)syscall(SYS_pidfd_open, kid, 0);
	waitpid(kid, NULL, 0);
	CHECK(fd_f >= 0 && fd_g2 >= 0 && dir_f >= 0 && dir_r >= 0 && ended >= 0 && pipe(p) == 0);
	CHECK_EQ(t.w.fd_pid(&t.w, fd_f), t.f);
	CHECK_EQ(t.w.fd_pid(&t.w, dir_f), t.f);
	CHECK_EQ(t.w.fd_pid(&t.w, p[0]), 0);
	CHECK_EQ(t.w.fd_pid(&t.w, ended), 0);
	CHECK_EQ(decide4(SYS_pidfd_send_signal, fd_f, SIGKILL, 0, 0), -EPERM);
	CHECK(strstr(why, "is not in this job") != NULL);
	CHECK_EQ(decide4(SYS_pidfd_send_signal, dir_f, SIGKILL, 0, 0), -EPERM);
	CHECK_EQ(decide4(SYS_pidfd_send_signal, fd_g2, 0, 0, 0), 0);
	CHECK_EQ(decide4(SYS_pidfd_send_signal, dir_r, 0, 0, 0), 0);
	CHECK_EQ(decide4(SYS_pidfd_send_signal, p[0], SIGKILL, 0, 0), 0);  /* the kernel's EBADF */
	CHECK_EQ(decide4(SYS_pidfd_send_signal, 999999, SIGKILL, 0, 0), 0); /* the same */
	CHECK_EQ(decide4(SYS_pidfd_send_signal, ended, SIGKILL, 0, 0), 0);  /* the kernel's ESRCH */
	CHECK_EQ(decide(SYS_pidfd_getfd, fd_f, 0, 0), -EPERM);
	CHECK_EQ(decide(SYS_pidfd_getfd, fd_g2, 0, 0), 0);
	CHECK_EQ(decide(SYS_process_mrelease, fd_f, 0, 0), -EPERM);
	if (thr_f >= 0) {
		CHECK_EQ(t.w.fd_pid(&t.w, thr_f), t.f_thread);
		CHECK_EQ(decide4(SYS_pidfd_send_signal, thr_f, SIGKILL, 0, 0), -EPERM);
		close(thr_f);
	}
	CHECK(alive(t.f));
	close(fd_f);
	close(fd_g2);
	close(dir_f);
	close(dir_r);
	close(ended);
	close(p[0]);
	close(p[1]);
}

/* What the rules allow runs, as the deputy would run it: the user's
 * other processes live on, the job's own die. */
static void proc_victims_survive(void)
{
	struct {
		unsigned nr;
		uint64_t a0, a1, a2;
	} calls[] = {
		{ SYS_kill, P(t.f), SIGKILL, 0 },
		{ SYS_kill, P(-t.f), SIGKILL, 0 },
		{ SYS_kill, P(-t.g2), SIGKILL, 0 }, /* F2's group */
		{ SYS_tgkill, P(t.f), P(t.f_thread), SIGKILL },
		{ SYS_tkill, P(t.f2), SIGKILL, 0 },
		{ SYS_kill, P(t.g), SIGKILL, 0 },   /* the job's own: runs */
	};
	CHECK(t.ready);
	world = &t.w;
	for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
		if (decide(calls[i].nr, calls[i].a0, calls[i].a1, calls[i].a2) == 0)
			CHECK_EQ(syscall(calls[i].nr, calls[i].a0, calls[i].a1, calls[i].a2), 0);
	for (int i = 0; i < 500 && alive(t.g); i++)
		usleep(10000);
	CHECK(!alive(t.g));
	CHECK(alive(t.f) && alive(t.f2) && alive(t.g2));
	CHECK_EQ(kill(t.f_thread, 0), 0);
	CHECK_EQ(waitpid(t.f, NULL, WNOHANG), 0);
}

/* A root whose pid came back as another process's is no root; an orphan
 * of the job (its parent ended first) is outside it, but still reaches
 * itself and what it made. Last: it kills C. */
static void proc_reused_and_orphans(void)
{
	struct call_job other = t.job, none = { 0 };
	struct call_world w;
	CHECK(t.ready);
	other.root_start++;
	call_limits_proc(&w, &other, t.c, getpid());
	CHECK_EQ(w.member(&w, t.r), -EPERM);
	CHECK_EQ(w.member(&w, t.r_thread), -EPERM);
	CHECK_EQ(w.member(&w, t.g2), 0); /* C's own */
	call_limits_proc(&w, &none, t.c, getpid());
	CHECK_EQ(w.member(&w, t.r), -EPERM);
	CHECK_EQ(w.member(&w, t.g2), 0);
	CHECK_EQ(call_job_init(&none, t.gone), -ESRCH);
	CHECK_EQ(none.root, 0);

	CHECK_EQ(kill(t.c, SIGKILL), 0);
	for (int i = 0; i < 500 && alive(t.c); i++)
		usleep(10000);
	CHECK(!alive(t.c));
	call_limits_proc(&w, &t.job, t.r, getpid());
	CHECK_EQ(w.member(&w, t.r_thread), 0);
	CHECK_EQ(w.member(&w, t.g2), -EPERM); /* this test's now (a subreaper) */
	call_limits_proc(&w, &t.job, t.g2, getpid());
	CHECK_EQ(w.member(&w, t.g2), 0);
	CHECK_EQ(w.member(&w, t.r), 0);
}

int main(void)
{
	RUN(forwarded_calls);
	RUN(rules_kill);
	RUN(rules_threads);
	RUN(rules_pid_calls);
	RUN(rules_priority);
	RUN(rules_pidfd);
	RUN(rules_ptrace_and_terminal);
	RUN(describe);
	RUN(returning_calls);
	RUN(node_code_copies);
	RUN(rules_groups_and_owners);
	if (tree_make() != 0)
		printf("FAIL " CHECK_PREFIX "tree_make: %s\n", strerror(errno));
	RUN(proc_members);
	RUN(proc_groups);
	RUN(proc_pidfds);
	RUN(proc_victims_survive);
	RUN(proc_reused_and_orphans);
	tree_end();
	return check_exit();
}
