/* drain.c - drain, block, expel, reboot, and nodes that leave (drain.h). */
#include <stdio.h>
#include <string.h>

#include "drain.h"
#include "ev.h"
#include "jobs.h"
#include "log.h"
#include "placement.h"

/* Targets picked in one sweep: a node's agent count does not include a
 * move until its SUBMIT lands, so the sweep counts its own choices. */
struct sweep {
	struct node *from;
	int home_only;             /* expel */
	const struct job *job;     /* the one being placed */
	struct node *best;
	uint32_t chosen_id[OM_NODE_JOBS_MAX];
	uint32_t chosen_n[OM_NODE_JOBS_MAX];
	int nchosen;
	uint32_t moving;
	const char *who;
};

int
drain_open(const struct node *n)
{
	return n->flags == 0;
}

const char *
drain_why(const struct node *n)
{
	return n->flags & OM_NODE_F_LEAVING ? "leaving" : n->flags & OM_NODE_F_DRAINING ? "draining" : "blocked";
}

static uint32_t
chosen(const struct sweep *sw, const struct node *n)
{
	for (int i = 0; i < sw->nchosen; i++)
		if (sw->chosen_id[i] == n->id)
			return sw->chosen_n[i];
	return 0;
}

static void
choose(struct sweep *sw, struct node *n)
{
	int i;

	for (i = 0; i < sw->nchosen; i++)
		if (sw->chosen_id[i] == n->id)
			break;
	if (i == sw->nchosen) {
		if (i == OM_NODE_JOBS_MAX)
			return; /* a node runs at most that many: nothing more to count */
		sw->chosen_id[sw->nchosen] = n->id;
		sw->chosen_n[sw->nchosen++] = 0;
	}
	sw->chosen_n[i]++;
}

/* speed / (jobs + 1), compared without division, as placement does. */
static int
faster(const struct sweep *sw, const struct node *a, const struct node *b)
{
	uint64_t sa = (uint64_t)a->hello.speed * (nodes_busy(b, ev_now_ms()) + chosen(sw, b) + 1);
	uint64_t sb = (uint64_t)b->hello.speed * (nodes_busy(a, ev_now_ms()) + chosen(sw, a) + 1);

	return sa != sb ? sa > sb : a->id < b->id;
}

static void
consider(struct node *n, void *arg)
{
	struct sweep *sw = arg;
	char lack[48];

	if (n == sw->from || n->state != OM_NODE_UP || node_conn_get(n) == NULL || !drain_open(n))
		return;
	if (placement_missing(&sw->job->need, &n->hello.cpu, lack, sizeof lack) ||
	    n->hb.mem_free < sw->job->mem_bytes ||
	    nodes_busy(n, ev_now_ms()) + chosen(sw, n) + sw->job->need.cores > n->hello.cpu.cores ||
	    nodes_jobs(n) + chosen(sw, n) >= OM_NODE_JOBS_MAX)
		return;
	if (sw->best == NULL || faster(sw, n, sw->best))
		sw->best = n;
}

static void
send_away(struct job *j, struct sweep *sw)
{
	char why[OM_STR_MAX + 1];
	uint32_t target = 0;

	if (!sw->home_only) {
		sw->job = j;
		sw->best = NULL;
		nodes_each(consider, sw);
		if (sw->best != NULL) {
			target = sw->best->id;
			choose(sw, sw->best);
		}
	}
	if (jobs_move(j, target, OM_WHY_BALANCER, sw->who, why, sizeof why) == OM_OK)
		sw->moving++;
	else
		log_warnx("job %u: stays on node %u: %s", j->id, sw->from->id, why);
}

struct on_node {
	const struct node *n;
	uint32_t count;
	uint32_t *ids;
};

static void
collect(struct job *j, void *arg)
{
	struct on_node *on = arg;

	if (j->node == on->n && on->count < OM_JOBS_MAX)
		on->ids[on->count++] = j->id;
}

/* Sends every job on n away (home_only: home). Returns how many go. The
 * ids come first: a send may close an om-run connection that stopped
 * reading, which ends its jobs, so the table may change between moves. */
static uint32_t
empty_node(struct node *n, int home_only, const char *who)
{
	static uint32_t ids[OM_JOBS_MAX];
	struct on_node on = { n, 0, ids };
	struct sweep sw;
	struct job *j;

	jobs_each(collect, &on);
	memset(&sw, 0, sizeof sw);
	sw.from = n;
	sw.home_only = home_only;
	sw.who = who;
	for (uint32_t i = 0; i < on.count; i++)
		if ((j = jobs_find(ids[i])) != NULL && j->node == n)
			send_away(j, &sw);
	return sw.moving;
}

