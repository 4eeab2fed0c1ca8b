/* forks: fork, vfork and clone-as-fork as programs use them. A child's
 * writes to memory stay its own; a pipe carries a child's answer to its
 * parent; statuses and signals come through waitpid; a vfork's parent
 * waits for its child's _exit or exec; clone's PARENT_SETTID and
 * CHILD_SETTID write the child's pid; a vfork's parent dies of a signal in
 * its wait. Under om-run on a node every process here but the exec'd one
 * runs on the node. */
#define _GNU_SOURCE
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUF (1 << 20)
static unsigned char buf[BUF];

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
	got_usr1 = sig;
}

static uint64_t sum(void)
{
	uint64_t s = 0;
	for (int i = 0; i < BUF; i++)
		s = s * 31 + buf[i];
	return s;
}

static int status_of(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) != pid) {
		perror("waitpid");
		exit(1);
	}
	return st;
}

static void say_status(const char *what, int st)
{
	if (WIFEXITED(st))
		printf("%s: exited %d\n", what, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("%s: killed by signal %d\n", what, WTERMSIG(st));
	else
		printf("%s: status %#x\n", what, st);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "exec-child") == 0) {
		printf("exec'd child: parent is the forker %d\n", getppid() == atoi(argv[2]));
		return 9;
	}
	pid_t me = getpid();
	for (int i = 0; i < BUF; i++)
		buf[i] = (unsigned char)(i * 7 + 3);
	uint64_t before = sum();
	printf("sum %016llx\n", (unsigned long long)before);
	fflush(stdout);

	/* memory is copied: the child's writes are its own */
	int p[2];
	if (pipe(p) != 0)
		return 1;
	pid_t c = fork();
	if (c == 0) {
		close(p[0]);
		uint64_t seen = sum();
		memset(buf, 0xff, BUF / 2);
		uint64_t mine = sum();
		uint64_t msg[2] = { seen, mine };
		if (write(p[1], msg, sizeof msg) != sizeof msg)
			_exit(2);
		_exit(getppid() == me ? 5 : 6);
	}
	close(p[1]);
	uint64_t msg[2] = { 0, 0 };
	ssize_t n = read(p[0], msg, sizeof msg);
	close(p[0]);
	printf("child saw the parent's memory %d, changed its own %d\n", n == sizeof msg && msg[0] == before,
	       msg[1] != before);
	say_status("fork child", status_of(c));
	printf("parent's memory unchanged %d\n", sum() == before);
	fflush(stdout);

	/* several children, reaped in reverse order */
	pid_t kids[3];
	for (int i = 0; i < 3; i++)
		if ((kids[i] = fork()) == 0)
			_exit(10 + i);
	for (int i = 2; i >= 0; i--) {
		char what[32];
		snprintf(what, sizeof what, "child %d", i);
		say_status(what, status_of(kids[i]));
	}

	/* a signal for a child */
	if ((c = fork()) == 0) {
		for (;;)
			pause();
	}
	kill(c, SIGTERM);
	say_status("paused child", status_of(c));

	/* vfork: the parent waits for the child's _exit, then for its exec */
	if ((c = vfork()) == 0)
		_exit(7);
	say_status("vfork child", status_of(c));
	char mepid[16];
	snprintf(mepid, sizeof mepid, "%d", (int)me);
	if ((c = vfork()) == 0) {
		execl("/proc/self/exe", argv[0], "exec-child", mepid, (char *)NULL);
		_exit(127);
	}
	say_status("vfork+exec child", status_of(c));

	/* a vfork's parent killed while it waits dies at once (Linux's wait
	 * is killable); its child goes on, and hears of it from us */
	int q[2], back[2];
	if (pipe(q) != 0 || pipe(back) != 0)
		return 1;
	if ((c = fork()) == 0) {
		pid_t parent = getpid();
		if (vfork() == 0) {
			kill(parent, SIGTERM);
			struct pollfd pf = { .fd = back[0], .events = POLLIN };
			char gone = poll(&pf, 1, 10000) == 1;
			(void)!write(q[1], &gone, 1);
			_exit(0);
		}
		_exit(1); /* not reached: the signal ends it in its wait */
	}
	close(q[1]);
	close(back[0]);
	say_status("killed vfork parent", status_of(c));
	(void)!write(back[1], "x", 1);
	char gone = 0;
	printf("its child saw it die before it left %d\n", read(q[0], &gone, 1) == 1 && gone);
	fflush(stdout);
	close(q[0]);
	close(back[1]);

	/* a signal that came while a vfork's parent waited is handled as the
	 * wait ends, before anything the parent does next (under om-run the
	 * kill reaches the parent through its deputy: the child gives it
	 * time to) */
	if ((c = fork()) == 0) {
		signal(SIGUSR1, on_usr1);
		pid_t parent = getpid();
		if (vfork() == 0) {
			kill(parent, SIGUSR1);
			usleep(1000000);
			_exit(0);
		}
		_exit(got_usr1 ? 0 : 3);
	}
	say_status("vfork parent's handler ran first", status_of(c));

	/* an orphan sees its parent gone: getppid no longer names it */
	if (pipe(q) != 0)
		return 1;
	if ((c = fork()) == 0) {
		pid_t parent = getpid();
		if (fork() == 0) {
			char left = 0;
			for (int i = 0; i < 1000 && !left; i++)
				if (!(left = getppid() != parent))
					usleep(10000);
			(void)!write(q[1], &left, 1);
			_exit(0);
		}
		_exit(0);
	}
	close(q[1]);
	say_status("orphan's parent", status_of(c));
	gone = 0;
	printf("the orphan saw its parent gone %d\n", read(q[0], &gone, 1) == 1 && gone);
	fflush(stdout);
	close(q[0]);

	/* clone as glibc's fork calls it, with both tid addresses */
	pid_t ptid = 0, ctid = 0;
	long r = syscall(SYS_clone, CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | SIGCHLD, 0, &ptid, &ctid, 0);
	if (r == 0)
		_exit(ctid == getpid() ? 20 : 21);
	printf("clone: parent_tid is the child %d\n", ptid == (pid_t)r);
	say_status("clone child", status_of((pid_t)r));
	return 0;
}
