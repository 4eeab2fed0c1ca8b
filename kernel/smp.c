/* smp.c - the other cores: found in the MADT, started with INIT-SIPI-SIPI
 * one at a time through the trampoline (ap_boot.S), each with its own
 * stacks, TSS, vector-state area and local APIC timer, then running the
 * scheduler's loop under the kernel lock. */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "acpi.h"
#include "bootinfo.h"
#include "console.h"
#include "cpu.h"
#include "fpu.h"
#include "homelink.h"
#include "job.h"
#include "klock.h"
#include "lapic.h"
#include "mm.h"
#include "percpu.h"
#include "sched.h"
#include "smp.h"
#include "timer.h"
#include "trap.h"

#define AP_TRAMPOLINE 0x8000 /* as in ap_boot.S */
#define AP_STACK_PAGES 16
#define AP_TRAP_PAGES 4
#define AP_IST_PAGES 4
#define AP_FPU_AREA 16384     /* as the boot core's (trap_entry.S) */
#define AP_START_MS 2000      /* TCG is slow to start a core */
#define PTE_P 1ULL
#define PTE_W 2ULL
#define PTE_PS 0x80ULL
#define MSR_APIC_BASE 0x1b
#define APIC_BASE_X2APIC (1ULL << 10)
#define XAPIC_MAX_ID 255      /* an ICR destination is 8 bits */

struct cpu cpus[SMP_MAX_CPUS];
int ncpus = 1;

extern const uint8_t ap_tramp_start[], ap_tramp_end[];
extern uint64_t ap_tramp_cr3, ap_tramp_stack, ap_tramp_entry;

static const struct bootinfo *boot;
static struct acpi_cpus found;
static int have_apic;
/* What the core being started reads in ap_main. */
static volatile int starting;
static uint64_t starting_trap_top, starting_ist_top;
static volatile int released;
static uint32_t wake_gen; /* counts smp_wake_idle calls */

void smp_init(const struct bootinfo *bi)
{
	const char *err = "";

	boot = bi;
	cpus[0].online = 1;
	if (acpi_find_cpus(bi, &found, &err) < 0) {
		printf("smp: %s; running on one core\n", err);
		return;
	}
	if (rdmsr(MSR_APIC_BASE) & APIC_BASE_X2APIC) {
		/* Its registers are MSRs then, not the window lapic.c uses. */
		printf("smp: the firmware left the local APIC in x2APIC mode; running on one core\n");
		return;
	}
	lapic_init_boot(found.lapic_pa);
	cpus[0].apic_id = lapic_id();
	have_apic = 1;
}

/* The trampoline's words, in its copy at AP_TRAMPOLINE. */
static uint64_t *tramp_word(const uint64_t *w)
{
	return phys_to_virt(AP_TRAMPOLINE + (uint64_t)((const uint8_t *)w - ap_tramp_start));
}

static int trampoline_page_free(void)
{
	for (uint32_t i = 0; i < boot->nmem; i++)
		if (boot->mem[i].type == BOOT_MEM_USABLE && boot->mem[i].base <= AP_TRAMPOLINE &&
		    boot->mem[i].base + boot->mem[i].len >= AP_TRAMPOLINE + PAGE_SIZE)
			return 1;
	return 0;
}

/* Page tables for the way in: the trampoline's first 2 MiB identity-mapped
 * (paging comes on there), the kernel's upper half. Below 4 GiB: CR3 is
 * loaded in 32-bit mode. Returns the top table's physical address, or 0. */
static uint64_t tramp_tables(void)
{
	uint64_t pml4 = pmm_alloc(1), pdpt = pmm_alloc(1), pd = pmm_alloc(1);
	if (!pml4 || !pdpt || !pd || pml4 >= (4ULL << 30))
		return 0;
	uint64_t *t = phys_to_virt(pml4);
	memcpy(t + 256, vm_kernel_pml4() + 256, 256 * sizeof *t);
	t[0] = pdpt | PTE_P | PTE_W;
	((uint64_t *)phys_to_virt(pdpt))[0] = pd | PTE_P | PTE_W;
	((uint64_t *)phys_to_virt(pd))[0] = 0 | PTE_P | PTE_W | PTE_PS;
	return pml4;
}

static void __attribute__((noreturn)) ap_loop(void)
{
	struct cpu *c = this_cpu();
	cpu_sti();
	for (;;) {
		klock();
		uint32_t gen = __atomic_load_n(&wake_gen, __ATOMIC_SEQ_CST);
		int ran = sched_step();
		homelink_poll(); /* what its job queued (a call, an exit) goes now */
		kunlock();
		if (ran)
			continue;
		/* Idle, unless a wake-up came since it looked: smp_wake_idle
		 * counts first and reads idle after, this core the other way
		 * round, so one of the two sees the other. */
		cpu_cli();
		__atomic_store_n(&c->idle, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&wake_gen, __ATOMIC_SEQ_CST) == gen)
			cpu_sti_hlt(); /* its timer or a kick wakes it */
		else
			cpu_sti();
		__atomic_store_n(&c->idle, 0, __ATOMIC_SEQ_CST);
	}
}

