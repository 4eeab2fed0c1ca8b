/* job.c - the program's process at home, as om-run's deputy keeps it
 * (deputy.h): forked early and held before exec until released, sent the
 * signals om-run receives, and mirrored by om-run when it stops, so the
 * user's shell, which watches om-run, sees the program's own job control.
 * Used at home and on a node alike. */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "confine.h"
#include "confine_guard.h"
#include "deputy.h"

/* The program, while om-run may forward signals to it; -1 once it ended. */
static volatile pid_t job_child = -1;

/* ---- the child, forked early and released to exec */

#define TUNABLE_MSG_MAX 2048
/* The release message: one byte of these, then the tunable if JOB_GO_TUNABLE. */
#define JOB_GO_TUNABLE 1
#define JOB_GO_CONFINE 2

/* The child: GLIBC_TUNABLES for the program, from the release pipe. The
 * parent wrote the tunable after the first byte and closed its end. */
static void
job_add_tunable(struct job_ctx *jc, int fd)
{
	static char tun[TUNABLE_MSG_MAX], entry[TUNABLE_MSG_MAX * 2 + 32];
	size_t len = 0, n, k = 0;
	ssize_t got;
	char **env;

	while (len + 1 < sizeof tun && (got = read(fd, tun + len, sizeof tun - 1 - len)) > 0)
		len += (size_t)got;
	tun[len] = '\0';
	if (len == 0)
		return;
	for (n = 0; jc->envp[n] != NULL; n++)
		;
	if ((env = calloc(n + 2, sizeof *env)) == NULL)
		return;
	snprintf(entry, sizeof entry, "GLIBC_TUNABLES=%s", tun);
	int merged = 0;
	for (size_t i = 0; i < n; i++) {
		if (!merged && strncmp(jc->envp[i], "GLIBC_TUNABLES=", 15) == 0) {
			/* The user's own tunables stay, in their place; ours join
			 * them (run_remote cuts the string back at the entry). */
			snprintf(entry, sizeof entry, "%s:%s", jc->envp[i], tun);
			env[k++] = entry;
			merged = 1;
			continue;
		}
		env[k++] = jc->envp[i];
	}
	if (!merged)
		env[k++] = entry;
	env[k] = NULL;
	jc->envp = env;
}

struct child_pipes {
	int release_r, release_w;  /* one byte: go */
	int err_r, err_w;          /* close-on-exec: errno of a failed exec */
	int guard_r;               /* the confined child's seccomp listener comes here */
};

static struct child_pipes job_pipes;

int
job_fork(struct job_ctx *jc)
{
	struct child_pipes *cp = &job_pipes;
	int rel[2], er[2], gd[2], e;
	pid_t pid;
	char b;

	if (pipe2(rel, O_CLOEXEC) == -1 || pipe2(er, O_CLOEXEC) == -1)
		return -1;
	/* A confined child hands its guard's listener over (confine_guard.h). */
	gd[0] = gd[1] = -1;
	if (jc->confine >= 0 && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, gd) == -1)
		return -1;
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		close(rel[1]);
		close(er[0]);
		if (gd[0] >= 0)
			close(gd[0]);
		/* A parent that died before releasing us: no program. */
		if (read(rel[0], &b, 1) != 1)
			_exit(127);
		if (b & JOB_GO_TUNABLE)
			job_add_tunable(jc, rel[0]);
		/* Last, so that everything the program does is confined, and
		 * nothing om-run still does here is. */
		if ((b & JOB_GO_CONFINE) && ((e = confine_apply(jc->confine)) != 0 ||
		    (e = confine_guard_install(gd[1])) != 0)) {
			fprintf(stderr, "om-run: %s: cannot confine it: %s\n", jc->argv[0], strerror(-e));
			e = -e; /* as a failed exec: nothing ran */
			(void)!write(er[1], &e, sizeof e);
			_exit(126);
		}
		execve(jc->path, jc->argv, jc->envp);
		if (errno == ENOEXEC) {
			/* As execvp and the shells do: a file without a magic
			 * number is a shell script. */
			int n;
			char **av;

			for (n = 0; jc->argv[n] != NULL; n++)
				;
			if ((av = calloc((size_t)n + 2, sizeof *av)) != NULL) {
				av[0] = "sh";
				av[1] = (char *)jc->path;
				memcpy(av + 2, jc->argv + 1, (size_t)n * sizeof *av);
				execve("/bin/sh", av, jc->envp);
			}
			errno = ENOEXEC;
		}
		e = errno;
		(void)!write(er[1], &e, sizeof e);
		_exit(127);
	}
	/* The program keeps the SIGCHLD disposition it inherited; om-run
	 * itself must see its child stop and end (an ignored SIGCHLD would
	 * hide both). */
	signal(SIGCHLD, SIG_DFL);
	close(rel[0]);
	close(er[1]);
	if (gd[1] >= 0)
		close(gd[1]);
	cp->guard_r = gd[0];
	cp->release_w = rel[1];
	cp->err_r = er[0];
	jc->child = pid;
	job_child = pid;
	return 0;
}

int
job_release(struct job_ctx *jc)
{
	return job_release_env(jc, NULL);
}

