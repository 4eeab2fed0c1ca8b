/* balance_sim.c - the agent's balancer decision (server-agent/agent/
 * balance.c, the same code) in a simulated lab, against what om did
 * without it, and against the ideal.
 *
 * A lab: home with HOME_CORES cores, and nodes of two speeds (or four,
 * graded) with one or two cores. Processes arrive with an amount of work (CPU seconds on a
 * speed-100 core) and are placed as the agent places them (a free core,
 * best speed / (jobs + 1); none free: they run at home). A place shares
 * its cores among the processes on it. A move freezes the process for
 * MOVE_S seconds (or the scenario's own: a large image). Policies:
 *
 *   place      placement only: a process never moves
 *   free-core  a busy process at home goes out when a node has a free
 *              core (om before the balancer: the deputy did this)
 *   balance    the balancer, margin 1.3 (the default)
 *   balance-1  the balancer without margin (1.0): shows what the margin
 *              saves in moves
 *
 * Output: CSV on stdout, one row per scenario and policy, means over
 * SEEDS runs: makespan as a ratio to a lower bound (all work spread
 * perfectly over all cores, or the longest process alone on a fast core),
 * mean time from arrival to end, and moves per process.
 *
 *   balance_sim [SEEDS]     (default 20) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "balance.h"

#define STEP 0.1          /* seconds per simulation step */
#define ROUND 10          /* steps per balancer round (1 s) */
#define MOVE_S 1.0        /* a move's freeze (a few MiB; see PERFORMANCE.md) */
#define HOME_CORES 2
#define MAXP 256
#define MAXN 16

enum policy { P_PLACE, P_FREE_CORE, P_BALANCE, P_BALANCE_1, P_N };
static const char *const policy_names[P_N] = { "place", "free-core", "balance", "balance-1" };

struct scenario {
	const char *name;
	int nodes, fast;          /* nodes, of which fast ones (speed 100; others 50) */
	int graded;               /* instead: speeds 100, 90, 80, 70, 100, ... */
	int dual;                 /* nodes with two cores (the last ones) */
	int procs;
	double arrive_over;       /* arrivals spread uniformly over this many s */
	double work_min, work_max;
	double move_s;            /* a move's freeze; 0: MOVE_S */
};

static const struct scenario scenarios[] = {
	{ "burst-32-on-8", 8, 4, 0, 0, 32, 0, 5, 40, 0 },
	{ "stream-48-on-8", 8, 4, 0, 0, 48, 60, 5, 30, 0 },
	{ "few-long-6-on-8", 8, 2, 0, 0, 6, 10, 60, 120, 0 },
	{ "make-like-64-on-4", 4, 4, 0, 0, 64, 30, 1, 8, 0 },
	{ "mixed-cores-40-on-6", 6, 3, 0, 3, 40, 20, 5, 40, 0 },
	{ "graded-speeds-16-on-8", 8, 0, 1, 0, 16, 30, 20, 60, 0 },
	{ "graded-big-images-16-on-8", 8, 0, 1, 0, 16, 30, 20, 60, 5.0 },
};

struct sproc {
	double arrive, work, left, frozen, done_at, cpu_here, stay;
	int place;                /* -1 not arrived */
	int moves;
};

static uint64_t rng;

static double
urand(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (double)((rng * 0x2545f4914f6cdd1dull) >> 11) / 9007199254740992.0;
}

struct lab {
	int npl;                  /* 1 + nodes; place 0 is home */
	uint32_t cores[MAXN + 1], speed[MAXN + 1];
	double shown[MAXN + 1];
	int count[MAXN + 1];      /* processes there (running or frozen) */
	double move_s;
};

/* The agent's placement: a node with a free core, best speed / (jobs + 1);
 * none: home. */
