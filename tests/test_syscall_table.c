/* test_syscall_table.c - the system-call table (migrate/syscalls.def):
 * every number in the host's <asm/unistd_64.h> with its name, sane argument
 * kinds, the where of the calls DESIGN.md names, run-time decisions, and the
 * special request lists against the host's own headers and struct sizes. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/openat2.h>
#include <mqueue.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <time.h>
#include <asm/ioctls.h>
#include <asm/termbits.h>
#include <asm/termios.h>
#include <sys/mman.h>

#define CHECK_PREFIX "syscall_table/"
#include "check.h"
#include "syscall_codec.h"
#define GEN_SYSCALLS_MD_NO_MAIN
#include "gen_syscalls_md.c"

static const char *const unistd_paths[] = {
	"/usr/include/x86_64-linux-gnu/asm/unistd_64.h",
	"/usr/include/asm/unistd_64.h",
};

/* Parses "#define __NR_name nr" lines: names[nr] = name. Returns the count,
 * -1 when no header is found. */
static int
read_unistd(char names[OM_SYSCALL_NR_MAX + 64][64], int *maxnr)
{
	char line[256], name[64];
	FILE *f = NULL;
	size_t i;
	int nr, n = 0;

	for (i = 0; i < sizeof unistd_paths / sizeof unistd_paths[0] && f == NULL; i++)
		f = fopen(unistd_paths[i], "r");
	if (f == NULL)
		return -1;
	*maxnr = -1;
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "#define __NR_%63s %d", name, &nr) != 2)
			continue;
		if (nr < 0 || nr >= OM_SYSCALL_NR_MAX + 64)
			continue;
		strcpy(names[nr], name);
		if (nr > *maxnr)
			*maxnr = nr;
		n++;
	}
	fclose(f);
	return n;
}

static char hdr_names[OM_SYSCALL_NR_MAX + 64][64];

static void
covers_host_header(void)
{
	int maxnr, n, nr, found = 0;

	n = read_unistd(hdr_names, &maxnr);
	CHECK(n > 300);
	CHECK(maxnr < OM_SYSCALL_NR_MAX);
	for (nr = 0; nr <= maxnr; nr++) {
		const char *name = om_syscall_name((unsigned)nr);

		if (hdr_names[nr][0] == '\0') {
			/* a number the header skips is not in the table */
			if (name != NULL)
				check_fail("nr %d: table has %s, the header nothing", nr, name);
			CHECK(name == NULL);
			continue;
		}
		if (name == NULL || strcmp(name, hdr_names[nr]) != 0)
			check_fail("nr %d: header %s, table %s", nr, hdr_names[nr],
			    name ? name : "(none)");
		CHECK(name != NULL && strcmp(name, hdr_names[nr]) == 0);
		CHECK_EQ(om_syscall_get((unsigned)nr)->nr, nr);
		found++;
	}
	CHECK_EQ(found, n);
}

static void
lookup_bounds(void)
{
	CHECK(om_syscall_get(OM_SYSCALL_NR_MAX) == NULL);
	CHECK(om_syscall_get(335) == NULL);      /* x86-64 leaves 335..423 unused */
	CHECK(om_syscall_get(423) == NULL);
	CHECK(om_syscall_get(0xffffffffu) == NULL);
	CHECK(om_syscall_get(512) == NULL);      /* x32 numbers are not ours */
	CHECK_EQ(om_syscall_where(400), OM_HOME);
	CHECK(om_syscall_name(0) != NULL && strcmp(om_syscall_name(0), "read") == 0);
	CHECK(om_syscall_get(462) != NULL && strcmp(om_syscall_get(462)->name, "mseal") == 0);
	CHECK(strcmp(om_where_name(OM_FORWARD), "forward") == 0);
	CHECK(strcmp(om_kind_name(OM_K_OUTRET), "OUTRET") == 0);
	CHECK(strcmp(om_kind_name(99), "?") == 0);
}

