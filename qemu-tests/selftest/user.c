/* user.c - a ring-3 program the node kernel runs with om.selftest: it checks
 * the node's own answers (memory, faults, signals, clocks, FPU state) with
 * raw system calls, no libc. Each check prints "user: NAME ok"; the program
 * exits with status 42 when all passed, 1 at the first failure. */
#include <stddef.h>
#include <stdint.h>

#define SYS_write 1
#define SYS_mmap 9
#define SYS_mprotect 10
#define SYS_munmap 11
#define SYS_brk 12
#define SYS_rt_sigaction 13
#define SYS_rt_sigreturn 15
#define SYS_nanosleep 35
#define SYS_getpid 39
#define SYS_kill 62
#define SYS_arch_prctl 158
#define SYS_clock_gettime 228
#define SYS_exit_group 231
#define SYS_rt_sigprocmask 14
#define SYS_clone 56
#define SYS_exit 60
#define SYS_gettid 186
#define SYS_futex 202
#define SYS_tgkill 234
#define SYS_madvise 28

static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	long ret;
	register long r10 __asm__("r10") = d, r8 __asm__("r8") = e, r9 __asm__("r9") = f;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
#define sys(n, a, b, c) sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)

static size_t slen(const char *s) { size_t n = 0; while (s[n]) n++; return n; }
static void say(const char *s) { sys(SYS_write, 1, s, slen(s)); }

static void fail(const char *what)
{
	say("user: FAIL ");
	say(what);
	say("\n");
	sys(SYS_exit_group, 1, 0, 0);
}

static void ok(const char *what)
{
	say("user: ");
	say(what);
	say(" ok\n");
}

/* ---- signals with a restorer, as libc sets them up */
struct ksigaction { void *handler; unsigned long flags; void (*restorer)(void); unsigned long mask; };
#define SA_SIGINFO 4
#define SA_RESTORER 0x04000000

__asm__(".text\n.globl restorer\nrestorer:\n\tmov $15, %eax\n\tsyscall\n");
void restorer(void);

static void on(int sig, void *handler)
{
	struct ksigaction a = { handler, SA_SIGINFO | SA_RESTORER, restorer, 0 };
	if (sys6(SYS_rt_sigaction, sig, (long)&a, 0, 8, 0, 0) != 0)
		fail("rt_sigaction");
}

struct siginfo { int signo, err, code, pad; uint64_t addr; };
/* offsets into the kernel ucontext: uc_mcontext starts at 40; rip at +128 */
#define UC_RIP(uc) (*(uint64_t *)((char *)(uc) + 40 + 128))

static volatile int segv_count, segv_code, fpe_count, usr1_count, cont_count;
static volatile uint64_t segv_addr;
static char *volatile prot_page; /* volatile: stored before the faulting write */

static void segv_handler(int sig, struct siginfo *si, void *uc)
{
	(void)sig, (void)uc;
	segv_count++;
	segv_code = si->code;
	segv_addr = si->addr;
	/* make the page writable again, so the faulting store succeeds on return */
	sys(SYS_mprotect, prot_page, 4096, 3);
}

static void fpe_handler(int sig, struct siginfo *si, void *uc)
{
	(void)sig, (void)si;
	fpe_count++;
	extern char after_div[];
	UC_RIP(uc) = (uint64_t)after_div;
}

static void usr1_handler(int sig, struct siginfo *si, void *uc)
{
	(void)si, (void)uc;
	if (sig == 10)
		usr1_count++;
	/* clobber vector registers: sigreturn must bring the program's back */
	__asm__ volatile("pcmpeqd %%xmm0, %%xmm0\n\tpcmpeqd %%xmm7, %%xmm7" ::: "xmm0", "xmm7");
}

static void cont_handler(int sig, struct siginfo *si, void *uc)
{
	(void)si, (void)uc;
	if (sig == 18)
		cont_count++;
}

static unsigned long recurse(unsigned long n)
{
	volatile char pad[1024];
	pad[0] = (char)n;
	if (n == 0)
		return pad[0];
	return recurse(n - 1) + pad[0];
}

struct ts { long sec, nsec; };
static void threads(void);
static void relocate(void);

