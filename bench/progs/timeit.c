/* timeit.c - the wall time of one program, from fork to its exit as its
 * parent sees it, on CLOCK_MONOTONIC: the same measurement in the Linux
 * guest's /init, natively, and around om-run at home (bench/bench.py). No
 * shell in between. Prints "wall_s SECONDS status STATUS" on stderr after
 * the program ends, and exits with the program's status.
 *
 *   timeit [-o FILE] PROGRAM [ARGS...]   -o: the program's stdout goes to FILE */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_clock.h"

int main(int argc, char **argv)
{
	const char *out = NULL;
	int st;

	if (argc > 2 && strcmp(argv[1], "-o") == 0) {
		out = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: timeit [-o FILE] PROGRAM [ARGS...]\n");
		return 2;
	}
	double t0 = bench_now();
	pid_t pid = fork();
	if (pid == -1) {
		perror("timeit: fork");
		return 1;
	}
	if (pid == 0) {
		if (out != NULL) {
			int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd == -1 || dup2(fd, 1) == -1) {
				perror(out);
				_exit(126);
			}
		}
		execv(argv[1], argv + 1);
		perror(argv[1]);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) == -1)
		;
	double t = bench_now() - t0;
	fflush(stdout);
	fprintf(stderr, "wall_s %.4f status %d\n", t, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
