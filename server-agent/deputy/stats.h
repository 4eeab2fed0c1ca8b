/* stats.h - where each process of a job ran, for om-run --stats.
 *
 * Every deputy keeps the story of its process: where it was (home or a
 * node) from when, the CPU time it used on nodes (JOB_EXIT, JOB_HOME) and
 * at home (its home process's own count), and how often it moved. At its
 * end (its agent link closed first) it writes the story as one JSON line
 * to a pipe all deputies of the job share (one write, below PIPE_BUF:
 * lines never mix; non-blocking: a deputy never waits on it for long). A
 * collector process of om-run's reads them as they come, and when the
 * last deputy is gone writes the summary. */
#ifndef OM_STATS_H
#define OM_STATS_H

#include <stdint.h>
#include <sys/types.h>

#include "job_msg.h"

#define STATS_STRETCHES 24 /* kept per process; later ones join the last */
#define STATS_LINE_MAX 4000 /* < PIPE_BUF */
#define STATS_TRIES 50      /* a full pipe: waits of STATS_WAIT_MS, then the line is lost */
#define STATS_WAIT_MS 100

struct proc_stats {
	pid_t pid;
	char cmd[OM_CMD_MAX + 1];
	uint32_t where;         /* node id, 0 at home */
	uint64_t since_ms;      /* there since (CLOCK_MONOTONIC) */
	uint64_t node_cpu_ns, home_cpu_ms;
	uint32_t migrations;
	unsigned n;
	struct { uint32_t where; uint64_t ms; } st[STATS_STRETCHES];
};

/* The process is at home from now on. */
void stats_begin(struct proc_stats *s, pid_t pid);
/* It moved: to node where (0: home). */
void stats_move(struct proc_stats *s, uint32_t where);
/* It was born there (forked on node where): its story starts there,
 * without a move. */
void stats_born_on(struct proc_stats *s, uint32_t where);
/* Its command line, after an exec. */
void stats_command(struct proc_stats *s, const char *cmd);
/* Its home process's own CPU time now, in ms (utime + stime). */
uint64_t stats_home_cpu_ms(pid_t pid);
/* Ends the story (home_cpu_ms already set) and writes it to fd, if >= 0
 * (a line that cannot go is said on stderr). */
void stats_send(struct proc_stats *s, int fd);
/* om-run, before the program starts: creates path (so a file that cannot
 * be written fails at once) and forks the collector, which reads every
 * story as it comes and, when all writers are gone, writes the summary to
 * path. Returns the pipe's write end for the deputies (O_NONBLOCK,
 * close-on-exec) with *collector set, or -1 with errno. */
int stats_open(const char *path, pid_t *collector);
/* om-run, at its end: closes its write end fd and waits for the
 * collector. Returns 0, or -1 (the collector said why on stderr). */
int stats_close(int fd, pid_t collector);

#endif
