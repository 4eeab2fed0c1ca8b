/* restart.c - an interrupted system call, as Linux ends it (restart.h). */
#define _GNU_SOURCE
#include <stdio.h>

#include "restart.h"

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

uint64_t restart_pending_now(pid_t pid)
{
	char path[64], line[128];
	unsigned long long v;
	uint64_t set = 0;
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "SigPnd: %llx", &v) == 1 || sscanf(line, "ShdPnd: %llx", &v) == 1)
			set |= v;
	if (f)
		fclose(f);
	return set;
}
