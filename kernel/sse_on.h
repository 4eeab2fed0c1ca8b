/* sse_on.h - for the assembly entry paths (boot/multiboot.S, kernel/
 * ap_boot.S): SSE on before any C code runs, since the compiler may use
 * it for copies. CR0: clear EM, set MP; CR4: OSFXSR, OSXMMEXCPT (SDM vol.
 * 3, 13.1.3). Clobbers RAX. */
#ifndef OM_SSE_ON_H
#define OM_SSE_ON_H

.macro SSE_ON
	movq %cr0, %rax
	andq $~(1 << 2), %rax
	orq $(1 << 1), %rax
	movq %rax, %cr0
	movq %cr4, %rax
	orq $((1 << 9) | (1 << 10)), %rax
	movq %rax, %cr4
.endm

#endif
