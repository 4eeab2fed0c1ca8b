/* reattach.c - jobs carried across new connections (see reattach.h). */
#include <stdio.h>
#include <string.h>

#include "ev.h"
#include "log.h"
#include "node_conn.h"
#include "reattach.h"

static uint32_t reattach_grace_ms = 30000;

void
reattach_init(uint32_t grace_ms)
{
	reattach_grace_ms = grace_ms;
}

static void
unpaired_drop(struct node *n, uint32_t i)
{
	n->unpaired[i] = n->unpaired[--n->nunpaired];
}

struct claim_find {
	uint32_t id;
	const uint8_t *key; /* NULL: any node */
	struct node *n;
	uint32_t i;
};

static void
claim_find_in(struct node *n, void *arg)
{
	struct claim_find *f = arg;
	uint32_t i;

	if (f->n != NULL || n->link == NULL || (f->key != NULL && memcmp(n->key, f->key, NOISE_KEY) != 0))
		return;
	for (i = 0; i < n->nunpaired; i++)
		if (n->unpaired[i].job == f->id) {
			f->n = n;
			f->i = i;
			return;
		}
}

int
reattach_claimed(uint32_t id)
{
	struct claim_find f = { id, NULL, NULL, 0 };

	nodes_each(claim_find_in, &f);
	return f.n != NULL;
}

/* The node drops job id; its frames still on their way are late, not lies. */
static void
kill_claim(struct node *n, struct conn *nc, uint32_t id)
{
	nodes_job_ended(n, id);
	if (nc != NULL)
		(void)conn_send(nc, OM_T_JOB_KILL, id, 0, NULL, 0);
}

/* Both sides hold j: the node's claim goes home, the node goes on. */
static void
pair(struct job *j, struct node *n, struct conn *nc, uint32_t seq, const struct om_job_reattach *claim)
{
	struct om_job_reattach r = *claim;
	uint32_t id = j->id;
	const char *why;
	uint8_t buf[32];
	int len;

	if (j->node == NULL) {
		if ((why = jobs_relay_limits(j->home, n)) != NULL) {
			(void)conn_send(nc, OM_T_JOB_KILL, id, 0, NULL, 0);
			if ((j = jobs_find(id)) != NULL)
				jobs_lose(j, why);
			return;
		}
		j->node = n;
		nodes_job_in(n, j->need.cores);
	}
	j->reattach_ms = 0;
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

static void
mark_waiting(struct job *j, void *arg)
{
	if (j->node == arg)
		j->reattach_ms = ev_now_ms();
}

void
reattach_node_back(struct node *n)
{
	n->nunpaired = 0; /* it claims them all again on this connection */
	jobs_each(mark_waiting, n);
}

void
reattach_from_node(struct node *n, struct conn *c, const struct om_hdr *h, const uint8_t *p)
{
	struct om_job_reattach r;
	struct job *j = jobs_find(h->job);
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
	if (j != NULL && (j->node == n ||
	    (j->node == NULL && j->reattach_ms != 0 && memcmp(j->reattach_key, n->key, NOISE_KEY) == 0))) {
		pair(j, n, c, h->seq, &r);
		return;
	}
	if (j != NULL || nodes_had(n, h->job)) {
		/* Another node's job, or one that ended here: not the node's to go on with. */
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
	if (i == n->nunpaired) {
		n->nunpaired++;
		n->unpaired[i].since_ms = ev_now_ms();
		log_info("node %u claims job %u; waiting up to %u ms for its om-run", n->id, h->job,
		    reattach_grace_ms);
	}
	n->unpaired[i].job = h->job;
	n->unpaired[i].seq = h->seq;
	n->unpaired[i].r = r;
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

void
reattach_from_home(struct conn *c, struct job_home *jh, const uint8_t *p, uint32_t len)
{
	struct om_ctl_reattach m;
	struct claim_find f;
	const char *why = NULL;
	struct job *j;
	int rc;

	if ((rc = om_ctl_reattach_decode(p, len, &m)) != OM_OK) {
		conn_fail(c, rc, "bad CTL_JOB_REATTACH: %s", om_strerror(rc));
		return;
	}
	if ((j = jobs_adopt(c, jh, &m.s, m.job, &why)) == NULL) {
		refuse_home(c, m.job, why);
		return;
	}
	j->reattach_ms = ev_now_ms();
	memcpy(j->reattach_key, m.key, sizeof j->reattach_key);
	log_info("job %u (uid %u pid %u): om-run follows it again; waiting for its node: %s", j->id, j->uid,
	    j->pid, j->cmd);
	f = (struct claim_find){ m.job, m.key, NULL, 0 };
	nodes_each(claim_find_in, &f);
	if (f.n != NULL) {
		struct node_unpaired u = f.n->unpaired[f.i];

		unpaired_drop(f.n, f.i);
		pair(j, f.n, node_conn_get(f.n), u.seq, &u.r);
	}
}

struct sweep {
	uint64_t now;
	uint32_t ids[OM_JOBS_MAX];
	int k;
};

static void
overdue_job(struct job *j, void *arg)
{
	struct sweep *s = arg;
	uint64_t wait = j->node != NULL ? REATTACH_WAIT_MS : reattach_grace_ms;

	if (j->reattach_ms != 0 && s->now - j->reattach_ms >= wait && s->k < OM_JOBS_MAX)
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
	struct job *j;
	char why[OM_STR_MAX + 1];
	int i;

	jobs_each(overdue_job, &s);
	for (i = 0; i < s.k; i++) {
		if ((j = jobs_find(s.ids[i])) == NULL || j->reattach_ms == 0)
			continue;
		if (j->node != NULL)
			snprintf(why, sizeof why, "node %u connected again without it", j->node->id);
		else
			snprintf(why, sizeof why, "no node claimed it within %u ms", reattach_grace_ms);
		jobs_lose(j, why);
	}
	nodes_each(overdue_claims, &s);
}
