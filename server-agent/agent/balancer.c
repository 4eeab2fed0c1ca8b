/* balancer.c - the agent's balancing rounds (see balancer.h). */
#include <stdio.h>
#include <string.h>

#include "balance.h"
#include "balancer.h"
#include "jobs.h"
#include "log.h"
#include "moves.h"
#include "placement.h"
#include "proc_stat.h"

#define ROUND_MOVES 8   /* moves started per round at most */
#define KEEP 0.5        /* of a falling load's old value, per round */

static struct balancer_cfg cfg;
static double home_shown;

/* One round's snapshot: place 0 is home, then the UP nodes. */
static struct {
	struct bal_place pl[1 + OM_NODES_MAX];
	struct node *node[1 + OM_NODES_MAX];
	int npl;
	struct bal_proc pr[OM_JOBS_MAX];
	struct job *job[OM_JOBS_MAX];
	int npr;
	uint64_t now;
} r;

static int
place_of(const struct node *n)
{
	return n == NULL ? 0 : n->balance_at;
}

static void
add_node(struct node *n, void *arg)
{
	struct bal_place *p = &r.pl[r.npl];

	(void)arg;
	n->balance_at = -1;
	if (n->state != OM_NODE_UP || n->link == NULL || r.npl >= 1 + OM_NODES_MAX)
		return;
	n->balance_at = r.npl;
	memset(p, 0, sizeof *p);
	p->cores = n->hello.cpu.cores;
	p->speed = n->hello.speed ? n->hello.speed : 1;
	p->shown = n->load_shown;
	r.node[r.npl++] = n;
}

/* A process at home: runnable when it used half a core since the last
 * round; one with threads cannot move. */
static void
sample_home(struct job *j, struct bal_proc *c)
{
	struct proc_stat st;
	uint64_t dt = r.now - j->sampled_ms;

	if (proc_stat_read(j->pid, &st) == -1) {
		c->pinned = 1;
		return;
	}
	c->runnable = j->sampled_ms != 0 && dt > 0 && st.cpu_ms >= j->cpu_ms &&
	    (st.cpu_ms - j->cpu_ms) * 2 >= dt && st.state != 'T' && st.state != 't';
	c->pinned = st.threads != 1;
	j->cpu_ms = st.cpu_ms;
	j->sampled_ms = r.now;
}

/* A job on a node, as its last heartbeat lists it. One placed since is
 * taken as running but is not a candidate yet (no CPU time known). */
static void
sample_node(struct job *j, struct bal_proc *c)
{
	const struct om_heartbeat *hb = &j->node->hb;
	uint32_t i;

	c->runnable = j->state == OM_JOB_PLACED || j->state == OM_JOB_RUNNING;
	c->pinned = j->pinned || !c->runnable;
	for (i = 0; i < hb->nlisted; i++)
		if (hb->listed[i].job == j->id) {
			c->runnable = c->runnable && hb->listed[i].runnable;
			j->cpu_ms = hb->listed[i].cpu_ns / 1000000;
			break;
		}
	if (i == hb->nlisted)
		j->cpu_ms = 0;
}

static void
add_job(struct job *j, void *arg)
{
	struct bal_proc *c = &r.pr[r.npr];
	int at = place_of(j->node);

	(void)arg;
	if (at < 0 || r.npr >= OM_JOBS_MAX)
		return;
	memset(c, 0, sizeof *c);
	c->place = at;
	if (j->node == NULL)
		sample_home(j, c);
	else
		sample_node(j, c);
	c->cpu_ms = j->cpu_ms;
	c->stay_ms = r.now - j->start_ms;
	c->can_go = j;
	r.pl[at].load += c->runnable;
	r.job[r.npr++] = j;
}

static void
mark_busy(uint32_t node, void *arg)
{
	int at = node ? place_of(nodes_by_id(node)) : 0;

	(void)arg;
	if (at >= 0 && (at > 0 || cfg.home_cores > 0))
		r.pl[at].busy = 1;
}

/* Whether the process may run at place (its CPU features, its memory). */
static int
fits(const struct bal_proc *c, int place, void *arg)
{
	const struct job *j = c->can_go;
	const struct node *n = r.node[place];
	char lack[48];

	(void)arg;
	if (place == 0)
		return 1;
	return !placement_missing(&j->need, &n->hello.cpu, lack, sizeof lack) &&
	    n->hb.mem_free >= j->mem_bytes && nodes_jobs(n) < OM_NODE_JOBS_MAX;
}

static const char *
place_name(int at, char *buf, size_t len)
{
	if (at == 0)
		return "home";
	snprintf(buf, len, "node %u", r.node[at]->id);
	return buf;
}

static long
balancer_round(struct ev_loop *ev, void *arg)
{
	struct bal_rules rules = { cfg.margin, cfg.min_cpu_ms, cfg.min_stay_ms, fits, NULL };
	struct bal_move mv[ROUND_MOVES];
	char a[24], b[24], who[160], why[OM_STR_MAX + 1];
	uint32_t fastest = 0;
	int i, k;

	(void)ev;
	(void)arg;
	r.now = ev_now_ms();
	r.npl = 1;
	r.npr = 0;
	nodes_each(add_node, NULL);
	for (i = 1; i < r.npl; i++)
		if (r.pl[i].speed > fastest)
			fastest = r.pl[i].speed;
	memset(&r.pl[0], 0, sizeof r.pl[0]);
	r.pl[0].cores = cfg.home_cores;
	r.pl[0].speed = cfg.home_speed ? cfg.home_speed : fastest ? fastest : 1;
	r.pl[0].shown = home_shown;
	jobs_each(add_job, NULL);
	for (i = 0; i < r.npl; i++)
		balance_decay(&r.pl[i], KEEP);
	home_shown = r.pl[0].shown;
	for (i = 1; i < r.npl; i++)
		r.node[i]->load_shown = r.pl[i].shown;
	moves_each(r.now, mark_busy, NULL);
	k = balance_choose(r.pl, r.npl, r.pr, r.npr, &rules, mv, ROUND_MOVES);
	for (i = 0; i < k; i++) {
		struct job *j = r.job[mv[i].proc];

		if (mv[i].from == 0 && cfg.home_cores == 0)
			snprintf(who, sizeof who, "the balancer (busy at home, node %u has a free core)",
			    r.node[mv[i].to]->id);
		else
			snprintf(who, sizeof who, "the balancer (load %s %.2f > %.2f x %s %.2f)",
			    place_name(mv[i].from, a, sizeof a), mv[i].from_load, cfg.margin,
			    place_name(mv[i].to, b, sizeof b), mv[i].to_load);
		if (jobs_move(j, mv[i].to ? r.node[mv[i].to]->id : 0, who, why, sizeof why) != OM_OK)
			log_warnx("balancer: %s", why);
	}
	return cfg.every_ms;
}

int
balancer_start(struct ev_loop *ev, const struct balancer_cfg *c)
{
	cfg = *c;
	if (cfg.off)
		return 0;
	log_info("balancer: every %u ms, margin %.2f, candidates with %u ms CPU after %u ms, "
	    "home offers %u cores", cfg.every_ms, cfg.margin, cfg.min_cpu_ms, cfg.min_stay_ms,
	    cfg.home_cores);
	return ev_timer_add(ev, cfg.every_ms, balancer_round, NULL) < 0 ? -1 : 0;
}
