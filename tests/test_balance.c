/* test_balance.c - the balancer's decision (server-agent/agent/balance.c):
 * which process moves where, and above all which ones do not. */
#define CHECK_PREFIX "balance/"
#include <string.h>

#include "balance.h"
#include "check.h"

static const struct bal_rules rules = { 1.3, 1000, 2000, 0, 0 };

static struct bal_place
place(uint32_t cores, uint32_t speed, uint32_t load)
{
	struct bal_place p;

	memset(&p, 0, sizeof p);
	p.cores = cores;
	p.speed = speed;
	p.load = load;
	p.shown = load;
	return p;
}

static struct bal_proc
proc(int at, uint64_t cpu_ms)
{
	struct bal_proc c;

	memset(&c, 0, sizeof c);
	c.place = at;
	c.runnable = 1;
	c.cpu_ms = cpu_ms;
	c.stay_ms = 10000;
	return c;
}

/* Two processes on one single-core node, the other node idle: the one
 * with more CPU time goes. */
static void t_spreads(void)
{
	struct bal_place pl[3] = { place(0, 1, 0), place(1, 100, 2), place(1, 100, 0) };
	struct bal_proc pr[2] = { proc(1, 3000), proc(1, 5000) };
	struct bal_move m[4];

	CHECK_EQ(balance_choose(pl, 3, pr, 2, &rules, m, 4), 1);
	CHECK_EQ(m[0].proc, 1);
	CHECK_EQ(m[0].from, 1);
	CHECK_EQ(m[0].to, 2);
	CHECK(m[0].from_load == 2.0 && m[0].to_load == 1.0);
	CHECK(pl[1].busy && pl[2].busy && !pl[0].busy);
}

/* Balanced or nearly so: nothing moves, in either direction. */
static void t_balanced_stays(void)
{
	struct bal_place pl[3] = { place(0, 1, 0), place(1, 100, 1), place(1, 100, 0) };
	struct bal_place pl2[3] = { place(0, 1, 0), place(2, 100, 3), place(2, 100, 2) };
	struct bal_proc pr[5] = { proc(1, 5000), proc(1, 5000), proc(1, 5000), proc(2, 5000),
		proc(2, 5000) };
	struct bal_move m[4];

	CHECK_EQ(balance_choose(pl, 3, pr, 1, &rules, m, 4), 0);
	/* 3 on 2 cores against 2 on 2: 1.5 is not above (2+1)/2 x 1.3. */
	CHECK_EQ(balance_choose(pl2, 3, pr, 5, &rules, m, 4), 0);
}

/* A move just landed: the source still shows 2 (decaying) but runs one
 * process now; that one stays (no second move to an idle node). */
static void t_source_now(void)
{
	struct bal_place pl[4] = { place(0, 1, 0), place(1, 100, 1), place(1, 100, 1),
		place(1, 100, 0) };
	struct bal_proc pr[2] = { proc(1, 5000), proc(2, 100) };
	struct bal_move m[4];

	pl[1].shown = 2.0;
	CHECK_EQ(balance_choose(pl, 4, pr, 1, &rules, m, 4), 0);
	pl[1].load = 2;
	CHECK_EQ(balance_choose(pl, 4, pr, 1, &rules, m, 4), 1);
}

/* A process alone on a slow node goes to an idle fast one; not back. */
static void t_speed(void)
{
	struct bal_place pl[3] = { place(0, 1, 0), place(1, 50, 1), place(1, 100, 0) };
	struct bal_place back[3] = { place(0, 1, 0), place(1, 50, 0), place(1, 100, 1) };
	struct bal_proc pr[1] = { proc(1, 5000) };
	struct bal_proc pr2[1] = { proc(2, 5000) };
	struct bal_move m[4];

	CHECK_EQ(balance_choose(pl, 3, pr, 1, &rules, m, 4), 1);
	CHECK_EQ(m[0].to, 2);
	CHECK_EQ(balance_choose(back, 3, pr2, 1, &rules, m, 4), 0);
}

/* Pinned, sleeping, new and barely computing processes stay. */
static void t_candidates(void)
{
	struct bal_place pl[3] = { place(0, 1, 0), place(1, 100, 4), place(1, 100, 0) };
	struct bal_proc pr[4] = { proc(1, 9000), proc(1, 9000), proc(1, 9000), proc(1, 500) };
	struct bal_move m[4];

	pr[0].pinned = 1;
	pr[1].runnable = 0;
	pr[2].stay_ms = 1000;
	CHECK_EQ(balance_choose(pl, 3, pr, 4, &rules, m, 4), 0);
	pr[2].stay_ms = 2000;
	CHECK_EQ(balance_choose(pl, 3, pr, 4, &rules, m, 4), 1);
	CHECK_EQ(m[0].proc, 2);
}

/* Home without cores: its busy processes go where a core is free, and
 * none goes to a full node. */
