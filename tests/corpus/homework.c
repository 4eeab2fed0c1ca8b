/* homework burn MILLIONS | homework read: forks a child that exits at
 * once and waits for it, with a clone the node leaves to home
 * (CLONE_PTRACE, a plain fork for a program nobody traces; so under
 * om-run it comes home, for that clone),
 * then works at home: "burn" computes as burn does and prints "HASH"
 * (a CPU-bound process at home, which om-run sends out again); "read"
 * echoes each stdin line as "N: line" until EOF (a process blocked in a
 * read at home, which om-migrate can send out). */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	pid_t c = (pid_t)syscall(SYS_clone, CLONE_PTRACE | SIGCHLD, 0, 0, 0, 0);
	if (c == 0)
		_exit(0);
	int st;
	if (c < 0 || waitpid(c, &st, 0) != c || !WIFEXITED(st))
		return 3;
	printf("ready\n");
	fflush(stdout);
	if (strcmp(argv[1], "burn") == 0) {
		long rounds = (argc > 2 ? atol(argv[2]) : 1000) * 1000000L;
		uint64_t x = 0x9e3779b97f4a7c15ULL;
		for (long i = 0; i < rounds; i++) {
			x ^= x >> 31;
			x *= 0xbf58476d1ce4e5b9ULL;
			x += (uint64_t)i;
		}
		printf("%016llx\n", (unsigned long long)x);
		return 0;
	}
	char line[256];
	for (int n = 1; fgets(line, sizeof line, stdin); n++) {
		printf("%d: %s", n, line);
		fflush(stdout);
	}
	return 0;
}