static int
refers_to_val(int kind)
{
	switch (kind) {
	case OM_K_IN: case OM_K_OUT: case OM_K_INOUT: case OM_K_OUTRET:
	case OM_K_INN: case OM_K_OUTRETN: case OM_K_IOV_IN: case OM_K_IOV_OUT:
	case OM_K_SOCKADDR_IN: case OM_K_IOCTL: case OM_K_FCNTL: case OM_K_PRCTL:
	case OM_K_POLL: case OM_K_FDSET:
		return 1;
	}
	return 0;
}

static void
kinds_sane(void)
{
	unsigned nr;
	int i, j;

	for (nr = 0; nr < OM_SYSCALL_NR_MAX; nr++) {
		const struct om_syscall *e = om_syscall_get(nr);
		int seen_none = 0, lenp_refs;

		if (e == NULL)
			continue;
		if (e->where < OM_LOCAL || e->where > OM_HOME)
			check_fail("%s: bad where %d", e->name, e->where);
		for (i = 0; i < 6; i++) {
			const struct om_argkind *k = &e->arg[i];

			if (k->kind >= OM_K_COUNT)
				check_fail("%s arg %d: bad kind", e->name, i);
			if (k->kind == OM_K_NONE) {
				seen_none = 1;
				continue;
			}
			if (seen_none)
				check_fail("%s arg %d: an argument after NONE", e->name, i);
			if (refers_to_val(k->kind) &&
			    (k->x >= 6 || k->x == i || e->arg[k->x].kind != OM_K_VAL))
				check_fail("%s arg %d: %s(%d) must name another VAL argument",
				    e->name, i, om_kind_name(k->kind), k->x);
			/* the codec checks a LENP against its buffer, so the
			 * buffer comes first */
			if ((k->kind == OM_K_SOCKADDR_OUT || k->kind == OM_K_OPT_OUT) &&
			    (k->x >= 6 || k->x <= i || e->arg[k->x].kind != OM_K_LENP))
				check_fail("%s arg %d: %s must name a later LENP argument",
				    e->name, i, om_kind_name(k->kind));
			if ((k->kind == OM_K_INS || k->kind == OM_K_OUTS ||
			    k->kind == OM_K_INOUTS || k->kind == OM_K_INN ||
			    k->kind == OM_K_OUTRETN) && k->size == 0)
				check_fail("%s arg %d: size 0", e->name, i);
			if (k->kind == OM_K_LENP) {
				lenp_refs = 0;
				for (j = 0; j < 6; j++)
					if ((e->arg[j].kind == OM_K_SOCKADDR_OUT ||
					    e->arg[j].kind == OM_K_OPT_OUT) && e->arg[j].x == i)
						lenp_refs++;
				if (lenp_refs != 1)
					check_fail("%s arg %d: LENP used by %d buffers",
					    e->name, i, lenp_refs);
			}
		}
		CHECK(check_reason[0] == '\0');
	}
}

static const struct om_syscall *
by_name(const char *name)
{
	unsigned nr;

	for (nr = 0; nr < OM_SYSCALL_NR_MAX; nr++)
		if (om_syscall_get(nr) && strcmp(om_syscall_get(nr)->name, name) == 0)
			return om_syscall_get(nr);
	return NULL;
}

/* "name:arg" has kind (and x, size when >= 0) */
static int
argis(const char *name, int i, int kind, int x, int size)
{
	const struct om_syscall *e = by_name(name);

	if (e == NULL) {
		check_fail("no %s", name);
		return 0;
	}
	if (e->arg[i].kind != kind || (x >= 0 && e->arg[i].x != x) ||
	    (size >= 0 && e->arg[i].size != size)) {
		check_fail("%s arg %d is %s(%d, %d), want %s(%d, %d)", name, i,
		    om_kind_name(e->arg[i].kind), e->arg[i].x, e->arg[i].size,
		    om_kind_name(kind), x, size);
		return 0;
	}
	return 1;
}

static int
whereis(const char *name, int where)
{
	const struct om_syscall *e = by_name(name);

	if (e == NULL || e->where != where) {
		check_fail("%s is %s, want %s", name, e ? om_where_name(e->where) : "missing",
		    om_where_name(where));
		return 0;
	}
	return 1;
}