void
drain_job_started(struct job *j)
{
	struct sweep sw;

	if (j->node == NULL || !(j->node->flags & (OM_NODE_F_DRAINING | OM_NODE_F_LEAVING)))
		return;
	memset(&sw, 0, sizeof sw);
	sw.from = j->node;
	sw.who = "its node draining";
	send_away(j, &sw);
}

static const char *const action_names[] = {
	[OM_CTL_DRAIN] = "drain", [OM_CTL_BLOCK] = "block", [OM_CTL_UNBLOCK] = "unblock",
	[OM_CTL_EXPEL] = "expel", [OM_CTL_REBOOT] = "reboot",
};

void
drain_ctl(struct conn *c, uint32_t uid, const uint8_t *p, uint32_t len)
{
	struct om_ctl_node m;
	struct om_ctl_node_reply r;
	struct node *n;
	struct conn *nc;
	char who[48];
	uint8_t buf[16];
	int rc;

	if ((rc = om_ctl_node_decode(p, len, &m)) != OM_OK) {
		conn_fail(c, rc, "bad CTL_NODE: %s", om_strerror(rc));
		return;
	}
	/* DESIGN.md: users control their own jobs; a node is everyone's. */
	if (uid != 0) {
		log_warnx("uid %u may not %s node %u: root only", uid, action_names[m.action], m.node);
		conn_fail(c, OM_E_STATE, "%s node %u: permission denied (root only)",
		    action_names[m.action], m.node);
		return;
	}
	if ((n = nodes_by_id(m.node)) == NULL) {
		conn_fail(c, OM_E_RANGE, "no node %u", m.node);
		return;
	}
	snprintf(who, sizeof who, "om-ctl %s", action_names[m.action]);
	memset(&r, 0, sizeof r);
	switch (m.action) {
	case OM_CTL_DRAIN:
		n->flags |= OM_NODE_F_DRAINING;
		r.moving = empty_node(n, 0, who);
		break;
	case OM_CTL_BLOCK:
		n->flags |= OM_NODE_F_BLOCKED;
		break;
	case OM_CTL_UNBLOCK:
		n->flags &= (uint8_t)~(OM_NODE_F_BLOCKED | OM_NODE_F_DRAINING);
		break;
	case OM_CTL_EXPEL:
		n->flags |= OM_NODE_F_DRAINING;
		r.moving = empty_node(n, 1, who);
		break;
	case OM_CTL_REBOOT:
		if ((nc = node_conn_get(n)) == NULL) {
			conn_fail(c, OM_E_STATE, "node %u is not connected", m.node);
			return;
		}
		/* The node empties itself: NODE_LEAVING, then its jobs come
		 * home and go on from there (drain_node_leaving). */
		n->flags |= OM_NODE_F_LEAVING;
		(void)conn_send(nc, OM_T_NODE_RESTART, 0, 0, NULL, 0);
		r.moving = nodes_jobs(n);
		break;
	}
	log_info("node %u: %s by uid %u; %u job(s) leave; flags now%s%s%s%s", n->id,
	    action_names[m.action], uid, r.moving, n->flags ? "" : " none",
	    n->flags & OM_NODE_F_BLOCKED ? " blocked" : "",
	    n->flags & OM_NODE_F_DRAINING ? " draining" : "",
	    n->flags & OM_NODE_F_LEAVING ? " leaving" : "");
	r.node = n->id;
	r.flags = n->flags;
	if ((rc = om_ctl_node_reply_encode(&r, buf, sizeof buf)) < 0)
		conn_fail(c, rc, "cannot encode CTL_NODE_REPLY: %s", om_strerror(rc));
	else
		(void)conn_send(c, OM_T_CTL_NODE_REPLY, 0, 0, buf, (size_t)rc);
}

void
drain_node_leaving(struct node *n, struct conn *c, const uint8_t *p, uint32_t len, uint32_t job)
{
	struct om_node_leaving m;
	uint32_t moving;
	int rc;

	if ((rc = om_node_leaving_decode(p, len, &m)) != OM_OK) {
		conn_fail(c, rc, "bad NODE_LEAVING: %s", om_strerror(rc));
		return;
	}
	if (job != 0) {
		conn_fail(c, OM_E_RANGE, "NODE_LEAVING with job id %u", job);
		return;
	}
	if (n->said_leaving) {
		conn_fail(c, OM_E_STATE, "NODE_LEAVING twice");
		return;
	}
	n->said_leaving = 1;
	n->flags |= OM_NODE_F_LEAVING;
	nodes_seen(n, ev_now_ms());
	/* Its JOB_HOMEs follow on this connection; each job's om-run hears
	 * first where it goes on to. */
	moving = empty_node(n, 0, "its node leaving");
	log_info("node %u leaves (%s: %s); %u job(s) go elsewhere or home", n->id,
	    m.reason == OM_LEAVE_OWNER ? "owner back" : "restart asked", m.text, moving);
}
