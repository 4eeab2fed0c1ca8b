/* job_fork.h - fork, vfork and clone-as-fork on the node.
 *
 * The deputy runs the call at home, so the child's home process, its pid
 * and descriptors are the home kernel's; the node makes the child's image
 * here, a copy of the parent as it is in the call (docs/migration.md,
 * "Fork on a node"). A parent that shares memory with others (MAP_SHARED
 * anonymous) does not fork here: those processes stay together, at home.
 * Main-loop context only. */
#ifndef OM_JOB_FORK_H
#define OM_JOB_FORK_H

#include <stdint.h>

#include "job.h"

/* Whether a fork of j can be made here: no shared anonymous memory, and
 * free frames for a copy of all its pages with room to spare. */
int job_fork_fits(const struct job *j);
/* The child of parent's fork (its call's clone flags, 0 for fork and
 * vfork; child_tid as clone's): job id, home pid, the parent's memory and
 * state copied, returning 0 from the call. NULL when out of memory. */
struct job *job_fork(struct job *parent, uint32_t id, int64_t pid, uint64_t flags, uint64_t child_tid);
/* j's SIGCHLD disposition, for the fork call's argument 5
 * (OM_FORK_CHLD_*): at home it decides whether the children become
 * zombies. */
uint64_t job_fork_sigchld(const struct job *j);
/* The parent's side once the call returns pid: CLONE_PARENT_SETTID. */
void job_fork_parent_done(struct job *parent, int64_t pid, uint64_t flags, uint64_t parent_tid);

#endif
