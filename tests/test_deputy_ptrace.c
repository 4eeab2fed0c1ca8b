/* test_deputy_ptrace.c - the deputy's ptrace parts that need a real
 * process: an environment entry added at the exec stop (exec_env), and a
 * forked child passed to another tracer (handoff) without its parent or
 * itself noticing, and a process followed at home (follow) through the
 * events that used to lose it, and Linux's rule for a call a signal
 * interrupted (restart), which the deputy applies when it moves a process
 * in one. Every process started is waited for. */
#define _GNU_SOURCE
#define CHECK_PREFIX "deputy_ptrace/"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "check.h"
#include "exec_env.h"
#include "follow.h"
#include "handoff.h"
#include "home_thread.h"
#include "inject.h"
#include "vdso.h"
#include "vdso_leave.h"
#include "restart.h"
#include "thread_seize.h"

extern char **environ;

#define OUT_MAX (1 << 20)

static char out[OUT_MAX];

/* Reads fd to EOF into out; returns the length. */
static size_t slurp(int fd)
{
	size_t len = 0;
	ssize_t n;
	while (len + 1 < sizeof out && (n = read(fd, out + len, sizeof out - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	return len;
}

/* Runs /usr/bin/env under ptrace with envp; at the exec stop adds
 * NAME=value. Returns the exit status; the output is in out, theirs in user. */
static int env_with(char *const envp[], const char *name, const char *value, char *user, size_t userlen,
		    int *add_rc)
{
	int p[2], st;
	if (pipe(p) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		raise(SIGSTOP);
		char *argv[] = { "env", NULL };
		execve("/usr/bin/env", argv, envp);
		_exit(127);
	}
	close(p[1]);
	waitpid(pid, &st, WUNTRACED);
	ptrace(PTRACE_SEIZE, pid, NULL, (void *)(long)(PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL));
	kill(pid, SIGCONT);
	*add_rc = -1;
	while (waitpid(pid, &st, __WALL) == pid && WIFSTOPPED(st)) {
		if ((st >> 8) == (SIGTRAP | (PTRACE_EVENT_EXEC << 8))) {
			struct inject in;
			if (inject_open(&in, pid) == 0) {
				*add_rc = exec_env_add(&in, name, value, user, userlen);
				inject_close(&in);
			}
		}
		ptrace(PTRACE_CONT, pid, NULL, NULL);
	}
	slurp(p[0]);
	close(p[0]);
	return st;
}

static void exec_env_appends(void)
{
	char *envp[] = { "A=1", "B=two words", NULL }, user[64];
	int rc, st = env_with(envp, "GLIBC_TUNABLES", "glibc.cpu.x86_shstk=off", user, sizeof user, &rc);
	CHECK_EQ(rc, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(strcmp(out, "A=1\nB=two words\nGLIBC_TUNABLES=glibc.cpu.x86_shstk=off\n") == 0);
	CHECK_EQ(user[0], '\0');
}

static void exec_env_joins_theirs(void)
{
	char *envp[] = { "GLIBC_TUNABLES=glibc.malloc.check=0", "Z=9", NULL }, user[128];
	int rc, st = env_with(envp, "GLIBC_TUNABLES", "glibc.cpu.x86_shstk=off", user, sizeof user, &rc);
	CHECK_EQ(rc, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(strcmp(out, "GLIBC_TUNABLES=glibc.malloc.check=0:glibc.cpu.x86_shstk=off\nZ=9\n") == 0);
	CHECK(strcmp(user, "GLIBC_TUNABLES=glibc.malloc.check=0") == 0);
}

/* Thousands of entries: the lists span many pages of the stack. */
static void exec_env_many(void)
{
	enum { N = 5000 };
	static char *envp[N + 1], buf[N][16];
	char user[8];
	int rc;
	for (int i = 0; i < N; i++) {
		snprintf(buf[i], sizeof buf[i], "V%d=%d", i, i * 7);
		envp[i] = buf[i];
	}
	envp[N] = NULL;
	int st = env_with(envp, "OM_X", "y", user, sizeof user, &rc);
	CHECK_EQ(rc, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(strstr(out, "V0=0\nV1=7\n") == out);
	CHECK(strstr(out, "\nV4999=34993\nOM_X=y\n") != NULL);
	size_t lines = 0;
	for (const char *c = out; *c; c++)
		lines += *c == '\n';
	CHECK_EQ(lines, N + 1);
}

static void exec_env_too_long(void)
{
	char *envp[] = { "A=1", NULL }, user[8], big[EXEC_ENV_MAX + 8];
	int rc;
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	int st = env_with(envp, "OM_X", big, user, sizeof user, &rc);
	CHECK_EQ(rc, -E2BIG);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(strcmp(out, "A=1\n") == 0); /* untouched */
}

/* A traced parent forks; the child goes to a second tracer, which lets it
 * run; the parent's own wait4 sees the child exit with its status. With
 * fail, the second tracer gives up before it takes the child (as a new
 * deputy whose set-up failed): the first takes it back from its parking
 * (no confirmation came) and lets it go, and nothing else changes. */
static void handoff_to(int fail)
{
	int p[2], hp[2], st;
	CHECK(pipe(p) == 0 && pipe(hp) == 0);
	pid_t parent = fork();
	if (parent == 0) {
		dup2(p[1], 1);
		close(p[0]);
		setvbuf(stdout, NULL, _IONBF, 0);
		raise(SIGSTOP);
		pid_t c = fork();
		if (c == 0) {
			printf("child %d of %d\n", getpid() == getpid(), getppid() == getppid());
			_exit(7);
		}
		int cs;
		pid_t w = waitpid(c, &cs, 0);
		printf("parent: waited %d, status %d\n", w == c, WIFEXITED(cs) ? WEXITSTATUS(cs) : -1);
		_exit(0);
	}
	close(p[1]);
	waitpid(parent, &st, WUNTRACED);
	CHECK(ptrace(PTRACE_SEIZE, parent, NULL, (void *)(long)(PTRACE_O_TRACEFORK | PTRACE_O_EXITKILL)) == 0);
	kill(parent, SIGCONT);
	pid_t taker = -1;
	int gave = -1, took_back = -1;
	while (waitpid(parent, &st, __WALL) == parent && WIFSTOPPED(st)) {
		if ((st >> 16) == PTRACE_EVENT_FORK) {
			unsigned long msg;
			int cst;
			ptrace(PTRACE_GETEVENTMSG, parent, NULL, &msg);
			pid_t child = (pid_t)msg;
			waitpid(child, &cst, __WALL); /* its first stop */
			taker = fork();
			if (taker == 0) {
				struct handoff h;
				int s;
				if (read(hp[0], &h, sizeof h) != sizeof h || fail ||
				    handoff_take(&h, PTRACE_O_EXITKILL) != 0)
					_exit(2);
				ptrace(PTRACE_CONT, h.pid, NULL, NULL);
				while (waitpid(h.pid, &s, __WALL) == h.pid && WIFSTOPPED(s))
					ptrace(PTRACE_CONT, h.pid, NULL, (void *)(long)((s >> 16) ? 0 : WSTOPSIG(s)));
				_exit(WIFEXITED(s) && WEXITSTATUS(s) == 7 ? 0 : 3);
			}
			struct handoff h;
			gave = handoff_give(child, taker, &h);
			if (gave == 0 && write(hp[1], &h, sizeof h) != sizeof h)
				gave = -EIO;
			int ts; /* the taker's end stands for the confirmation that never came */
			if (fail && waitpid(taker, &ts, 0) == taker && (took_back = handoff_take(&h, PTRACE_O_EXITKILL)) == 0)
				ptrace(PTRACE_DETACH, child, NULL, NULL);
		}
		ptrace(PTRACE_CONT, parent, NULL, (void *)(long)((st >> 16) || WSTOPSIG(st) == SIGTRAP ? 0 : WSTOPSIG(st)));
	}
	slurp(p[0]);
	close(p[0]);
	close(hp[0]);
	close(hp[1]);
	int ts = -1;
	if (taker > 0)
		waitpid(taker, &ts, 0);
	CHECK_EQ(gave, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (fail) {
		CHECK_EQ(took_back, 0);
	} else {
		CHECK(WIFEXITED(ts) && WEXITSTATUS(ts) == 0);
	}
	CHECK(strcmp(out, "child 1 of 1\nparent: waited 1, status 7\n") == 0);
}

/* Every trampoline vdso_patch writes is found again from any of its bytes;
 * the ELF header is in none. */
static void vdso_trampolines_found(void)
{
	const uint8_t *img;
	size_t len, e, k;
	int found = 0;
	CHECK(vdso_self(&img, &len) == 0 && len > 0);
	uint8_t *copy = malloc(len);
	CHECK(copy != NULL);
	memcpy(copy, img, len);
	CHECK(vdso_patch(copy, len) > 0);
	for (e = 0; e + VDSO_PATCH_SIZE <= len; e++) {
		if (copy[e] != 0xb8 || copy[e + 5] != 0x0f || copy[e + 6] != 0x05 || copy[e + 7] != 0xc3 ||
		    memcmp(copy + e, img + e, VDSO_PATCH_SIZE) == 0)
			continue;
		for (k = 0; k < VDSO_PATCH_SIZE; k++)
			CHECK_EQ(vdso_trampoline_entry(img, len, e + k), (long)e);
		found++;
	}
	free(copy);
	CHECK(found >= 2); /* clock_gettime, gettimeofday, ... */
	CHECK_EQ(vdso_trampoline_entry(img, len, 0), -1);
}

/* A child stopped inside clock_gettime (the real vDSO) is stepped out of
 * it, and runs on. */
static void on_trap(int sig)
{
	(void)sig;
	_exit(5);
}

/* ... and a SIGTRAP someone sends meanwhile is not taken for the step's
 * own trap: it reaches the program's handler afterwards. */
static void vdso_leave_steps_out(void)
{
	const uint8_t *img;
	size_t len;
	struct user_regs_struct regs;
	int st, inside = 0;
	CHECK(vdso_self(&img, &len) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		struct timespec t;
		signal(SIGTRAP, on_trap);
		alarm(20); /* a lost SIGTRAP would leave it looping for ever */
		for (;;)
			clock_gettime(CLOCK_MONOTONIC, &t);
	}
	CHECK(pid > 0);
	usleep(20000); /* its handler is set */
	CHECK(ptrace(PTRACE_SEIZE, pid, NULL, NULL) == 0);
	uint64_t base = (uint64_t)img; /* a child shares its parent's vDSO address */
	for (int i = 0; i < 2000 && !inside; i++) {
		CHECK(ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) == 0);
		CHECK(waitpid(pid, &st, __WALL) == pid);
		CHECK(ptrace(PTRACE_GETREGS, pid, NULL, &regs) == 0);
		inside = regs.rip >= base && regs.rip - base < len;
		if (!inside) {
			CHECK(ptrace(PTRACE_CONT, pid, NULL, NULL) == 0);
			usleep(100 + i % 7 * 37); /* let it run on, to somewhere else */
		}
	}
	if (inside) {
		kill(pid, SIGTRAP);
		CHECK_EQ(vdso_leave(pid), 0);
		CHECK(ptrace(PTRACE_GETREGS, pid, NULL, &regs) == 0);
		CHECK(!(regs.rip >= base && regs.rip - base < len));
		/* Run on; its SIGTRAP (queued again) is delivered at its stop. */
		int sig = 0;
		for (int k = 0; k < 10; k++) {
			CHECK(ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig) == 0);
			CHECK(waitpid(pid, &st, __WALL) == pid);
			if (!WIFSTOPPED(st))
				break;
			sig = st >> 16 ? 0 : WSTOPSIG(st);
		}
	} else {
		kill(pid, SIGKILL);
		waitpid(pid, &st, __WALL);
	}
	CHECK(inside); /* the loop is nearly all vDSO: 2000 tries always catch it there */
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 5);
}

static void handoff_fork_child(void)
{
	handoff_to(0);
}

static void handoff_taken_back(void)
{
	handoff_to(1);
}

/* ---- home threads */

static int tasks(pid_t pid)
{
	char path[64];
	int n = 0;
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Two home threads made in a sleeping process, a call injected in each
 * runs with that thread's tid; ended, they are gone and the process runs
 * on as before. */
static void home_threads_made_and_ended(void)
{
	long options = PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL;
	struct inject in, t[2];
	uint64_t none[6] = { 0 };
	int64_t ret;
	pid_t tid[2];
	int st;
	pid_t pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 200; i++)
			usleep(100000);
		_exit(7);
	}
	CHECK(pid > 0);
	CHECK(ptrace(PTRACE_SEIZE, pid, NULL, (void *)options) == 0);
	CHECK(ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) == 0);
	CHECK(waitpid(pid, &st, __WALL) == pid && (st >> 16) == PTRACE_EVENT_STOP);
	CHECK_EQ(inject_open(&in, pid), 0);
	CHECK_EQ(inject_setup(&in), 0);
	for (int k = 0; k < 2; k++) {
		CHECK_EQ(home_thread_new(&in, options, &t[k], &tid[k]), 0);
		CHECK(tid[k] > 0 && tid[k] != pid);
		CHECK_EQ(inject_syscall(&t[k], SYS_gettid, none, &ret), 0);
		CHECK_EQ(ret, tid[k]);
		CHECK_EQ(inject_syscall(&t[k], SYS_getpid, none, &ret), 0);
		CHECK_EQ(ret, pid);
	}
	CHECK_EQ(tasks(pid), 3);
	CHECK_EQ(inject_syscall(&in, SYS_gettid, none, &ret), 0);
	CHECK_EQ(ret, pid);
	for (int k = 0; k < 2; k++)
		CHECK_EQ(home_thread_end(&t[k]), 0);
	CHECK_EQ(tasks(pid), 1);
	CHECK_EQ(inject_teardown(&in), 0);
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, __WALL) == pid && WIFSTOPPED(st))
		;
	CHECK(WIFSIGNALED(st));
}

