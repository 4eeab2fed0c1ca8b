/* sysmisc: the smaller calls a program may make: resource usage, memory
 * locking and residency, the CPU it runs on, memory barriers, the robust
 * futex list, clocks the node does not keep, system calls Linux dropped,
 * a futex wait that times out. Prints what a run on any machine gives. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

#include "show.h"

/* Linux's numbers (linux/futex.h, linux/membarrier.h: not in musl's headers) */
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAIT_BITSET_PRIVATE 137
#define MEMBARRIER_CMD_QUERY 0
#define MEMBARRIER_CMD_PRIVATE_EXPEDITED 8
#define MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED 16
#define NR_create_module 174
#define NR_nfsservctl 180
#ifndef CLOCK_TAI
#define CLOCK_TAI 11
#endif
#ifndef CLOCK_BOOTTIME_ALARM
#define CLOCK_BOOTTIME_ALARM 9
#endif

static long usec(struct timeval t) { return t.tv_sec * 1000000L + t.tv_usec; }

static void usage(void)
{
	struct rusage ru0, ru1, ch;
	struct tms t0, t1;
	struct timespec a, b;
	clock_t c0 = times(&t0);
	getrusage(RUSAGE_SELF, &ru0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	do
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	while ((b.tv_sec - a.tv_sec) * 1000000000L + b.tv_nsec - a.tv_nsec < 300000000L);
	getrusage(RUSAGE_SELF, &ru1);
	clock_t c1 = times(&t1);
	long du = usec(ru1.ru_utime) + usec(ru1.ru_stime) - usec(ru0.ru_utime) - usec(ru0.ru_stime);
	printf("rusage cpu grew >= 250 ms: %d\n", du >= 250000);
	printf("rusage maxrss > 0: %d\n", ru1.ru_maxrss > 0);
	printf("times grew: %d, clock grew: %d\n",
	       t1.tms_utime + t1.tms_stime - t0.tms_utime - t0.tms_stime >= 25, c1 - c0 >= 25);
	memset(&ch, 0xff, sizeof ch);
	SHOW("getrusage children", getrusage(RUSAGE_CHILDREN, &ch));
	printf("children's utime %ld\n", (long)ch.ru_utime.tv_sec);
	SHOW("getrusage bad who", getrusage(7, &ch));
	SHOW("getrusage bad pointer", syscall(SYS_getrusage, RUSAGE_SELF, (void *)8));
	SHOW("times(NULL) > 0", times(NULL) > 0 ? 0 : -1);
}

static void memory(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	unsigned char vec[4];
	char *m = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	m[0] = 1;
	m[2 * pg] = 1;
	SHOW("mincore", mincore(m, 4 * pg, vec));
	printf("resident: %d%d%d%d\n", vec[0] & 1, vec[1] & 1, vec[2] & 1, vec[3] & 1);
	SHOW("mincore unaligned", mincore(m + 1, pg, vec));
	SHOW("mincore bad vector", mincore(m, pg, (unsigned char *)8));
	SHOW("mlock", mlock(m + 10, pg));
	SHOW("munlock", munlock(m, 4 * pg));
	SHOW("mlock2 bad flags", syscall(SYS_mlock2, m, pg, 8));
	SHOW("mlockall bad flags", mlockall(0));
	SHOW("munlockall", munlockall());
	SHOW("msync", msync(m, 4 * pg, MS_SYNC));
	SHOW("msync both", msync(m, pg, MS_SYNC | MS_ASYNC));
	SHOW("msync unaligned", msync(m + 1, pg, MS_SYNC));
	munmap(m, 4 * pg);
	SHOW("msync unmapped", msync(m, pg, MS_ASYNC));
	SHOW("mincore unmapped", mincore(m, pg, vec));
	SHOW("mlock unmapped", mlock(m, pg));
}

static void cpu_and_barriers(void)
{
	unsigned cpu = 99, node = 99;
	SHOW("getcpu", syscall(SYS_getcpu, &cpu, &node, NULL));
	printf("numa node %u\n", node);
	SHOW("getcpu bad pointer", syscall(SYS_getcpu, (void *)8, NULL, NULL));
	printf("sched_getcpu valid: %d\n", sched_getcpu() >= 0);
	long q = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
	printf("membarrier query has private expedited: %d\n", q > 0 && (q & MEMBARRIER_CMD_PRIVATE_EXPEDITED));
	SHOW("membarrier unregistered", syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0));
	SHOW("membarrier register", syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0));
	SHOW("membarrier", syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0));
}

static void robust_and_clocks(void)
{
	void *head = NULL;
	size_t len = 0;
	SHOW("get_robust_list", syscall(SYS_get_robust_list, 0, &head, &len));
	printf("robust list: len %zu, set %d\n", len, head != NULL);
	SHOW("get_robust_list bad pointer", syscall(SYS_get_robust_list, 0, (void *)8, &len));
	struct timespec tai, rt;
	clock_gettime(CLOCK_REALTIME, &rt);
	SHOW("clock_gettime(CLOCK_TAI)", clock_gettime(CLOCK_TAI, &tai));
	printf("TAI close to realtime: %d\n", tai.tv_sec - rt.tv_sec >= 0 && tai.tv_sec - rt.tv_sec < 100);
	SHOW("clock_getres(CLOCK_BOOTTIME_ALARM)", clock_getres(CLOCK_BOOTTIME_ALARM, &tai));
	SHOW("create_module", syscall(NR_create_module, 0, 0));
	SHOW("nfsservctl", syscall(NR_nfsservctl, 0, 0, 0));
	SHOW("restart_syscall", syscall(SYS_restart_syscall));
}

static void futex_timeouts(void)
{
	int word = 0;
	struct timespec to = { 0, 20000000 }, abs;
	SHOW("futex wait", syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &to, NULL, 0));
	SHOW("futex value changed", syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 1, &to, NULL, 0));
	clock_gettime(CLOCK_MONOTONIC, &abs);
	abs.tv_nsec += 20000000;
	if (abs.tv_nsec >= 1000000000) {
		abs.tv_sec++;
		abs.tv_nsec -= 1000000000;
	}
	SHOW("futex wait_bitset", syscall(SYS_futex, &word, FUTEX_WAIT_BITSET_PRIVATE, 0, &abs, NULL, ~0u));
	SHOW("futex wait_bitset 0", syscall(SYS_futex, &word, FUTEX_WAIT_BITSET_PRIVATE, 0, &abs, NULL, 0));
	to.tv_nsec = 1000000000;
	SHOW("futex bad timeout", syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &to, NULL, 0));
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	usage();
	memory();
	cpu_and_barriers();
	robust_and_clocks();
	futex_timeouts();
	return 0;
}
