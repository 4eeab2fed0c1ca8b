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

#include <sys/types.h>

enum follow_event {
	FOLLOW_EXITED,   /* it ended: status */
	FOLLOW_EXEC,     /* it is at its exec stop (stopped) */
	FOLLOW_FORK,     /* it forked (stopped); child is in its first stop, ours */
	FOLLOW_READABLE, /* watch_fd is readable (it runs on) */
	FOLLOW_ERROR     /* errno says why */
};

struct follow {
	pid_t pid;
	int root;        /* om-run's own child */
	int chld_fd;     /* a signalfd for SIGCHLD, which the caller blocks */
	int watch_fd;    /* the agent link, or -1 */
	int stopped;     /* in a ptrace stop: follow_run lets it go first */
	int status;      /* FOLLOW_EXITED: its wait status */
	pid_t child;     /* FOLLOW_FORK */
};

/* The options to seize a followed process with. */
long follow_options(void);
/* Lets the process run until the next event; returns it. */
enum follow_event follow_run(struct follow *f);

#endif
