/* balance.c - the balancer's decision (see balance.h). */
#include "balance.h"

double
balance_norm(const struct bal_place *p, double extra, uint32_t max_speed)
{
	if (p->cores == 0 || p->speed == 0)
		return BAL_NOWHERE;
	return (p->shown + extra) / p->cores * ((double)max_speed / p->speed);
}

void
balance_decay(struct bal_place *p, double keep)
{
	if ((double)p->load >= p->shown)
		p->shown = p->load;
	else
		p->shown = p->shown * keep + p->load * (1.0 - keep);
}

static int
movable(const struct bal_proc *c, const struct bal_rules *r)
{
	return c->runnable && !c->pinned && c->cpu_ms >= r->min_cpu_ms &&
	    c->stay_ms >= r->min_stay_ms;
}

/* The best target for c leaving place s whose load is ls, or -1: the
 * least loaded place after the move, if that beats ls by the margin. From
 * a place without cores, any place with a free core now will do (its load
 * this round, not the decaying one: a core freed is free). */
static int
best_target(struct bal_place *pl, int npl, const struct bal_proc *c, int s, double ls,
    uint32_t max_speed, const struct bal_rules *r, double *lt_out)
{
	int t, best = -1;
	double lt, best_lt = 0;

	for (t = 0; t < npl; t++) {
		if (t == s || pl[t].busy || pl[t].cores == 0)
			continue;
		if (r->fit != 0 && !r->fit(c, t, r->fit_arg))
			continue;
		lt = balance_norm(&pl[t], 1.0, max_speed);
		if (pl[s].cores == 0 ? pl[t].load + 1 > pl[t].cores : !(lt * r->margin < ls))
			continue;
		if (best < 0 || lt < best_lt) {
			best = t;
			best_lt = lt;
		}
	}
	*lt_out = best_lt;
	return best;
}

static int
taken(const struct bal_move *out, int k, int proc)
{
	while (k-- > 0)
		if (out[k].proc == proc)
			return 1;
	return 0;
}

/* The move out of place s: its movable process with the most CPU that has
 * a target and no move yet (out[0..k)). Returns 0 when there is none. */
static int
move_from(struct bal_place *pl, int npl, const struct bal_proc *pr, int npr, int s,
    uint32_t max_speed, const struct bal_rules *r, const struct bal_move *out, int k,
    struct bal_move *m)
{
	struct bal_place now = pl[s];
	double ls, lt;
	int i, t, found = 0;

	if (now.load < now.shown)
		now.shown = now.load;
	ls = balance_norm(&now, 0.0, max_speed);
	for (i = 0; i < npr; i++) {
		if (pr[i].place != s || !movable(&pr[i], r) || taken(out, k, i))
			continue;
		if (found && pr[i].cpu_ms <= pr[m->proc].cpu_ms)
			continue;
		if ((t = best_target(pl, npl, &pr[i], s, ls, max_speed, r, &lt)) < 0)
			continue;
		m->proc = i;
		m->from = s;
		m->to = t;
		m->from_load = ls;
		m->to_load = lt;
		found = 1;
	}
	return found;
}

int
balance_choose(struct bal_place *pl, int npl, const struct bal_proc *pr, int npr,
    const struct bal_rules *r, struct bal_move *out, int max)
{
	uint32_t max_speed = 0;
	struct bal_move m = { 0, 0, 0, 0, 0 }, best = m;
	int s, k = 0, have;

	for (s = 0; s < npl; s++)
		if (pl[s].cores > 0 && pl[s].speed > max_speed)
			max_speed = pl[s].speed;
	if (max_speed == 0)
		return 0;
	while (k < max) {
		have = 0;
		for (s = 0; s < npl; s++) {
			if (pl[s].busy || pl[s].shown <= 0)
				continue;
			if (!move_from(pl, npl, pr, npr, s, max_speed, r, out, k, &m))
				continue;
			if (!have || m.from_load > best.from_load) {
				best = m;
				have = 1;
			}
		}
		if (!have)
			break;
		/* A place without cores sends out as many as there are free
		 * cores: each target is marked. */
		pl[best.to].busy = 1;
		if (pl[best.from].cores > 0)
			pl[best.from].busy = 1;
		out[k++] = best;
	}
	return k;
}
