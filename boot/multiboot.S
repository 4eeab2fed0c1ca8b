/* multiboot.S - multiboot (v1) entry: 32-bit protected mode to the 64-bit
 * higher-half kernel.
 *
 * QEMU -kernel and iPXE's "kernel" load only ELF32 through the ELF path, so
 * the header sets flag 16 (a.out kludge) and gives the physical load layout
 * itself (Multiboot 0.6.96, 3.1.3). The loader enters mb_entry32 with
 * EAX = 0x2BADB002, EBX = physical address of the multiboot info, paging off,
 * interrupts off, and a stack we must not trust. */

#include "sse_on.h"

#define KERNEL_VMA 0xffffffff80000000
#define V2P(x) ((x) - KERNEL_VMA)

#define MB_MAGIC 0x1BADB002
#define MB_FLAGS ((1 << 0) | (1 << 1) | (1 << 16)) /* page-align, mem info, kludge */

#define PTE_P  0x001
#define PTE_W  0x002
#define PTE_PS 0x080

	.section .multiboot, "a"
	.align 4
mb_header:
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)
	.long V2P(mb_header)      /* header_addr */
	.long V2P(__image_start)  /* load_addr */
	.long V2P(__load_end)     /* load_end_addr */
	.long V2P(__image_end)    /* bss_end_addr */
	.long V2P(mb_entry32)     /* entry_addr */

	/* struct om_handoff (kernel/bootinfo.h) for the UEFI loader. */
	.align 8
	.ascii "OMNODE64"
	.quad handoff_entry64
	.quad __image_start
	.quad __load_end
	.quad __image_end

	.section .boot.text, "ax"
	.code32
	.globl mb_entry32
mb_entry32:
	cli
	cld
	movl %eax, V2P(mb_magic)        /* kept for kernel C code */
	movl %ebx, V2P(mb_info)
	rdtsc
	movl %eax, V2P(boot_tsc)
	movl %edx, V2P(boot_tsc) + 4
	movl $V2P(boot_stack_top), %esp

	/* Long mode needs CPUID 0x80000001 EDX.LM (bit 29). */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	testl $(1 << 29), %edx
	jz no_long_mode

	/* Boot page tables: four page directories of 2 MiB pages map the low
	 * 4 GiB. They appear three times: identity (to survive turning paging
	 * on), at the direct map, and the first one at -2 GiB for the kernel.
	 * kernel/vm.c replaces all of this with tables sized to real memory. */
	movl $V2P(boot_pd), %edi
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $21, %eax
	orl $(PTE_P | PTE_W | PTE_PS), %eax
	movl %eax, (%edi, %ecx, 8)
	movl %ecx, %eax
	shrl $11, %eax                  /* bits 32+ of entry ecx * 2 MiB */
	movl %eax, 4(%edi, %ecx, 8)
	incl %ecx
	cmpl $2048, %ecx
	jne 1b

	movl $V2P(boot_pdpt_low), %edi
	movl $V2P(boot_pd) + (PTE_P | PTE_W), %eax
	movl %eax, 0(%edi)
	addl $4096, %eax
	movl %eax, 8(%edi)
	addl $4096, %eax
	movl %eax, 16(%edi)
	addl $4096, %eax
	movl %eax, 24(%edi)

	movl $V2P(boot_pdpt_high), %edi
	movl $V2P(boot_pd) + (PTE_P | PTE_W), %eax
	movl %eax, 510 * 8(%edi)        /* -2 GiB -> physical 0 */

	movl $V2P(boot_pml4), %edi
	movl $V2P(boot_pdpt_low) + (PTE_P | PTE_W), %eax
	movl %eax, 0(%edi)              /* identity */
	movl %eax, 256 * 8(%edi)        /* direct map at 0xffff800000000000 */
	movl $V2P(boot_pdpt_high) + (PTE_P | PTE_W), %eax
	movl %eax, 511 * 8(%edi)

	/* SDM vol. 3, 10.8.5 Initializing IA-32e Mode: PAE, CR3, EFER.LME, then
	 * paging. NXE too, so later page tables may use the NX bit. */
	movl %cr4, %eax
	orl $(1 << 5), %eax             /* PAE */
	movl %eax, %cr4
	movl $V2P(boot_pml4), %eax
	movl %eax, %cr3
	movl $0xC0000080, %ecx          /* IA32_EFER */
	rdmsr
	orl $((1 << 8) | (1 << 11)), %eax /* LME, NXE */
	wrmsr
	movl %cr0, %eax
	orl $((1 << 31) | (1 << 16) | 1), %eax /* PG, WP, PE */
	movl %eax, %cr0

	lgdt V2P(boot_gdt_ptr)
	ljmp $0x08, $V2P(mb_entry64)

no_long_mode:
	/* Say why on the serial port (COM1) and stop. */
	movl $V2P(no_lm_msg), %esi
2:	lodsb
	testb %al, %al
	jz 3f
	movw $0x3f8, %dx
	outb %al, %dx
	jmp 2b
3:	hlt
	jmp 3b

	.code64
mb_entry64:
	movabsq $mb_entry_high, %rax
	jmp *%rax

	.text
mb_entry_high:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movabsq $boot_stack_top, %rsp
	xorl %ebp, %ebp

	SSE_ON

	movl mb_magic(%rip), %edi
	movl mb_info(%rip), %esi
	movq boot_tsc(%rip), %rdx
	call multiboot_main
4:	hlt
	jmp 4b

/* Entered by the UEFI loader (see struct om_handoff): already in long mode
 * on its page tables, RDI = physical address of the struct bootinfo. */
	.globl handoff_entry64
handoff_entry64:
	cli
	cld
	movabsq $boot_stack_top, %rsp
	xorl %ebp, %ebp
	call handoff_main
5:	hlt
	jmp 5b

	.section .rodata
no_lm_msg:
	.asciz "om: this CPU has no 64-bit long mode; the node kernel needs x86-64\r\n"

	.align 16
boot_gdt:
	.quad 0
	.quad 0x00209a0000000000        /* 0x08: 64-bit code, DPL 0 */
	.quad 0x0000920000000000        /* 0x10: data, DPL 0 */
boot_gdt_end:
boot_gdt_ptr:
	.word boot_gdt_end - boot_gdt - 1
	.long V2P(boot_gdt)

	.data
	.align 8
mb_magic:	.long 0
mb_info:	.long 0
boot_tsc:	.quad 0

	.bss
	.align 4096
	.globl boot_pml4
boot_pml4:	.skip 4096
boot_pdpt_low:	.skip 4096
boot_pdpt_high:	.skip 4096
boot_pd:	.skip 4096 * 4
	.globl boot_stack_top
boot_stack:	.skip 65536
boot_stack_top:
