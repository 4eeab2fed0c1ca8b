/* inject.h - run system calls inside a stopped tracee, and copy memory in
 * and out of it. Home side only (Linux, x86-64).
 *
 * The deputy executes a forwarded call by making the original process run
 * it: registers are saved, rip points at a `syscall; int3` stub, the tracee
 * runs until the int3, the result is read from rax and every register is put
 * back. The stub and a data area live in a scratch region the deputy maps
 * into the tracee once (inject_setup); its address travels in the image so
 * the node never maps anything there.
 *
 * Signals during an injected call: a signal that stops the tracee before the
 * int3 is recorded, with its siginfo, in 'sigs' (in order; a real-time
 * signal once per instance) and NOT delivered at home: the job's signals belong to the job, wherever it runs, and the
 * caller decides (the deputy forwards them to the node). Because no handler
 * runs, the kernel restarts an interrupted call as if SA_RESTART were set
 * (ERESTARTSYS, ERESTARTNOHAND, ERESTART_RESTARTBLOCK); only calls that the
 * kernel ends with EINTR regardless return -EINTR. With 'interruptible' set
 * (the deputy of a job: the job's own signal handling decides, on the node)
 * an interrupted call is not restarted but returns its restart code
 * (INJECT_ERESTART_MIN..MAX, kernel-internal values user space never sees).
 * That holds for a signal that arrives before the call begins too, and
 * 'interrupt_next' does the same for a signal that is not there: the next
 * injected call, if it blocks, is interrupted (PTRACE_INTERRUPT) and returns
 * its restart code, as with a signal pending when it began; a call that
 * does not block completes. It is cleared by that call. SIGKILL ends the tracee:
 * the call fails with -ESRCH and 'dead' is set. A fault the injected call
 * itself causes (a kernel-generated SIGSEGV, SIGBUS, SIGILL, SIGFPE or
 * SIGTRAP, e.g. the registered rseq area was unmapped) fails the call with
 * -EFAULT; the registers are restored and the signal is not delivered.
 *
 * An execve that succeeds (the tracee traced with PTRACE_O_TRACEEXEC) leaves
 * the tracee at its PTRACE_EVENT_EXEC stop, the new program's registers
 * in place: the call returns INJECT_EXECED with *ret 0, the scratch region
 * is gone with the old memory, memfd is the new memory's, and calls can be
 * injected there (inject_syscall_here: no scratch region) before any of
 * the new program runs.
 *
 * All calls require the tracee to be in a ptrace stop and leave it in one.
 * Functions return 0 or -errno. */
#ifndef OM_INJECT_H
#define OM_INJECT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define INJECT_CODE_SIZE 4096u          /* RX page holding the stub */
#define INJECT_ERESTART_MIN (-516)      /* ERESTART_RESTARTBLOCK */
#define INJECT_ERESTART_MAX (-512)      /* ERESTARTSYS */
#define INJECT_DATA_SIZE (2u << 20)     /* RW data area after it */
#define INJECT_SIGINFO_SIZE 128u        /* siginfo_t */
#define INJECT_SIGS_MAX 256u            /* instances recorded; more merge */
#define INJECT_EXECED 1                 /* an injected execve succeeded */

/* A signal instance the deputy took from the tracee. */
struct inject_sig {
	int sig;
	uint8_t info[INJECT_SIGINFO_SIZE]; /* its siginfo_t */
};

struct inject {
	pid_t pid;
	int memfd;          /* /proc/PID/mem, read-write; -1 when closed */
	uint64_t scratch;   /* region base, 0 before inject_setup */
	uint64_t scratch_len; /* INJECT_CODE_SIZE + INJECT_DATA_SIZE */
	uint64_t stub;      /* `syscall; int3` */
	uint64_t data;      /* data area, INJECT_DATA_SIZE bytes */
	struct inject_sig sigs[INJECT_SIGS_MAX]; /* arrived during injected calls */
	unsigned nsigs;
	int dead;           /* the tracee is gone; 'status' is its wait status */
	int interruptible;  /* a signal ends a blocked injected call (below) */
	int interrupt_next; /* the next call must not block (below) */
	/* While an injected call runs, watch_fd is watched too (with chld_fd,
	 * a signalfd for SIGCHLD, which says the tracee stopped): when it is
	 * readable, watch(watch_ctx, 1) runs, and a call it answers 1 for is
	 * cut short as interrupt_next would (it returns its restart code if it
	 * blocks); 0 goes on, -1 stops watching. watch(watch_ctx, 0) runs once
	 * before the wait, for what the watcher has read already. watch_fd -1:
	 * none. */
	int watch_fd, chld_fd;
	int (*watch)(void *ctx, int readable);
	void *watch_ctx;
	/* While it waits for a tracee that leads other traced threads, reap
	 * (NULL: none) collects those that ended: Linux reports the leader's
	 * end only once they are collected (a SIGKILL of the process). */
	void (*reap)(void *ctx);
	void *reap_ctx;
	int status;
};

