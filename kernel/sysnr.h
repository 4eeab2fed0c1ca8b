/* sysnr.h - Linux x86-64 system call numbers the node answers itself
 * (arch/x86/entry/syscalls/syscall_64.tbl). */
#ifndef OM_SYSNR_H
#define OM_SYSNR_H

enum {
	NR_read = 0, NR_write = 1, NR_mmap = 9, NR_mprotect = 10, NR_munmap = 11, NR_brk = 12,
	NR_rt_sigaction = 13, NR_rt_sigprocmask = 14, NR_rt_sigreturn = 15, NR_sched_yield = 24,
	NR_mremap = 25, NR_madvise = 28, NR_pause = 34, NR_nanosleep = 35, NR_getpid = 39,
	NR_exit = 60, NR_kill = 62, NR_uname = 63, NR_umask = 95, NR_gettimeofday = 96,
	NR_getuid = 102, NR_getgid = 104, NR_geteuid = 107, NR_getegid = 108, NR_getppid = 110,
	NR_getpgrp = 111, NR_getresuid = 118, NR_getresgid = 120, NR_getpgid = 121,
	NR_getsid = 124, NR_rt_sigsuspend = 130, NR_sigaltstack = 131, NR_arch_prctl = 158,
	NR_gettid = 186, NR_tkill = 200, NR_time = 201, NR_futex = 202,
	NR_set_tid_address = 218, NR_clock_gettime = 228, NR_clock_getres = 229,
	NR_clock_nanosleep = 230, NR_exit_group = 231, NR_tgkill = 234,
	NR_set_robust_list = 273, NR_get_robust_list = 274, NR_getrandom = 318, NR_rseq = 334,
};

#endif