void start_c(void)
{
	say("user: hello from ring 3\n");

	/* brk grows and the new pages read as zero */
	uint64_t b0 = (uint64_t)sys(SYS_brk, 0, 0, 0);
	uint64_t b1 = (uint64_t)sys(SYS_brk, b0 + (1 << 20), 0, 0);
	if (b1 != b0 + (1 << 20))
		fail("brk grow");
	for (uint64_t p = b0; p < b1; p += 4096) {
		if (*(volatile char *)p != 0)
			fail("brk zero");
		*(volatile char *)p = 1;
	}
	if ((uint64_t)sys(SYS_brk, b0, 0, 0) != b0)
		fail("brk shrink");
	ok("brk");

	/* 64 MiB of anonymous memory, every page touched */
	size_t big = 64 << 20;
	char *m = (char *)sys6(SYS_mmap, 0, (long)big, 3, 0x22, -1, 0);
	if ((long)m < 0)
		fail("mmap");
	for (size_t i = 0; i < big; i += 4096)
		m[i] = (char)(i >> 12);
	for (size_t i = 0; i < big; i += 4096)
		if (m[i] != (char)(i >> 12))
			fail("mmap pattern");
	if (sys(SYS_munmap, m, big, 0) != 0)
		fail("munmap");
	ok("mmap 64 MiB");

	/* a write to a read-only page: SIGSEGV with SEGV_ACCERR, the handler
	 * fixes the protection, the store is retried and lands */
	on(11, segv_handler);
	prot_page = (char *)sys6(SYS_mmap, 0, 4096, 1, 0x22, -1, 0);
	*(volatile char *)prot_page = 7;
	if (segv_count != 1 || segv_code != 2 || segv_addr != (uint64_t)prot_page || prot_page[0] != 7)
		fail("SIGSEGV handler");
	ok("SIGSEGV handler");

	/* divide by zero: SIGFPE, the handler moves rip past the division */
	on(8, fpe_handler);
	volatile int zero = 0, q = 0;
	__asm__ volatile("movl $1, %%eax\n\tcltd\n\tidivl %1\n\t.globl after_div\nafter_div:" : "=a"(q) : "m"(zero) : "rdx");
	if (fpe_count != 1)
		fail("SIGFPE");
	ok("SIGFPE handler");

	/* kill(self): a handler runs, and the vector registers survive it */
	on(10, usr1_handler);
	/* One asm block, so the compiler cannot use xmm0 in between. */
	uint64_t x0;
	long pid = sys(SYS_getpid, 0, 0, 0);
	__asm__ volatile("movq $0x1234567890abcdef, %%rax\n\t"
			 "movq %%rax, %%xmm0\n\t"
			 "movl $62, %%eax\n\t"
			 "syscall\n\t"
			 "movq %%xmm0, %0"
			 : "=r"(x0)
			 : "D"(pid), "S"(10L)
			 : "rax", "rcx", "r11", "xmm0", "memory");
	if (usr1_count != 1)
		fail("signal to self: handler did not run");
	if (x0 != 0x1234567890abcdefULL)
		fail("signal to self: xmm0 changed");
	ok("signal to self, xmm preserved");

	/* kill(self, SIGTSTP) stops the job; the self-test host answers with
	 * SIGCONT, whose handler runs once the job goes on; a pending SIGCONT
	 * is cancelled by the stop, so only that one arrives */
	on(18, cont_handler);
	if (sys(SYS_kill, pid, 20, 0) != 0 || cont_count != 1)
		fail("stop and SIGCONT");
	ok("stop and SIGCONT");

	/* arch_prctl(ARCH_SET_FS) and an %fs-relative load */
	static uint64_t tls[2] = { 0, 0xfeedface };
	tls[0] = (uint64_t)tls;
	if (sys(SYS_arch_prctl, 0x1002, tls, 0) != 0)
		fail("arch_prctl");
	uint64_t v;
	__asm__ volatile("movq %%fs:8, %0" : "=r"(v));
	if (v != 0xfeedface)
		fail("fs base");
	ok("arch_prctl");

	/* the stack grows on demand */
	if (recurse(1000) == 12345)
		fail("recurse");
	ok("stack growth");

	/* a 50 ms sleep takes at least 50 ms of CLOCK_MONOTONIC */
	struct ts t0, t1, nap = { 0, 50000000 };
	sys(SYS_clock_gettime, 1, &t0, 0);
	if (sys(SYS_nanosleep, &nap, 0, 0) != 0)
		fail("nanosleep");
	sys(SYS_clock_gettime, 1, &t1, 0);
	long ms = (t1.sec - t0.sec) * 1000 + (t1.nsec - t0.nsec) / 1000000;
	if (ms < 50 || ms > 5000)
		fail("sleep length");
	ok("nanosleep");

	threads();
}

