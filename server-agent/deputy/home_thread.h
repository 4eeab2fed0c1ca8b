/* home_thread.h - more threads in a traced process at home, each held in
 * its first stop for ever: a call injected there runs with that thread's
 * own tid (and, once set, signal mask), as the node's thread of the same
 * tid would make it at home. The brick of "one home thread per node
 * thread" (issue: threads on nodes); nothing else runs in them. Home side
 * only (Linux, x86-64). Functions return 0 or -errno. */
#ifndef OM_HOME_THREAD_H
#define OM_HOME_THREAD_H

#include <sys/types.h>

#include "inject.h"

/* Makes a thread in in's process (in stopped, its scratch region set up)
 * by a clone injected there, with in's ptrace options plus TRACECLONE for
 * that one call (options: the ones in's tracee has); out is ready for
 * injected calls in the new thread, *tid its tid. */
int home_thread_new(struct inject *in, long options, struct inject *out, pid_t *tid);
/* out (opened on another thread of in's process) injects through in's
 * scratch region, as in does. */
void home_thread_share(const struct inject *in, struct inject *out);
/* Ends that thread (an exit injected there) and closes out. */
int home_thread_end(struct inject *t);

#endif
