/* gdt.c - the kernel's GDT and each core's TSS. Long mode ignores segment
 * bases and limits, but still needs code/data descriptors for the privilege
 * levels and a TSS per core for the ring-0 stack and the IST stacks (SDM
 * vol. 3, 7.7); core i's TSS descriptor is at SEL_TSS + 16 i, which is how
 * a core knows which it is (percpu.h). */
#include <stdint.h>

#include "percpu.h"
#include "trap.h"

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

static struct tss tss[SMP_MAX_CPUS];
static uint8_t boot_ist[16384] __attribute__((aligned(16))); /* the boot core's */

static uint64_t gdt[SEL_TSS / 8 + 2 * SMP_MAX_CPUS] = {
	[0] = 0,
	[SEL_KCODE / 8] = 0x00209a0000000000, /* long-mode code, DPL 0 */
	[SEL_KDATA / 8] = 0x0000920000000000, /* data, DPL 0 */
	[SEL_UCODE32 / 8] = 0x00cffa000000ffff, /* compat code, DPL 3 (unused) */
	[SEL_UDATA / 8] = 0x0000f20000000000, /* data, DPL 3 */
	[SEL_UCODE / 8] = 0x0020fa0000000000, /* long-mode code, DPL 3 */
	/* from SEL_TSS: one 16-byte system descriptor per core */
};

void tss_set_rsp0(int cpu, uint64_t rsp0)
{
	tss[cpu].rsp[0] = rsp0;
}

void gdt_init(int cpu, uint64_t ist_top)
{
	struct tss *t = &tss[cpu];
	uint64_t base = (uint64_t)t, limit = sizeof *t - 1;
	int d = SEL_TSS / 8 + 2 * cpu;

	/* IST1: double fault, NMI and machine check get a known-good stack
	 * even when the kernel stack is what broke. */
	t->ist[0] = ist_top ? ist_top : (uint64_t)(boot_ist + sizeof boot_ist);
	t->iomap_base = sizeof *t; /* no I/O permission bitmap */
	gdt[d] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
		 (0x89ULL << 40) | /* present, available 64-bit TSS */
		 (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[d + 1] = base >> 32;

	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) ptr = { sizeof gdt - 1, (uint64_t)gdt };

	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movw %w2, %%ds\n\t"
			 "movw %w2, %%es\n\t"
			 "movw %w2, %%ss\n\t"
			 "ltr %w3"
			 :
			 : "m"(ptr), "i"((uint64_t)SEL_KCODE), "r"(SEL_KDATA), "r"(SEL_TSS + 16 * cpu)
			 : "rax", "memory");
}
