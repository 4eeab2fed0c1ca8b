/* balance.h - which running process should move where: the load
 * balancer's decision, free of I/O so the agent, the unit tests and the
 * simulator in bench/ share it.
 *
 * A place is home or a node. Its load is the processes that want a core
 * there now; its normalized load is load per core scaled by how much
 * slower than the fastest place it is, so one process alone on a fast
 * node and one alone on a slow node do not look the same. A place with
 * no cores (home when the agent is told not to count it) takes nothing
 * and any runnable process on it is worth moving.
 *
 * The balancer compares the shown (smoothed) loads of targets: a load
 * that rises is taken at once, one that falls decays, so a process that
 * pauses for a moment does not make its node look empty. A source counts
 * with the lesser of its shown load and its load now, so that a move just
 * landed elsewhere does not make it look crowded still. A move is worth
 * it when the busiest place's normalized load exceeds the target's after
 * the move by the margin; the candidate is the runnable, unpinned process there that
 * has used the most CPU and stayed long enough (a move costs its image
 * transfer, a process that just arrived or barely computes is not worth
 * it). At most one move leaves or enters a place per round, and a place
 * with a move in flight sits the round out: loads catch up with a move
 * only when it lands. A place without cores may send out several in a
 * round, one to each place that has a free core. */
#ifndef OM_BALANCE_H
#define OM_BALANCE_H

#include <math.h>
#include <stdint.h>

struct bal_place {
	uint32_t cores;            /* 0: takes no work */
	uint32_t speed;            /* relative speed, > 0 */
	uint32_t load;             /* processes that want a core now */
	double shown;              /* smoothed load (balance_decay) */
	int busy;                  /* a move leaves or enters it (a place
	                            * without cores: enters it) */
};

struct bal_proc {
	int place;                 /* index into the places */
	int runnable;              /* wants a core now */
	int pinned;                /* must stay (om-run --node, threads, ...) */
	uint64_t cpu_ms;           /* CPU used so far */
	uint64_t stay_ms;          /* time since it arrived where it is */
	const void *can_go;        /* opaque: passed to the fit callback */
};

struct bal_rules {
	double margin;             /* move when source > target x margin */
	uint64_t min_cpu_ms;       /* a candidate has used this much CPU */
	uint64_t min_stay_ms;      /* and stayed this long */
	/* Whether proc may run at place (CPU features, memory); NULL: all may. */
	int (*fit)(const struct bal_proc *proc, int place, void *arg);
	void *fit_arg;
};

struct bal_move {
	int proc;                  /* index into the processes */
	int from, to;              /* place indexes */
	double from_load, to_load; /* normalized shown loads that decided it */
};

/* The normalized load of p with 'extra' processes added: shown (+ extra)
 * per core, times max_speed / speed. Places without cores give a value
 * above any real load (BAL_NOWHERE). */
#define BAL_NOWHERE HUGE_VAL
double balance_norm(const struct bal_place *p, double extra, uint32_t max_speed);

/* Folds this round's load into shown: a rise is taken at once, a fall
 * keeps 'keep' (0..1) of the old value. */
void balance_decay(struct bal_place *p, double keep);

/* Chooses up to max moves for this round into out[]; returns how many.
 * Marks the places of each move busy. */
int balance_choose(struct bal_place *pl, int npl, const struct bal_proc *pr, int npr,
    const struct bal_rules *r, struct bal_move *out, int max);

#endif
