/* job_exec.h - execve on the node.
 *
 * The call goes to the deputy, which runs it at home on the job's process
 * (the loader and the files are there) and places the new program again;
 * the job here then ends (docs/migration.md, "Exec on a node"). Linux
 * keeps some of the process's state across an exec: what of it lives on
 * the node travels with the call (the blocked mask, the ignored signals);
 * a job with more (pending signals, an armed interval timer or alarm)
 * comes home for its exec, which hands all of it over. */
#ifndef OM_JOB_EXEC_H
#define OM_JOB_EXEC_H

#include <stdint.h>

#include "job.h"

/* Whether j's execve can go to the deputy as a call. */
int job_exec_fits(const struct job *j);
/* The signal state that outlives exec: blocked mask, ignored signals
 * (bit sig - 1), for the execve request's arguments 3 and 4. */
void job_exec_sigstate(const struct job *j, uint64_t *blocked, uint64_t *ignored);

#endif
