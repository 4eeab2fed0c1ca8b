/* futex.h - futexes between the threads of a process on the node.
 *
 * A waiter is a thread asleep (JOB_SLEEPING) with futex_addr set; wakes
 * and requeues look through its process's threads, oldest waiter first.
 * Both run under the kernel lock, so the value check of a wait and a
 * waker's change-then-wake cannot pass each other, whichever cores the
 * threads run on. Futexes are keyed by address in the process: processes
 * that share memory stay at home (job_fork_fits), so a shared futex is
 * one of these too. Priority-inheritance ops go home. */
#ifndef OM_FUTEX_H
#define OM_FUTEX_H

#include <stdint.h>

#include "job.h"

/* Wakes up to n waiters on addr in j's process whose bitset meets mask;
 * returns how many. */
int futex_wake(struct job *j, uint64_t addr, int n, uint32_t mask);
/* A sleep of j ended some other way (signal, timeout): it waits no more. */
static inline void futex_forget(struct job *j)
{
	j->futex_addr = 0;
	j->futex_bitset = 0; /* no wake's mask meets it: address 0 is no waiter's */
}

#endif
