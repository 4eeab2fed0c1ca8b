/* proc_stat.c - /proc/PID/stat reader (see proc_stat.h; proc(5)). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proc_stat.h"

int
proc_stat_read(uint32_t pid, struct proc_stat *st)
{
	char path[64], buf[1024], *rp;
	unsigned long long ut, stm, start;
	unsigned long ppid;
	long threads, hz = sysconf(_SC_CLK_TCK);
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%u/stat", pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: skip to the last ')'.
	 * Then fields 3 (state), 4 (ppid), 14-15 (utime, stime), 20 (threads),
	 * 22 (starttime). */
	if ((rp = strrchr(buf, ')')) == NULL ||
	    sscanf(rp + 1, " %c %lu %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %ld %*d %llu",
	    &st->state, &ppid, &ut, &stm, &threads, &start) != 6 || hz <= 0)
		return -1;
	st->starttime = start;
	st->ppid = (uint32_t)ppid;
	st->cpu_ms = (ut + stm) * 1000 / (unsigned long long)hz;
	st->threads = threads > 0 ? (uint32_t)threads : 0;
	return 0;
}
