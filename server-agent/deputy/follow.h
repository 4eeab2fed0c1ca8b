/* follow.h - a process of the job while it runs natively at home, traced
 * by its deputy: the events that concern om (it ends, it execs, it forks)
 * come back to the caller; its signals and stops take their native course.
 *
 * The tracee is seized with follow_options(). Its group-stops are real
 * ones, so that its parent's wait4 sees them (the tracer leaves it in
 * PTRACE_LISTEN); the deputy of om-run's own child (root) stops om-run
 * too, since the user's shell watches om-run (job_stop_like). Home side
 * only (Linux). */
#ifndef OM_FOLLOW_H
#define OM_FOLLOW_H

#include <stdint.h>
#include <sys/types.h>

enum follow_event {
	FOLLOW_EXITED,   /* it ended: status */
	FOLLOW_EXEC,     /* it is at its exec stop (stopped) */
	FOLLOW_FORK,     /* it forked (stopped); child is in its first stop, ours */
	FOLLOW_READABLE, /* watch_fd is readable (it runs on) */
	FOLLOW_STOPPED,  /* follow_interrupt's stop came (stopped) */
	FOLLOW_ERROR     /* errno says why */
};

struct follow {
	pid_t pid;
	int root;        /* om-run's own child */
	int chld_fd;     /* a signalfd for SIGCHLD, which the caller blocks */
	int watch_fd;    /* the agent link, or -1 */
	int stopped;     /* in a ptrace stop: follow_run lets it go first */
	int interrupting; /* follow_interrupt asked for a stop */
	int status;      /* FOLLOW_EXITED: its wait status */
	uint64_t exit_cpu_ms; /* its own CPU time as it exited (0: unknown) */
	pid_t child;     /* FOLLOW_FORK */
};

/* The options to seize a followed process with (PTRACE_O_TRACEEXIT among
 * them: its CPU time is read as it exits); follow_options_away() for while
 * it is on a node (its home process then exits only when the deputy makes
 * it). */
long follow_options(void);
long follow_options_away(void);
/* Lets the process run until the next event; returns it. A process
 * killed while it was held in a stop is FOLLOW_EXITED with that status. */
enum follow_event follow_run(struct follow *f);
/* Asks for the running process to stop where it is (PTRACE_INTERRUPT):
 * follow_run then returns FOLLOW_STOPPED, after any event that comes
 * first (an exec or fork event that took the request with it is followed
 * by a new one). A process in a group-stop is not taken out of it, and
 * one that exits goes: the request lapses (interrupting is 0 again).
 * Returns 0, or -errno. */
int follow_interrupt(struct follow *f);

#endif