/* ---- follow: a process at home */

/* A child that waits for a byte on go[0], then runs body; seized with
 * options and in an interrupt stop, in that read. f is set up for it
 * (SIGCHLD blocked, its signalfd). Returns its pid, or -1. */
static pid_t follow_start(struct follow *f, int go[2], int (*body)(void), long options)
{
	sigset_t chld;
	int st;
	if (pipe(go) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		_exit(body());
	}
	close(go[0]);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	memset(f, 0, sizeof *f);
	f->pid = pid;
	f->watch_fd = -1;
	f->chld_fd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
	if (ptrace(PTRACE_SEIZE, pid, NULL, (void *)options) != 0 ||
	    ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) != 0 || waitpid(pid, &st, __WALL) != pid ||
	    (st >> 16) != PTRACE_EVENT_STOP) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, __WALL);
		return -1;
	}
	f->stopped = 1;
	return pid;
}

/* Ends the test's child (if the follower did not see it end). */
static void follow_end(struct follow *f, int go[2], int ended)
{
	sigset_t chld;
	int st;
	if (!ended) {
		kill(f->pid, SIGKILL);
		while (waitpid(f->pid, &st, __WALL) == f->pid && WIFSTOPPED(st))
			;
	}
	close(go[1]);
	close(f->chld_fd);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_UNBLOCK, &chld, NULL);
}