int
job_release_env(struct job_ctx *jc, const char *tunable)
{
	struct child_pipes *cp = &job_pipes;
	char msg[TUNABLE_MSG_MAX];
	size_t len = 1;
	ssize_t n;
	int e = 0;

	msg[0] = jc->confine >= 0 ? JOB_GO_CONFINE : 0;
	if (tunable != NULL && strlen(tunable) + 1 < sizeof msg) {
		msg[0] |= JOB_GO_TUNABLE;
		memcpy(msg + 1, tunable, strlen(tunable));
		len += strlen(tunable);
	}
	/* A failed write means the child is already gone (a signal): there
	 * is no exec to report, and waitpid tells how it ended. */
	if (write(cp->release_w, msg, len) == (ssize_t)len && (close(cp->release_w), cp->release_w = -1, 1)) {
		do
			n = read(cp->err_r, &e, sizeof e);
		while (n == -1 && errno == EINTR);
		if (n != (ssize_t)sizeof e)
			e = 0; /* EOF: the exec succeeded */
	}
	if (cp->release_w != -1)
		close(cp->release_w);
	close(cp->err_r);
	/* Its guard: until it starts, a call it decides waits for it. No
	 * confined program, no listener. */
	if (cp->guard_r >= 0 && (e != 0 || !(msg[0] & JOB_GO_CONFINE))) {
		close(cp->guard_r);
	} else if (cp->guard_r >= 0 && (e = -confine_guard_start(cp->guard_r, jc->child)) != 0) {
		fprintf(stderr, "om-run: %s: cannot start the guard of its confinement: %s\n", jc->argv[0],
			strerror(e));
		kill(jc->child, SIGKILL);
	}
	cp->guard_r = -1;
	if (jc->confine >= 0) { /* the child's copy is the one that counts */
		close(jc->confine);
		jc->confine = -1;
	}
	if (e != 0) {
		while (waitpid(jc->child, NULL, 0) == -1 && errno == EINTR)
			;
		job_child = -1;
		return -e;
	}
	return 0;
}

/* ---- signals and stops */

/* Signals sent to om-run by another process (kill) are passed on to the
 * program. The terminal's own (Ctrl-C: SI_KERNEL) already went to the
 * whole foreground process group, the program included: not again. */
static void
job_forward(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;

	(void)uc;
	if (job_child > 0 && si->si_code != SI_KERNEL && si->si_pid != job_child)
		kill(job_child, sig);
	errno = saved;
}

void
job_forget_child(void)
{
	job_child = -1;
}

void
job_catch_signals(void)
{
	/* Every signal that would end om-run and that another process may send
	 * it: a program that signals its own process group (kill(0, ...))
	 * reaches om-run too, which must live on as its deputy. Faults
	 * (SEGV, BUS, ...) and job control keep their defaults. */
	static const int sigs[] = { SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2,
		SIGALRM, SIGVTALRM, SIGPROF, SIGIO, SIGPWR };
	struct sigaction sa;
	size_t i;
	int rt;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = job_forward;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);
	for (rt = SIGRTMIN; rt <= SIGRTMAX; rt++)
		sigaction(rt, &sa, NULL);
}

void
job_catch_stops(int on)
{
	static const int stops[] = { SIGTSTP, SIGTTIN, SIGTTOU };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof sa);
	/* No SA_RESTART: a write of om-run's own that the terminal refuses
	 * (background, `stty tostop`) fails instead of raising SIGTTOU forever. */
	sa.sa_flags = SA_SIGINFO;
	if (on)
		sa.sa_sigaction = job_forward;
	else
		sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof stops / sizeof stops[0]; i++)
		sigaction(stops[i], &sa, NULL);
}

void
job_stop_like(int sig)
{
	sigset_t set;

	if (sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU)
		sig = SIGSTOP;
	job_catch_stops(0);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig); /* returns once continued (at once in an orphaned group) */
	job_catch_stops(1);
}

/* After om-run was continued: waits up to 100 ms for the next status of
 * the program (continued too, stopped again, or ended). 1 with it in
 * *status, 0 if none came. */
static int
job_next_status(pid_t pid, int *status)
{
	struct timespec nap = { 0, 1000000 };
	pid_t got;
	int i;

	for (i = 0; i < 100; i++) {
		if ((got = waitpid(pid, status, WUNTRACED | WCONTINUED | WNOHANG)) > 0)
			return 1;
		if (got == -1 && errno != EINTR)
			return 0;
		nanosleep(&nap, NULL);
	}
	return 0;
}

int
job_wait_home(pid_t pid, int *status)
{
	job_catch_stops(1);
	for (;;) {
		if (waitpid(pid, status, WUNTRACED) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (WIFSTOPPED(*status)) {
			job_stop_like(WSTOPSIG(*status));
			/* om-run goes on, so must the program: the SIGCONT the
			 * shell sent the group has reached it already, unless
			 * om-run alone was continued. */
			if (!job_next_status(pid, status)) {
				kill(pid, SIGCONT);
				break;
			}
		}
		if (!WIFSTOPPED(*status) && !WIFCONTINUED(*status))
			break;
	}
	if (pid == job_child)
		job_child = -1; /* reaped: its pid may be another's now */
	return 0;
}

void
job_submit_fill(uint32_t pid, const char *cmd, const struct om_cpu *need, uint32_t node,
    struct om_job_submit *s)
{
	size_t k = 0;

	memset(s, 0, sizeof *s);
	s->pid = pid;
	for (; cmd[k] != '\0' && k + 1 < sizeof s->cmd; k++)
		s->cmd[k] = cmd[k] >= 0x20 && cmd[k] <= 0x7e ? cmd[k] : '?';
	s->cmd[k] = '\0';
	s->cpu = *need;
	s->node = node;
}
