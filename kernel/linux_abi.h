/* linux_abi.h - the bits of the Linux x86-64 user ABI the node implements
 * itself. newlib's <errno.h> numbers are not Linux's beyond 34, so code
 * that answers a program uses these LX_ names only. */
#ifndef OM_LINUX_ABI_H
#define OM_LINUX_ABI_H

#include <stdint.h>

/* errno (asm-generic/errno-base.h, errno.h) */
#define LX_EPERM 1
#define LX_ENOENT 2
#define LX_ESRCH 3
#define LX_EINTR 4
#define LX_EBADF 9
#define LX_EAGAIN 11
#define LX_ENOMEM 12
#define LX_EACCES 13
#define LX_EFAULT 14
#define LX_EEXIST 17
#define LX_EINVAL 22
#define LX_ENOTSUP 95
#define LX_ENAMETOOLONG 36
#define LX_ENOSYS 38
#define LX_ETIMEDOUT 110
/* Kernel-internal "interrupted by a signal" codes (include/linux/errno.h):
 * the deputy passes them on, and the node decides as Linux's signal code
 * does whether the call starts again or fails with EINTR. */
#define LX_ERESTARTSYS (-512)
#define LX_ERESTARTNOINTR (-513)
#define LX_ERESTARTNOHAND (-514)
#define LX_ERESTART_RESTARTBLOCK (-516)
#define LX_ERESTART_MIN LX_ERESTART_RESTARTBLOCK
#define LX_ERESTART_MAX LX_ERESTARTSYS

/* signals */
#define LX_SIGHUP 1
#define LX_SIGINT 2
#define LX_SIGQUIT 3
#define LX_SIGILL 4
#define LX_SIGTRAP 5
#define LX_SIGABRT 6
#define LX_SIGBUS 7
#define LX_SIGFPE 8
#define LX_SIGKILL 9
#define LX_SIGSEGV 11
#define LX_SIGPIPE 13
#define LX_SIGALRM 14
#define LX_SIGTERM 15
#define LX_SIGCHLD 17
#define LX_SA_NOCLDSTOP 1
#define LX_SA_NOCLDWAIT 2
#define LX_SIGCONT 18
#define LX_SIGSTOP 19
#define LX_SIGTSTP 20
#define LX_SIGTTIN 21
#define LX_SIGTTOU 22
#define LX_SIGURG 23
#define LX_SIGWINCH 28
#define LX_SIGVTALRM 26
#define LX_SIGPROF 27
#define LX_SIGRTMIN 32 /* the kernel's: real-time signals are queued */

#define LX_SIG_DFL 0
#define LX_SIG_IGN 1
#define LX_SA_SIGINFO 0x00000004
#define LX_SA_ONSTACK 0x08000000
#define LX_SA_RESTORER 0x04000000
#define LX_SA_RESTART 0x10000000
#define LX_SA_NODEFER 0x40000000
#define LX_SA_RESETHAND 0x80000000
#define LX_SS_ONSTACK 1
#define LX_SS_DISABLE 2
#define LX_SIG_BLOCK 0
#define LX_SIG_UNBLOCK 1
#define LX_SIG_SETMASK 2

/* si_code values */
#define LX_SI_USER 0
#define LX_SI_KERNEL 0x80
#define LX_SI_QUEUE (-1)
#define LX_SI_TIMER (-2)
#define LX_SI_TKILL (-6)
#define LX_SEGV_MAPERR 1
#define LX_SEGV_ACCERR 2
#define LX_FPE_INTDIV 1
#define LX_ILL_ILLOPN 2
#define LX_TRAP_BRKPT 1
#define LX_BUS_ADRALN 1

/* mmap */
#define LX_PROT_READ 1
#define LX_PROT_WRITE 2
#define LX_PROT_EXEC 4
#define LX_MAP_SHARED 0x01
#define LX_MAP_PRIVATE 0x02
#define LX_MAP_FIXED 0x10
#define LX_MAP_ANONYMOUS 0x20
#define LX_MAP_GROWSDOWN 0x100
#define LX_MAP_NORESERVE 0x4000
#define LX_MAP_POPULATE 0x8000
#define LX_MAP_STACK 0x20000
#define LX_MAP_FIXED_NOREPLACE 0x100000
#define LX_MADV_DONTNEED 4
#define LX_MADV_FREE 8
#define LX_MADV_DONTFORK 10
#define LX_MADV_WIPEONFORK 18
#define LX_MS_ASYNC 1
#define LX_MS_INVALIDATE 2
#define LX_MS_SYNC 4
#define LX_MLOCK_ONFAULT 1
#define LX_MCL_CURRENT 1
#define LX_MCL_FUTURE 2
#define LX_MCL_ONFAULT 4

/* clocks */
#define LX_CLOCK_REALTIME 0
#define LX_CLOCK_MONOTONIC 1
#define LX_CLOCK_PROCESS_CPUTIME_ID 2
#define LX_CLOCK_THREAD_CPUTIME_ID 3
#define LX_CLOCK_MONOTONIC_RAW 4
#define LX_CLOCK_REALTIME_COARSE 5
#define LX_CLOCK_MONOTONIC_COARSE 6
#define LX_CLOCK_BOOTTIME 7
#define LX_TIMER_ABSTIME 1

/* timers */
#define LX_ITIMER_REAL 0
#define LX_ITIMER_VIRTUAL 1
#define LX_ITIMER_PROF 2
#define LX_SIGEV_SIGNAL 0
#define LX_SIGEV_NONE 1
#define LX_SIGEV_THREAD 2
#define LX_SIGEV_THREAD_ID 4

/* arch_prctl */
#define LX_ARCH_SET_GS 0x1001
#define LX_ARCH_SET_FS 0x1002
#define LX_ARCH_GET_FS 0x1003
#define LX_ARCH_GET_GS 0x1004

struct lx_timespec {
	int64_t tv_sec, tv_nsec;
};

struct lx_timeval {
	int64_t tv_sec, tv_usec;
};

/* wait(2) status words */
#define LX_W_EXITED(code) (((code) & 0xff) << 8)
#define LX_W_SIGNALED(sig, core) (((sig) & 0x7f) | ((core) ? 0x80 : 0))

#endif