static int run_true(void)
{
	char *argv[] = { "true", NULL };
	execve("/bin/true", argv, environ);
	return 127;
}

/* The move's PTRACE_INTERRUPT is pending when the process enters execve:
 * the exec event stop takes it (any ptrace stop clears a pending one).
 * follow_run still brings the stop it asked for, after the exec. */
static void follow_interrupt_survives_exec(void)
{
	struct follow f;
	struct user_regs_struct regs;
	int go[2], st, steps = 0;
	enum follow_event ev[3] = { -1, -1, -1 };
	pid_t pid = follow_start(&f, go, run_true, follow_options());
	CHECK(pid > 0);
	CHECK(write(go[1], "x", 1) == 1);
	/* To the entry of execve, one system-call stop at a time. */
	do {
		if (ptrace(PTRACE_SYSCALL, pid, NULL, NULL) != 0 || waitpid(pid, &st, __WALL) != pid ||
		    !WIFSTOPPED(st) || ptrace(PTRACE_GETREGS, pid, NULL, &regs) != 0)
			break;
	} while (++steps < 50 && !(regs.orig_rax == SYS_execve && (int64_t)regs.rax == -ENOSYS));
	int at_exec = regs.orig_rax == SYS_execve && (int64_t)regs.rax == -ENOSYS;
	if (at_exec && follow_interrupt(&f) == 0) {
		ev[0] = follow_run(&f);
		ev[1] = ev[0] == FOLLOW_EXEC ? follow_run(&f) : ev[0];
		ev[2] = ev[1] == FOLLOW_STOPPED ? follow_run(&f) : ev[1];
	}
	follow_end(&f, go, ev[2] == FOLLOW_EXITED);
	CHECK(at_exec);
	CHECK_EQ(ev[0], FOLLOW_EXEC);
	CHECK_EQ(ev[1], FOLLOW_STOPPED);
	CHECK_EQ(ev[2], FOLLOW_EXITED);
	CHECK(WIFEXITED(f.status) && WEXITSTATUS(f.status) == 0);
	CHECK_EQ(f.interrupting, 0);
}

