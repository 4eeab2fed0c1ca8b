/* late_stderr - the errors of a deputy that must not hold om-run's stderr.
 *
 * A child's deputy gives up om-run's terminal and pipes (a `$(...)` around
 * om-run would otherwise wait for every process the job left running).
 * Its errors (a process it had to kill, and why) must still reach the
 * user: each message opens om-run's stderr anew through /proc, writes and
 * closes it, if it is still the file om-run started with. */
#ifndef OM_LATE_STDERR_H
#define OM_LATE_STDERR_H

#include <sys/types.h>

struct late_stderr {
	pid_t pid; /* om-run's first process, 0: nothing to reopen */
	dev_t dev;
	ino_t ino;
};

/* In om-run's first process: what its stderr is. */
void late_stderr_note(struct late_stderr *ls);

/* In a deputy whose fd 2 is /dev/null: stderr becomes a stream that
 * writes through ls each time. *ls must outlive the stream. */
void late_stderr_use(const struct late_stderr *ls);

#endif
