/* user_asm.h - struct trap_frame offsets and selectors for user_entry.S.
 * kernel/user.c checks them against the C struct at compile time. */
#ifndef OM_USER_ASM_H
#define OM_USER_ASM_H

#define UA_R15 0
#define UA_R14 8
#define UA_R13 16
#define UA_R12 24
#define UA_R11 32
#define UA_R10 40
#define UA_R9 48
#define UA_R8 56
#define UA_RBP 64
#define UA_RDI 72
#define UA_RSI 80
#define UA_RDX 88
#define UA_RCX 96
#define UA_RBX 104
#define UA_RAX 112
#define UA_VECTOR 120
#define UA_ERROR 128
#define UA_RIP 136
#define UA_CS 144
#define UA_RFLAGS 152
#define UA_RSP 160
#define UA_SS 168

#define UA_SEL_UDATA3 0x23 /* SEL_UDATA | RPL 3 */
#define UA_SEL_UCODE3 0x2b /* SEL_UCODE | RPL 3 */
#define UA_T_SYSCALL 256   /* vector number recorded for SYSCALL entries */

/* struct cpu_asm (kernel/percpu.h): one 64-byte slot per core, core i at
 * TSS selector UA_SEL_TSS + 16 i. */
#define UA_MAX_CPUS 64
#define UA_SEL_TSS 0x30
#define CA_SYSCALL_RSP 0
#define CA_TRAP_TOP 8
#define CA_USER_FPU 16
#define CA_KERNEL_FPU 24
#define CA_KERNEL_RSP 32
#define CA_SIZE 64

#endif