static int fork_and_wait(void)
{
	pid_t c = fork();
	if (c == 0) {
		pause();
		_exit(0);
	}
	int cs;
	return waitpid(c, &cs, 0) == c && WIFSIGNALED(cs) && WTERMSIG(cs) == SIGKILL ? 0 : 3;
}

/* The process forks, and its child dies before follow_run sees its first
 * stop: nothing to hand off, and the parent goes on (it waits for the
 * child, and sees it killed). Without PTRACE_O_TRACEEXIT (the options of
 * a process on a node), so that the child's end is not a stop. */
static void follow_fork_child_dead(void)
{
	struct follow f;
	siginfo_t si;
	unsigned long msg = 0;
	int go[2], ok = 0;
	enum follow_event ev = -1;
	pid_t pid = follow_start(&f, go, fork_and_wait, follow_options_away());
	CHECK(pid > 0);
	f.stopped = 0;
	if (ptrace(PTRACE_CONT, pid, NULL, NULL) == 0 && write(go[1], "x", 1) == 1) {
		/* Its fork event, seen but left for follow_run; the child killed
		 * and gone before anyone saw its first stop. */
		memset(&si, 0, sizeof si);
		ok = waitid(P_PID, (id_t)pid, &si, WSTOPPED | WNOWAIT | __WALL) == 0 && si.si_code == CLD_TRAPPED &&
		     ptrace(PTRACE_GETEVENTMSG, pid, NULL, &msg) == 0 && msg > 0 && kill((pid_t)msg, SIGKILL) == 0;
		/* A tracee's stop shows in any wait: until it is a zombie. */
		while (ok && (ok = waitid(P_PID, (id_t)msg, &si, WEXITED | WNOWAIT | __WALL) == 0) &&
		       si.si_code == CLD_TRAPPED)
			;
		alarm(60); /* a parent left stopped would wait here for ever */
		while (ok && (ev = follow_run(&f)) != FOLLOW_EXITED && ev != FOLLOW_ERROR)
			;
		alarm(0);
	}
	follow_end(&f, go, ev == FOLLOW_EXITED);
	CHECK(ok);
	CHECK_EQ(ev, FOLLOW_EXITED);
	CHECK(WIFEXITED(f.status) && WEXITSTATUS(f.status) == 0);
}

