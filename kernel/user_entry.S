/* user_entry.S - the only doors between the kernel and ring 3.
 *
 * user_enter(frame) saves the kernel's callee-saved registers and stack
 * pointer, loads the job's registers from *frame and IRETs to ring 3. Every
 * way back (SYSCALL, interrupt, exception) lands on the trap stack, builds a
 * struct trap_frame there, and trap_dispatch hands it to user_trap, which
 * copies it into the job and calls user_leave: that drops the trap stack and
 * returns from user_enter on the kernel stack as if it were a normal call.
 * So the main loop sees a job run as one function call. Each core has its
 * own slot for the kernel stack pointer (user_enter's second argument) and
 * its own SYSCALL stub (IA32_LSTAR is per core), which finds its trap stack
 * without a free register. */

#include "user_asm.h"

	.text
	.globl user_enter
user_enter:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, (%rsi)

	/* IRET frame: SS, RSP, RFLAGS, CS, RIP (SDM vol. 3, 6.14.3). */
	pushq $UA_SEL_UDATA3
	pushq UA_RSP(%rdi)
	pushq UA_RFLAGS(%rdi)
	pushq $UA_SEL_UCODE3
	pushq UA_RIP(%rdi)

	movq UA_R15(%rdi), %r15
	movq UA_R14(%rdi), %r14
	movq UA_R13(%rdi), %r13
	movq UA_R12(%rdi), %r12
	movq UA_R11(%rdi), %r11
	movq UA_R10(%rdi), %r10
	movq UA_R9(%rdi), %r9
	movq UA_R8(%rdi), %r8
	movq UA_RBP(%rdi), %rbp
	movq UA_RSI(%rdi), %rsi
	movq UA_RDX(%rdi), %rdx
	movq UA_RCX(%rdi), %rcx
	movq UA_RBX(%rdi), %rbx
	movq UA_RAX(%rdi), %rax
	movq UA_RDI(%rdi), %rdi
	iretq

/* void user_leave(int reason, uint64_t kernel_rsp): back to user_enter's
 * caller, on the stack user_enter saved. */
	.globl user_leave
user_leave:
	movq %rsi, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	movl %edi, %eax
	ret

/* SYSCALL lands here (core n's IA32_LSTAR points at stub n) with RCX =
 * user RIP, R11 = user RFLAGS, IF/TF/DF/AC cleared by IA32_FMASK, and the
 * user's RSP still loaded. Build the same frame an interrupt from ring 3
 * would have pushed, on the core's trap stack, then share the common trap
 * path. Each stub fits in 64 bytes. */
.macro SYSCALL_STUB n
	.balign 64
	movq %rsp, cpu_asm + \n * CA_SIZE + CA_SYSCALL_RSP(%rip)
	movq cpu_asm + \n * CA_SIZE + CA_TRAP_TOP(%rip), %rsp
	pushq $UA_SEL_UDATA3
	pushq cpu_asm + \n * CA_SIZE + CA_SYSCALL_RSP(%rip)
	pushq %r11
	pushq $UA_SEL_UCODE3
	pushq %rcx
	pushq $0
	pushq $UA_T_SYSCALL
	jmp trap_common
.endm

	.altmacro
	.balign 64
	.globl syscall_stubs
syscall_stubs:
	.set stub_n, 0
	.rept UA_MAX_CPUS
	SYSCALL_STUB %stub_n
	.set stub_n, stub_n + 1
	.endr
	.noaltmacro
