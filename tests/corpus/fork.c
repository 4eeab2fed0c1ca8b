/* fork: parent and child both print; the parent waits and prints the
 * child's status. Under om-run the job comes home at fork(). */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	pid_t me = getpid();
	printf("before fork\n");
	fflush(stdout);
	pid_t c = fork();
	if (c < 0) {
		perror("fork");
		return 1;
	}
	if (c == 0) {
		printf("child: my parent is the forker %d\n", getppid() == me);
		return 3;
	}
	int st;
	if (waitpid(c, &st, 0) != c) {
		perror("waitpid");
		return 1;
	}
	printf("parent: child exited %d status %d\n", WIFEXITED(st), WEXITSTATUS(st));
	return 0;
}