static void
kinds_known_calls(void)
{
	CHECK(argis("read", 0, OM_K_VAL, -1, -1) && argis("read", 1, OM_K_OUTRET, 2, -1));
	CHECK(argis("write", 1, OM_K_IN, 2, -1));
	CHECK(argis("pread64", 1, OM_K_OUTRET, 2, -1) && argis("pwrite64", 1, OM_K_IN, 2, -1));
	CHECK(argis("stat", 0, OM_K_STR, -1, -1) && argis("stat", 1, OM_K_OUTS, -1, sizeof(struct stat)));
	CHECK(argis("fstat", 1, OM_K_OUTS, -1, sizeof(struct stat)));
	CHECK(argis("lstat", 1, OM_K_OUTS, -1, sizeof(struct stat)));
	CHECK(argis("newfstatat", 1, OM_K_STR, -1, -1) &&
	    argis("newfstatat", 2, OM_K_OUTS, -1, sizeof(struct stat)));
	CHECK(argis("statx", 4, OM_K_OUTS, -1, sizeof(struct statx)));
	CHECK(argis("statfs", 1, OM_K_OUTS, -1, sizeof(struct statfs)));
	CHECK(argis("lseek", 1, OM_K_VAL, -1, -1) && argis("lseek", 2, OM_K_VAL, -1, -1));
	CHECK(argis("openat", 1, OM_K_STR, -1, -1) && argis("openat", 3, OM_K_VAL, -1, -1));
	CHECK(argis("openat2", 2, OM_K_IN, 3, -1));
	CHECK(argis("wait4", 1, OM_K_OUTS, -1, 4) &&
	    argis("wait4", 3, OM_K_OUTS, -1, sizeof(struct rusage)));
	CHECK(argis("readlink", 0, OM_K_STR, -1, -1) && argis("readlink", 1, OM_K_OUTRET, 2, -1));
	CHECK(argis("readlinkat", 2, OM_K_OUTRET, 3, -1));
	CHECK(argis("getdents64", 1, OM_K_OUTRET, 2, -1));
	CHECK(argis("getcwd", 0, OM_K_OUTRET, 1, -1));
	CHECK(argis("getrlimit", 1, OM_K_OUTS, -1, sizeof(struct rlimit)));
	CHECK(argis("prlimit64", 2, OM_K_INS, -1, 16) && argis("prlimit64", 3, OM_K_OUTS, -1, 16));
	CHECK(argis("pipe", 0, OM_K_OUTS, -1, 8) && argis("pipe2", 0, OM_K_OUTS, -1, 8));
	CHECK(argis("readv", 1, OM_K_IOV_OUT, 2, -1) && argis("writev", 1, OM_K_IOV_IN, 2, -1));
	CHECK(argis("preadv2", 1, OM_K_IOV_OUT, 2, -1) && argis("pwritev2", 1, OM_K_IOV_IN, 2, -1));
	CHECK(argis("poll", 0, OM_K_POLL, 1, -1) && argis("ppoll", 0, OM_K_POLL, 1, -1));
	CHECK(argis("select", 1, OM_K_FDSET, 0, -1) && argis("pselect6", 5, OM_K_SIGSET6, -1, -1));
	CHECK(argis("ioctl", 2, OM_K_IOCTL, 1, -1) && argis("fcntl", 2, OM_K_FCNTL, 1, -1));
	CHECK(argis("recvfrom", 4, OM_K_SOCKADDR_OUT, 5, -1) && argis("recvfrom", 5, OM_K_LENP, -1, -1));
	CHECK(argis("sendto", 4, OM_K_SOCKADDR_IN, 5, -1));
	CHECK(argis("connect", 1, OM_K_SOCKADDR_IN, 2, -1));
	CHECK(argis("getsockopt", 3, OM_K_OPT_OUT, 4, -1));
	CHECK(argis("sendmsg", 1, OM_K_MSG_IN, -1, -1) && argis("recvmsg", 1, OM_K_MSG_OUT, -1, -1));
	CHECK(argis("epoll_wait", 1, OM_K_OUTRETN, 2, sizeof(struct epoll_event)));
	CHECK(argis("epoll_ctl", 3, OM_K_INS, -1, sizeof(struct epoll_event)));
	CHECK(argis("uname", 0, OM_K_OUTS, -1, sizeof(struct utsname)));
	CHECK(argis("sysinfo", 0, OM_K_OUTS, -1, sizeof(struct sysinfo)));
	CHECK(argis("times", 0, OM_K_OUTS, -1, sizeof(struct tms)));
	CHECK(argis("getrusage", 1, OM_K_OUTS, -1, sizeof(struct rusage)));
	CHECK(argis("setitimer", 1, OM_K_INS, -1, sizeof(struct itimerval)));
	CHECK(argis("waitid", 2, OM_K_OUTS, -1, sizeof(siginfo_t)));
	CHECK(argis("mq_notify", 1, OM_K_INS, -1, sizeof(struct sigevent)));
	CHECK(argis("mq_getsetattr", 2, OM_K_OUTS, -1, sizeof(struct mq_attr)));
	CHECK(argis("sigaltstack", 0, OM_K_INS, -1, sizeof(stack_t)));
	CHECK(argis("clock_gettime", 1, OM_K_OUTS, -1, sizeof(struct timespec)));
	CHECK(argis("utimensat", 2, OM_K_INS, -1, 2 * sizeof(struct timespec)));
	CHECK(sizeof(struct open_how) == 24);
}

