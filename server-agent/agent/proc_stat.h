/* proc_stat.h - what the agent reads about a local process from
 * /proc/PID/stat: who its parent is (to check a SUBMIT's pid) and how much
 * CPU it uses (to balance the processes of a job that run at home). */
#ifndef OM_PROC_STAT_H
#define OM_PROC_STAT_H

#include <stdint.h>

struct proc_stat {
	char state;                /* R, S, D, T, t, Z, ... */
	uint32_t ppid;
	uint64_t cpu_ms;           /* utime + stime */
	uint32_t threads;
	uint64_t starttime;        /* clock ticks after boot: with the pid, the
	                            * process's identity (pids are reused) */
};

/* Returns 0, or -1 when the process is gone or the line does not parse. */
int proc_stat_read(uint32_t pid, struct proc_stat *st);

#endif
