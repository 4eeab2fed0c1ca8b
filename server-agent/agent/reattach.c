/* reattach.c - jobs carried across new connections (see reattach.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ev.h"
#include "log.h"
#include "node_conn.h"
#include "reattach.h"

/* om-run's claims waiting for their node's (at most one per connection:
 * a deputy follows one process). */
struct pending {
	uint32_t id;
	uint8_t key[NOISE_KEY];
	struct om_job_submit s;
	struct conn *home;
	struct job_home *jh;
	uint64_t since_ms;
	struct pending *next;
};

static uint32_t reattach_grace_ms = 30000;
static uint64_t reattach_started_ms; /* the agent's start: nodes may hold jobs of one before */
static struct pending *pending_all;
static unsigned npending;

void
reattach_init(uint32_t grace_ms)
{
	reattach_grace_ms = grace_ms;
	reattach_started_ms = ev_now_ms();
}

static void
unpaired_drop(struct node *n, uint32_t i)
{
	n->unpaired[i] = n->unpaired[--n->nunpaired];
}

/* Whether om-run's claim p and a node's claim (n, r) are of one job: the
 * node's key, the process's pid and its user. */
static int
claims_match(const struct pending *p, const struct node *n, uint32_t id, const struct om_job_reattach *r)
{
	return p->id == id && memcmp(p->key, n->key, NOISE_KEY) == 0 && p->s.pid == r->pid &&
	    p->jh->uid == r->uid;
}

struct claim_find {
	const struct pending *p;
	struct node *n;
	uint32_t i;
};

static void
claim_find_in(struct node *n, void *arg)
{
	struct claim_find *f = arg;
	uint32_t i;

	if (f->n != NULL || n->link == NULL)
		return;
	for (i = 0; i < n->nunpaired; i++)
		if (claims_match(f->p, n, n->unpaired[i].job, &n->unpaired[i].r)) {
			f->n = n;
			f->i = i;
			return;
		}
}

static void
claimed_in(struct node *n, void *arg)
{
	uint32_t *id = arg, i;

	for (i = 0; *id != 0 && i < n->nunpaired; i++)
		if (n->unpaired[i].job == *id)
			*id = 0;
}

int
reattach_claimed(uint32_t id)
{
	const struct pending *p;
	uint32_t left = id;

	for (p = pending_all; p != NULL; p = p->next)
		if (p->id == id)
			return 1;
	nodes_each(claimed_in, &left);
	return left == 0;
}

/* The node drops job id; its frames still on their way are late, not lies. */
static void
kill_claim(struct node *n, struct conn *nc, uint32_t id)
{
	nodes_job_ended(n, id);
	if (nc != NULL)
		(void)conn_send(nc, OM_T_JOB_KILL, id, 0, NULL, 0);
}

static void
refuse_home(struct conn *c, uint32_t id, const char *why)
{
	struct om_node_lost nl = { 0, "" };
	uint8_t buf[8 + OM_STR_MAX];
	int len;

	snprintf(nl.reason, sizeof nl.reason, "%s", why);
	log_info("control %s: job %u not taken back: %s", c->peer, id, why);
	if ((len = om_node_lost_encode(&nl, buf, sizeof buf)) > 0)
		(void)conn_send(c, OM_T_NODE_LOST, id, 0, buf, (size_t)len);
}

static void
pending_unlink(struct pending *p)
{
	struct pending **pp;

	for (pp = &pending_all; *pp != NULL; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			npending--;
			free(p);
			return;
		}
}

/* Both sides hold j: the node's claim goes home, the node goes on. */
static void
pair(struct job *j, struct node *n, struct conn *nc, uint32_t seq, const struct om_job_reattach *claim)
{
	struct om_job_reattach r = *claim;
	uint32_t id = j->id;
	const char *why;
	uint8_t buf[40];
	int len;

	if (j->node == NULL) {
		if ((why = jobs_relay_limits(j->home, n)) != NULL) {
			kill_claim(n, nc, id);
			if ((j = jobs_find(id)) != NULL)
				jobs_lose(j, why);
			return;
		}
		j->node = n;
		nodes_job_in(n, j->need.cores);
	}
	j->reattach_ms = j->reattach_first_ms = 0;
	j->checkpoint_asked = j->checkpoint_open = 0; /* the node dropped one on its way */
	j->state = r.stopped ? OM_JOB_STOPPED : OM_JOB_RUNNING;
	j->runnable = !r.stopped;
	j->in_call = r.waiting != 0;
	r.node = n->id;
	if ((len = om_job_reattach_encode(&r, buf, sizeof buf)) < 0) {
		jobs_lose(j, "cannot encode JOB_REATTACH");
		return;
	}
	log_info("job %u: node %u holds it again (its call %u sent, %s)", id, n->id, seq,
	    r.exited ? "it ended" : r.waiting ? "waiting for its answer" : r.stopped ? "stopped" : "running");
	(void)conn_send(j->home, OM_T_JOB_REATTACH, id, seq, buf, (size_t)len);
	if (jobs_find(id) == j)
		(void)conn_send(nc, OM_T_JOB_REATTACHED, id, 0, NULL, 0);
}