static void
where_design(void)
{
	static const char *const local[] = {
		"brk", "mmap", "munmap", "mprotect", "mremap", "madvise", "arch_prctl",
		"set_tid_address", "set_robust_list", "get_robust_list", "rseq",
		"rt_sigaction", "rt_sigprocmask", "sigaltstack", "rt_sigreturn",
		"futex", "clock_gettime", "clock_getres", "gettimeofday", "time",
		"nanosleep", "clock_nanosleep", "getrandom", "sched_yield", "exit",
		"exit_group", "getpid", "gettid", "getuid", "geteuid",
		"getgid", "getegid", "getresuid", "getresgid", "getpgrp", "getpgid",
		"getsid", "uname", "pause", "rt_sigsuspend", "kill", "tgkill", "tkill",
	};
	static const char *const forward[] = {
		"read", "write", "open", "openat", "close", "stat", "fstat", "lstat", "getppid",
		"newfstatat", "statx", "lseek", "pread64", "pwrite64", "readv",
		"writev", "preadv", "pwritev", "getdents64", "ioctl", "fcntl", "poll",
		"ppoll", "select", "pselect6", "dup", "dup2", "dup3", "pipe", "pipe2",
		"socket", "connect", "accept", "accept4", "bind", "listen",
		"sendto", "recvfrom", "sendmsg", "recvmsg", "chdir", "getcwd",
		"umask", "wait4", "readlink", "getrlimit", "prlimit64", "unlink",
		"rename", "mkdir", "access", "faccessat2", "epoll_wait", "execve",
	};
	static const char *const home[] = {
		"clone3", "execveat", "ptrace",
		"io_uring_setup", "io_uring_enter", "io_uring_register", "bpf",
		"shmat", "signalfd4", "seccomp", "setuid", "setsid", "userfaultfd",
		"sendmmsg", "recvmmsg", "io_submit", "perf_event_open",
	};
	size_t i;

	for (i = 0; i < sizeof local / sizeof local[0]; i++)
		CHECK(whereis(local[i], OM_LOCAL));
	for (i = 0; i < sizeof forward / sizeof forward[0]; i++)
		CHECK(whereis(forward[i], OM_FORWARD));
	for (i = 0; i < sizeof home / sizeof home[0]; i++)
		CHECK(whereis(home[i], OM_HOME));
}

static int
at(const char *name, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint32_t self)
{
	uint64_t a[6] = { a0, a1, a2, a3, 0, 0 };

	return om_syscall_where_at(by_name(name)->nr, a, self);
}

