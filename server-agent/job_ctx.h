/* job_ctx.h - the seam between om-run's front end (om-run.c: arguments,
 * PATH search, the agent, running at home) and the migration path
 * (run_remote.c: capture, deputy, restore).
 *
 * Sequence in om-run (docs/om-run.md):
 *   1. resolve PROGRAM like a shell; fork a child that waits, before exec,
 *      until released (so the job has its pid from the start);
 *   2. CTL_JOB_SUBMIT {pid = the child} on ctl_fd; CTL_JOB_PLACED arrives;
 *   3. placed on a node and run_remote linked in: status = run_remote(jc);
 *   4. otherwise, or when run_remote returns RUN_REMOTE_UNAVAILABLE: the
 *      child is released to exec natively and om-run waits for it.
 * Whatever the path, om-run then exits the way the program did. */
#ifndef OM_JOB_CTX_H
#define OM_JOB_CTX_H

#include <sys/types.h>

#include "job_msg.h"

struct job_ctx {
	const char *path;          /* the program as resolved (PATH search done) */
	char *const *argv;         /* its argv, argv[0] as the user typed it */
	char *const *envp;         /* its environment */
	pid_t child;               /* forked, blocked before execve until released */
	int ctl_fd;                /* control connection to om-agent; the job lives
				    * as long as it stays open (closing it makes the
				    * agent send JOB_KILL to the node) */
	struct om_job_placed placed; /* job id, node id, node cpu and address */
	int verbose;               /* -v: say what happens on stderr */
	const char *control;       /* the control socket path, for messages */
};

/* Lets jc->child call execve(jc->path, jc->argv, jc->envp). Before this,
 * a tracer may PTRACE_SEIZE the child (PTRACE_O_TRACEEXEC | EXITKILL) and
 * then see the exec as a PTRACE_EVENT_EXEC stop. Returns 0, or -errno of
 * the exec itself (reported through a close-on-exec pipe; the child is
 * then reaped and gone). Call once. */
int job_release(struct job_ctx *jc);
/* The same, with one more environment entry for the program: a glibc
 * tunable ("glibc.cpu.hwcaps=..."), merged into GLIBC_TUNABLES. NULL: none. */
int job_release_env(struct job_ctx *jc, const char *tunable);

/* Job control. The user's shell watches om-run, not the program, so om-run
 * stops when the program stops and not otherwise: it takes SIGTSTP, SIGTTIN
 * and SIGTTOU (job_catch_stops(1)) and passes them on like any other signal,
 * then stops itself with the signal that stopped the program, at home or on
 * a node (job_stop_like, which returns once om-run is continued).
 * Implemented in om-run.c. */
void job_catch_stops(int on);
void job_stop_like(int sig);
/* Waits for the program running at home (a child of om-run), stopping with
 * it. Returns 0 with its wait status, or -1 (errno). */
int job_wait_home(pid_t pid, int *status);

#define RUN_REMOTE_UNAVAILABLE (-1) /* nothing done: run the child at home */

/* Runs the job on jc->placed.node as its deputy until it ends (coming
 * home on the way if it must). Returns the program's wait status (as
 * waitpid(2) reports it; om-run exits the same way), 251 << 8 after
 * NODE_LOST (om-run prints the message), or RUN_REMOTE_UNAVAILABLE before
 * touching the child. Implemented in run_remote.c; while that file is not
 * linked in, om-run behaves as if it returned RUN_REMOTE_UNAVAILABLE. */
int run_remote(struct job_ctx *jc) __attribute__((weak));

#endif
