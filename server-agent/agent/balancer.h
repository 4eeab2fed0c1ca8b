/* balancer.h - the agent's load balancer: every round it looks at where
 * the processes of all jobs run and how busy each place is, and moves a
 * few (balance.c decides which; jobs_move moves them).
 *
 * Places are home and the UP nodes. A node's load is its jobs that want a
 * core, from its heartbeat's job list (a job placed since counts as
 * running); home's is the processes with a record at home that used at
 * least half a core since the last round (/proc/PID/stat). Home takes
 * work only when home_cores says it may; by default a busy process at home
 * goes out as soon as a node has a free core. Never moved: processes
 * placed by om-run --node or moved by om-migrate (the user chose; om-migrate
 * PID balance hands them back), processes with threads, stopped ones, and
 * those on their way somewhere. Every move is logged with the loads that decided
 * it. Settings come from agent.conf (docs/man/om-agent.8). */
#ifndef OM_BALANCER_H
#define OM_BALANCER_H

#include <stdint.h>

#include "ev.h"

struct balancer_cfg {
	int off;                   /* balance = no */
	uint32_t every_ms;         /* time between rounds */
	double margin;             /* move when busiest > target x margin */
	uint32_t min_cpu_ms;       /* a candidate used this much CPU where it is */
	uint32_t min_stay_ms;      /* and has been there this long */
	uint32_t home_cores;       /* cores home offers (0: none) */
	uint32_t home_speed;       /* home's speed (0: the fastest node's) */
};

#define BALANCE_EVERY_MS 1000
#define BALANCE_MARGIN 1.3
#define BALANCE_MIN_CPU_MS 1000
#define BALANCE_MIN_STAY_MS 3000

/* Starts the rounds (nothing when cfg->off). Returns 0 or -1 (ENOMEM). */
int balancer_start(struct ev_loop *ev, const struct balancer_cfg *cfg);

struct job;
/* om-migrate PID balance: where the balancer would put j now, applying
 * its rule to j alone whatever CPU j has used or how long it stayed (the
 * loads are the last round's). Returns 0 with *target (0: home), or -1
 * with the reason in why[len]. Works with the rounds off too. */
int balancer_target(struct job *j, uint32_t *target, char *why, size_t len);

#endif