/* ---- threads: clone as the C libraries make them, futexes between
 * cores, CLEARTID joins, thread-directed and process-directed signals,
 * the first thread leaving before the last ends the process */
#define CLONE_THREAD_FLAGS 0x3d0f00 /* glibc's: VM FS FILES SIGHAND THREAD SYSVSEM SETTLS PARENT_SETTID CHILD_CLEARTID */
#define NTHREADS 3
#define ROUNDS 200000

/* raw_clone(flags, stack, ptid, ctid, tls): the child pops its function
 * and argument off the new stack, runs it, and exits with its result. */
long raw_clone(long flags, void *stack, int *ptid, int *ctid, void *tls);
__asm__(".text\n.globl raw_clone\nraw_clone:\n"
	"\tmov %rcx, %r10\n\tmov $56, %eax\n\tsyscall\n\ttest %rax, %rax\n\tjnz 1f\n"
	"\tpop %rax\n\tpop %rdi\n\tandq $-16, %rsp\n\tcall *%rax\n"
	"\tmov %eax, %edi\n\tmov $60, %eax\n\tsyscall\n\thlt\n1:\tret\n");

static long futex(volatile int *w, int op, int val)
{
	return sys6(SYS_futex, (long)w, op, val, 0, 0, 0);
}

struct thr {
	uint64_t tls[2];         /* %fs:0 points here, %fs:8 holds its index */
	int ptid, ctid;
	long index;
	volatile int seen_tid;   /* what gettid said in the thread */
	uint64_t stack[2048];
};
static struct thr thr[NTHREADS + 1];
static volatile long counter;
static volatile int go, usr2_tid, usr1_tid, spin_until;
static volatile long wait_wrong;

static int spawn_in(struct thr *t, int i, int (*fn)(long));

static int spawn(int i, int (*fn)(long))
{
	return spawn_in(&thr[i], i, fn);
}

static int spawn_in(struct thr *t, int i, int (*fn)(long))
{
	t->index = i;
	t->tls[0] = (uint64_t)t->tls;
	t->tls[1] = (uint64_t)i;
	uint64_t *sp = &t->stack[2048 - 2];
	sp[0] = (uint64_t)fn;
	sp[1] = (uint64_t)i;
	/* one word for both, as glibc's pthread struct: set by the parent,
	 * cleared when the thread ends */
	long tid = raw_clone(CLONE_THREAD_FLAGS, sp, &t->ctid, &t->ctid, t->tls);
	t->ptid = (int)tid;
	if (tid <= 1 || (t->ctid != tid && t->ctid != 0))
		fail("clone: tid");
	return (int)tid;
}

static int worker(long i)
{
	uint64_t fsidx;
	__asm__ volatile("movq %%fs:8, %0" : "=r"(fsidx));
	thr[i].seen_tid = (int)sys(SYS_gettid, 0, 0, 0);
	if (fsidx != (uint64_t)i)
		return 1;
	for (int k = 0; k < ROUNDS; k++)
		__atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
	while (!go) {
		long r = futex(&go, 0 /* FUTEX_WAIT */, 0);
		if (r != 0 && r != -11 /* EAGAIN */)
			wait_wrong = r; /* after the relocation its wait came back as another call */
	}
	/* the signals: SIGUSR2 aimed at thread 1, SIGUSR1 at the process
	 * while every other thread blocks it */
	if (i == 2) {
		uint64_t usr1 = 1ul << 9;
		sys6(SYS_rt_sigprocmask, 1 /* SIG_UNBLOCK */, (long)&usr1, 0, 8, 0, 0);
	}
	while (i == 1 && !usr2_tid)
		;
	while (i == 2 && !usr1_tid)
		;
	return 0;
}

