/* om-run - runs a program on an om node, or at home when it cannot.
 *
 * This file is the front end: arguments, the PATH search with a shell's
 * messages and statuses, the agent (submit, placement), running at home
 * with signals forwarded, and leaving the same exit status or signal as
 * the program. The migration path plugs in through job_ctx.h (run_remote).
 * Manual: docs/om-run.md.
 *
 * Exit status: the program's own; 127 not found, 126 not executable; 251
 * the node running it was lost; 1 om-run's own failure; 2 usage. */
#define _GNU_SOURCE
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl_client.h"
#include "capture.h"
#include "cpu_mask.h"
#include "job_ctx.h"
#include "job_msg.h"

#define OMRUN_EXIT_ERR 1
#define OMRUN_EXIT_USAGE 2
#define OMRUN_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

extern char **environ;

static volatile pid_t omrun_child = -1;

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: om-run [--node ID] [--home] [-v] [--control PATH] PROGRAM [ARGS...]\n"
	    "  --node ID        run on node ID only (see om-mon); otherwise the agent picks\n"
	    "  --home           run here, without asking the agent\n"
	    "  -v, --verbose    say where the program runs and why\n"
	    "  --control PATH   agent control socket (default $OM_CONTROL, else %s)\n"
	    "  -h, --help       show this help\n",
	    CTL_DEFAULT_PATH);
}

/* ---- finding the program, as a shell does (POSIX XCU 2.9.1.1) */

/* Returns 0 with the path in out, or the exit status after printing the
 * shell's message: 127 not found, 126 found but not executable. */
static int
omrun_resolve(const char *name, char *out, size_t len)
{
	const char *path, *p, *end;
	struct stat st;
	int denied = 0;
	size_t dl;

	if (strchr(name, '/') != NULL) {
		if (stat(name, &st) == -1) {
			fprintf(stderr, "om-run: %s: %s\n", name, strerror(errno));
			return errno == ENOENT || errno == ENOTDIR ? 127 : 126;
		}
		if (S_ISDIR(st.st_mode)) {
			fprintf(stderr, "om-run: %s: Is a directory\n", name);
			return 126;
		}
		if (access(name, X_OK) == -1) {
			fprintf(stderr, "om-run: %s: %s\n", name, strerror(errno));
			return 126;
		}
		snprintf(out, len, "%s", name);
		return 0;
	}
	if (name[0] == '\0') {
		fprintf(stderr, "om-run: : command not found\n");
		return 127;
	}
	if ((path = getenv("PATH")) == NULL)
		path = OMRUN_DEFAULT_PATH;
	for (p = path; ; p = end + 1) {
		end = strchrnul(p, ':');
		dl = (size_t)(end - p);
		/* An empty entry is the current directory. */
		if (dl == 0)
			snprintf(out, len, "%s", name);
		else
			snprintf(out, len, "%.*s/%s", (int)dl, p, name);
		if (stat(out, &st) == 0 && !S_ISDIR(st.st_mode)) {
			if (access(out, X_OK) == 0)
				return 0;
			denied = 1;
		}
		if (*end == '\0')
			break;
	}
	if (denied) {
		fprintf(stderr, "om-run: %s: Permission denied\n", name);
		return 126;
	}
	fprintf(stderr, "om-run: %s: command not found\n", name);
	return 127;
}

#define TUNABLE_MSG_MAX 2048

/* The child: GLIBC_TUNABLES for the program, from the release pipe. The
 * parent wrote the tunable after the 'e' and closed its end. */
static void
omrun_add_tunable(struct job_ctx *jc, int fd)
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

/* ---- the child, forked early and released to exec */

struct child_pipes {
	int release_r, release_w;  /* one byte: go */
	int err_r, err_w;          /* close-on-exec: errno of a failed exec */
};

static struct child_pipes omrun_pipes;