static void t_from_home(void)
{
	struct bal_place pl[3] = { place(0, 1, 3), place(2, 100, 1), place(1, 100, 1) };
	struct bal_proc pr[3] = { proc(0, 3000), proc(0, 4000), proc(0, 2000) };
	struct bal_move m[4];

	CHECK_EQ(balance_choose(pl, 3, pr, 3, &rules, m, 4), 1);
	CHECK_EQ(m[0].proc, 1);
	CHECK_EQ(m[0].from, 0);
	CHECK_EQ(m[0].to, 1);
	CHECK(m[0].from_load == BAL_NOWHERE);
	CHECK(!pl[0].busy && pl[1].busy);
	pl[1].busy = 0;
	pl[1].load = 2;
	CHECK_EQ(balance_choose(pl, 3, pr, 3, &rules, m, 4), 0);
	/* Cores just freed count at once, though the shown load decays; one
	 * process goes to each place with a free core in the same round. */
	pl[1].load = pl[2].load = 0;
	pl[1].shown = pl[2].shown = 0.5;
	CHECK_EQ(balance_choose(pl, 3, pr, 3, &rules, m, 4), 2);
	CHECK(m[0].proc == 1 && m[1].proc == 0 && m[0].to != m[1].to);
}

/* Nothing ever moves to home without cores, nor to a busy place. */
static void t_targets(void)
{
	struct bal_place pl[4] = { place(0, 1, 0), place(1, 100, 3), place(1, 100, 0),
		place(1, 100, 0) };
	struct bal_proc pr[3] = { proc(1, 3000), proc(1, 3000), proc(1, 3000) };
	struct bal_move m[4];

	pl[2].busy = 1;
	CHECK_EQ(balance_choose(pl, 4, pr, 3, &rules, m, 4), 1);
	CHECK_EQ(m[0].to, 3);
	/* One move per place per round: node 1 is busy now. */
	CHECK_EQ(balance_choose(pl, 4, pr, 3, &rules, m, 4), 0);
}

/* One move leaves a place per round; separate pairs move together. */
static void t_many_moves(void)
{
	struct bal_place pl[5] = { place(0, 1, 0), place(1, 100, 4), place(1, 100, 0),
		place(1, 100, 0), place(1, 100, 0) };
	struct bal_place two[5] = { place(0, 1, 0), place(1, 100, 2), place(1, 100, 3),
		place(1, 100, 0), place(1, 100, 0) };
	struct bal_proc pr[4] = { proc(1, 1000), proc(1, 2000), proc(1, 4000), proc(1, 3000) };
	struct bal_proc pr2[5] = { proc(1, 1000), proc(1, 2000), proc(2, 3000), proc(2, 4000),
		proc(2, 1000) };
	struct bal_move m[4];

	CHECK_EQ(balance_choose(pl, 5, pr, 4, &rules, m, 4), 1);
	CHECK_EQ(m[0].proc, 2);
	CHECK_EQ(m[0].to, 2);      /* ties go to the lower place */
	CHECK_EQ(balance_choose(two, 5, pr2, 5, &rules, m, 4), 2);
	CHECK_EQ(m[0].proc, 3);    /* the busiest place first */
	CHECK_EQ(m[0].to, 3);
	CHECK_EQ(m[1].proc, 1);
	CHECK_EQ(m[1].to, 4);
}

static int no_node_2(const struct bal_proc *c, int place, void *arg)
{
	(void)c;
	(void)arg;
	return place != 2;
}

/* A target the process cannot run on (features, memory) is skipped. */
static void t_fit(void)
{
	struct bal_place pl[4] = { place(0, 1, 0), place(1, 100, 2), place(1, 100, 0),
		place(1, 90, 0) };
	struct bal_proc pr[2] = { proc(1, 3000), proc(1, 3000) };
	struct bal_rules r = rules;
	struct bal_move m[4];

	r.fit = no_node_2;
	CHECK_EQ(balance_choose(pl, 4, pr, 2, &r, m, 4), 1);
	CHECK_EQ(m[0].to, 3);
}

/* A load that falls decays; one that rises counts at once. */
static void t_decay(void)
{
	struct bal_place p = place(1, 100, 4);

	p.load = 0;
	balance_decay(&p, 0.5);
	CHECK(p.shown == 2.0);
	balance_decay(&p, 0.5);
	CHECK(p.shown == 1.0);
	p.load = 3;
	balance_decay(&p, 0.5);
	CHECK(p.shown == 3.0);
}

/* No place has cores: nothing to do, and no division by zero. */
static void t_no_cores(void)
{
	struct bal_place pl[1] = { place(0, 1, 5) };
	struct bal_proc pr[1] = { proc(0, 9000) };
	struct bal_move m[1];

	CHECK_EQ(balance_choose(pl, 1, pr, 1, &rules, m, 1), 0);
	CHECK(balance_norm(&pl[0], 1, 100) == BAL_NOWHERE);
}

int main(void)
{
	RUN(t_spreads);
	RUN(t_balanced_stays);
	RUN(t_speed);
	RUN(t_source_now);
	RUN(t_candidates);
	RUN(t_from_home);
	RUN(t_targets);
	RUN(t_many_moves);
	RUN(t_fit);
	RUN(t_decay);
	RUN(t_no_cores);
	return check_exit();
}
