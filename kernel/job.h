/* job.h - the programs a node runs.
 *
 * A job is one thread of a process from home: its registers, its
 * FPU/vector state and signal mask; its process (struct proc) holds the
 * address space, signal dispositions, timers and the identity and clocks
 * captured at home. Single-threaded processes are the common case: one
 * job, one proc. The main loop
 * runs it with job_run until it needs the kernel. Main-loop context only. */
#ifndef OM_JOB_H
#define OM_JOB_H

#include <stdint.h>

#include "decide.h"
#include "trap.h"
#include "uvm.h"

#define JOB_NSIG 64

struct job_sigaction {
	uint64_t handler, flags, restorer, mask;
};

/* What the program's handler gets in its siginfo_t: si_code, si_errno and
 * the union's first 32 bytes (siginfo_t bytes 16..47), laid out as si_code
 * and the signal say (_kill, _rt, _timer, _sigchld, _sigfault: all fit),
 * plus the CPU exception behind a fault, for sigcontext. */
struct job_siginfo {
	int32_t code, errnum;
	uint8_t fields[32];
	uint32_t trapno, err;
	int timer;            /* raised by one of the job's POSIX timers (not
			       * only saying SI_TIMER: a program may say that) */
	int node_timer;       /* raised by any of its timers here: a decision (decide.h) */
};

/* A real-time signal instance waiting for delivery: Linux queues each one
 * with its own siginfo (signals below SIGRTMIN are pending at most once,
 * a timer's aside). Linux's bound is RLIMIT_SIGPENDING, in the thousands. */
#define JOB_SIGQUEUE_MAX 1024
struct job_sigqueued {
	int sig;
	struct job_siginfo info;
};

/* Signals pending for a thread, or for its whole process (the first
 * thread that does not block one takes it): pending = info_pending | what
 * sigq holds. info[] keeps the one instance of a signal below SIGRTMIN
 * (or of a real-time one that found the queue full), sigq the real-time
 * ones and the timers', oldest first (malloc'd, JOB_SIGQUEUE_MAX +
 * JOB_TIMERS_MAX). */
struct sigpend {
	uint64_t pending;          /* bit sig - 1 */
	struct job_siginfo info[JOB_NSIG];
	uint64_t info_pending;
	struct job_sigqueued *sigq;
	uint32_t nsigq;
};

/* An interval timer (setitimer) or a POSIX timer (timer_create). */
#define JOB_TIMERS_MAX 32
struct job_timer {
	int used;                /* POSIX timers: the slot holds timer id */
	int32_t id;
	int clock;               /* LX_CLOCK_*: what expires counts */
	uint64_t expires;        /* absolute, on that clock (ns); 0 = disarmed */
	uint64_t interval;       /* ns; 0 = one shot */
	int notify, signo;       /* SIGEV_SIGNAL / SIGEV_NONE / ..., the signal */
	uint64_t value;          /* sigev_value */
	int queued;              /* its signal is pending, not yet delivered */
	uint32_t overrun;        /* expiries while queued */
	uint32_t overrun_last;   /* timer_getoverrun: at the last delivery */
	int32_t tid;             /* SIGEV_THREAD_ID: the thread it signals; 0 the process */
	int32_t owner;           /* CLOCK_THREAD_CPUTIME_ID: whose time it counts; 0 none */
};

struct job_identity {
	int64_t pid, ppid, tid, pgid, sid;
	int64_t uid, euid, suid, gid, egid, sgid;
	uint32_t umask;
	char uts[6][65]; /* sysname nodename release version machine domainname */
};

enum job_state {
	JOB_RUNNABLE,
	JOB_SLEEPING,  /* until wake_ns, or a signal */
	JOB_WAIT_HOME, /* a forwarded call is out */
	JOB_EXITED,
	JOB_DONE       /* a thread that ended while others go on: kept for
			* its process, whose first thread it is (the host's) */
};

/* Why job_run returned. */
enum job_event { JOB_EV_SYSCALL, JOB_EV_IRQ, JOB_EV_FAULT, JOB_EV_BADSTATE };

/* What the threads of one process share: its memory, its signal
 * dispositions, its identity and clocks from home, its timers. Each
 * thread (struct job) points at it; the last thread to go frees it. */
struct proc {
	uint32_t id;               /* the agent's job id */
	int nthreads;              /* threads pointing here */
	struct uvm uvm;
	uint64_t start_brk, brk, mmap_base;
	struct job_sigaction act[JOB_NSIG]; /* index sig - 1 */
	struct sigpend shared;     /* signals sent to the process */
	struct job *threads;       /* its threads, through job->sibling */
	struct job *leader;        /* the one its host knows (the first, or an image's header) */
	int stopped;               /* the stop signal holding it, 0: it runs */
	uint32_t home_xsave_size;  /* the home's XSAVE area size and XCR0: what */
	uint64_t home_xcr0;        /* goes home must fit them (0: not known) */

	/* timers: ITIMER_REAL, _VIRTUAL, _PROF; POSIX timers by id */
	struct job_timer itimer[3];
	struct job_timer timer[JOB_TIMERS_MAX];
	uint32_t timer_next_id;    /* Linux 6.1 hands ids out in turn */