static int
omrun_fork(struct job_ctx *jc)
{
	struct child_pipes *cp = &omrun_pipes;
	int rel[2], er[2], e;
	pid_t pid;
	char b;

	if (pipe2(rel, O_CLOEXEC) == -1 || pipe2(er, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		close(rel[1]);
		close(er[0]);
		/* A parent that died before releasing us: no program. */
		if (read(rel[0], &b, 1) != 1)
			_exit(127);
		if (b == 'e')
			omrun_add_tunable(jc, rel[0]);
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
	close(rel[0]);
	close(er[1]);
	cp->release_w = rel[1];
	cp->err_r = er[0];
	jc->child = pid;
	omrun_child = pid;
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
	struct child_pipes *cp = &omrun_pipes;
	char msg[TUNABLE_MSG_MAX];
	size_t len = 1;
	ssize_t n;
	int e = 0;

	msg[0] = 'x';
	if (tunable != NULL && strlen(tunable) + 1 < sizeof msg) {
		msg[0] = 'e';
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
	if (e != 0) {
		while (waitpid(jc->child, NULL, 0) == -1 && errno == EINTR)
			;
		omrun_child = -1;
		return -e;
	}
	return 0;
}

/* ---- signals while the program runs at home */

/* Signals sent to om-run by another process (kill) are passed on to the
 * program. The terminal's own (Ctrl-C: SI_KERNEL) already went to the
 * whole foreground process group, the program included: not again. */
static void
omrun_forward(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;

	(void)uc;
	if (omrun_child > 0 && si->si_code != SI_KERNEL && si->si_pid != omrun_child)
		kill(omrun_child, sig);
	errno = saved;
}

static void
omrun_catch_signals(void)
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
	sa.sa_sigaction = omrun_forward;
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
		sa.sa_sigaction = omrun_forward;
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
omrun_next_status(pid_t pid, int *status)
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
			if (!omrun_next_status(pid, status)) {
				kill(pid, SIGCONT);
				break;
			}
		}
		if (!WIFSTOPPED(*status) && !WIFCONTINUED(*status))
			return 0;
	}
}

/* Leaves om-run the way the program left: the same exit status, or the
 * same signal (disposition reset, unblocked, raised). om-run writes no core
 * of its own: it would be mistaken for the program's. */
static void __attribute__((noreturn))
omrun_exit_like(int status)
{
	struct rlimit nocore = { 0, 0 };
	sigset_t set;
	int sig;

	if (WIFEXITED(status))
		exit(WEXITSTATUS(status));
	if (!WIFSIGNALED(status))
		exit(OMRUN_EXIT_ERR);
	sig = WTERMSIG(status);
	fflush(NULL);
	(void)setrlimit(RLIMIT_CORE, &nocore);
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	exit(128 + sig); /* a signal whose default is not to terminate */
}

/* Releases the child to exec here and waits for it; returns its status,
 * or the shell's status for an exec failure (as an exit status). */
static int
omrun_run_home(struct job_ctx *jc)
{
	int rc, status;

	if ((rc = job_release(jc)) != 0) {
		fprintf(stderr, "om-run: %s: %s\n", jc->argv[0], strerror(-rc));
		return (rc == -ENOENT ? 127 : 126) << 8;
	}
	if (job_wait_home(jc->child, &status) == -1) {
		fprintf(stderr, "om-run: waitpid: %s\n", strerror(errno));
		return OMRUN_EXIT_ERR << 8;
	}
	omrun_child = -1;
	return status;
}

/* ---- the agent */


/* "prog arg1 arg2" for om-mon: printable ASCII, cut at OM_CMD_MAX. */
static void
omrun_cmdline(char *const *argv, char *out, size_t len)
{
	size_t k = 0;
	int i;
	const char *s;

	for (i = 0; argv[i] != NULL && k + 1 < len; i++) {
		if (i > 0)
			out[k++] = ' ';
		for (s = argv[i]; *s != '\0' && k + 1 < len; s++)
			out[k++] = *s >= 0x20 && *s <= 0x7e ? *s : '?';
	}
	out[k] = '\0';
}

/* Submits the job. Returns 0 with jc->placed filled (node 0: not placed,
 * reason given), or -1 with a reason in why (no agent, ...). */