static int wait_for_ever(void)
{
	for (;;)
		pause();
	return 0;
}

/* SIGKILL while the deputy holds the process in a stop: its end is a
 * SIGKILL, not the deputy's failure. */
static void follow_killed_while_held(void)
{
	struct follow f;
	int go[2];
	enum follow_event ev[2] = { -1, -1 };
	pid_t pid = follow_start(&f, go, wait_for_ever, follow_options());
	CHECK(pid > 0);
	if (write(go[1], "x", 1) == 1 && follow_interrupt(&f) == 0 && (ev[0] = follow_run(&f)) == FOLLOW_STOPPED) {
		kill(pid, SIGKILL);
		ev[1] = follow_run(&f);
	}
	follow_end(&f, go, ev[1] == FOLLOW_EXITED);
	CHECK_EQ(ev[0], FOLLOW_STOPPED);
	CHECK_EQ(ev[1], FOLLOW_EXITED);
	CHECK(WIFSIGNALED(f.status) && WTERMSIG(f.status) == SIGKILL);
}

/* ---- restart: an interrupted call, ended as Linux ends it */

#define SIG(n) (1ull << ((n) - 1))

static void restart_codes(void)
{
	CHECK_EQ(restart_code((uint64_t)-512, 0), RESTART_SYS);
	CHECK_EQ(restart_code((uint64_t)-513, 7), RESTART_NOINTR);
	CHECK_EQ(restart_code((uint64_t)-514, 7), RESTART_NOHAND);
	CHECK_EQ(restart_code((uint64_t)-516, 35), RESTART_BLOCK);
	CHECK_EQ(restart_code((uint64_t)-515, 7), 0); /* not a restart code */
	CHECK_EQ(restart_code((uint64_t)-4, 7), 0);   /* EINTR itself */
	CHECK_EQ(restart_code((uint64_t)-512, (uint64_t)-1), 0); /* not in a call */
}

/* Calls in their restart block that can be made again with their
 * arguments, by their number or, after restart_syscall, by the code that
 * made them. */
static void restart_again(void)
{
	const uint8_t none[7] = { 0 }, poll_code[7] = { 0xb8, 7, 0, 0, 0, 0x0f, 0x05 },
		      musl_code[7] = { 0x48, 0x89, 0xf8, 0x90, 0x90, 0x0f, 0x05 }; /* mov %rdi,%rax */
	CHECK_EQ(restart_again_nr(SYS_futex, 9 | 128, none), SYS_futex); /* WAIT_BITSET|PRIVATE */
	CHECK_EQ(restart_again_nr(SYS_futex, 0, none), SYS_futex);       /* WAIT */
	CHECK_EQ(restart_again_nr(SYS_futex, 6, none), -1);              /* LOCK_PI: not a wait */
	CHECK_EQ(restart_again_nr(SYS_nanosleep, 0, none), SYS_nanosleep);
	CHECK_EQ(restart_again_nr(SYS_poll, 0, none), SYS_poll);
	CHECK_EQ(restart_again_nr(SYS_restart_syscall, 0, poll_code), SYS_poll);
	CHECK_EQ(restart_again_nr(SYS_restart_syscall, 0, musl_code), -1);
	CHECK_EQ(restart_again_nr(SYS_restart_syscall, 0, none), -1);
	CHECK_EQ(restart_again_nr(SYS_read, 0, none), -1);
}

