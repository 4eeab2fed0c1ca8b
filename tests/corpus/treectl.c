/* treectl PROGRAM [ARGS]: a parent that controls a child the way a shell
 * does. It forks; the child execs PROGRAM (which prints a line first, as
 * spin does); the parent, once that line came through a pipe, stops the
 * child, continues it and terminates it, and prints what its own wait4
 * says each time. Wherever the two run, the lines must be these:
 *   child says: spinning
 *   stopped by signal 19
 *   continued
 *   killed by signal 15 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int p[2], st;
	char line[64] = "";
	if (argc < 2 || pipe(p) != 0)
		return 2;
	pid_t c = fork();
	if (c == 0) {
		dup2(p[1], 1);
		close(p[0]);
		execv(argv[1], argv + 1);
		_exit(127);
	}
	close(p[1]);
	ssize_t n = read(p[0], line, sizeof line - 1);
	line[n > 0 ? n : 0] = '\0';
	printf("child says: %s", line);
	kill(c, SIGSTOP);
	if (waitpid(c, &st, WUNTRACED) == c && WIFSTOPPED(st))
		printf("stopped by signal %d\n", WSTOPSIG(st));
	kill(c, SIGCONT);
	if (waitpid(c, &st, WCONTINUED) == c && WIFCONTINUED(st))
		printf("continued\n");
	kill(c, SIGTERM);
	if (waitpid(c, &st, 0) == c && WIFSIGNALED(st))
		printf("killed by signal %d\n", WTERMSIG(st));
	return 0;
}
