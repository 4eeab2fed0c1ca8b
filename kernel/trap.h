/* trap.h - CPU exceptions and interrupt entry.
 *
 * Every vector enters through kernel/trap_entry.S, which saves the registers
 * as a struct trap_frame and calls trap_dispatch. */
#ifndef OM_TRAP_H
#define OM_TRAP_H

#include <stdint.h>

#define T_PIC_BASE 32 /* ISA IRQ n arrives as vector 32 + n */
#define T_NVEC 50 /* exceptions, the PIC's 16, the local APIC's timer and kick */

struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	/* pushed by the CPU */
	uint64_t rip, cs, rflags, rsp, ss;
};

/* Loads the GDT and core cpu's TSS, whose IST1 stack tops at ist_top (0:
 * the boot core's static one). */
void gdt_init(int cpu, uint64_t ist_top);
/* Fills the IDT (once) and loads it (on every core). */
void idt_init(void);
void idt_load(void);
void trap_dispatch(struct trap_frame *tf);
void pic_init(void);
void pic_dispatch(int irq);
/* Prints the frame and control registers. Never allocates. */
void trap_dump(const struct trap_frame *tf);

/* Kernel segment selectors (kernel/gdt.c). The user ones are laid out for
 * SYSRET: user data at STAR.base + 8, user code at STAR.base + 16. */
#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UCODE32 0x18
#define SEL_UDATA 0x20
#define SEL_UCODE 0x28
#define SEL_TSS 0x30

/* The stack the CPU switches to on entry from ring 3. */
void tss_set_rsp0(int cpu, uint64_t rsp0);

#endif
