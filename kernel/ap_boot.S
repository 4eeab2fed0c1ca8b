/* ap_boot.S - where an application core starts: real mode at AP_TRAMPOLINE
 * (the STARTUP IPI's page), to protected mode, to long mode on the page
 * tables smp.c made (the trampoline's page identity-mapped, the kernel's
 * upper half), then to the kernel proper at ap_tramp_entry with the stack
 * smp.c put in ap_tramp_stack (SDM vol. 3, 9.4.4 and 10.8.5).
 *
 * smp.c copies ap_tramp_start..ap_tramp_end to AP_TRAMPOLINE and fills
 * the three words at its end; addresses here are that copy's. */

#include "sse_on.h"

#define AP_TRAMPOLINE 0x8000
#define CR0_ON 0x33 /* PE, MP, ET, NE; CD, NW, EM, TS clear */
#define AT(label) (AP_TRAMPOLINE + (label - ap_tramp_start))

	.section .rodata
	.code16
	.globl ap_tramp_start, ap_tramp_end
ap_tramp_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	lgdtl (tr_gdt_ptr - ap_tramp_start)
	/* CR0 as a whole: INIT leaves CD and NW as they were (both set at
	 * power-on: no caches) and clears NE (x87 errors would go out as
	 * IRQ 13 instead of #MF). */
	movl $CR0_ON, %eax
	movl %eax, %cr0
	ljmpl $0x08, $AT(tr_code32)

	.code32
tr_code32:
	movl $0x10, %eax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl %cr4, %eax
	orl $((1 << 5) | (1 << 7)), %eax /* PAE, PGE */
	movl %eax, %cr4
	movl AT(ap_tramp_cr3), %eax
	movl %eax, %cr3
	movl $0xC0000080, %ecx          /* IA32_EFER */
	rdmsr
	orl $((1 << 8) | (1 << 11)), %eax /* LME, NXE */
	wrmsr
	movl $(CR0_ON | (1 << 31) | (1 << 16)), %eax /* and PG, WP */
	movl %eax, %cr0
	ljmpl $0x18, $AT(tr_code64)

	.code64
tr_code64:
	SSE_ON
	movq AT(ap_tramp_stack), %rsp
	xorl %ebp, %ebp
	movq AT(ap_tramp_entry), %rax
	call *%rax
1:	hlt
	jmp 1b

	.align 8
tr_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff        /* 0x08: 32-bit code */
	.quad 0x00cf92000000ffff        /* 0x10: data */
	.quad 0x00209a0000000000        /* 0x18: 64-bit code */
tr_gdt_ptr:
	.word tr_gdt_ptr - tr_gdt - 1
	.long AT(tr_gdt)
	.align 8
	.globl ap_tramp_cr3, ap_tramp_stack, ap_tramp_entry
ap_tramp_cr3:	.quad 0
ap_tramp_stack:	.quad 0
ap_tramp_entry:	.quad 0
ap_tramp_end:
