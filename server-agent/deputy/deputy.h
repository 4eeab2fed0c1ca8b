/* deputy.h - the deputy: what stays at home of a program that runs on a
 * node, and the ptrace machinery that moves it. Its parts, each with its
 * own header: ptrace_start (run a traced program to its entry point),
 * inject (run system calls inside the stopped process through a scratch
 * mapping), capture (its image as frames), restore (an image back into
 * it), vdso (the vDSO's entry points as real system calls), deputy_call (a
 * forwarded call run inside it), cpu_mask (what the image may use of the
 * CPU); this header puts them together for om-run: the program's process
 * at home (job.c) and the remote run (run_remote.c). om-run and
 * om-checkpoint use the deputy; it uses migrate/ and nothing else of
 * server-agent/: no front end, no control client, no agent. It runs as
 * the user, never with the agent's rights.
 *
 * om-run's front end (tools/om-run.c: arguments, PATH search, the agent)
 * calls in one way; what the deputy needs of it travels in struct job_ctx.
 * Sequence in om-run (docs/man/om-run.1):
 *   1. resolve PROGRAM like a shell; job_fork a child that waits, before
 *      exec, until released (so the job has its pid from the start), and
 *      job_catch_signals;
 *   2. CTL_JOB_SUBMIT {pid = the child} on ctl_fd; CTL_JOB_PLACED arrives;
 *   3. placed on a node: status = run_remote(jc);
 *   4. otherwise, or when run_remote returns RUN_REMOTE_UNAVAILABLE: the
 *      child is released to exec natively (job_release) and om-run waits
 *      for it (job_wait_home).
 * Whatever the path, om-run then exits the way the program did. */
#ifndef OM_DEPUTY_H
#define OM_DEPUTY_H

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

/* Forks the program's process: it waits, before execve, until released,
 * and then runs jc->path with jc->argv and jc->envp (a file that is not an
 * executable format under /bin/sh, as execvp does). Sets jc->child; from
 * now on signals forwarded by job_catch_signals go to it. Returns 0, or -1
 * (errno). Call once. */
int job_fork(struct job_ctx *jc);

/* Lets jc->child call execve(jc->path, jc->argv, jc->envp). Before this,
 * a tracer may PTRACE_SEIZE the child (PTRACE_O_TRACEEXEC | EXITKILL) and
 * then see the exec as a PTRACE_EVENT_EXEC stop. Returns 0, or -errno of
 * the exec itself (reported through a close-on-exec pipe; the child is
 * then reaped and gone). Call once. */
int job_release(struct job_ctx *jc);
/* The same, with one more environment entry for the program: a glibc
 * tunable ("glibc.cpu.hwcaps=..."), merged into GLIBC_TUNABLES. NULL: none. */
int job_release_env(struct job_ctx *jc, const char *tunable);

/* Signals sent to om-run by another process (kill(1), a program that
 * signals its process group) are passed on to the program, so om-run
 * lives on as its deputy; the terminal's own already reached it. */
void job_catch_signals(void);

/* Job control. The user's shell watches om-run, not the program, so om-run
 * stops when the program stops and not otherwise: it takes SIGTSTP, SIGTTIN
 * and SIGTTOU (job_catch_stops(1)) and passes them on like any other signal,
 * then stops itself with the signal that stopped the program, at home or on
 * a node (job_stop_like, which returns once om-run is continued). */
void job_catch_stops(int on);
void job_stop_like(int sig);
/* Waits for the program running at home (a child of om-run), stopping with
 * it. Returns 0 with its wait status, or -1 (errno). */
int job_wait_home(pid_t pid, int *status);

#define RUN_REMOTE_UNAVAILABLE (-1) /* nothing done: run the child at home */

/* What om-run asks the agent for the program: its pid, its command line
 * ("prog arg1 ...", printable, cut at OM_CMD_MAX), the CPU features its
 * image needs, and node (0: any). */
void job_submit_fill(const struct job_ctx *jc, const struct om_cpu *need, uint32_t node, struct om_job_submit *s);

/* Runs the job on jc->placed.node as its deputy until it ends (coming
 * home on the way if it must). Returns the program's wait status (as
 * waitpid(2) reports it; om-run exits the same way), 251 << 8 after
 * NODE_LOST (om-run prints the message), or RUN_REMOTE_UNAVAILABLE before
 * touching the child. */
int run_remote(struct job_ctx *jc);

#endif