static void
where_at_runtime(void)
{
	CHECK_EQ(at("mmap", 0, 4096, 3, MAP_PRIVATE | MAP_ANONYMOUS, 100), OM_LOCAL);
	CHECK_EQ(at("mmap", 0, 4096, 1, MAP_PRIVATE, 100), OM_LOCAL);
	CHECK_EQ(at("mmap", 0, 4096, 1, MAP_SHARED, 100), OM_LOCAL);
	CHECK_EQ(at("mmap", 0, 4096, 3, MAP_SHARED, 100), OM_HOME);
	CHECK_EQ(at("kill", 100, 9, 0, 0, 100), OM_LOCAL);
	CHECK_EQ(at("kill", 101, 9, 0, 0, 100), OM_FORWARD);
	CHECK_EQ(at("kill", 0, 9, 0, 0, 100), OM_FORWARD);    /* the process group */
	CHECK_EQ(at("kill", (uint64_t)-1, 9, 0, 0, 100), OM_FORWARD);
	CHECK_EQ(at("kill", 100, 9, 0, 0, 0), OM_FORWARD);    /* self unknown */
	CHECK_EQ(at("tgkill", 100, 100, 2, 0, 100), OM_LOCAL);
	CHECK_EQ(at("tgkill", 100, 101, 2, 0, 100), OM_FORWARD);
	CHECK_EQ(at("tkill", 100, 2, 0, 0, 100), OM_LOCAL);
	CHECK_EQ(at("rt_sigqueueinfo", 100, 2, 0, 0, 100), OM_LOCAL);
	CHECK_EQ(at("rt_sigqueueinfo", 7, 2, 0, 0, 100), OM_FORWARD);
	CHECK_EQ(at("getpgid", 0, 0, 0, 0, 100), OM_LOCAL);
	CHECK_EQ(at("getpgid", 100, 0, 0, 0, 100), OM_LOCAL);
	CHECK_EQ(at("getpgid", 55, 0, 0, 0, 100), OM_FORWARD);
	CHECK_EQ(at("getsid", 55, 0, 0, 0, 100), OM_FORWARD);
	CHECK_EQ(at("ioctl", 1, TCGETS, 0x1000, 0, 100), OM_FORWARD);
	CHECK_EQ(at("ioctl", 1, TIOCGWINSZ, 0x1000, 0, 100), OM_FORWARD);
	CHECK_EQ(at("ioctl", 1, 0x8913 /* SIOCGIFFLAGS */, 0x1000, 0, 100), OM_HOME);
	CHECK_EQ(at("ioctl", 1, 0x100005401ull, 0x1000, 0, 100), OM_FORWARD); /* cmd is 32-bit */
	CHECK_EQ(at("fcntl", 1, F_GETLK, 0x1000, 0, 100), OM_FORWARD);
	CHECK_EQ(at("fcntl", 1, F_SETFL, 4, 0, 100), OM_FORWARD);
	CHECK_EQ(at("fcntl", 1, F_NOTIFY, 4, 0, 100), OM_HOME);
	CHECK_EQ(at("fcntl", 1, F_SETOWN_EX, 4, 0, 100), OM_HOME);
	CHECK_EQ(at("prctl", PR_SET_NAME, 0x1000, 0, 0, 100), OM_FORWARD);
	CHECK_EQ(at("prctl", PR_SET_SECCOMP, 0, 0, 0, 100), OM_HOME);
	CHECK_EQ(at("prctl", 0x53564d41, 0, 0, 0, 100), OM_LOCAL); /* PR_SET_VMA */
	CHECK_EQ(at("setitimer", ITIMER_REAL, 0x1000, 0, 0, 100), OM_LOCAL);
	CHECK_EQ(at("setitimer", ITIMER_VIRTUAL, 0x1000, 0, 0, 100), OM_LOCAL);
	CHECK_EQ(at("getitimer", ITIMER_PROF, 0x1000, 0, 0, 100), OM_LOCAL);
	CHECK_EQ(at("timer_create", CLOCK_MONOTONIC, 0x1000, 0x2000, 0, 100), OM_LOCAL);
	CHECK_EQ(at("get_robust_list", 0, 0x1000, 0x2000, 0, 100), OM_LOCAL);
	CHECK_EQ(at("get_robust_list", 100, 0x1000, 0x2000, 0, 100), OM_LOCAL);
	CHECK_EQ(at("get_robust_list", 55, 0x1000, 0x2000, 0, 100), OM_FORWARD);
	CHECK_EQ(at("getrusage", RUSAGE_SELF, 0x1000, 0, 0, 100), OM_LOCAL);
	CHECK_EQ(at("getrusage", RUSAGE_THREAD, 0x1000, 0, 0, 100), OM_LOCAL);
	CHECK_EQ(at("getrusage", (uint64_t)RUSAGE_CHILDREN, 0x1000, 0, 0, 100), OM_FORWARD);
	CHECK_EQ(at("getrusage", 0xffffffffu, 0x1000, 0, 0, 100), OM_FORWARD); /* int who */
	CHECK_EQ(at("clock_gettime", CLOCK_BOOTTIME, 0x1000, 0, 0, 100), OM_LOCAL);
	CHECK_EQ(at("clock_gettime", CLOCK_TAI, 0x1000, 0, 0, 100), OM_FORWARD);
	CHECK_EQ(at("clock_getres", CLOCK_REALTIME_ALARM, 0x1000, 0, 0, 100), OM_FORWARD);
	CHECK_EQ(at("clock_gettime", (uint64_t)-6 /* a CPU clock by pid */, 0x1000, 0, 0, 100), OM_FORWARD);
	CHECK_EQ(at("clock_nanosleep", CLOCK_TAI, 0, 0x1000, 0, 100), OM_FORWARD);
	CHECK_EQ(at("clock_nanosleep", CLOCK_MONOTONIC, 0, 0x1000, 0, 100), OM_LOCAL);
	CHECK_EQ(at("membarrier", 0, 0, 0, 0, 100), OM_FORWARD);
	CHECK_EQ(at("read", 0, 0, 0, 0, 100), OM_FORWARD);
	CHECK_EQ(at("fork", 0, 0, 0, 0, 100), OM_FORWARD);
	CHECK_EQ(at("vfork", 0, 0, 0, 0, 100), OM_FORWARD);
	/* glibc's fork; a thread (CLONE_VM ...), a new stack, namespaces go home */
	CHECK_EQ(at("clone", 0x01200011, 0, 0, 0x7000, 100), OM_FORWARD);
	CHECK_EQ(at("clone", 0x003d0f00, 0x7000, 0x7100, 0x7200, 100), OM_HOME);
	CHECK_EQ(at("clone", 17, 0x7000, 0, 0, 100), OM_HOME);
	CHECK_EQ(at("clone", 0x4000 | 17, 0, 0, 0, 100), OM_HOME); /* CLONE_VFORK */
	CHECK_EQ(at("clone", 0x01200000 | 10, 0, 0, 0x7000, 100), OM_HOME); /* exit signal SIGUSR1 */
	CHECK_EQ(at("clone", 0, 0, 0, 0, 100), OM_HOME); /* no exit signal */
	CHECK_EQ(at("clone", 0x20000000 | 17, 0, 0, 0, 100), OM_HOME); /* CLONE_NEWUTS */
	CHECK_EQ(at("brk", 0, 0, 0, 0, 100), OM_LOCAL);
	CHECK_EQ(om_syscall_where_at(400, (uint64_t[6]){ 0 }, 1), OM_HOME);
}