static int
place_new(const struct lab *lb)
{
	int best = 0, i;

	for (i = 1; i < lb->npl; i++) {
		if ((uint32_t)lb->count[i] >= lb->cores[i])
			continue;
		if (best == 0 || (double)lb->speed[i] / (lb->count[i] + 1) >
		    (double)lb->speed[best] / (lb->count[best] + 1))
			best = i;
	}
	return best;
}

static void
move(struct lab *lb, struct sproc *p, int to)
{
	lb->count[p->place]--;
	lb->count[to]++;
	p->place = to;
	p->frozen = lb->move_s;
	p->cpu_here = p->stay = 0;
	p->moves++;
}

/* One balancer round, as balancer.c runs it. */
static void
round_balance(struct lab *lb, struct sproc *ps, int n, double margin, double *busy_until,
    double now)
{
	static struct bal_place pl[MAXN + 1];
	static struct bal_proc pr[MAXP];
	struct bal_rules r = { margin, 1000, 3000, 0, 0 };
	struct bal_move mv[8];
	int i, k, idx[MAXP], np = 0;

	for (i = 0; i < lb->npl; i++) {
		memset(&pl[i], 0, sizeof pl[i]);
		pl[i].cores = i == 0 ? 0 : lb->cores[i];
		pl[i].speed = lb->speed[i];
		pl[i].shown = lb->shown[i];
		pl[i].busy = busy_until[i] > now;
	}
	for (i = 0; i < n; i++) {
		if (ps[i].place < 0 || ps[i].left <= 0)
			continue;
		memset(&pr[np], 0, sizeof pr[np]);
		pr[np].place = ps[i].place;
		pr[np].runnable = 1;
		pr[np].pinned = ps[i].frozen > 0;
		pr[np].cpu_ms = (uint64_t)(ps[i].cpu_here * 1000);
		pr[np].stay_ms = (uint64_t)(ps[i].stay * 1000);
		pl[ps[i].place].load++;
		idx[np++] = i;
	}
	for (i = 0; i < lb->npl; i++) {
		balance_decay(&pl[i], 0.5);
		lb->shown[i] = pl[i].shown;
	}
	k = balance_choose(pl, lb->npl, pr, np, &r, mv, 8);
	for (i = 0; i < k; i++) {
		move(lb, &ps[idx[mv[i].proc]], mv[i].to);
		busy_until[mv[i].to] = now + lb->move_s; /* until it lands */
		if (mv[i].from != 0)
			busy_until[mv[i].from] = now + lb->move_s;
	}
}

/* om before the balancer: a process computing at home goes out when a
 * node has a free core. */
static void
round_free_core(struct lab *lb, struct sproc *ps, int n)
{
	int i, to;

	for (i = 0; i < n; i++)
		if (ps[i].place == 0 && ps[i].left > 0 && ps[i].frozen <= 0 && ps[i].stay >= 3.0 &&
		    (to = place_new(lb)) != 0)
			move(lb, &ps[i], to);
}

struct result {
	double makespan, mean_done, moves;
};

