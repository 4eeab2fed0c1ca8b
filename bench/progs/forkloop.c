/* forkloop.c - the cost of a fork, for bench/bench.py's forks section:
 * with MIB MiB of dirty memory, N times fork a child that exits at once
 * and wait for it; then N times vfork a child that execs EXE (a program
 * that exits at once) and wait for it. Prints the mean of each, in ms,
 * from the program's own clock (on a node: the node's).
 *
 *   forkloop MIB N EXE */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int reap(pid_t c)
{
	int st;
	return c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	size_t bytes = (argc > 1 ? (size_t)atol(argv[1]) : 1) << 20;
	int n = argc > 2 ? atoi(argv[2]) : 10;
	const char *exe = argc > 3 ? argv[3] : "/bin/true";
	uint8_t *mem = malloc(bytes);
	if (mem == NULL || n <= 0)
		return 2;
	for (size_t i = 0; i < bytes; i++)
		mem[i] = (uint8_t)i;
	double t = now();
	for (int i = 0; i < n; i++) {
		pid_t c = fork();
		if (c == 0)
			_exit(mem[bytes / 2] == (uint8_t)(bytes / 2) ? 0 : 1);
		if (reap(c) != 0)
			return 1;
	}
	double fork_ms = (now() - t) * 1000 / n;
	t = now();
	for (int i = 0; i < n; i++) {
		pid_t c = vfork();
		if (c == 0) {
			execl(exe, exe, (char *)NULL);
			_exit(127);
		}
		if (reap(c) != 0)
			return 1;
	}
	printf("fork_ms %.3f\nvfork_exec_ms %.3f\n", fork_ms, (now() - t) * 1000 / n);
	return 0;
}