/* What the deputy accepts: exactly what where_at forwards with self
 * unknown, plus getrandom (a node without RDRAND forwards it). */
static void
forwardable(void)
{
	uint64_t a[6] = { 0x1000, 16, 0, 0, 0, 0 };
	unsigned nr;

	CHECK(om_syscall_forwardable(by_name("getrandom")->nr, a));
	CHECK(om_syscall_forwardable(by_name("read")->nr, a));
	CHECK(!om_syscall_forwardable(by_name("exit_group")->nr, a));
	CHECK(!om_syscall_forwardable(by_name("mmap")->nr, (uint64_t[6]){ 0, 4096, 3, 0x22, 0, 0 }));
	CHECK(om_syscall_forwardable(by_name("fork")->nr, a));
	CHECK(!om_syscall_forwardable(by_name("clone")->nr, (uint64_t[6]){ 0x100, 0, 0, 0, 0, 0 }));
	for (nr = 0; nr < 470; nr++)
		if (nr != by_name("getrandom")->nr)
			CHECK_EQ(om_syscall_forwardable(nr, a), om_syscall_where_at(nr, a, 0) == OM_FORWARD);
}

struct req_want {
	uint32_t req;
	int kind, size;
};

static int
req_has(int special, const struct req_want *w)
{
	const struct om_sysreq_kind *r;
	size_t i;

	for (i = 0; (r = om_syscall_request_kind(special, i)) != NULL; i++)
		if (r->req == w->req)
			return r->kind == w->kind && r->size == w->size;
	return 0;
}

