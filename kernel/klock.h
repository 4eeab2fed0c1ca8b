/* klock.h - the kernel lock: one core at a time runs kernel code.
 *
 * Every core runs its jobs' ring-3 code in parallel; everything else (the
 * scheduler, system calls, lwIP, the job link, the heap) runs with this
 * lock held, so the kernel's code stays what it was on one core.
 * Interrupt handlers never take it: they only acknowledge and record
 * (kernel/irq.h). A core spins for it with interrupts on, so it still
 * hears a kick (kernel/sched.c). */
#ifndef OM_KLOCK_H
#define OM_KLOCK_H

void klock(void);
void kunlock(void);

#endif
