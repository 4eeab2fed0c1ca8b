/* balancer.c - the agent's balancing rounds (see balancer.h). */
#include <stdio.h>
#include <string.h>

#include "balance.h"
#include "balancer.h"
#include "drain.h"
#include "jobs.h"
#include "log.h"
#include "moves.h"
#include "placement.h"
#include "proc_stat.h"

#define ROUND_MOVES 8   /* moves started per round at most */
#define KEEP 0.5        /* of a falling load's old value, per round */
#define SPEED_MAX 1000000

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
	if (n->state != OM_NODE_UP || node_conn_get(n) == NULL || r.npl >= 1 + OM_NODES_MAX)
		return;
	n->balance_at = r.npl;
	memset(p, 0, sizeof *p);
	/* The node's own claims, bounded: it never runs more than
	 * OM_NODE_JOBS_MAX jobs, and speeds are 1..SPEED_MAX (om.speed). */
	p->cores = n->hello.cpu.cores < OM_NODE_JOBS_MAX ? n->hello.cpu.cores : OM_NODE_JOBS_MAX;
	p->speed = n->hello.speed == 0 ? 1 : n->hello.speed < SPEED_MAX ? n->hello.speed : SPEED_MAX;
	p->shown = n->load_shown;
	r.node[r.npl++] = n;
}

/* A process at home: runnable when it used half a core since the last
 * round; one with threads cannot move. */
static void
sample_home(struct job *j)
{
	struct proc_stat st;
	uint64_t dt = r.now - j->sampled_ms;

	if (jobs_proc_stat(j, &st) == -1) {
		j->runnable = 0;
		j->unmovable = 1;
		return;
	}
	j->runnable = j->sampled_ms != 0 && dt > 0 && st.cpu_ms >= j->cpu_ms &&
	    (st.cpu_ms - j->cpu_ms) * 2 >= dt && st.state != 'T' && st.state != 't';
	j->unmovable = st.threads != 1;
	j->cpu_ms = st.cpu_ms;
	j->sampled_ms = r.now;
}

/* A job on a node, as its last heartbeat lists it. One placed since is
 * taken as running but is not a candidate yet (no CPU time known). */
static void
sample_node(struct job *j)
{
	const struct om_heartbeat *hb = &j->node->hb;
	uint32_t i;

	j->runnable = j->state == OM_JOB_PLACED || j->state == OM_JOB_RUNNING;
	j->unmovable = !j->runnable;
	for (i = 0; i < hb->nlisted; i++)
		if (hb->listed[i].job == j->id) {
			j->runnable = j->runnable && hb->listed[i].runnable;
			j->cpu_ms = hb->listed[i].cpu_ns / 1000000;
			break;
		}
	if (i == hb->nlisted)
		j->cpu_ms = 0;
}

/* Adds j to the snapshot, first reading where it stands now when *arg. */
static void
add_job(struct job *j, void *arg)
{
	struct bal_proc *c = &r.pr[r.npr];
	int at = place_of(j->node), sample = *(int *)arg;

	if (at < 0 || r.npr >= OM_JOBS_MAX || j->reattach_ms != 0)
		return; /* waiting for its node (reattach.h): where it is is not known */
	if (sample && j->node == NULL)
		sample_home(j);
	else if (sample)
		sample_node(j);
	memset(c, 0, sizeof *c);
	c->place = at;
	c->runnable = j->runnable;
	/* A process with a move in the table is on its way, or did not go
	 * when asked: not a candidate; nor is one given several cores (the
	 * balancer counts one a process). */
	c->pinned = j->pinned || j->unmovable || moves_pending(j->uid, j->pid) || j->need.cores > 1;
	c->cpu_ms = j->cpu_ms;
	c->stay_ms = r.now - j->start_ms;
	c->can_go = j;
	r.pl[at].load += c->runnable;
	r.job[r.npr++] = j;
}

static void
mark_busy(uint32_t node, void *arg)
{
	struct node *n = node ? nodes_by_id(node) : NULL;
	int at = node ? (n != NULL ? place_of(n) : -1) : 0;

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
	return drain_open(n) && !placement_missing(&j->need, &n->hello.cpu, lack, sizeof lack) &&
	    n->hb.mem_free >= j->mem_bytes && nodes_jobs(n) < OM_NODE_JOBS_MAX;
}

static uint32_t
node_id(int at)
{
	return at ? r.node[at]->id : 0;
}