/* The request numbers and sizes against the host's headers. */
static void
special_lists(void)
{
	static const struct req_want ioctls[] = {
		{ TCGETS, OM_K_OUTS, sizeof(struct termios) },
		{ TCSETS, OM_K_INS, sizeof(struct termios) },
		{ TCSETSW, OM_K_INS, sizeof(struct termios) },
		{ TCSETSF, OM_K_INS, sizeof(struct termios) },
		{ TIOCGWINSZ, OM_K_OUTS, sizeof(struct winsize) },
		{ TIOCSWINSZ, OM_K_INS, sizeof(struct winsize) },
		{ FIONREAD, OM_K_OUTS, sizeof(int) },
		{ TIOCGPGRP, OM_K_OUTS, sizeof(pid_t) },
		{ TIOCSPGRP, OM_K_INS, sizeof(pid_t) },
		{ FIONBIO, OM_K_INS, sizeof(int) },
		{ FIOCLEX, OM_K_VAL, 0 },
		{ FIONCLEX, OM_K_VAL, 0 },
		{ FIOASYNC, OM_K_INS, sizeof(int) },
		{ TCSBRK, OM_K_VAL, 0 },
		{ TCXONC, OM_K_VAL, 0 },
		{ TCFLSH, OM_K_VAL, 0 },
		{ TIOCSCTTY, OM_K_VAL, 0 },
		{ TIOCNOTTY, OM_K_VAL, 0 },
		{ TIOCOUTQ, OM_K_OUTS, sizeof(int) },
		{ TIOCGSID, OM_K_OUTS, sizeof(pid_t) },
		{ TIOCGPTN, OM_K_OUTS, sizeof(unsigned) },
		{ TIOCSPTLCK, OM_K_INS, sizeof(int) },
	};
	static const struct req_want fcntls[] = {
		{ F_DUPFD, OM_K_VAL, 0 }, { F_DUPFD_CLOEXEC, OM_K_VAL, 0 },
		{ F_GETFD, OM_K_VAL, 0 }, { F_SETFD, OM_K_VAL, 0 },
		{ F_GETFL, OM_K_VAL, 0 }, { F_SETFL, OM_K_VAL, 0 },
		{ F_GETLK, OM_K_INOUTS, sizeof(struct flock) },
		{ F_SETLK, OM_K_INS, sizeof(struct flock) },
		{ F_SETLKW, OM_K_INS, sizeof(struct flock) },
		{ F_OFD_GETLK, OM_K_INOUTS, sizeof(struct flock) },
		{ F_OFD_SETLK, OM_K_INS, sizeof(struct flock) },
		{ F_OFD_SETLKW, OM_K_INS, sizeof(struct flock) },
		{ F_SETPIPE_SZ, OM_K_VAL, 0 }, { F_GETPIPE_SZ, OM_K_VAL, 0 },
		{ F_ADD_SEALS, OM_K_VAL, 0 }, { F_GET_SEALS, OM_K_VAL, 0 },
	};
	static const struct req_want prctls[] = {
		{ PR_SET_NAME, OM_K_INS, 16 }, { PR_GET_NAME, OM_K_OUTS, 16 },
		{ PR_SET_PDEATHSIG, OM_K_VAL, 0 }, { PR_GET_PDEATHSIG, OM_K_OUTS, sizeof(int) },
		{ PR_GET_DUMPABLE, OM_K_VAL, 0 }, { PR_SET_DUMPABLE, OM_K_VAL, 0 },
		{ PR_SET_NO_NEW_PRIVS, OM_K_VAL, 0 }, { PR_GET_NO_NEW_PRIVS, OM_K_VAL, 0 },
		{ PR_SET_CHILD_SUBREAPER, OM_K_VAL, 0 },
		{ PR_GET_CHILD_SUBREAPER, OM_K_OUTS, sizeof(int) },
		{ PR_SET_TIMERSLACK, OM_K_VAL, 0 }, { PR_GET_TIMERSLACK, OM_K_VAL, 0 },
	};
	size_t i, n;

	for (i = 0; i < sizeof ioctls / sizeof ioctls[0]; i++)
		if (!req_has(OM_K_IOCTL, &ioctls[i]))
			check_fail("ioctl %#x missing or wrong", ioctls[i].req);
	for (i = 0; i < sizeof fcntls / sizeof fcntls[0]; i++)
		if (!req_has(OM_K_FCNTL, &fcntls[i]))
			check_fail("fcntl %u missing or wrong", fcntls[i].req);
	for (i = 0; i < sizeof prctls / sizeof prctls[0]; i++)
		if (!req_has(OM_K_PRCTL, &prctls[i]))
			check_fail("prctl %u missing or wrong", prctls[i].req);
	CHECK(check_reason[0] == '\0');
	/* and nothing else: every listed request is checked above */
	for (n = 0; om_syscall_request_kind(OM_K_IOCTL, n); n++)
		;
	CHECK_EQ(n, sizeof ioctls / sizeof ioctls[0]);
	for (n = 0; om_syscall_request_kind(OM_K_FCNTL, n); n++)
		;
	CHECK_EQ(n, sizeof fcntls / sizeof fcntls[0]);
	for (n = 0; om_syscall_request_kind(OM_K_PRCTL, n); n++)
		;
	CHECK_EQ(n, sizeof prctls / sizeof prctls[0]);
	CHECK(om_syscall_request_kind(OM_K_VAL, 0) == NULL);
}