static void ap_main(void)
{
	int i = starting;

	gdt_init(i, starting_ist_top);
	idt_load();
	write_cr3(virt_to_phys(vm_kernel_pml4()));
	fpu_init_core();
	user_init(i, starting_trap_top);
	lapic_init_ap();
	cpus[i].index = i;
	cpus[i].apic_id = lapic_id();
	__atomic_store_n(&cpus[i].online, 1, __ATOMIC_RELEASE);
	while (!released)
		cpu_pause();
	if (i >= ncpus) /* it started after smp_start gave up on it */
		for (;;)
			__asm__ volatile("cli; hlt");
	ap_loop();
}

static uint64_t stack_top(size_t pages)
{
	uint64_t pa = pmm_alloc(pages);
	return pa ? (uint64_t)phys_to_virt(pa) + pages * PAGE_SIZE : 0;
}

/* Starts the core with this APIC id as core i; 0 once it runs. */
static int start_one(int i, uint32_t apic_id)
{
	uint64_t stack = stack_top(AP_STACK_PAGES);
	uint8_t *fpu = memalign(64, AP_FPU_AREA);

	starting_trap_top = stack_top(AP_TRAP_PAGES);
	starting_ist_top = stack_top(AP_IST_PAGES);
	if (!stack || !fpu || !starting_trap_top || !starting_ist_top) {
		printf("smp: out of memory for core %d\n", i);
		return -1;
	}
	memset(fpu, 0, AP_FPU_AREA); /* XRSTOR faults on a header that is not zero */
	cpu_asm[i].kernel_fpu = (uint64_t)fpu;
	cpus[i].index = i;
	starting = i;
	*tramp_word(&ap_tramp_stack) = stack;
	if (lapic_start_ap(apic_id, AP_TRAMPOLINE >> 12) < 0) {
		printf("smp: core %d (APIC %u) did not take its STARTUP\n", i, apic_id);
		return -1;
	}
	for (uint32_t t0 = timer_ms(); timer_ms() - t0 < AP_START_MS;)
		if (__atomic_load_n(&cpus[i].online, __ATOMIC_ACQUIRE))
			return 0;
	printf("smp: core %d (APIC %u) did not start in %d ms\n", i, apic_id, AP_START_MS);
	return -1;
}

void smp_start(void)
{
	uint64_t cr3;

	if (!have_apic || found.n <= 1)
		return;
	if (!trampoline_page_free() || !(cr3 = tramp_tables())) {
		printf("smp: no room for the other cores' way in; running on one core\n");
		return;
	}
	memcpy(phys_to_virt(AP_TRAMPOLINE), ap_tramp_start, (size_t)(ap_tramp_end - ap_tramp_start));
	*tramp_word(&ap_tramp_cr3) = cr3;
	*tramp_word(&ap_tramp_entry) = (uint64_t)ap_main;
	for (uint32_t k = 0; k < found.n && ncpus < SMP_MAX_CPUS; k++) {
		if (found.apic_id[k] == cpus[0].apic_id || found.apic_id[k] > XAPIC_MAX_ID)
			continue;
		if (start_one(ncpus, found.apic_id[k]) < 0)
			break; /* a core that starts late must find no slot of its own */
		ncpus++;
	}
	printf("smp: %d core%s running%s\n", ncpus, ncpus == 1 ? "" : "s",
	       found.skipped ? " (more listed than the kernel takes)" : "");
}

void smp_release(void)
{
	__atomic_store_n(&released, 1, __ATOMIC_RELEASE);
}

static void kernel_tables(struct cpu *c)
{
	write_cr3(virt_to_phys(vm_kernel_pml4()));
	__atomic_store_n(&c->cr3_job, 0, __ATOMIC_SEQ_CST);
}

void smp_forget_tables(uint64_t pml4)
{
	struct cpu *me = this_cpu();
	if (read_cr3() == pml4)
		kernel_tables(me);
	for (int i = 0; i < ncpus; i++) {
		struct cpu *c = &cpus[i];
		if (c == me || __atomic_load_n(&c->cr3_job, __ATOMIC_SEQ_CST) != pml4)
			continue;
		/* Idle, or waiting for the lock, with them loaded from its last
		 * run of the job: not in ring 3 on them (the job is not running). */
		__atomic_store_n(&c->forget, pml4, __ATOMIC_SEQ_CST);
		lapic_send(c->apic_id, T_IPI_KICK);
		while (__atomic_load_n(&c->cr3_job, __ATOMIC_SEQ_CST) == pml4)
			cpu_pause();
	}
}

void smp_on_kick(void)
{
	struct cpu *c = this_cpu();
	uint64_t f = __atomic_exchange_n(&c->forget, 0, __ATOMIC_SEQ_CST);
	if (f && read_cr3() == f)
		kernel_tables(c);
}

void smp_wake_idle(void)
{
	__atomic_fetch_add(&wake_gen, 1, __ATOMIC_SEQ_CST);
	for (int i = 1; i < ncpus; i++)
		if (__atomic_load_n(&cpus[i].idle, __ATOMIC_SEQ_CST))
			lapic_send(cpus[i].apic_id, T_IPI_KICK);
}