static void tid_handler(int sig, struct siginfo *si, void *uc)
{
	(void)si, (void)uc;
	int tid = (int)sys(SYS_gettid, 0, 0, 0);
	if (sig == 12)
		usr2_tid = tid;
	else
		usr1_tid = tid;
}

static void join(int i)
{
	int v;
	while ((v = thr[i].ctid) != 0)
		futex(&thr[i].ctid, 0, v);
}

/* A thread whose futex wait ended (woken) and that now sleeps: a wake
 * at address 0 must not take it for a waiter. */
static volatile int fword, fwoken, scribbling, slept_ms = -1;
static volatile uint64_t *volatile scribble_page;

static int sleeper(long i)
{
	(void)i;
	while (futex(&fword, 0, 0) != 0)
		;
	fwoken = 1;
	struct ts t0, t1, nap = { 0, 200000000 };
	sys(SYS_clock_gettime, 1, &t0, 0);
	long r = sys(SYS_nanosleep, &nap, 0, 0);
	sys(SYS_clock_gettime, 1, &t1, 0);
	slept_ms = r != 0 ? 0 : (int)((t1.sec - t0.sec) * 1000 + (t1.nsec - t0.nsec) / 1000000);
	return 0;
}

static int waiter(long i)
{
	(void)i;
	while (fword == 0)
		futex(&fword, 0, 0);
	return 0;
}

/* Calls futex op until it returns want (the other thread waits by then). */
static void until(int op, long val, long val2, long val3, long want, const char *what)
{
	struct ts nap = { 0, 1000000 };
	for (int tries = 0; tries < 2000; tries++) {
		long r = sys6(SYS_futex, (long)&fword, op, val, val2, (long)&fword, val3);
		if (r == want)
			return;
		if (r != 0)
			break;
		sys(SYS_nanosleep, &nap, 0, 0);
	}
	fail(what);
}

/* Writes into a page the other thread keeps discarding (MADV_DONTNEED):
 * a stale TLB entry on this core must never let a write reach the frame
 * once it is freed and handed out again. */
static int scribbler(long i)
{
	(void)i;
	while (scribbling)
		for (int k = 0; k < 512; k++)
			scribble_page[k] = 0x5a5a5a5a5a5a5a5aull;
	return 0;
}

/* More threads than a node runs processes (16): all run, all join. */
#define MANY 24
static struct thr many[MANY];
static volatile long many_sum;
static volatile int many_go;

static int one_of_many(long i)
{
	while (!many_go) /* every one of them lives until the last has started */
		futex(&many_go, 0, 0);
	__atomic_fetch_add(&many_sum, i + 1, __ATOMIC_RELAXED);
	return 0;
}

static void many_threads(void)
{
	for (int i = 0; i < MANY; i++)
		if (spawn_in(&many[i], i, one_of_many) <= 1)
			fail("24 threads: a clone failed");
	many_go = 1;
	futex(&many_go, 1, MANY);
	for (int i = 0; i < MANY; i++) {
		int v;
		while ((v = many[i].ctid) != 0)
			futex(&many[i].ctid, 0, v);
	}
	if (many_sum != MANY * (MANY + 1) / 2)
		fail("24 threads: their sum");
	ok("24 threads at once");
}

