/* percpu.h - each core's own state.
 *
 * A core finds its struct cpu from its task register: core i runs on the
 * TSS at SEL_TSS + 16 i (kernel/gdt.c). So no register is taken from the
 * program (GS stays the job's) and nothing depends on which stack the
 * kernel is on. The entry stubs, which run before any stack is safe, use
 * cpu_asm[i] (offsets in user_asm.h, checked in percpu.c). */
#ifndef OM_PERCPU_H
#define OM_PERCPU_H

#include <stdint.h>

#include "trap.h"

#define SMP_MAX_CPUS 64

struct cpu_asm {
	uint64_t syscall_rsp; /* the program's RSP while the SYSCALL stub runs */
	uint64_t trap_top;    /* the trap stack's top (TSS.RSP0 too) */
	uint64_t user_fpu;    /* the running job's vector-state area */
	uint64_t kernel_fpu;  /* the save area for interrupts of the kernel */
	uint64_t kernel_rsp;  /* user_enter's stack, for user_leave */
	uint64_t pad[3];
};
extern struct cpu_asm cpu_asm[SMP_MAX_CPUS];

struct job;

struct cpu {
	int index;
	uint32_t apic_id;
	volatile int online;
	volatile int idle;    /* halted with nothing to run (kernel/smp.c) */
	/* The job it runs in ring 3 (set and cleared under the kernel lock;
	 * kernel/sched.c), why it came back and how long it ran. */
	struct job *cur;
	int ev;
	uint64_t ran_ns;
	volatile int kick;    /* sched_park wants cur back now */
	/* Its turn (kernel/sched.c): the job it ran last, when its slice
	 * began, whether the slice is over. */
	struct job *last;
	uint64_t turn_ns;
	int turn_over;
	/* The job page tables this core has loaded (CR3; 0: the kernel's)
	 * and their uvm gen then (kernel/uvm.c); a request to let go of
	 * them (smp_forget_tables), seen to by the kick's handler. */
	uint64_t cr3_job, cr3_gen;
	uint64_t forget;
};
extern struct cpu cpus[SMP_MAX_CPUS];

static inline struct cpu *this_cpu(void)
{
	uint16_t tr;
	__asm__ volatile("str %0" : "=r"(tr));
	return &cpus[(tr - SEL_TSS) / 16];
}

/* The cores running (1 until smp_start has brought the others up). */
extern int ncpus;

#endif