static void restart_rule(void)
{
	uint64_t usr1 = SIG(SIGUSR1), usr2 = SIG(SIGUSR2), chld = SIG(SIGCHLD);
	/* Nothing pending, or nothing that runs a handler: the call again
	 * (restart_syscall for a sleep). */
	for (int code = RESTART_SYS; code <= RESTART_NOHAND; code++) {
		CHECK_EQ(restart_decide(code, 0, 0, usr1, 0), RESTART_AGAIN);
		CHECK_EQ(restart_decide(code, usr1, usr1, usr1, 0), RESTART_AGAIN); /* blocked */
		CHECK_EQ(restart_decide(code, chld, 0, usr1, 0), RESTART_AGAIN);    /* no handler */
	}
	CHECK_EQ(restart_decide(RESTART_BLOCK, chld, 0, usr1, 0), RESTART_KERNEL);
	/* A handler runs. */
	CHECK_EQ(restart_decide(RESTART_NOHAND, usr1, 0, usr1, usr1), RESTART_EINTR);
	CHECK_EQ(restart_decide(RESTART_SYS, usr1, 0, usr1, 0), RESTART_EINTR);
	CHECK_EQ(restart_decide(RESTART_SYS, usr1, 0, usr1, usr1), RESTART_AGAIN); /* SA_RESTART */
	CHECK_EQ(restart_decide(RESTART_NOINTR, usr1, 0, usr1, 0), RESTART_AGAIN);
	CHECK_EQ(restart_decide(RESTART_BLOCK, usr1, 0, usr1, usr1), RESTART_EINTR);
	/* The lowest caught one decides: SIGUSR1 (10) before SIGUSR2 (12). */
	CHECK_EQ(restart_decide(RESTART_SYS, usr1 | usr2, 0, usr1 | usr2, usr1), RESTART_AGAIN);
	CHECK_EQ(restart_decide(RESTART_SYS, usr1 | usr2, 0, usr1 | usr2, usr2), RESTART_EINTR);
	CHECK_EQ(restart_decide(RESTART_SYS, usr1 | usr2, usr1, usr1 | usr2, usr1), RESTART_EINTR);
	CHECK_EQ(restart_decide(RESTART_SYS, SIG(64), 0, SIG(64), 0), RESTART_EINTR);
}

/* What /proc says is pending: a blocked signal sent to a stopped child. */
static void restart_pending(void)
{
	int st;
	pid_t pid = fork();
	if (pid == 0) {
		sigset_t usr2;
		sigemptyset(&usr2);
		sigaddset(&usr2, SIGUSR2);
		sigprocmask(SIG_BLOCK, &usr2, NULL);
		raise(SIGSTOP);
		_exit(0);
	}
	waitpid(pid, &st, WUNTRACED);
	kill(pid, SIGUSR2);
	uint64_t now = restart_pending_now(pid, 1);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	CHECK_EQ(now, SIG(SIGUSR2));
	CHECK_EQ(restart_pending_now(pid, 1), 0); /* gone */
}

/* ---- a threaded process at home, stopped whole and captured */

static int seize_in[2];      /* the reader's pipe */
static pthread_mutex_t seize_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t seize_cv = PTHREAD_COND_INITIALIZER;
static int seize_go;
static volatile int seize_spin = 1;

static void seize_usr2(int sig)
{
	(void)sig;
}

static void *seize_reader(void *a)
{
	char c = 0;
	(void)a;
	return (void *)(long)(read(seize_in[0], &c, 1) == 1 && c == 'x');
}

static void *seize_waiter(void *a)
{
	(void)a;
	pthread_mutex_lock(&seize_mu);
	while (!seize_go)
		pthread_cond_wait(&seize_cv, &seize_mu);
	pthread_mutex_unlock(&seize_mu);
	return (void *)1;
}

static void *seize_spinner(void *a)
{
	sigset_t usr1;
	(void)a;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	while (seize_spin)
		;
	return (void *)1;
}

/* The child: three threads (blocked in read, blocked in a condition
 * wait, computing); it says it is ready, waits for go, then lets each
 * finish: 0 when every one did its part after being let go. */
