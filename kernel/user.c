/* user.c - running a job in ring 3: MSR set-up, FPU state switching, and the
 * C side of user_entry.S. */
#include <stddef.h>

#include "console.h"
#include "cpu.h"
#include "fpu.h"
#include "job.h"
#include "mm.h"
#include "percpu.h"
#include "timers.h"
#include "trap.h"
#include "user_asm.h"

#define MSR_EFER 0xc0000080
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_FMASK 0xc0000084
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define EFER_SCE (1ULL << 0)
#define CR4_FSGSBASE (1ULL << 16)
#define RFLAGS_IF 0x200ULL
/* What a program may hold in RFLAGS: CF PF AF ZF SF TF DF OF AC ID (plus
 * the always-one bit 1); IOPL, NT, RF, VM, VIF/VIP stay the kernel's (an
 * IRET with NT set would fault in the kernel). */
#define RFLAGS_USER 0x250dd5ULL

_Static_assert(offsetof(struct trap_frame, r11) == UA_R11, "trap_frame layout");
_Static_assert(offsetof(struct trap_frame, rax) == UA_RAX, "trap_frame layout");
_Static_assert(offsetof(struct trap_frame, vector) == UA_VECTOR, "trap_frame layout");
_Static_assert(offsetof(struct trap_frame, rip) == UA_RIP, "trap_frame layout");
_Static_assert(offsetof(struct trap_frame, ss) == UA_SS, "trap_frame layout");
_Static_assert(UA_SEL_UDATA3 == (SEL_UDATA | 3) && UA_SEL_UCODE3 == (SEL_UCODE | 3), "selectors");
_Static_assert(UA_SEL_TSS == SEL_TSS && UA_MAX_CPUS == SMP_MAX_CPUS, "per-core slots");
_Static_assert(sizeof(struct cpu_asm) == CA_SIZE && offsetof(struct cpu_asm, syscall_rsp) == CA_SYSCALL_RSP &&
	       offsetof(struct cpu_asm, trap_top) == CA_TRAP_TOP && offsetof(struct cpu_asm, user_fpu) == CA_USER_FPU &&
	       offsetof(struct cpu_asm, kernel_fpu) == CA_KERNEL_FPU &&
	       offsetof(struct cpu_asm, kernel_rsp) == CA_KERNEL_RSP, "struct cpu_asm layout");

extern const uint8_t syscall_stubs[]; /* one per core, CA_SIZE bytes apart */
extern int user_enter(struct trap_frame *tf, uint64_t *kernel_rsp);
extern void user_leave(int event, uint64_t kernel_rsp) __attribute__((noreturn));
/* In kernel/trap_entry.S: they run before any C code can touch SSE. */
extern void fpu_save_to(uint8_t *area);
extern void fpu_restore_from(uint8_t *area);
extern uint8_t fpu_use_xsave;

static int have_fsgsbase;
static uint8_t boot_trap_stack[16384] __attribute__((aligned(16)));

void user_init(int cpu, uint64_t trap_top)
{
	uint32_t r[4];
	fpu_use_xsave = (uint8_t)fpu_has_xsave();
	cpuid(7, 0, r);
	if (r[1] & 1) { /* FSGSBASE: home may have told the program it can use it */
		write_cr4(read_cr4() | CR4_FSGSBASE);
		have_fsgsbase = 1;
	}
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
	/* SYSRET would load CS = STAR[63:48] + 16 and SS = STAR[63:48] + 8. */
	wrmsr(MSR_STAR, ((uint64_t)SEL_UCODE32 << 48) | ((uint64_t)SEL_KCODE << 32));
	wrmsr(MSR_LSTAR, (uint64_t)(syscall_stubs + cpu * CA_SIZE));
	wrmsr(MSR_FMASK, 0x44700); /* IF, TF, DF, NT, AC cleared on entry */
	if (!trap_top)
		trap_top = (uint64_t)(boot_trap_stack + sizeof boot_trap_stack);
	cpu_asm[cpu].trap_top = trap_top;
	tss_set_rsp0(cpu, trap_top);
}

enum job_event job_run(struct job *j)
{
	/* IRET to a non-canonical RIP and WRMSR of a non-canonical base both
	 * fault in the kernel: a job asking for that gets SIGSEGV instead. */
	if (j->regs.rip >= UVM_TOP || j->fs_base >= UVM_TOP || j->gs_base >= UVM_TOP) {
		j->fault_addr = j->regs.rip;
		return JOB_EV_BADSTATE;
	}
	j->regs.rflags = (j->regs.rflags & RFLAGS_USER) | RFLAGS_IF | 2;
	j->regs.cs = SEL_UCODE | 3;
	j->regs.ss = SEL_UDATA | 3;
	uvm_activate(&j->p->uvm);
	wrmsr(MSR_FS_BASE, j->fs_base);
	wrmsr(MSR_GS_BASE, j->gs_base);
	fpu_restore_from(j->xsave);
	struct cpu *c = this_cpu();
	cpu_asm[c->index].user_fpu = (uint64_t)j->xsave;
	cpu_cli(); /* the IRET turns interrupts back on in ring 3 */
	enum job_event ev;
	if (c->kick) { /* sched_park wants the job: it gets it as it is */
		c->kick = 0;
		ev = JOB_EV_IRQ;
	} else {
		decide_runs(j); /* its own process's only thread: no other core writes it */
		ev = (enum job_event)user_enter(&j->regs, &cpu_asm[c->index].kernel_rsp);
	}
	cpu_sti();
	return ev;
}

void user_trap(struct trap_frame *tf)
{
	struct cpu *c = this_cpu();
	struct job *j = c->cur; /* sched_step's: set until the job is back */
	if (!j)
		panic("trap from ring 3 with no job");
	j->regs = *tf;
	if (tf->vector == 14)
		j->fault_addr = read_cr2();
	/* The vector state is already in j->xsave (trap_entry.S). */
	if (have_fsgsbase) { /* the program may have changed them itself */
		j->fs_base = rdmsr(MSR_FS_BASE);
		j->gs_base = rdmsr(MSR_GS_BASE);
	}
	uint64_t rsp = cpu_asm[c->index].kernel_rsp;
	if (tf->vector == UA_T_SYSCALL)
		user_leave(JOB_EV_SYSCALL, rsp);
	if (tf->vector >= T_PIC_BASE)
		user_leave(JOB_EV_IRQ, rsp);
	user_leave(JOB_EV_FAULT, rsp);
}
