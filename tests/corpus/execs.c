/* execs: execve as programs make it, and what Linux keeps across it. The
 * children exec this program again as "report", which says what it got:
 * its arguments and environment, the blocked mask and ignored signals
 * (they outlive exec, a handler does not), a signal left pending (it stays
 * pending), an alarm (it runs on). An execve that fails returns its error
 * and the caller goes on. Under om-run on a node the children's execs run
 * at home as calls, but for those with a signal pending or an alarm armed,
 * which come home with their image for it. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int has(const sigset_t *s, int sig)
{
	return sigismember(s, sig) == 1;
}

static int report(int argc, char **argv)
{
	sigset_t blocked, pending;
	struct sigaction intr, term;
	sigprocmask(SIG_BLOCK, NULL, &blocked);
	sigpending(&pending);
	sigaction(SIGINT, NULL, &intr);
	sigaction(SIGTERM, NULL, &term);
	unsigned left = alarm(0);
	printf("report: argc %d:", argc);
	for (int i = 2; i < argc; i++)
		printf(" [%s]", argv[i]);
	const char *env = getenv("EXECS");
	printf("; EXECS=%s\n", env ? env : "(unset)");
	printf("report: USR1 blocked %d, USR2 blocked %d pending %d, INT ignored %d, TERM default %d, alarm %s\n",
	       has(&blocked, SIGUSR1), has(&blocked, SIGUSR2), has(&pending, SIGUSR2), intr.sa_handler == SIG_IGN,
	       term.sa_handler == SIG_DFL, left > 0 ? "armed" : "none");
	return 0;
}

static void on_term(int sig)
{
	(void)sig;
}

static void block(int sig)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	sigprocmask(SIG_BLOCK, &s, NULL);
}

/* A child that sets its state up (how), then execs report. */
static void child(const char *self, const char *what, void (*how)(void))
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		char *argv[] = { (char *)self, "report", (char *)what, "two words", "", NULL };
		char *envp[] = { "EXECS=yes", "OTHER=1", NULL };
		how();
		execve(self, argv, envp);
		perror("execve");
		_exit(127);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid) {
		perror("waitpid");
		exit(1);
	}
	printf("%s: status %d\n", what, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

static void plain(void)
{
}

static void masked(void)
{
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, on_term);
	block(SIGUSR1);
}

static void pending(void)
{
	block(SIGUSR2);
	raise(SIGUSR2);
}

static void alarmed(void)
{
	alarm(100);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "report") == 0)
		return report(argc, argv);
	char *none[] = { "nothing", NULL };
	errno = 0;
	execve("/nonexistent/program", none, none);
	printf("execve of nothing: %s\n", strerror(errno));
	child(argv[0], "plain", plain);
	child(argv[0], "masked", masked);
	child(argv[0], "pending", pending);
	child(argv[0], "alarmed", alarmed);
	return 0;
}
