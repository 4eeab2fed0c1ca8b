/* restart.c - an interrupted system call, as Linux ends it (restart.h). */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/syscall.h>

#include "restart.h"

#define FUTEX_WAIT 0
#define FUTEX_WAIT_BITSET 9
#define FUTEX_CMD_MASK 0x7f /* without FUTEX_PRIVATE_FLAG, FUTEX_CLOCK_REALTIME */

int restart_code(uint64_t rax, uint64_t orig_rax)
{
	int64_t ret = (int64_t)rax;
	if ((int64_t)orig_rax < 0)
		return 0;
	if (ret == -RESTART_SYS || ret == -RESTART_NOINTR || ret == -RESTART_NOHAND || ret == -RESTART_BLOCK)
		return (int)-ret;
	return 0;
}

enum restart_how restart_decide(int code, uint64_t pending, uint64_t blocked, uint64_t caught,
    uint64_t sa_restart)
{
	uint64_t now = pending & ~blocked & caught;
	uint64_t first = now & -now; /* the lowest signal */
	if (!first || code == RESTART_NOINTR)
		return code == RESTART_BLOCK ? RESTART_KERNEL : RESTART_AGAIN;
	if (code == RESTART_SYS && (sa_restart & first))
		return RESTART_AGAIN;
	return RESTART_EINTR;
}

long restart_again_nr(uint64_t orig_rax, uint64_t rsi, const uint8_t before[7])
{
	long nr = (long)orig_rax;
	if (nr == SYS_restart_syscall) {
		if (before[0] != 0xb8 || before[3] || before[4] || before[5] != 0x0f || before[6] != 0x05)
			return -1; /* not `mov $NR, %eax; syscall` */
		nr = before[1] | before[2] << 8;
	}
	switch (nr) {
	case SYS_poll:
	case SYS_nanosleep:
	case SYS_clock_nanosleep:
		return nr;
	case SYS_futex:
		return (rsi & FUTEX_CMD_MASK) == FUTEX_WAIT || (rsi & FUTEX_CMD_MASK) == FUTEX_WAIT_BITSET ? nr : -1;
	}
	return -1;
}

uint64_t restart_pending_now(pid_t tid, int shared)
{
	char path[64], line[128];
	unsigned long long v;
	uint64_t set = 0;
	snprintf(path, sizeof path, "/proc/%d/status", (int)tid);
	FILE *f = fopen(path, "re");
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "SigPnd: %llx", &v) == 1 || (shared && sscanf(line, "ShdPnd: %llx", &v) == 1))
			set |= v;
	if (f)
		fclose(f);
	return set;
}


