/* gdt.c - the kernel's GDT and TSS. Long mode ignores segment bases and
 * limits, but still needs code/data descriptors for the privilege levels and
 * a TSS for the ring-0 stack and the IST stacks (SDM vol. 3, 7.7). */
#include <stdint.h>

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

#define IST_STACK_SIZE 16384
/* IST1: double fault, NMI and machine check get a known-good stack even
 * when the kernel stack is what broke. */
static uint8_t ist1_stack[IST_STACK_SIZE] __attribute__((aligned(16)));
static uint8_t kernel_trap_stack[IST_STACK_SIZE] __attribute__((aligned(16)));
static struct tss tss;

static uint64_t gdt[] = {
	[0] = 0,
	[SEL_KCODE / 8] = 0x00209a0000000000, /* long-mode code, DPL 0 */
	[SEL_KDATA / 8] = 0x0000920000000000, /* data, DPL 0 */
	[SEL_UCODE32 / 8] = 0x00cffa000000ffff, /* compat code, DPL 3 (unused) */
	[SEL_UDATA / 8] = 0x0000f20000000000, /* data, DPL 3 */
	[SEL_UCODE / 8] = 0x0020fa0000000000, /* long-mode code, DPL 3 */
	[SEL_TSS / 8] = 0,                    /* 16-byte system descriptor */
	[SEL_TSS / 8 + 1] = 0,
};

void tss_set_rsp0(uint64_t rsp0)
{
	tss.rsp[0] = rsp0;
}

void gdt_init(void)
{
	uint64_t base = (uint64_t)&tss, limit = sizeof tss - 1;

	tss.ist[0] = (uint64_t)(ist1_stack + IST_STACK_SIZE);
	tss.rsp[0] = (uint64_t)(kernel_trap_stack + IST_STACK_SIZE);
	tss.iomap_base = sizeof tss; /* no I/O permission bitmap */
	gdt[SEL_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
			   (0x89ULL << 40) | /* present, available 64-bit TSS */
			   (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[SEL_TSS / 8 + 1] = base >> 32;

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
			 : "m"(ptr), "i"((uint64_t)SEL_KCODE), "r"(SEL_KDATA), "r"(SEL_TSS)
			 : "rax", "memory");
}
