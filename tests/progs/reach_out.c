/* reach_out.c - a program that reaches outside its job, for
 * qemu-tests/test_deputy_limits.py: run on a node, each way it tries to
 * signal VICTIM (a process of the same user that om-run did not start)
 * is a call its deputy must refuse (server-agent/deputy/call_limits.h);
 * GONE is a pid that no process has. Then it signals a child of its own,
 * which it may. Prints one line per try: OK, or the errno's name.
 *
 * usage: reach-out VICTIM GONE */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "show.h"

int main(int argc, char **argv)
{
	pid_t victim, gone, child;
	long fd;
	int st;

	if (argc != 3 || (victim = atoi(argv[1])) <= 1 || (gone = atoi(argv[2])) <= 1) {
		fprintf(stderr, "usage: reach-out VICTIM GONE\n");
		return 2;
	}
	show("kill", kill(victim, SIGKILL));
	show("kill 0", kill(victim, 0));
	show("kill group", kill(-victim, SIGKILL));
	show("kill -1 0", kill(-1, 0)); /* a probe: natively harmless */
	show("tgkill", syscall(SYS_tgkill, victim, victim, SIGKILL));
	show("tkill", syscall(SYS_tkill, victim, SIGKILL));
	if (show("pidfd_open", fd = syscall(SYS_pidfd_open, victim, 0)) >= 0)
		show("pidfd_send_signal", syscall(SYS_pidfd_send_signal, (int)fd, SIGKILL, NULL, 0));
	show("kill gone", kill(gone, SIGKILL));
	show("pidfd_open gone", syscall(SYS_pidfd_open, gone, 0));
	show("kill group gone", kill(-gone, 0));

	/* Its own child is the job's. */
	if ((child = fork()) == 0) {
		for (;;)
			pause();
	}
	if (child < 0)
		return show("fork", -1), 1;
	if (show("child pidfd_open", fd = syscall(SYS_pidfd_open, child, 0)) >= 0)
		show("child pidfd_send_signal 0", syscall(SYS_pidfd_send_signal, (int)fd, 0, NULL, 0));
	show("child kill", kill(child, SIGKILL));
	if (waitpid(child, &st, 0) != child)
		return show("waitpid", -1), 1;
	if (WIFSIGNALED(st))
		printf("child: killed by signal %d\n", WTERMSIG(st));
	else
		printf("child: status %#x\n", st);
	return 0;
}