	struct job_identity ident;
	/* resource usage at home when the image was taken (getrusage, times;
	 * the job's CPU clocks count on from utime + stime) */
	struct job_usage {
		uint64_t utime_ns, stime_ns, cutime_ns, cstime_ns;
		uint64_t maxrss_kb, minflt, majflt, nvcsw, nivcsw;
		uint64_t ticks;        /* times(2)'s clock then (USER_HZ) */
	} home_usage;
	uint64_t memlock_max;      /* RLIMIT_MEMLOCK, bytes */
	int lock_future;           /* mlockall(MCL_FUTURE): new mappings are locked */
	/* home clocks at the moment node_ns_base was taken */
	int64_t home_realtime_ns, home_monotonic_ns, home_boottime_ns;
	uint64_t node_ns_base;
	/* Its forwarded calls so far (job_seq.h): the last one numbered, and
	 * the last one handed to the link, which its other frames carry. */
	uint32_t seq, sent;
	uint64_t ran_gone_ns;      /* ring-3 time of its threads that ended */
	int dying;                 /* exit_group or a fatal signal: every thread ends */
	uint32_t exit_code;        /* then, its wait(2) status */
	struct decide dec;         /* what the node decided on its own, for home */
};

/* A clone making a thread (kernel/job_thread.c), while home makes its tid. */
struct job_clone {
	uint64_t flags, stack, parent_tid, child_tid, tls;
};

/* One thread: what the scheduler runs. */
struct job {
	uint32_t id;               /* its process's job id (p->id) */
	struct proc *p;
	struct job *sibling;       /* the next thread of p */
	int64_t tid;
	enum job_state state;
	int cpu;                   /* the core running it in ring 3, -1: none */
	int in_user;               /* set until its registers are back in regs */
	struct trap_frame regs;    /* user registers while not running */
	uint64_t fs_base, gs_base;
	uint8_t *xsave;            /* cpu_xsave_size() bytes, 64-byte aligned */

	/* signals: the mask, those sent to this thread (tgkill, its faults) */
	uint64_t blocked;          /* bit sig - 1 */
	struct sigpend own;
	uint64_t suspend_mask;     /* rt_sigsuspend's saved mask, valid if suspended */
	int suspended;
	/* rt_sigtimedwait in progress: the set it waits for (unblocked while it
	 * waits), the mask to restore, where the siginfo goes */
	uint64_t sigwait_set, sigwait_mask, sigwait_info;
	int sigwaiting;
	uint64_t altstack_sp, altstack_size;
	uint32_t altstack_flags;

	/* thread state kept for the program's libc */
	uint64_t clear_child_tid, robust_list, robust_len;
	uint64_t rseq, rseq_len;
	uint32_t rseq_sig;

	uint64_t fault_addr;       /* CR2 of the last page fault */
	uint64_t wake_ns;          /* JOB_SLEEPING: timer_ns() deadline, UINT64_MAX = none */
	int64_t wake_ret;          /* what the call returns at that deadline */
	uint64_t cpu_ns;           /* time spent in ring 3 */
	uint64_t came_ns;          /* its CPU time before it came to this node */
	int sleep_restart;         /* the sleeping call returns -EINTR when a signal wakes it */
	uint64_t sleep_rem;        /* nanosleep's rem pointer, 0 if none */
	/* JOB_SLEEPING in a futex wait (kernel/futex.c): on which word, for
	 * which bits, since when (waiters are woken oldest first) */
	uint64_t futex_addr, futex_since;
	uint32_t futex_bitset;
	/* A private file mapping being filled from home (mmap of a file):
	 * its pages are read with pread before mmap returns. */
	struct {
		uint64_t addr, len, off, done;
		int64_t fd;
	} fill;
	uint64_t last_nr;          /* the forwarded call in flight or just answered */
	/* Its host's queue of threads whose calls wait for another thread's
	 * (homelink: one call of a process at home at a time): the call
	 * (host_nr -1: a file mapping's fill) and the next in line */
	struct job *host_next;
	int host_nr;
	uint64_t host_args[6];
	unsigned host_cuts;        /* its calls cut short for the others since it had an answer */
	int home_fault;            /* it waits to go home at an instruction, not in a call */
	int cloning;               /* that call is a thread's clone: */
	struct job_clone clone;    /* what it asked for */
	int restart_pending;       /* home interrupted it: rax holds a -ERESTART* code */
	uint32_t exit_code;        /* valid in JOB_EXITED: wait(2) status */
	uint64_t syscalls_local, syscalls_forwarded, faults;
};

/* Creates an empty job in a process of its own (address space, FPU
 * state in its initial form). */
struct job *job_create(uint32_t id);
void job_destroy(struct job *j);
/* Destroys j and every other thread of its process (none on the run list). */
void job_destroy_process(struct job *j);
/* A thread with nothing in it yet in process p (job_thread.c fills it). */
struct job *job_create_thread(struct proc *p, uint32_t id);
/* Puts j's FPU/vector state in its initial form (as after execve; also
 * what a signal handler starts with). */
void job_fpu_init(struct job *j);
/* Runs j in ring 3 until it traps back; returns why. */
enum job_event job_run(struct job *j);
/* Prepares ring-3 entry on core cpu: IA32_STAR/LSTAR/FMASK, EFER.SCE,
 * FSGSBASE, its trap stack (trap_top; 0: the boot core's static one). */
void user_init(int cpu, uint64_t trap_top);
/* Called by trap_dispatch for every trap taken in ring 3; never returns. */
void user_trap(struct trap_frame *tf) __attribute__((noreturn));

#endif