static int
omrun_submit(struct job_ctx *jc, uint32_t node, char *why, size_t whylen)
{
	struct om_job_submit s;
	uint8_t buf[OM_JOB_SUBMIT_MAX], *reply;
	char err[256];
	size_t len;
	int n, rc;

	if ((jc->ctl_fd = ctl_connect(jc->control)) == -1) {
		snprintf(why, whylen, "no agent at %s (%s)", jc->control, strerror(errno));
		return -1;
	}
	memset(&s, 0, sizeof s);
	s.pid = (uint32_t)jc->child;
	omrun_cmdline(jc->argv, s.cmd, sizeof s.cmd);
	/* The baseline: a static program chooses its code on the node, a dynamic
	 * one is told to leave out what the node lacks (cpu_mask.h). */
	capture_cpu(&s.cpu);
	cpu_mask_baseline(&s.cpu);
	s.node = node;
	if ((n = om_job_submit_encode(&s, buf, sizeof buf)) < 0) {
		snprintf(why, whylen, "cannot encode the job: %s", om_strerror(n));
		return -1;
	}
	if (ctl_call(jc->ctl_fd, OM_T_CTL_JOB_SUBMIT, buf, (size_t)n, OM_T_CTL_JOB_PLACED,
	    &reply, &len, err, sizeof err) == -1) {
		snprintf(why, whylen, "%s: %s", jc->control, err);
		return -1;
	}
	rc = om_job_placed_decode(reply, len, &jc->placed);
	free(reply);
	if (rc != OM_OK) {
		snprintf(why, whylen, "%s: malformed reply: %s", jc->control, om_strerror(rc));
		return -1;
	}
	return 0;
}

static uint32_t
omrun_parse_node(const char *s)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v == 0 || v > UINT32_MAX) {
		fprintf(stderr, "om-run: --node: invalid node id '%s'\n", s);
		usage(stderr);
		exit(OMRUN_EXIT_USAGE);
	}
	return (uint32_t)v;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "node", required_argument, NULL, 'n' },
		{ "home", no_argument, NULL, 'H' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "control", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct job_ctx jc;
	char path[PATH_MAX], why[320];
	const char *control = NULL;
	uint32_t node = 0;
	int ch, home = 0, rc, status;

	memset(&jc, 0, sizeof jc);
	jc.ctl_fd = -1;
	opterr = 0;
	/* '+': options end at PROGRAM; its own options are its business. */
	while ((ch = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (ch) {
		case 'n': node = omrun_parse_node(optarg); break;
		case 'H': home = 1; break;
		case 'v': jc.verbose = 1; break;
		case 'c': control = optarg; break;
		case 'h': usage(stdout); return 0;
		default:
			fprintf(stderr, "om-run: unknown option or missing value: '%s'\n", argv[optind - 1]);
			usage(stderr);
			return OMRUN_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "om-run: no program given\n");
		usage(stderr);
		return OMRUN_EXIT_USAGE;
	}
	if (home && node != 0) {
		fprintf(stderr, "om-run: --home and --node cannot be combined\n");
		usage(stderr);
		return OMRUN_EXIT_USAGE;
	}
	if ((rc = omrun_resolve(argv[optind], path, sizeof path)) != 0)
		return rc;
	jc.path = path;
	jc.argv = argv + optind;
	jc.envp = environ;
	jc.control = ctl_path(control);
	if (omrun_fork(&jc) == -1) {
		fprintf(stderr, "om-run: fork: %s\n", strerror(errno));
		return OMRUN_EXIT_ERR;
	}
	/* From here on the program has its own dispositions (set at fork);
	 * om-run's own changes do not reach it. */
	omrun_catch_signals();
	signal(SIGPIPE, SIG_IGN);

	if (home) {
		if (jc.verbose)
			fprintf(stderr, "om-run: running at home: --home\n");
		omrun_exit_like(omrun_run_home(&jc));
	}
	if (omrun_submit(&jc, node, why, sizeof why) == -1) {
		if (jc.verbose)
			fprintf(stderr, "om-run: running at home: %s\n", why);
	} else if (jc.placed.node == 0) {
		if (jc.verbose)
			fprintf(stderr, "om-run: running at home: %s\n", jc.placed.reason);
	} else {
		if (jc.verbose)
			fprintf(stderr, "om-run: job %u placed on node %u (%s)\n", jc.placed.job,
			    jc.placed.node, jc.placed.addr);
		status = run_remote != NULL ? run_remote(&jc) : RUN_REMOTE_UNAVAILABLE;
		if (status != RUN_REMOTE_UNAVAILABLE)
			omrun_exit_like(status);
		if (jc.verbose)
			fprintf(stderr, "om-run: running at home: migration to node %u is not "
			    "available in this build\n", jc.placed.node);
	}
	/* At home: the agent forgets the job (a placed one gets JOB_KILL). */
	if (jc.ctl_fd != -1) {
		close(jc.ctl_fd);
		jc.ctl_fd = -1;
	}
	omrun_exit_like(omrun_run_home(&jc));
}
