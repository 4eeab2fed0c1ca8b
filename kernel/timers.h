/* timers.h - a job's interval timers (setitimer, alarm) and POSIX timers
 * (timer_create ...), run on the node against the job's clocks: the home's
 * wall and monotonic time as the node keeps it, and the job's CPU time.
 * Their system calls are sys_* handlers (syscall.h). They expire at the
 * node's tick (kernel/timer.h), so never early and at most a tick late.
 * Main-loop context. */
#ifndef OM_TIMERS_H
#define OM_TIMERS_H

#include "job.h"

/* Gives a new job's interval timers their clocks and signals, disarmed. */
void timers_init(struct job *j);
/* Fires every timer of j whose time has come: its signal becomes pending
 * (or, for a POSIX timer whose last signal is still pending, an overrun is
 * counted), and a periodic one is set for its next period. */
void timers_run(struct job *j);
/* A POSIX timer's signal (si_code SI_TIMER) is being delivered: fills its
 * si_overrun and lets the timer queue its next one. */
void timers_signal_delivered(struct job *j, struct job_siginfo *info);
/* A POSIX timer's pending signal was discarded (SIG_IGN): the timer may
 * queue again. */
void timers_signal_gone(struct job *j, const struct job_siginfo *info);

#endif