static void
nargs_counts(void)
{
	CHECK_EQ(om_syscall_nargs(by_name("read")), 3);
	CHECK_EQ(om_syscall_nargs(by_name("getpid")), 0);
	CHECK_EQ(om_syscall_nargs(by_name("mmap")), 6);
	CHECK_EQ(om_syscall_nargs(by_name("pselect6")), 6);
	CHECK_EQ(om_syscall_nargs(by_name("openat")), 4);
}

/* docs/syscalls.md is what the generator writes (run from the tree's top,
 * as make unit-test does). */
static void
doc_is_current(void)
{
	static char have[1 << 20];
	char *want = NULL;
	size_t want_len = 0, have_len;
	FILE *m, *f;

	m = open_memstream(&want, &want_len);
	CHECK(m != NULL);
	gen_syscalls_md(m);
	fclose(m);
	f = fopen("docs/syscalls.md", "r");
	if (f == NULL) {
		free(want);
		check_fail("docs/syscalls.md missing: run make docs/syscalls.md");
		return;
	}
	have_len = fread(have, 1, sizeof have, f);
	fclose(f);
	if (have_len != want_len || memcmp(have, want, want_len) != 0)
		check_fail("docs/syscalls.md is stale: run make docs/syscalls.md");
	free(want);
}

int
main(void)
{
	(void)check_rand; /* the harness's PRNG: no fuzz here */
	(void)check_seed;
	RUN(covers_host_header);
	RUN(lookup_bounds);
	RUN(kinds_sane);
	RUN(kinds_known_calls);
	RUN(where_design);
	RUN(where_at_runtime);
	RUN(forwardable);
	RUN(special_lists);
	RUN(nargs_counts);
	RUN(doc_is_current);
	return check_exit();
}
