/* om-run - runs a program on an om node, or at home when it cannot.
 *
 * This file is the front end: arguments, the PATH search with a shell's
 * messages and statuses, the agent (submit, placement), running at home
 * with signals forwarded, and leaving the same exit status or signal as
 * the program. The program's process at home and the migration path are
 * the deputy's (deputy.h: job_fork, run_remote); --confine's ruleset is
 * confine.h's.
 * Manual: docs/man/om-run.1.
 *
 * Exit status: the program's own; 127 not found, 126 not executable; 251
 * the node running it was lost; 1 om-run's own failure (a job to be
 * confined that cannot be, a checkpoint that cannot be restarted); 2
 * usage. */
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
#include <unistd.h>

#include "ctl_client.h"
#include "capture.h"
#include "checkpoint.h"
#include "confine.h"
#include "cpu_mask.h"
#include "ckpt_resume.h"
#include "deputy.h"
#include "stats.h"
#include "job_msg.h"

#define OMRUN_EXIT_ERR 1
#define OMRUN_EXIT_USAGE 2
#define OMRUN_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"
#define OMRUN_CORES_MAX 4096 /* om_cpu.cores is 16 bits; no node has more */

extern char **environ;

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: om-run [--node ID] [--cores N] [--home] [--confine | --no-confine] [--allow PATH]\n"
	    "              [--allow-read PATH] [--allow-tcp] [--stats FILE]\n"
	    "              [--checkpoint-every SECONDS [--checkpoint-file FILE]] [-v] [--control PATH]\n"
	    "              PROGRAM [ARGS...]\n"
	    "       om-run [options] --restart FILE\n"
	    "  --node ID        run on node ID only (see om-mon); otherwise the agent picks\n"
	    "  --cores N        the program needs N cores of one node (default 1)\n"
	    "  --home           run here, without asking the agent\n"
	    "  --confine        confine the program at home with Landlock to the working\n"
	    "                   directory and the paths allowed (default: the agent's choice)\n"
	    "  --no-confine     do not confine it, whatever the agent's choice\n"
	    "  --allow PATH     a confined program may read and change PATH too (repeatable)\n"
	    "  --allow-read PATH  a confined program may read and run PATH (repeatable)\n"
	    "  --allow-tcp      a confined program may make and accept TCP connections\n"
	    "  --stats FILE     write where each process ran, as JSON, when all have ended\n"
	    "  --checkpoint-every SECONDS  while the program runs on a node, keep an image of it\n"
	    "                   at home, taken this often (0.1 to 86400)\n"
	    "  --checkpoint-file FILE  where (default ~/.cache/om/om-run.PID.ckpt)\n"
	    "  --restart FILE   continue the job saved in FILE (a checkpoint file), here or on a\n"
	    "                   node, with the same files; refused when one of them changed\n"
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

/* --stats: the collector (stats_open), which writes the file. */
static pid_t omrun_collector = -1;

/* Writes --stats (if asked) and leaves the way the program did. followed:
 * every process had a deputy, which wrote its story; otherwise the
 * program ran at home on its own, one process as far as om-run knows,
 * with the CPU time of all it waited for. The summary waits for every
 * deputy of the job, so for processes the program left running too. */
static const char *omrun_ckpt_default; /* the default checkpoint file: a cache, gone with the job */
static struct om_policy omrun_policy = { 0, 0, OM_CKPT_PCT_DEFAULT }; /* the agent's (omrun_ask_policy) */