static void more_futex(void)
{
	struct ts nap = { 0, 20000000 };
	spawn(0, sleeper);
	until(1 /* WAKE */, 0, 0, 0, 1, "FUTEX_WAKE with count 0"); /* wakes one, as on Linux */
	while (!fwoken)
		;
	sys(SYS_nanosleep, &nap, 0, 0); /* it sleeps in nanosleep now */
	relocate(); /* its nanosleep starts again in the new process */
	if (futex(NULL, 1, 1) != 0)
		fail("FUTEX_WAKE at address 0 woke a thread that does not wait");
	if (futex((volatile int *)((char *)&fword + 1), 1, 1) != -22)
		fail("FUTEX_WAKE at a misaligned address");
	join(0);
	if (slept_ms < 200)
		fail("a nanosleep that went out as an image and came back in was cut short");
	spawn(0, waiter);
	/* onto the same word: it stays, counted once, at once */
	until(4 /* CMP_REQUEUE */, 0, 0x7fffffff, 0, 1, "FUTEX_CMP_REQUEUE onto the same word");
	fword = 1;
	futex(&fword, 1, 1);
	join(0);
	if (raw_clone(CLONE_THREAD_FLAGS, &thr[0].stack[2046], &thr[0].ctid, &thr[0].ctid,
		      (void *)0x800000000000ull) != -1)
		fail("clone with a TLS that is not a user address");
	ok("futex corner cases");

	scribble_page = (uint64_t *)sys6(SYS_mmap, 0, 4096, 3, 0x22, -1, 0);
	scribbling = 1;
	spawn(0, scribbler);
	for (int round = 0; round < 300; round++) {
		sys(SYS_madvise, scribble_page, 4096, 4 /* MADV_DONTNEED */);
		uint64_t *fresh = (uint64_t *)sys6(SYS_mmap, 0, 4096, 3, 0x22, -1, 0);
		uint64_t sum = 0;
		for (int s = 0; s < 20; s++)
			for (int k = 0; k < 512; k++)
				sum |= fresh[k];
		sys(SYS_munmap, fresh, 4096, 0);
		if (sum != 0)
			fail("a write through a stale TLB entry reached a freed frame");
	}
	scribbling = 0;
	join(0);
	ok("TLB shootdown before a frame is freed");
}

/* The host sends the process out as an image and builds it again (write
 * to fd 100): every thread goes on where it was. */
static void relocate(void)
{
	if (sys(SYS_write, 100, "relocate", 8) != 8)
		fail("relocation: the write's result");
}

static int last(long i)
{
	(void)i;
	struct ts nap = { 0, 20000000 };
	sys(SYS_nanosleep, &nap, 0, 0); /* the first thread has left by now */
	say("user: all ok\n");
	sys(SYS_exit_group, 42, 0, 0);
	return 1;
}

static void threads(void)
{
	on(12, tid_handler);
	on(10, tid_handler);
	/* SIGUSR1 blocked in every thread but the one that unblocks it */
	uint64_t usr1 = 1ul << 9;
	sys6(SYS_rt_sigprocmask, 0 /* SIG_BLOCK */, (long)&usr1, 0, 8, 0, 0);
	for (int i = 0; i < NTHREADS; i++)
		spawn(i, worker);
	for (int i = 0; i < NTHREADS; i++)
		while (!thr[i].seen_tid)
			;
	for (int i = 0; i < NTHREADS; i++)
		if (thr[i].seen_tid != thr[i].ptid)
			fail("gettid in a thread");
	ok("clone threads, gettid, TLS");
	relocate(); /* the workers count, or wait in FUTEX_WAIT for go */
	ok("image out and in with every thread");
	/* thread 1 gets SIGUSR2 by tgkill */
	go = 1;
	futex(&go, 1 /* FUTEX_WAKE */, NTHREADS);
	long pid = sys(SYS_getpid, 0, 0, 0);
	if (sys(SYS_tgkill, pid, thr[1].ptid, 12) != 0)
		fail("tgkill");
	join(0);
	join(1);
	if (wait_wrong)
		fail("a FUTEX_WAIT that went out as an image and came back in returned something else");
	if (usr2_tid != thr[1].ptid)
		fail("tgkill: the handler ran in another thread");
	ok("tgkill to a thread");
	if (sys(SYS_kill, pid, 10, 0) != 0)
		fail("kill");
	join(2);
	if (usr1_tid != thr[2].ptid)
		fail("process signal: not taken by the thread that lets it in");
	ok("process signal to the thread that takes it");
	if (counter != (long)NTHREADS * ROUNDS)
		fail("atomic counter across threads");
	ok("futex wake and CLEARTID join");
	more_futex();
	many_threads();
	spawn(NTHREADS, last);
	sys(SYS_exit, 0, 0, 0); /* the process lives on in the last thread */
	fail("exit returned");
}

/* The kernel enters with the stack as execve leaves it; align and go. */
__asm__(".text\n.globl _start\n_start:\n\tandq $-16, %rsp\n\tcall start_c\n\thlt\n");