static int seize_child(int ready, int go)
{
	void *(*body[3])(void *) = { seize_reader, seize_waiter, seize_spinner };
	pthread_t th[3];
	void *res;
	char c;
	int ok = 1;
	sigset_t usr2;
	if (pipe(seize_in) != 0)
		return 2;
	signal(SIGUSR2, seize_usr2);
	for (int i = 0; i < 3; i++)
		if (pthread_create(&th[i], NULL, body[i], NULL) != 0)
			return 2;
	sigemptyset(&usr2); /* the main thread blocks it, the others take it */
	sigaddset(&usr2, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &usr2, NULL);
	if (write(ready, "r", 1) != 1 || read(go, &c, 1) != 1)
		return 2;
	if (write(seize_in[1], "x", 1) != 1)
		return 2;
	pthread_mutex_lock(&seize_mu);
	seize_go = 1;
	pthread_cond_broadcast(&seize_cv);
	pthread_mutex_unlock(&seize_mu);
	seize_spin = 0;
	for (int i = 0; i < 3; i++)
		ok &= pthread_join(th[i], &res) == 0 && res == (void *)1;
	return ok ? 0 : 1;
}

struct seen {
	struct om_image_check chk;
	uint64_t hdr_pending;
	uint32_t thread_count, threads;
	uint32_t tids[4];
	uint64_t orig_rax[4], rax[4], blocked[4], pending[4];
};

static void seize_frame(int type, const void *p, size_t len, struct seen *s)
{
	static struct om_image_hdr h;
	static struct om_image_thread t;
	static struct om_image_region r;
	static struct om_image_pages pg;
	struct om_image_end e;
	switch (type) {
	case OM_T_IMAGE_BEGIN:
		CHECK_EQ(om_image_hdr_decode(p, len, &h), OM_OK);
		CHECK_EQ(om_image_check_begin(&s->chk, &h), OM_OK);
		s->thread_count = h.thread_count;
		s->hdr_pending = h.sig_pending;
		break;
	case OM_T_IMAGE_THREAD:
		CHECK_EQ(om_image_thread_decode(p, len, &t), OM_OK);
		CHECK_EQ(om_image_check_thread(&s->chk, &t), OM_OK);
		if (s->threads < 4) {
			s->tids[s->threads] = t.tid;
			s->orig_rax[s->threads] = t.regs[OM_REG_ORIG_RAX];
			s->rax[s->threads] = t.regs[OM_REG_RAX];
			s->blocked[s->threads] = t.sig_blocked;
			s->pending[s->threads] = t.sig_pending;
		}
		s->threads++;
		break;
	case OM_T_IMAGE_REGION:
		CHECK_EQ(om_image_region_decode(p, len, &r), OM_OK);
		CHECK_EQ(om_image_check_region(&s->chk, &r), OM_OK);
		break;
	case OM_T_IMAGE_PAGES:
		CHECK_EQ(om_image_pages_decode(p, len, &pg), OM_OK);
		CHECK_EQ(om_image_check_pages(&s->chk, &pg), OM_OK);
		break;
	case OM_T_IMAGE_END:
		CHECK_EQ(om_image_end_decode(p, len, &e), OM_OK);
		CHECK_EQ(om_image_check_end(&s->chk, &e), OM_OK);
		break;
	}
}

static int seize_emit(int type, const void *p, size_t len, void *ctx)
{
	seize_frame(type, p, len, ctx);
	return 0;
}

/* seize_child started (its pipes in ready and go), its threads blocked,
 * its leader seized and interrupted: its pid, or -1. */
static pid_t seize_child_stopped(int ready[2], int go[2])
{
	int st;
	char c;
	if (pipe(ready) != 0 || pipe(go) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0)
		_exit(seize_child(ready[1], go[0]));
	if (pid < 0 || read(ready[0], &c, 1) != 1)
		return -1;
	usleep(50000); /* the reader and the waiter block */
	if (ptrace(PTRACE_SEIZE, pid, NULL, (void *)(long)PTRACE_O_EXITKILL) != 0 ||
	    ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) != 0 || waitpid(pid, &st, __WALL) != pid ||
	    (st >> 16) != PTRACE_EVENT_STOP)
		return -1;
	return pid;
}

/* Its leader interrupted, every other thread is stopped where it is
 * (thread_seize_all) and captured with it: an image with three
 * IMAGE_THREADs in tid order, each thread's interrupted call, mask and
 * own pending signal in it. Let go, the threads finish their calls as if
 * nothing had happened. */
