/* smp.h - bringing up the other cores. A machine whose ACPI tables cannot
 * be read, or that has one core, runs on one core as before. Boot only. */
#ifndef OM_SMP_H
#define OM_SMP_H

struct bootinfo;

/* Finds the cores (ACPI MADT) and enables the boot core's local APIC.
 * After timer_init. */
void smp_init(const struct bootinfo *bi);
/* Starts every other core; each waits until smp_release. */
void smp_start(void);
/* Lets the started cores run jobs (the scheduler and the job link are up). */
void smp_release(void);
/* Wakes the cores that sleep with nothing to run (a job became runnable). */
void smp_wake_idle(void);
/* The job page tables at pml4 are about to be freed: no core may hold
 * them loaded after this returns (the others are kicked, and wait for
 * nothing but their kick's handler). Kernel lock held. */
void smp_forget_tables(uint64_t pml4);
/* The kick's handler (any context, interrupts off). */
void smp_on_kick(void);

#endif