static const char *
place_name(int at, char *buf, size_t len)
{
	if (at == 0)
		return "home";
	snprintf(buf, len, "node %u", node_id(at));
	return buf;
}

/* The places and processes as they stand, read now; fold: this is a
 * round, the loads are folded into the shown ones (else a shown load is
 * at least the load now). */
static void
snapshot(int fold)
{
	/* Between rounds the last round's samples stand: a sample taken now
	 * would shorten the next round's interval (ticks are 10 ms). */
	int sample = fold || cfg.off;
	uint32_t fastest = 0;
	int i;

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
	jobs_each(add_job, &sample);
	for (i = 0; i < r.npl; i++) {
		if (fold)
			balance_decay(&r.pl[i], KEEP);
		else if (r.pl[i].shown < r.pl[i].load)
			r.pl[i].shown = r.pl[i].load;
	}
	if (fold) {
		home_shown = r.pl[0].shown;
		for (i = 1; i < r.npl; i++)
			r.node[i]->load_shown = r.pl[i].shown;
	}
	moves_each(r.now, mark_busy, NULL);
}

static long
balancer_round(struct ev_loop *ev, void *arg)
{
	struct bal_rules rules = { cfg.margin, cfg.min_cpu_ms, cfg.min_stay_ms, fits, NULL };
	struct bal_move mv[ROUND_MOVES];
	char a[24], b[24], who[160], why[OM_STR_MAX + 1];
	uint32_t ids[ROUND_MOVES];
	int i, k;

	(void)ev;
	(void)arg;
	snapshot(1);
	k = balance_choose(r.pl, r.npl, r.pr, r.npr, &rules, mv, ROUND_MOVES);
	for (i = 0; i < k; i++)
		ids[i] = r.job[mv[i].proc]->id;
	/* A move's sends may close connections and end jobs: each job is
	 * found again by id. */
	for (i = 0; i < k; i++) {
		struct job *j = jobs_find(ids[i]);

		if (j == NULL)
			continue;

		if (mv[i].from == 0 && cfg.home_cores == 0)
			snprintf(who, sizeof who, "the balancer (busy at home, node %u has a free core)",
			    node_id(mv[i].to));
		else
			snprintf(who, sizeof who, "the balancer (load %s %.2f > %.2f x %s %.2f)",
			    place_name(mv[i].from, a, sizeof a), mv[i].from_load, cfg.margin,
			    place_name(mv[i].to, b, sizeof b), mv[i].to_load);
		if (jobs_move(j, node_id(mv[i].to), OM_WHY_BALANCER, who, why, sizeof why) != OM_OK)
			log_warnx("balancer: %s", why);
	}
	return cfg.every_ms;
}

int
balancer_target(struct job *j, uint32_t *target, char *why, size_t len)
{
	struct bal_rules rules = { cfg.margin, 0, 0, fits, NULL };
	struct bal_move mv;
	char a[24];
	int i, at, busy = 0;

	snapshot(0);
	r.pl[0].busy = 0; /* home's moves in flight do not load it */
	for (i = 0; i < r.npr && r.job[i] != j; i++)
		;
	if (i == r.npr) {
		snprintf(why, len, "job %u: its node is not up", j->id);
		return -1;
	}
	/* Only this process is a candidate, and it is one whatever it did. */
	at = r.pr[i].place;
	r.pr[0] = r.pr[i];
	r.job[0] = j;
	r.pr[0].runnable = 1;
	r.pr[0].pinned = 0;
	if (j->unmovable && j->node == NULL) {
		snprintf(why, len, "pid %u cannot move (threads, or gone)", j->pid);
		return -1;
	}
	if (!j->runnable)
		r.pl[at].load++;
	if (r.pl[at].shown < r.pl[at].load)
		r.pl[at].shown = r.pl[at].load;
	/* Where it is now may be busy with another move; places a move is
	 * on its way to are not candidates (their loads do not show it yet). */
	r.pl[at].busy = 0;
	for (i = 1; i < r.npl; i++)
		busy += r.pl[i].busy;
	if (balance_choose(r.pl, r.npl, r.pr, 1, &rules, &mv, 1) != 1) {
		snprintf(why, len, "pid %u stays: %s is best%s", j->pid, place_name(at, a, sizeof a),
		    busy ? " (a move in flight)" : "");
		return -1;
	}
	*target = node_id(mv.to);
	return 0;
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