/* om-run's claim p and node n's claim of it: the job is recorded again
 * under its id and goes on. */
static void
adopt_and_pair(struct pending *p, struct node *n, uint32_t seq, const struct om_job_reattach *r)
{
	struct conn *home = p->home, *nc = node_conn_get(n);
	const char *why = NULL;
	uint32_t id = p->id;
	struct job *j;

	j = jobs_adopt(home, p->jh, &p->s, id, &why);
	pending_unlink(p);
	if (j == NULL) {
		refuse_home(home, id, why);
		kill_claim(n, nc, id);
		return;
	}
	pair(j, n, nc, seq, r);
}

static void
mark_waiting(struct job *j, void *arg)
{
	if (j->node != arg)
		return;
	j->reattach_ms = ev_now_ms();
	if (j->reattach_first_ms == 0)
		j->reattach_first_ms = j->reattach_ms;
}

int
reattach_agent_new(void)
{
	/* A node keeps its jobs a little past the grace (GRACE_SLACK_MS). */
	return ev_now_ms() - reattach_started_ms < (uint64_t)reattach_grace_ms + REATTACH_WAIT_MS;
}

void
reattach_node_back(struct node *n)
{
	jobs_each(mark_waiting, n);
}

void
reattach_from_node(struct node *n, struct conn *c, const struct om_hdr *h, const uint8_t *p)
{
	struct om_job_reattach r;
	struct job *j = jobs_find(h->job);
	struct pending *pd;
	uint32_t i;
	int rc;

	if ((rc = om_job_reattach_decode(p, h->length, &r)) != OM_OK || r.node != 0) {
		conn_fail(c, rc != OM_OK ? rc : OM_E_RANGE, "bad JOB_REATTACH: %s",
		    om_strerror(rc != OM_OK ? rc : OM_E_RANGE));
		return;
	}
	if (h->job == 0) {
		conn_fail(c, OM_E_RANGE, "JOB_REATTACH for job 0");
		return;
	}
	if (j != NULL && j->node == n && j->pid == r.pid && j->uid == r.uid) {
		pair(j, n, c, h->seq, &r); /* this agent placed it: the node connected again */
		return;
	}
	if (j == NULL)
		for (pd = pending_all; pd != NULL; pd = pd->next)
			if (claims_match(pd, n, h->job, &r)) {
				adopt_and_pair(pd, n, h->seq, &r);
				return;
			}
	if (j != NULL || nodes_had(n, h->job)) {
		/* Another's job, or one that ended here: not the node's to go on with. */
		log_info("node %u claims job %u, which is not its; sending JOB_KILL", n->id, h->job);
		kill_claim(n, c, h->job);
		return;
	}
	for (i = 0; i < n->nunpaired && n->unpaired[i].job != h->job; i++)
		;
	if (i == NODE_UNPAIRED) {
		log_warnx("node %u claims more than %u jobs; sending JOB_KILL for job %u", n->id, NODE_UNPAIRED,
		    h->job);
		kill_claim(n, c, h->job);
		return;
	}
	if (i == n->nunpaired) { /* a claim again (a link that flaps) keeps its time */
		n->nunpaired++;
		n->unpaired[i].since_ms = ev_now_ms();
		log_info("node %u claims job %u; waiting up to %u ms for its om-run", n->id, h->job,
		    reattach_grace_ms);
	}
	n->unpaired[i].job = h->job;
	n->unpaired[i].seq = h->seq;
	n->unpaired[i].r = r;
}

