/* restart.h - what Linux does with a system call a signal interrupted,
 * for a process the deputy moves while it is in one.
 *
 * A process stopped in a blocking call (PTRACE_INTERRUPT) shows the
 * call's number in orig_rax and a kernel-internal restart code in rax.
 * Natively the kernel decides when the process goes on, by the signals
 * then pending (arch/x86/kernel/signal.c: handle_signal and
 * arch_do_signal_or_restart): with no handler to run, every code but
 * ERESTART_RESTARTBLOCK runs the call again; with one, ERESTARTNOHAND and
 * ERESTART_RESTARTBLOCK return EINTR, ERESTARTSYS returns EINTR unless
 * the handler has SA_RESTART, and ERESTARTNOINTR runs it again. A moved
 * process goes on on its node, so the deputy decides for the kernel, with
 * the signals pending when the image is taken. Home side only. */
#ifndef OM_RESTART_H
#define OM_RESTART_H

#include <stdint.h>
#include <sys/types.h>

/* The codes (include/linux/errno.h), positive. */
#define RESTART_SYS 512
#define RESTART_NOINTR 513
#define RESTART_NOHAND 514
#define RESTART_BLOCK 516

enum restart_how {
	RESTART_AGAIN = 1, /* the call runs again: rip back over SYSCALL */
	RESTART_EINTR,     /* it returns -EINTR, and the handler runs */
	RESTART_KERNEL     /* restart_syscall(2): only the kernel that slept can */
};

/* The restart code the registers of a stopped process show (rax, orig_rax),
 * or 0 when it is not in an interrupted call. */
int restart_code(uint64_t rax, uint64_t orig_rax);
/* A call in its restart block (RESTART_BLOCK: the kernel keeps when it
 * ends) that can be made again with its arguments instead, as a call
 * with RESTART_NOHAND would (with a handler to run, EINTR): a wait whose
 * end is absolute (FUTEX_WAIT_BITSET) is the same wait; a relative
 * timeout (poll, nanosleep, clock_nanosleep, FUTEX_WAIT) starts over, a
 * wait longer by the time already waited. orig_rax is the call, or
 * restart_syscall after an earlier interruption: then the call is the one
 * the instruction before SYSCALL loads (before: the 7 bytes ending at
 * SYSCALL's end, `mov $NR, %eax; syscall` in libc's wrappers). rsi is its
 * second argument (a futex's operation). Returns the call's number, or -1
 * when it cannot be made again. */
long restart_again_nr(uint64_t orig_rax, uint64_t rsi, const uint8_t before[7]);
/* What Linux does with code when the process goes on with the signals
 * pending (bit n-1: signal n), of which blocked are blocked, caught have a
 * handler and sa_restart have SA_RESTART. The signal that counts is the
 * lowest one pending, unblocked and caught: the kernel delivers it first
 * (those without a handler before it are ignored, stop the process, or end
 * it, and do not decide). */
enum restart_how restart_decide(int code, uint64_t pending, uint64_t blocked, uint64_t caught,
    uint64_t sa_restart);
/* The signals pending for thread tid now, its own (/proc/TID/status SigPnd)
 * and, with shared, its process's (ShdPnd); 0 if unknown. */
uint64_t restart_pending_now(pid_t tid, int shared);

#endif
