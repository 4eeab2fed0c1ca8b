/* trap.c - the IDT, exception reports and interrupt dispatch. */
#include <stdint.h>

#include "console.h"
#include "cpu.h"
#include "job.h"
#include "lapic.h"
#include "smp.h"
#include "trap.h"

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, type_attr;
	uint16_t off_mid;
	uint32_t off_hi, reserved;
} __attribute__((packed));

#define GATE_INTR 0x8e /* present, DPL 0, 64-bit interrupt gate (IF cleared) */
#define T_NMI 2
#define T_DF 8
#define T_MC 18

extern const uint64_t trap_vectors[T_NVEC];
extern const char trap_vec_spurious[];
static struct idt_gate idt[256];

static const char *const trap_names[32] = {
	"divide error", "debug", "NMI", "breakpoint", "overflow", "bound range",
	"invalid opcode", "device not available", "double fault", "coprocessor overrun",
	"invalid TSS", "segment not present", "stack fault", "general protection",
	"page fault", "reserved", "x87 FP error", "alignment check", "machine check",
	"SIMD FP error", "virtualization", "control protection", "reserved", "reserved",
	"reserved", "reserved", "reserved", "reserved", "hypervisor injection",
	"VMM communication", "security", "reserved",
};

static void set_gate(int v, uint64_t off)
{
	idt[v] = (struct idt_gate){
		.off_lo = off & 0xffff,
		.sel = SEL_KCODE,
		.ist = (v == T_DF || v == T_NMI || v == T_MC) ? 1 : 0,
		.type_attr = GATE_INTR,
		.off_mid = (off >> 16) & 0xffff,
		.off_hi = off >> 32,
	};
}

void idt_init(void)
{
	for (int v = 0; v < T_NVEC; v++)
		set_gate(v, trap_vectors[v]);
	set_gate(T_LAPIC_SPURIOUS, (uint64_t)trap_vec_spurious);
}

void idt_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) ptr = { sizeof idt - 1, (uint64_t)idt };
	__asm__ volatile("lidt %0" ::"m"(ptr));
}

void trap_dump(const struct trap_frame *tf)
{
	kprintf("  rip %016lx  cs %04lx  rflags %016lx\n", tf->rip, tf->cs, tf->rflags);
	kprintf("  rsp %016lx  ss %04lx  error %016lx\n", tf->rsp, tf->ss, tf->error);
	kprintf("  rax %016lx  rbx %016lx  rcx %016lx\n", tf->rax, tf->rbx, tf->rcx);
	kprintf("  rdx %016lx  rsi %016lx  rdi %016lx\n", tf->rdx, tf->rsi, tf->rdi);
	kprintf("  rbp %016lx  r8  %016lx  r9  %016lx\n", tf->rbp, tf->r8, tf->r9);
	kprintf("  r10 %016lx  r11 %016lx  r12 %016lx\n", tf->r10, tf->r11, tf->r12);
	kprintf("  r13 %016lx  r14 %016lx  r15 %016lx\n", tf->r13, tf->r14, tf->r15);
	kprintf("  cr0 %016lx  cr2 %016lx  cr3 %016lx  cr4 %016lx\n",
		read_cr0(), read_cr2(), read_cr3(), read_cr4());
	if (tf->cs & 3)
		return;
	/* Without frame pointers a backtrace is a guess: the words on the
	 * stack that point into the kernel's code, likely return addresses
	 * (addr2line -e om-node.elf turns them into places). */
	extern const char __image_start[], __text_end[], __image_end[];
	const uint64_t *sp = (const uint64_t *)(tf->rsp & ~7ull);
	if (tf->rsp < (uint64_t)__image_start || tf->rsp >= (uint64_t)__image_end)
		return; /* not one of the kernel's stacks: nothing safe to read */
	kprintf("  code addresses on the stack:");
	for (int i = 0, n = 0; i < 128 && n < 16 && (uint64_t)(sp + i + 1) <= (uint64_t)__image_end; i++)
		if (sp[i] >= (uint64_t)__image_start && sp[i] < (uint64_t)__text_end) {
			kprintf(" %lx", sp[i]);
			n++;
		}
	kprintf("\n");
}

void trap_dispatch(struct trap_frame *tf)
{
	int from_user = (tf->cs & 3) == 3;
	if (tf->vector >= T_PIC_BASE && tf->vector < T_PIC_BASE + 16) {
		pic_dispatch((int)(tf->vector - T_PIC_BASE));
		if (from_user)
			user_trap(tf); /* back to the main loop, which polls and resumes */
		return;
	}
	if (tf->vector == T_LAPIC_TIMER || tf->vector == T_IPI_KICK || tf->vector == T_LAPIC_SPURIOUS) {
		if (tf->vector == T_IPI_KICK)
			smp_on_kick();
		if (tf->vector != T_LAPIC_SPURIOUS) /* a spurious one takes no EOI */
			lapic_eoi();
		if (from_user)
			user_trap(tf); /* the core's loop looks at its job */
		return;
	}
	if (from_user)
		user_trap(tf); /* syscalls and the job's own faults */
	/* Every CPU exception in the kernel is a bug: report it and stop. User
	 * faults will be routed to the job's signal handling once jobs exist. */
	kprintf("\nexception %lu (%s) in %s mode\n", tf->vector,
		tf->vector < 32 ? trap_names[tf->vector] : "?", (tf->cs & 3) ? "user" : "kernel");
	trap_dump(tf);
	panic("unhandled exception %lu", tf->vector);
}
