/* confine_probe.c - what a confined job reaches, for
 * qemu-tests/test_confine.py: run on a node under om-run --confine, its
 * forwarded calls run at home inside the confined process
 * (server-agent/deputy/confine.h). It opens OUTSIDE (a file outside the
 * working directory) and lists its directory, makes, renames and reads
 * files in the working directory, reads READONLY (an --allow-read file)
 * and tries to write it; a child it forks and the program it execs (itself,
 * as "confine-probe exec OUTSIDE") try OUTSIDE again. Prints one line per
 * try: OK, or the errno's name. Run it by its path (it execs argv[0]).
 *
 * usage: confine-probe OUTSIDE READONLY */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "show.h"

static void try_open(const char *what, const char *path, int flags)
{
	int fd = (int)show(what, open(path, flags | O_CLOEXEC, 0644));
	if (fd >= 0)
		close(fd);
}

int main(int argc, char **argv)
{
	char dir[4096], buf[64];
	int fd, st;
	pid_t pid;

	if (argc == 3 && strcmp(argv[1], "exec") == 0) {
		try_open("after exec: open outside", argv[2], O_RDONLY);
		return 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: confine-probe OUTSIDE READONLY\n");
		return 2;
	}
	try_open("open outside", argv[1], O_RDONLY);
	snprintf(dir, sizeof dir, "%s", argv[1]);
	try_open("list outside", dirname(dir), O_RDONLY | O_DIRECTORY);
	if ((fd = (int)show("create in cwd", open("made", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644))) >= 0) {
		show("write in cwd", write(fd, "made here\n", 10));
		close(fd);
	}
	show("mkdir in cwd", mkdir("sub", 0755));
	show("rename in cwd", rename("made", "sub/made"));
	if ((fd = (int)show("read readonly", open(argv[2], O_RDONLY | O_CLOEXEC))) >= 0) {
		show("read", read(fd, buf, sizeof buf));
		close(fd);
	}
	try_open("write readonly", argv[2], O_WRONLY);

	if ((pid = fork()) == 0) {
		try_open("child: open outside", argv[1], O_RDONLY);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return show("fork", -1), 1;
	printf("child: %s %d\n", WIFEXITED(st) ? "exited" : "killed by signal",
	    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	fflush(stdout);
	execl(argv[0], argv[0], "exec", argv[1], (char *)NULL); /* run by its path */
	show("exec", -1);
	return 1;
}
