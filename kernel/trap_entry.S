/* trap_entry.S - one small stub per vector, then a common path that builds
 * struct trap_frame (kernel/trap.h) and calls trap_dispatch. The CPU pushes
 * an error code only for some exceptions (SDM vol. 3, 6.13); the others get a
 * zero so every frame has the same shape. */

#include "user_asm.h"

.macro TRAP_NOERR vec
	.globl trap_vec\vec
trap_vec\vec:
	pushq $0
	pushq $\vec
	jmp trap_common
.endm

.macro TRAP_ERR vec
	.globl trap_vec\vec
trap_vec\vec:
	pushq $\vec
	jmp trap_common
.endm

	.text
	.align 16
TRAP_NOERR 0
TRAP_NOERR 1
TRAP_NOERR 2
TRAP_NOERR 3
TRAP_NOERR 4
TRAP_NOERR 5
TRAP_NOERR 6
TRAP_NOERR 7
TRAP_ERR 8
TRAP_NOERR 9
TRAP_ERR 10
TRAP_ERR 11
TRAP_ERR 12
TRAP_ERR 13
TRAP_ERR 14
TRAP_NOERR 15
TRAP_NOERR 16
TRAP_ERR 17
TRAP_NOERR 18
TRAP_NOERR 19
TRAP_NOERR 20
TRAP_ERR 21
.irp v, 22,23,24,25,26,27,28
TRAP_NOERR \v
.endr
TRAP_ERR 29
TRAP_ERR 30
TRAP_NOERR 31
.irp v, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49
TRAP_NOERR \v
.endr
TRAP_NOERR 255

	.globl trap_common
trap_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	/* This core's struct cpu_asm, from its task register (percpu.h),
	 * kept in R12 across the C call. */
	str %ax
	movzwl %ax, %eax
	subl $UA_SEL_TSS, %eax
	shll $2, %eax                       /* / 16 * CA_SIZE */
	leaq cpu_asm(%rip), %r12
	addq %rax, %r12
	/* C code may use SSE registers (the compiler copies structs with them),
	 * so the vector state is saved before any C runs: into the job's area
	 * for a trap from ring 3 (that path never returns here), into the
	 * core's own area for an interrupt of the kernel (interrupt gates do
	 * not nest). */
	movq CA_KERNEL_FPU(%r12), %rdi
	testb $3, 144(%rsp)                 /* CS in struct trap_frame */
	jz 1f
	movq CA_USER_FPU(%r12), %rdi
1:	call fpu_save_to
	movq %rsp, %rdi
	/* The SysV ABI wants a 16-byte aligned stack at the call. */
	movq %rsp, %rbx
	andq $~15, %rsp
	call trap_dispatch
	movq %rbx, %rsp
	movq CA_KERNEL_FPU(%r12), %rdi
	call fpu_restore_from
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp /* vector, error */
	iretq

/* fpu_save_to(area) / fpu_restore_from(area): XSAVE of every enabled
 * component, or FXSAVE where the CPU has no XSAVE. Clobber RAX and RDX only. */
	.globl fpu_save_to, fpu_restore_from
fpu_save_to:
	movl $-1, %eax
	movl $-1, %edx
	cmpb $0, fpu_use_xsave(%rip)
	je 2f
	xsave64 (%rdi)
	ret
2:	fxsave64 (%rdi)
	ret
fpu_restore_from:
	movl $-1, %eax
	movl $-1, %edx
	cmpb $0, fpu_use_xsave(%rip)
	je 3f
	xrstor64 (%rdi)
	ret
3:	fxrstor64 (%rdi)
	ret

	.bss
	.align 64
kernel_trap_fpu:                        /* the boot core's; the others' are malloc'd */
	.skip 16384
	.data
	.globl fpu_use_xsave
fpu_use_xsave:	.byte 0
	.align 64
	.globl cpu_asm
cpu_asm:
	.quad 0, 0, 0, kernel_trap_fpu, 0, 0, 0, 0
	.skip CA_SIZE * (UA_MAX_CPUS - 1)

	.section .rodata
	.align 8
	.globl trap_vectors
trap_vectors:
.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad trap_vec\v
.endr
.irp v, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49
	.quad trap_vec\v
.endr
	.globl trap_vec_spurious
	.set trap_vec_spurious, trap_vec255