void
reattach_from_home(struct conn *c, struct job_home *jh, const uint8_t *p, uint32_t len)
{
	struct om_ctl_reattach m;
	struct claim_find f;
	struct pending *pd;
	int rc;

	if ((rc = om_ctl_reattach_decode(p, len, &m)) != OM_OK) {
		conn_fail(c, rc, "bad CTL_JOB_REATTACH: %s", om_strerror(rc));
		return;
	}
	if (!jobs_pid_ok(m.s.pid, jh->pid)) {
		conn_fail(c, OM_E_RANGE, "pid %u is not the caller, its child or its tracee", m.s.pid);
		return;
	}
	jh->ids[jh->nids++ % JOBS_REMEMBERED] = m.job; /* its late frames are not lies */
	if (jobs_find(m.job) != NULL) {
		refuse_home(c, m.job, "its job id is another job's");
		return;
	}
	for (pd = pending_all; pd != NULL; pd = pd->next)
		if (pd->home == c) {
			refuse_home(c, m.job, "one claim per connection");
			return;
		}
	if (npending >= REATTACH_PENDING_MAX) {
		refuse_home(c, m.job, "too many claims wait for their nodes");
		return;
	}
	if ((pd = calloc(1, sizeof *pd)) == NULL) {
		refuse_home(c, m.job, "agent out of memory");
		return;
	}
	pd->id = m.job;
	memcpy(pd->key, m.key, sizeof pd->key);
	pd->s = m.s;
	pd->home = c;
	pd->jh = jh;
	pd->since_ms = ev_now_ms();
	pd->next = pending_all;
	pending_all = pd;
	npending++;
	log_info("job %u (uid %u pid %u): om-run follows it again; waiting for its node: %s", m.job, jh->uid,
	    m.s.pid, m.s.cmd);
	f = (struct claim_find){ pd, NULL, 0 };
	nodes_each(claim_find_in, &f);
	if (f.n != NULL) {
		struct node_unpaired u = f.n->unpaired[f.i];

		unpaired_drop(f.n, f.i);
		adopt_and_pair(pd, f.n, u.seq, &u.r);
	}
}

void
reattach_home_gone(struct conn *c)
{
	struct pending *pd, *next;

	for (pd = pending_all; pd != NULL; pd = next) {
		next = pd->next;
		if (pd->home == c)
			pending_unlink(pd);
	}
}

struct sweep {
	uint64_t now;
	uint32_t ids[OM_JOBS_MAX];
	int k;
};

/* A job whose node connected again waits REATTACH_WAIT_MS for its claim
 * while the node stays connected, and the grace in all. */
static void
overdue_job(struct job *j, void *arg)
{
	struct sweep *s = arg;

	if (j->reattach_ms == 0 || s->k >= OM_JOBS_MAX)
		return;
	if ((j->node->link != NULL && s->now - j->reattach_ms >= REATTACH_WAIT_MS) ||
	    s->now - j->reattach_first_ms >= (uint64_t)reattach_grace_ms + REATTACH_WAIT_MS)
		s->ids[s->k++] = j->id;
}

static void
overdue_claims(struct node *n, void *arg)
{
	struct sweep *s = arg;
	struct conn *nc = node_conn_get(n);
	uint32_t i = 0;

	while (i < n->nunpaired)
		if (s->now - n->unpaired[i].since_ms >= reattach_grace_ms) {
			log_info("node %u: no om-run claimed job %u within %u ms; sending JOB_KILL", n->id,
			    n->unpaired[i].job, reattach_grace_ms);
			kill_claim(n, nc, n->unpaired[i].job);
			unpaired_drop(n, i);
		} else
			i++;
}

void
reattach_sweep(uint64_t now)
{
	struct sweep s = { .now = now, .k = 0 };
	struct pending *pd, *next;
	struct job *j;
	char why[OM_STR_MAX + 1];
	int i;

	jobs_each(overdue_job, &s);
	for (i = 0; i < s.k; i++) {
		if ((j = jobs_find(s.ids[i])) == NULL || j->reattach_ms == 0)
			continue;
		snprintf(why, sizeof why, "node %u connected again without it", j->node->id);
		jobs_lose(j, why);
	}
	nodes_each(overdue_claims, &s);
	snprintf(why, sizeof why, "no node claimed it within %u ms", reattach_grace_ms);
	for (pd = pending_all; pd != NULL; pd = next) {
		next = pd->next;
		if (now - pd->since_ms >= reattach_grace_ms) {
			refuse_home(pd->home, pd->id, why);
			pending_unlink(pd);
		}
	}
}