static struct result
run(const struct scenario *sc, enum policy pol, uint64_t seed)
{
	static struct sproc ps[MAXP];
	struct lab lb;
	double busy_until[MAXN + 1] = { 0 }, now = 0, rate[MAXN + 1], total = 0, longest = 0, cap = 0;
	int i, left, step = 0, onplace[MAXN + 1];
	struct result res = { 0, 0, 0 };

	rng = seed * 0x9e3779b97f4a7c15ull + 1;
	memset(&lb, 0, sizeof lb);
	lb.npl = sc->nodes + 1;
	lb.move_s = sc->move_s > 0 ? sc->move_s : MOVE_S;
	lb.cores[0] = HOME_CORES;
	lb.speed[0] = 100;
	for (i = 1; i < lb.npl; i++) {
		lb.cores[i] = i > sc->nodes - sc->dual ? 2 : 1;
		lb.speed[i] = sc->graded ? 100 - 10 * ((i - 1) % 4) : i <= sc->fast ? 100 : 50;
		cap += lb.cores[i] * lb.speed[i] / 100.0;
	}
	cap += HOME_CORES; /* home computes what it holds */
	for (i = 0; i < sc->procs; i++) {
		ps[i] = (struct sproc){ 0 };
		ps[i].arrive = urand() * sc->arrive_over;
		ps[i].work = ps[i].left = sc->work_min + urand() * (sc->work_max - sc->work_min);
		ps[i].place = -1;
		total += ps[i].work;
		if (ps[i].work > longest)
			longest = ps[i].work;
	}
	for (left = sc->procs; left > 0; step++, now += STEP) {
		for (i = 0; i < sc->procs; i++)
			if (ps[i].place < 0 && ps[i].arrive <= now) {
				ps[i].place = place_new(&lb);
				lb.count[ps[i].place]++;
			}
		if (step % ROUND == 0) {
			if (pol == P_FREE_CORE)
				round_free_core(&lb, ps, sc->procs);
			else if (pol == P_BALANCE || pol == P_BALANCE_1)
				round_balance(&lb, ps, sc->procs, pol == P_BALANCE ? 1.3 : 1.0, busy_until, now);
		}
		/* Each place shares its cores among the processes computing there. */
		memset(onplace, 0, sizeof onplace);
		for (i = 0; i < sc->procs; i++)
			if (ps[i].place >= 0 && ps[i].left > 0 && ps[i].frozen <= 0)
				onplace[ps[i].place]++;
		for (i = 0; i < lb.npl; i++)
			rate[i] = onplace[i] == 0 ? 0 : lb.speed[i] / 100.0 *
			    fmin(1.0, (double)lb.cores[i] / onplace[i]);
		for (i = 0; i < sc->procs; i++) {
			struct sproc *p = &ps[i];

			if (p->place < 0 || p->left <= 0)
				continue;
			p->stay += STEP;
			if (p->frozen > 0) {
				p->frozen -= STEP;
				continue;
			}
			p->left -= rate[p->place] * STEP;
			p->cpu_here += fmin(1.0, (double)lb.cores[p->place] / onplace[p->place]) * STEP;
			if (p->left <= 0) {
				p->done_at = now + STEP;
				lb.count[p->place]--;
				left--;
			}
		}
	}
	for (i = 0; i < sc->procs; i++) {
		if (ps[i].done_at > res.makespan)
			res.makespan = ps[i].done_at;
		res.mean_done += ps[i].done_at - ps[i].arrive;
		res.moves += ps[i].moves;
	}
	res.mean_done /= sc->procs;
	res.moves /= sc->procs;
	/* The lower bound: all work spread perfectly over the node and home
	 * cores, or the longest process alone on a fast core (arrival times
	 * ignored). */
	res.makespan /= fmax(total / cap, longest);
	return res;
}

int
main(int argc, char **argv)
{
	int seeds = argc > 1 ? atoi(argv[1]) : 20;
	size_t s;
	int p, k;

	if (seeds < 1 || seeds > 10000) {
		fprintf(stderr, "usage: balance_sim [SEEDS]   (1..10000, default 20)\n");
		return 2;
	}
	printf("scenario,policy,makespan_vs_bound,mean_completion_s,moves_per_process\n");
	for (s = 0; s < sizeof scenarios / sizeof scenarios[0]; s++)
		for (p = 0; p < P_N; p++) {
			struct result sum = { 0, 0, 0 }, r;

			for (k = 0; k < seeds; k++) {
				r = run(&scenarios[s], (enum policy)p, (uint64_t)k + 1);
				sum.makespan += r.makespan;
				sum.mean_done += r.mean_done;
				sum.moves += r.moves;
			}
			printf("%s,%s,%.3f,%.1f,%.2f\n", scenarios[s].name, policy_names[p], sum.makespan / seeds,
			    sum.mean_done / seeds, sum.moves / seeds);
		}
	return 0;
}