static void threads_seized_and_captured(void)
{
	int ready[2], go[2], st;
	pid_t pid = seize_child_stopped(ready, go);
	CHECK(pid > 0);
	pid_t *tids = NULL;
	char why[160] = "";
	int n = thread_seize_all(pid, PTRACE_O_EXITKILL, &tids, why, sizeof why);
	CHECK_EQ(n, 3);
	if (n != 3) {
		fprintf(stderr, "  thread_seize_all: %s\n", why);
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		return;
	}
	CHECK(tids[0] < tids[1] && tids[1] < tids[2] && tids[0] != pid);
	/* The spinner has a signal of its own, blocked. */
	pid_t spinner = 0;
	struct inject in, t[3], *tp[3];
	CHECK_EQ(inject_open(&in, pid), 0);
	CHECK_EQ(inject_setup(&in), 0);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(inject_open(&t[i], tids[i]), 0);
		home_thread_share(&in, &t[i]);
		tp[i] = &t[i];
		struct user_regs_struct regs;
		if (ptrace(PTRACE_GETREGS, tids[i], NULL, &regs) == 0 && (int64_t)regs.orig_rax < 0)
			spinner = tids[i];
	}
	CHECK(spinner != 0);
	syscall(SYS_tgkill, pid, spinner, SIGUSR1);
	kill(pid, SIGUSR2); /* the process's: the leader blocks it, the first other thread takes it */
	static struct seen s;
	struct capture_stats cs;
	char err[256];
	memset(&s, 0, sizeof s);
	om_image_check_init(&s.chk);
	CHECK_EQ(capture_image(&in, tp, 3, seize_emit, &s, &cs, err, sizeof err), 0);
	CHECK(om_image_check_done(&s.chk));
	CHECK_EQ(s.thread_count, 3);
	CHECK_EQ(s.threads, 3);
	int reads = 0, waits = 0, spins = 0;
	for (int i = 0; i < 3 && s.threads == 3; i++) {
		CHECK_EQ(s.tids[i], (uint32_t)tids[i]);
		if (s.orig_rax[i] == SYS_read && (int64_t)s.rax[i] == -512)
			reads++;
		if (s.orig_rax[i] == SYS_futex && (int64_t)s.rax[i] == -512)
			waits++;
		uint64_t usr2 = i == 0 ? SIG(SIGUSR2) : 0;
		if ((pid_t)s.tids[i] == spinner) {
			spins++;
			CHECK(s.blocked[i] & SIG(SIGUSR1));
			CHECK_EQ(s.pending[i], SIG(SIGUSR1) | usr2);
		} else {
			CHECK_EQ(s.pending[i], usr2);
		}
	}
	CHECK_EQ(s.hdr_pending, 0);
	CHECK(reads == 1 && waits == 1 && spins == 1);
	/* Let go as a move that did not happen would. */
	struct user_regs_struct regs;
	CHECK(ptrace(PTRACE_GETREGS, pid, NULL, &regs) == 0);
	CHECK_EQ(inject_teardown(&in), 0);
	CHECK(ptrace(PTRACE_SETREGS, pid, NULL, &regs) == 0);
	for (int i = 0; i < 3; i++)
		inject_close(&t[i]);
	thread_seize_release(tids, n);
	CHECK(ptrace(PTRACE_DETACH, pid, NULL, NULL) == 0);
	CHECK(write(go[1], "g", 1) == 1);
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
}

/* Killed while its threads are seized: let go, they cannot be detached
 * (dead), and linger until collected; only then does Linux report the
 * leader's end (thread_seize_settle, as the follower calls it). */
static void threads_seized_then_killed(void)
{
	int ready[2], go[2], st;
	pid_t pid = seize_child_stopped(ready, go);
	CHECK(pid > 0);
	pid_t *tids = NULL;
	char why[160] = "";
	int n = thread_seize_all(pid, PTRACE_O_EXITKILL | PTRACE_O_TRACEEXEC, &tids, why, sizeof why);
	CHECK_EQ(n, 3);
	kill(pid, SIGKILL);
	usleep(20000);
	thread_seize_release(tids, n > 0 ? n : 0);
	pid_t got = 0;
	for (int i = 0; i < 5000 && got == 0; i++) {
		thread_seize_settle();
		got = waitpid(pid, &st, __WALL | WNOHANG);
		if (got == 0)
			usleep(1000);
	}
	CHECK_EQ(got, pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	if (got != pid) {
		ptrace(PTRACE_DETACH, pid, NULL, NULL);
		waitpid(pid, &st, __WALL);
	}
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
}

int main(void)
{
	RUN(exec_env_appends);
	RUN(exec_env_joins_theirs);
	RUN(exec_env_many);
	RUN(exec_env_too_long);
	RUN(handoff_fork_child);
	RUN(vdso_trampolines_found);
	RUN(vdso_leave_steps_out);
	RUN(handoff_taken_back);
	RUN(follow_interrupt_survives_exec);
	RUN(follow_fork_child_dead);
	RUN(follow_killed_while_held);
	RUN(home_threads_made_and_ended);
	RUN(restart_codes);
	RUN(restart_again);
	RUN(restart_rule);
	RUN(restart_pending);
	RUN(threads_seized_and_captured);
	RUN(threads_seized_then_killed);
	return check_exit();
}
