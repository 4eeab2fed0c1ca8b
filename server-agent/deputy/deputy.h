/* deputy.h - the deputy: what stays at home of a program that runs on a
 * node, and the ptrace machinery that moves it. Its parts, each with its
 * own header: ptrace_start (run a traced program to its entry point),
 * inject (run system calls inside the stopped process through a scratch
 * mapping), capture (its image as frames), restore (an image back into
 * it), vdso (the vDSO's entry points as real system calls), deputy_call (a
 * forwarded call run inside it), call_limits (which of those stay inside
 * the job), cpu_mask (what the image may use of the CPU), exec_env
 * (ld.so's tunable at an exec), follow (a process at home), handoff (a
 * forked child to a deputy of its own), confine (Landlock around the
 * program's process, --confine); this header puts them
 * together for om-run: the program's process at home (job.c) and its life
 * (life.c: at home, on a node through run_remote.c, its children). om-run
 * and om-checkpoint use the deputy; it uses migrate/ and nothing else of
 * server-agent/: no front end, no control client, no agent. It runs as
 * the user, never with the agent's rights.
 *
 * om-run's front end (tools/om-run.c: arguments, PATH search, the agent)
 * calls in one way; what the deputy needs of it travels in struct job_ctx.
 * Sequence in om-run (docs/man/om-run.1):
 *   1. resolve PROGRAM like a shell; job_fork a child that waits, before
 *      exec, until released (so the job has its pid from the start), and
 *      job_catch_signals;
 *   2. connect to the agent (ctl_fd), and keep or give up the Landlock
 *      ruleset made before the fork (jc->confine) as --confine,
 *      --no-confine or the agent's policy say;
 *   3. connected: status = deputy_run(jc), which releases the child under
 *      ptrace and places it, and every process it makes, as they exec;
 *   4. otherwise, or when deputy_run returns RUN_REMOTE_UNAVAILABLE: the
 *      child is released to exec natively (job_release) and om-run waits
 *      for it (job_wait_home).
 * Whatever the path, om-run then exits the way the program did. */
#ifndef OM_DEPUTY_H
#define OM_DEPUTY_H

#include <sys/types.h>

#include "call_limits.h"
#include "job_msg.h"
#include "late_stderr.h"

struct job_ctx {
	const char *path;          /* the program as resolved (PATH search done) */
	char *const *argv;         /* its argv, argv[0] as the user typed it */
	char *const *envp;         /* its environment */
	pid_t child;               /* forked, blocked before execve until released */
	struct call_job job;       /* child as the root of the job, for what a node
				    * may ask of the deputy (call_limits.h): set
				    * by deputy_run, copied to every deputy */
	int ctl_fd;                /* control connection to om-agent; the job lives
				    * as long as it stays open (closing it makes the
				    * agent send JOB_KILL to the node) */
	struct om_job_placed placed; /* job id, node id, node cpu and address */
	int confine;               /* a Landlock ruleset (confine.h) the child applies
				    * to itself before its exec, or -1: made before
				    * job_fork, given up (closed, -1) before the
				    * release if the job is not to be confined */
	uint32_t node;             /* --node: where the program should go (0: any) */
	uint32_t cores;            /* --cores: of one node, for the program (1..4096) */
	int verbose;               /* -v: say what happens on stderr */
	const char *control;       /* the control socket path */
	/* Connects to the agent at control: a new deputy (a child's) has a
	 * link of its own. Returns the fd, or -1. */
	int (*connect)(const char *control);
	/* --stats: every deputy of the job writes its process's story to
	 * stats_fd (-1: none), which om-run's collector reads (stats.h). */
	int stats_fd;
	/* --checkpoint-every: om-run's child sends an image home this often
	 * (0: never), kept in checkpoint_path (checkpoint.h). */
	uint32_t checkpoint_ms;
	const char *checkpoint_path;
	uint32_t checkpoint_max_pct; /* their share of its time (agent.conf; 0: CKPT_MAX_PCT) */
	/* --restart FILE: the saved job, read and checked (ckpt_resume.h);
	 * path and argv are its program's. NULL: a new job. */
	struct ckpt_saved *restart;
	/* om-run's stderr, for the errors of deputies that do not hold it. */
	struct late_stderr late_err;
};

/* Forks the program's process: it waits, before execve, until released,
 * and then runs jc->path with jc->argv and jc->envp (a file that is not an
 * executable format under /bin/sh, as execvp does), confined first if
 * jc->confine is still a ruleset then (if that fails it says why and exits
 * 126, running nothing). Sets jc->child; from
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
/* In the deputy of another process of the job: om-run's own child is not
 * ours, signals sent to us go nowhere (we live on regardless). */
void job_forget_child(void);

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

/* What om-run asks the agent for a process: its pid, its command line
 * (printable, cut at OM_CMD_MAX), the CPU features its image needs, and
 * node (0: any). */
void job_submit_fill(uint32_t pid, const char *cmd, const struct om_cpu *need, uint32_t node,
    struct om_job_submit *s);

/* Releases the child under ptrace and is the deputy of it, and of every
 * process it makes, to the end: each is placed on a node when it execs,
 * served there, followed at home when it comes back. Returns the
 * program's wait status (as waitpid(2) reports it; om-run exits the same
 * way), 251 << 8 after NODE_LOST (om-run prints the message), or
 * RUN_REMOTE_UNAVAILABLE before touching the child. */
int deputy_run(struct job_ctx *jc);

#endif