static void __attribute__((noreturn))
omrun_finish(struct job_ctx *jc, int status, int followed)
{
	if (omrun_ckpt_default != NULL)
		unlink(omrun_ckpt_default);
	if (jc->stats_fd >= 0) {
		if (!followed) {
			struct proc_stats s;
			struct rusage ru;
			stats_begin(&s, jc->child);
			stats_command(&s, jc->argv[0]);
			if (getrusage(RUSAGE_CHILDREN, &ru) == 0)
				s.home_cpu_ms = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
				    (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
			stats_send(&s, jc->stats_fd);
		}
		(void)stats_close(jc->stats_fd, omrun_collector); /* it says what failed */
		jc->stats_fd = -1;
	}
	omrun_exit_like(status);
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
	return status;
}

/* ---- confinement (confine.h) */

static struct confine_path omrun_allow[CONFINE_ALLOW_MAX];
static size_t omrun_nallow;

static void
omrun_add_allow(const char *opt, const char *path, int write)
{
	if (omrun_nallow == CONFINE_ALLOW_MAX) {
		fprintf(stderr, "om-run: %s: at most %d paths may be allowed\n", opt, CONFINE_ALLOW_MAX);
		usage(stderr);
		exit(OMRUN_EXIT_USAGE);
	}
	omrun_allow[omrun_nallow].path = path;
	omrun_allow[omrun_nallow++].write = write;
}

/* Whether the job is confined: as --confine or --no-confine say (want 1
 * or 0), else (-1) as the agent's policy says. Without an agent it is not:
 * no node can reach the program then. An agent that does not answer is
 * taken for none (closed: the program runs at home). *why: who decided. */
static int
omrun_confine_wanted(struct job_ctx *jc, int want, const char **why)
{
	*why = want == 1 ? "--confine" : "--no-confine";
	if (want != -1)
		return want;
	*why = "the agent's choice, confine = yes";
	return jc->ctl_fd != -1 && (omrun_policy.flags & OM_POLICY_CONFINE) != 0;
}

/* The agent's policy (agent.conf), asked once. An agent that does not
 * answer is taken for none (closed: the program runs at home). */
static void
omrun_ask_policy(struct job_ctx *jc)
{
	char err[256];

	if (jc->ctl_fd == -1 || ctl_get_policy(jc->ctl_fd, &omrun_policy, err, sizeof err) == 0)
		return;
	if (jc->verbose)
		fprintf(stderr, "om-run: running at home: the agent did not say its policy: %s\n", err);
	close(jc->ctl_fd);
	jc->ctl_fd = -1;
}

static int omrun_checkpoint_default(char *out, size_t len);
static int omrun_checkpoint_usable(const char *file);

/* agent.conf's checkpoint_every_ms for a job that did not say: its
 * checkpoints go to the default file, if one can be made (else none). */
static void
omrun_site_checkpoints(struct job_ctx *jc, char *file, size_t len)
{
	jc->checkpoint_max_pct = omrun_policy.ckpt_max_pct;
	if (jc->checkpoint_ms != 0 || omrun_policy.ckpt_every_ms == 0)
		return;
	if (omrun_checkpoint_default(file, len) != 0 || omrun_checkpoint_usable(file) != 0) {
		if (jc->verbose)
			fprintf(stderr, "om-run: no checkpoints as agent.conf asks: no place for the file (~/.cache/om): "
				"%s\n", strerror(errno));
		return;
	}
	jc->checkpoint_ms = omrun_policy.ckpt_every_ms;
	jc->checkpoint_path = omrun_ckpt_default = file;
}

/* Before the child is released: keeps its ruleset (jc->confine) if the job
 * is to be confined, else gives it up. Returns -1, having said why, if it
 * is to be confined and cannot be (cerr: confine_build's reason). */
static int
omrun_confine(struct job_ctx *jc, int want, int abi, const char *cerr)
{
	const char *why;

	if (!omrun_confine_wanted(jc, want, &why)) {
		if (jc->confine >= 0)
			close(jc->confine);
		jc->confine = -1;
		return 0;
	}
	if (jc->confine == -1) {
		fprintf(stderr, "om-run: %s cannot be confined (%s): %s; --no-confine runs it unconfined\n",
		    jc->argv[0], why, cerr);
		return -1;
	}
	if (jc->verbose)
		fprintf(stderr, "om-run: confined (%s; Landlock ABI %d)\n", why, abi);
	return 0;
}

/* ---- the agent */


/* A decimal number 1..max for option opt (what: its meaning), or a usage
 * error. */
/* --checkpoint-every: seconds (a decimal) to milliseconds. */
static uint32_t
omrun_parse_seconds(const char *opt, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || !(v >= 0.1 && v <= 86400)) {
		fprintf(stderr, "om-run: %s: invalid number of seconds '%s' (0.1 to 86400)\n", opt, s);
		usage(stderr);
		exit(OMRUN_EXIT_USAGE);
	}
	return (uint32_t)(v * 1000 + 0.5);
}

/* The default checkpoint file: $XDG_CACHE_HOME/om or ~/.cache/om (made,
 * mode 0700), om-run.PID.ckpt. 0, or -1 with errno. */