/* Opens /proc/PID/mem. No scratch region yet: only memory copies and
 * inject_syscall_here work. */
int inject_open(struct inject *in, pid_t pid);
/* Maps the scratch region: mmap and mprotect run by writing `syscall; int3`
 * over the bytes at the tracee's rip for the duration of each call (those
 * bytes and all registers are restored). rip must be in executable memory,
 * as it is at the entry stop. */
int inject_setup(struct inject *in);
/* The same at addr (MAP_FIXED: what was there goes), for a process that
 * must have it where an image has it; -EBUSY when its instruction
 * pointer, which the setup's own calls run at, lies there. */
int inject_setup_at(struct inject *in, uint64_t addr);
/* Runs system call nr with args[0..5] (rdi rsi rdx r10 r8 r9) through the
 * stub; *ret is the raw result (negative errno on failure of the call).
 * INJECT_EXECED for a successful execve (above). */
int inject_syscall(struct inject *in, long nr, const uint64_t args[6], int64_t *ret);
/* The same, with the stub written temporarily at the current rip: works
 * without (or after removing) the scratch region. */
int inject_syscall_here(struct inject *in, long nr, const uint64_t args[6], int64_t *ret);
/* rt_sigaction(sig) with handler and flags (no mask, no restorer), and
 * rt_sigprocmask(how, set), their structures written at the tracee's
 * address at. 0 or -errno (the call's, or the deputy's). */
int inject_sigaction(struct inject *in, int sig, uint64_t handler, uint64_t flags, uint64_t at);
int inject_sigmask(struct inject *in, int how, uint64_t set, uint64_t at);
/* Copies n bytes from/to the tracee: process_vm_readv/writev, falling back
 * to /proc/PID/mem (which ignores page protections) when that fails. */
int inject_read(struct inject *in, uint64_t addr, void *buf, size_t n);
int inject_write(struct inject *in, uint64_t addr, const void *buf, size_t n);
/* Moves the recorded signal instances, oldest first, to out (room for
 * INJECT_SIGS_MAX) and clears them; returns how many. */
unsigned inject_take_signals(struct inject *in, struct inject_sig *out);
/* Forgets the n oldest recorded instances (they went with an image). */
void inject_drop_signals(struct inject *in, unsigned n);
/* Makes a recorded instance pending again, sent from the caller's process:
 * to tid's process (any thread's tid names it), with its siginfo where
 * Linux lets another process queue that (rt_sigqueueinfo takes a negative
 * si_code but SI_TKILL), else as kill(2) sends it; one a tgkill sent
 * (SI_TKILL) to the thread tid itself. Others aimed at one thread (a
 * timer's SIGEV_THREAD_ID, pthread_sigqueue) go to the process: siginfo
 * does not say they were. */
void inject_raise(pid_t tid, const struct inject_sig *s);
/* At an exec stop the execve has not returned: the kernel stores its
 * result (0, read's number) in rax after the stop, so the first call
 * injected would run as a read. This one, of nothing from no descriptor,
 * takes that turn; calls go in as usual after it. (An injected execve
 * that succeeds has run it already.) */
int inject_exec_turn(struct inject *in);
/* Unmaps the scratch region (via inject_syscall_here) and closes memfd.
 * Safe to call on a dead tracee (then it only closes). */
int inject_teardown(struct inject *in);
/* Closes memfd without touching the tracee. */
void inject_close(struct inject *in);

#endif