static int
omrun_checkpoint_default(char *out, size_t len)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char dir[PATH_MAX];
	int n;

	if (xdg != NULL && xdg[0] == '/')
		n = snprintf(dir, sizeof dir, "%s/om", xdg);
	else if (home != NULL && home[0] == '/')
		n = snprintf(dir, sizeof dir, "%s/.cache/om", home);
	else {
		errno = ENOENT;
		return -1;
	}
	if (n < 0 || (size_t)n >= sizeof dir) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (xdg == NULL || xdg[0] != '/') { /* ~/.cache first */
		char cache[PATH_MAX];
		snprintf(cache, sizeof cache, "%s/.cache", home);
		if (mkdir(cache, 0700) != 0 && errno != EEXIST)
			return -1;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -1;
	n = snprintf(out, len, "%s/om-run.%d.ckpt", dir, (int)getpid());
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* A checkpoint file's directory must take new files, before the program
 * runs (as --stats): 0, or -1 with errno. */
static int
omrun_checkpoint_usable(const char *path)
{
	char dir[PATH_MAX];

	if (strlen(path) + 8 > PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	ckpt_dir(path, dir, sizeof dir);
	return access(dir, W_OK | X_OK);
}

static uint32_t
omrun_parse_count(const char *opt, const char *what, const char *s, unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v == 0 || v > max) {
		fprintf(stderr, "om-run: %s: invalid %s '%s'\n", opt, what, s);
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
		{ "cores", required_argument, NULL, 'C' },
		{ "home", no_argument, NULL, 'H' },
		{ "confine", no_argument, NULL, 'L' },
		{ "no-confine", no_argument, NULL, 'U' },
		{ "allow", required_argument, NULL, 'a' },
		{ "allow-read", required_argument, NULL, 'r' },
		{ "allow-tcp", no_argument, NULL, 'T' },
		{ "stats", required_argument, NULL, 's' },
		{ "checkpoint-every", required_argument, NULL, 'E' },
		{ "checkpoint-file", required_argument, NULL, 'F' },
		{ "restart", required_argument, NULL, 'R' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "control", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct job_ctx jc;
	char path[PATH_MAX];
	const char *control = NULL, *stats = NULL, *ckpt_file = NULL, *restart = NULL;
	static struct ckpt_saved saved;
	static char *saved_argv[2];
	char ckpt_default[PATH_MAX];
	char cerr[512] = "";
	uint32_t node = 0, cores = 1;
	int ch, home = 0, rc, status;
	int confine = -1, allow_tcp = 0, abi = 0; /* confine: --confine 1, --no-confine 0 */

	memset(&jc, 0, sizeof jc);
	jc.ctl_fd = jc.stats_fd = jc.confine = -1;
	late_stderr_note(&jc.late_err);
	opterr = 0;
	/* '+': options end at PROGRAM; its own options are its business. */
	while ((ch = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (ch) {
		case 'n': node = omrun_parse_count("--node", "node id", optarg, UINT32_MAX); break;
		case 'C': cores = omrun_parse_count("--cores", "number of cores", optarg, OMRUN_CORES_MAX); break;
		case 'H': home = 1; break;
		case 'L': confine = 1; break;
		case 'U': confine = 0; break;
		case 'a': omrun_add_allow("--allow", optarg, 1); break;
		case 'r': omrun_add_allow("--allow-read", optarg, 0); break;
		case 'T': allow_tcp = 1; break;
		case 's': stats = optarg; break;
		case 'E': jc.checkpoint_ms = omrun_parse_seconds("--checkpoint-every", optarg); break;
		case 'F': ckpt_file = optarg; break;
		case 'R': restart = optarg; break;
		case 'v': jc.verbose = 1; break;
		case 'c': control = optarg; break;
		case 'h': usage(stdout); return 0;
		default:
			fprintf(stderr, "om-run: unknown option or missing value: '%s'\n", argv[optind - 1]);
			usage(stderr);
			return OMRUN_EXIT_USAGE;
		}
	}
	if (optind >= argc && !restart) {
		fprintf(stderr, "om-run: no program given\n");
		usage(stderr);
		return OMRUN_EXIT_USAGE;
	}
	if (optind < argc && restart) {
		fprintf(stderr, "om-run: --restart continues the program saved in its file: no PROGRAM with it\n");
		usage(stderr);
		return OMRUN_EXIT_USAGE;
	}
	if (home && (node != 0 || cores != 1)) {
		fprintf(stderr, "om-run: --home and %s cannot be combined\n", node != 0 ? "--node" : "--cores");
		usage(stderr);
		return OMRUN_EXIT_USAGE;
	}
	if (ckpt_file != NULL && jc.checkpoint_ms == 0) {
		fprintf(stderr, "om-run: --checkpoint-file needs --checkpoint-every\n");
		usage(stderr);
		return OMRUN_EXIT_USAGE;
	}
	if (restart) {
		char err[1024];
		if (ckpt_saved_read(restart, &saved, err, sizeof err) != 0 || ckpt_saved_files(&saved, err, sizeof err) != 0) {
			fprintf(stderr, "om-run: --restart %s: %s\n", restart, err);
			return OMRUN_EXIT_ERR;
		}
		snprintf(path, sizeof path, "%s", saved.home.exe);
		saved_argv[0] = path;
		jc.restart = &saved;
	} else if ((rc = omrun_resolve(argv[optind], path, sizeof path)) != 0) {
		return rc;
	}
	if (jc.checkpoint_ms != 0 && ckpt_file == NULL) {
		if (omrun_checkpoint_default(ckpt_default, sizeof ckpt_default) != 0) {
			fprintf(stderr, "om-run: --checkpoint-every: no place for the file (~/.cache/om): %s\n",
			    strerror(errno));
			return OMRUN_EXIT_ERR;
		}
		ckpt_file = omrun_ckpt_default = ckpt_default;
	}
	if (ckpt_file != NULL && omrun_checkpoint_usable(ckpt_file) != 0) {
		fprintf(stderr, "om-run: --checkpoint-file %s: %s\n", ckpt_file, strerror(errno));
		return OMRUN_EXIT_ERR;
	}
	jc.checkpoint_path = ckpt_file;
	jc.path = path;
	jc.argv = restart ? saved_argv : argv + optind;
	jc.envp = environ;
	jc.control = ctl_path(control);
	jc.connect = ctl_connect;
	jc.node = node;
	jc.cores = cores;
	/* The ruleset is made before the fork (the child inherits it), also
	 * while the agent has still to choose; a --confine that cannot be
	 * kept stops here. --home asks no agent: confined only if told. */
	if (home && confine == -1)
		confine = 0;
	if (confine != 0) {
		struct confine_spec cs = { omrun_allow, omrun_nallow, path, allow_tcp };

		if ((jc.confine = confine_build(&cs, &abi, cerr, sizeof cerr)) == -1 && confine == 1) {
			fprintf(stderr, "om-run: --confine: %s\n", cerr);
			return OMRUN_EXIT_ERR;
		}
	}
	/* Before the program exists: a file that cannot be written is an
	 * error at once, not after the job's work. */
	if (stats != NULL && (jc.stats_fd = stats_open(stats, &omrun_collector)) == -1) {
		fprintf(stderr, "om-run: --stats %s: %s\n", stats, strerror(errno));
		return OMRUN_EXIT_ERR;
	}
	if (job_fork(&jc) == -1) {
		fprintf(stderr, "om-run: fork: %s\n", strerror(errno));
		return OMRUN_EXIT_ERR;
	}
	/* From here on the program has its own dispositions (set at fork);
	 * om-run's own changes do not reach it. */
	job_catch_signals();
	signal(SIGPIPE, SIG_IGN);

	if (!home && (jc.ctl_fd = ctl_connect(jc.control)) == -1 && jc.verbose)
		fprintf(stderr, "om-run: running at home: no agent at %s (%s)\n", jc.control, strerror(errno));
	omrun_ask_policy(&jc);
	omrun_site_checkpoints(&jc, ckpt_default, sizeof ckpt_default);
	if (omrun_confine(&jc, confine, abi, cerr) == -1) {
		kill(jc.child, SIGKILL);
		while (waitpid(jc.child, NULL, 0) == -1 && errno == EINTR)
			;
		return OMRUN_EXIT_ERR;
	}
	if (home && !restart) {
		if (jc.verbose)
			fprintf(stderr, "om-run: running at home: --home\n");
		omrun_finish(&jc, omrun_run_home(&jc), 0);
	}
	if (jc.ctl_fd != -1 || restart) { /* a restart needs the deputy, here too */
		if ((status = deputy_run(&jc)) != RUN_REMOTE_UNAVAILABLE)
			omrun_finish(&jc, status, 1);
		if (restart) {
			fprintf(stderr, "om-run: --restart %s: the deputy cannot trace the program\n", restart);
			kill(jc.child, SIGKILL);
			omrun_finish(&jc, OMRUN_EXIT_ERR << 8, 0);
		}
		if (jc.verbose)
			fprintf(stderr, "om-run: running at home: the deputy cannot trace the program\n");
	}
	/* At home: the agent forgets the job (a placed one gets JOB_KILL). */
	if (jc.ctl_fd != -1) {
		close(jc.ctl_fd);
		jc.ctl_fd = -1;
	}
	omrun_finish(&jc, omrun_run_home(&jc), 0);
}
