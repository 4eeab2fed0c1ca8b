/* move_relay.c - node -> node moves relayed by the agent (see move_relay.h).
 *
 * A send that fails closes its connection when the loop's turn is over
 * (conn.h), which may end the job then (its om-run gone, its node lost);
 * the job is still found again by id after each send, which costs little
 * and keeps this code right whatever a send's callers do. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bufmem.h"
#include "drain.h"
#include "ev.h"
#include "log.h"
#include "move_relay.h"
#include "moves.h"
#include "placement.h"

enum { MOVE_ASKED = 1, MOVE_STREAMING = 2 };

/* om-run's frames for one moving job: SIGNAL, JOB_CONTINUE, MIGRATE_HOME,
 * all small. A deputy does not send this much in the seconds a move
 * takes unless it is broken. */
#define HELD_BYTES_MAX (1024 * 1024)

struct held_frame {
	struct held_frame *next;
	struct om_hdr h;
	uint8_t p[];
};

static int relay_on = 1;

void
move_relay_enable(int on)
{
	relay_on = on;
}

/* Sends what om-run sent meanwhile to the node j runs on now. */
static void
held_flush(uint32_t id)
{
	struct job *j = jobs_find(id);
	struct held_frame *f;
	struct conn *nc;

	while (j != NULL && (f = j->held) != NULL) {
		j->held = f->next;
		if (j->held == NULL)
			j->held_tail = &j->held;
		j->held_bytes -= sizeof *f + f->h.length;
		if ((nc = node_conn_get(j->node)) != NULL)
			(void)conn_send(nc, f->h.type, f->h.job, f->h.seq, f->p, f->h.length);
		bufmem_give(sizeof *f + f->h.length);
		free(f);
		j = jobs_find(id);
	}
}

static void
held_free(struct job *j)
{
	struct held_frame *f;

	while ((f = j->held) != NULL) {
		j->held = f->next;
		bufmem_give(sizeof *f + f->h.length);
		free(f);
	}
	j->held_tail = &j->held;
	j->held_bytes = 0;
}

int
move_relay_start(struct job *j, struct node *to, const char *who)
{
	struct conn *from_c = node_conn_get(j->node), *to_c = node_conn_get(to);
	uint32_t id = j->id;
	char missing[64];

	/* A target that would refuse it (closed, full, a feature or memory
	 * it lacks) is asked through home, whose placement says why it will
	 * not go; so is a job whose node may still send frames of an
	 * earlier move. */
	if (!relay_on || j->state != OM_JOB_RUNNING || j->move_to != NULL || j->move_answer_due ||
	    j->move_stale_image || j->checkpoint_asked || j->checkpoint_open || from_c == NULL || (j->node->flags & OM_NODE_F_LEAVING) ||
	    j->node->said_leaving || to_c == NULL || !drain_open(to) || nodes_jobs(to) >= OM_NODE_JOBS_MAX ||
	    placement_missing(&j->need, &to->hello.cpu, missing, sizeof missing) != 0 ||
	    to->hb.mem_free < j->mem_bytes || conn_set_limits(to_c, RELAY_RX_CAP, RELAY_NODE_OUT_MAX) == -1)
		return -1;
	j->move_to = to;
	j->move_phase = MOVE_ASKED;
	j->move_answer_due = 1;
	j->move_since_ms = j->move_heard_ms = ev_now_ms();
	j->held = NULL;
	j->held_tail = &j->held;
	j->held_bytes = 0;
	nodes_job_in(to, j->need.cores); /* its cores are taken from now on */
	log_info("job %u: %s moves it from node %u to node %u, through the agent", id, who,
	    j->node->id, to->id);
	(void)conn_send(from_c, OM_T_JOB_MOVE, id, 0, NULL, 0);
	return 0;
}

int
move_relay_hold(struct job *j, const struct om_hdr *h, const uint8_t *p)
{
	struct held_frame *f;

	if (j->move_to == NULL)
		return 0;
	if (j->held_bytes + sizeof *f + h->length > HELD_BYTES_MAX)
		return -1;
	if (bufmem_take(sizeof *f + h->length) == -1)
		return -2;
	if ((f = malloc(sizeof *f + h->length)) == NULL) {
		bufmem_give(sizeof *f + h->length);
		return -1;
	}
	f->next = NULL;
	f->h = *h;
	memcpy(f->p, p, h->length);
	*j->held_tail = f;
	j->held_tail = &f->next;
	j->held_bytes += sizeof *f + h->length;
	return 1;
}

/* Whatever the phase: the target's share of the job goes. */
static void
target_forget(struct job *j)
{
	struct node *to = j->move_to;
	struct conn *nc;
	int streamed = j->move_phase == MOVE_STREAMING;
	uint32_t id = j->id;

	j->move_to = NULL;
	j->move_phase = 0;
	nodes_job_out(to, j->need.cores);
	if (!streamed)
		return;
	/* Its late frames (a JOB_STARTED crossing this) are a race, not a lie. */
	nodes_job_ended(to, id);
	if ((nc = node_conn_get(to)) != NULL)
		(void)conn_send(nc, OM_T_JOB_KILL, id, 0, NULL, 0);
}

void
move_relay_abort(struct job *j, const char *why)
{
	uint32_t id = j->id, from = j->node->id, to = j->move_to->id;
	int streaming = j->move_phase == MOVE_STREAMING;
	struct conn *nc;

	log_info("job %u: its move from node %u to node %u failed (%s); it goes on at node %u", id,
	    from, to, why, from);
	moves_forget(j->uid, j->pid);
	target_forget(j);
	if ((j = jobs_find(id)) == NULL)
		return;
	j->move_stale_image = streaming; /* until the node has read JOB_RESUME */
	if ((nc = node_conn_get(j->node)) != NULL)
		(void)conn_send(nc, OM_T_JOB_RESUME, id, 0, NULL, 0);
	held_flush(id);
}

void
move_relay_end(struct job *j)
{
	if (j->move_to != NULL)
		target_forget(j);
	held_free(j);
}

/* The target runs it: it is the job's node from now on. */
static void
landed(struct job *j)
{
	struct node *from = j->node, *to = j->move_to;
	struct om_job_moved m;
	uint8_t buf[OM_JOB_MOVED_MAX];
	uint64_t ms = ev_now_ms() - j->move_since_ms;
	uint8_t cause = moves_land(j->uid, j->pid, to->id);
	uint32_t id = j->id;
	struct conn *nc;
	int len;

	nodes_job_out(from, j->need.cores);
	nodes_job_ended(from, id);
	j->node = to;
	j->move_to = NULL;
	j->move_phase = 0;
	j->state = OM_JOB_RUNNING;
	j->why = cause ? cause : OM_WHY_MIGRATE;
	j->start_ms = ev_now_ms();
	j->cpu_ms = j->sampled_ms = 0;
	j->runnable = 1;
	log_info("job %u: moved from node %u to node %u in %llu ms (through the agent)", id, from->id,
	    to->id, (unsigned long long)ms);
	memset(&m, 0, sizeof m);
	m.cpu_ns = j->move_cpu_ns;
	m.to.job = id;
	m.to.node = to->id;
	m.to.cpu = to->hello.cpu;
	snprintf(m.to.addr, sizeof m.to.addr, "%s", to->ip);
	memcpy(m.to.key, to->key, sizeof m.to.key);
	if ((nc = node_conn_get(from)) != NULL)
		(void)conn_send(nc, OM_T_JOB_KILL, id, 0, NULL, 0); /* its stopped copy */
	if ((j = jobs_find(id)) == NULL)
		return;
	if ((len = om_job_moved_encode(&m, buf, sizeof buf)) > 0)
		(void)conn_send(j->home, OM_T_JOB_MOVED, id, 0, buf, (size_t)len);
	held_flush(id);
	if ((j = jobs_find(id)) != NULL)
		drain_job_started(j);
}

/* From the node the job leaves. */
static int
from_source(struct conn *c, struct job *j, const struct om_hdr *h, const uint8_t *p)
{
	struct om_job_moving mv;
	struct om_error e;
	struct conn *tc;
	int image = om_type_is_image(h->type);
	int rc;

	if (h->type == OM_T_JOB_MOVING || h->type == OM_T_JOB_MOVE_REFUSED) {
		if (!j->move_answer_due) {
			conn_fail(c, OM_E_STATE, "%s for job %u, which was not asked to move",
			    om_type_name(h->type), j->id);
			return 1;
		}
		j->move_answer_due = 0;
		if (j->move_to == NULL) { /* for a move that is over: dropped */
			j->move_stale_image = h->type == OM_T_JOB_MOVING;
			return 1;
		}
	}
	if (j->move_to == NULL) {
		if (j->move_stale_image && image)
			return 1;
		j->move_stale_image = 0; /* the node has read JOB_RESUME */
		return 0;
	}
	if (h->type == OM_T_JOB_MOVE_REFUSED) {
		if ((rc = om_error_decode(p, h->length, &e)) != OM_OK) {
			conn_fail(c, rc, "bad JOB_MOVE_REFUSED: %s", om_strerror(rc));
			return 1;
		}
		if (j->move_phase == MOVE_STREAMING) { /* its image would not go */
			move_relay_abort(j, e.msg);
			return 1;
		}
		log_info("job %u: node %u cannot send it straight on (%s): it goes through home", j->id,
		    j->node->id, e.msg);
		uint32_t target = j->move_to->id, id = j->id;
		target_forget(j);
		held_flush(id);
		if ((j = jobs_find(id)) != NULL)
			jobs_move_through_home(j, target);
		return 1;
	}
	if (j->move_phase == MOVE_ASKED && h->type == OM_T_JOB_MOVING) {
		if ((rc = om_job_moving_decode(p, h->length, &mv)) != OM_OK) {
			conn_fail(c, rc, "bad JOB_MOVING: %s", om_strerror(rc));
			return 1;
		}
		j->move_cpu_ns = mv.cpu_ns;
		j->move_phase = MOVE_STREAMING;
		j->move_heard_ms = ev_now_ms();
		if ((tc = node_conn_get(j->move_to)) != NULL)
			(void)conn_send(tc, OM_T_JOB_ARRIVING, j->id, 0, p, h->length);
		return 1;
	}
	if (j->move_phase == MOVE_STREAMING && image) {
		j->move_heard_ms = ev_now_ms();
		if ((tc = node_conn_get(j->move_to)) != NULL)
			jobs_relay_send(c, tc, h, p);
		return 1;
	}
	if (j->move_phase == MOVE_ASKED && h->type == OM_T_JOB_HOME) {
		/* It went home before it read JOB_MOVE (a call only home runs,
		 * its node leaving): home sends it on, told before JOB_HOME. */
		uint32_t target = j->move_to->id, id = j->id;
		log_info("job %u: it comes home before it could move; it goes on to node %u from there",
		    id, target);
		target_forget(j);
		j->state = OM_JOB_HOMING; /* no MIGRATE_HOME: it is on its way */
		jobs_move_through_home(j, target);
		if ((j = jobs_find(id)) != NULL)
			held_flush(id);
		return jobs_find(id) == NULL; /* relay.c goes on with JOB_HOME */
	}
	/* Sent before it read JOB_MOVE (a job that went home meanwhile sends
	 * its image home): as usual. */
	if (j->move_phase == MOVE_ASKED && (!image || j->state == OM_JOB_HOMING || j->checkpoint_open))
		return 0;
	if (h->type == OM_T_DECISIONS)
		return 0; /* what it decided before it left: home's log has them, should the move fail */
	conn_fail(c, OM_E_STATE, "%s for job %u while it moves to node %u", om_type_name(h->type), j->id,
	    j->move_to->id);
	return 1;
}

/* From the node it goes to. */
static int
from_target(struct conn *c, struct job *j, const struct om_hdr *h, const uint8_t *p)
{
	struct om_error e;
	char why[OM_STR_MAX + 32];
	int rc;

	if (j->move_phase == MOVE_ASKED && nodes_had(j->move_to, j->id))
		return 1; /* a late word about an earlier move here that failed */
	if (j->move_phase == MOVE_STREAMING && h->type == OM_T_JOB_STARTED && h->length == 0) {
		landed(j);
		return 1;
	}
	if (j->move_phase == MOVE_STREAMING && h->type == OM_T_JOB_ERROR) {
		if ((rc = om_error_decode(p, h->length, &e)) != OM_OK) {
			conn_fail(c, rc, "bad JOB_ERROR: %s", om_strerror(rc));
			return 1;
		}
		snprintf(why, sizeof why, "node %u refused it: %s", j->move_to->id, e.msg);
		move_relay_abort(j, why);
		return 1;
	}
	conn_fail(c, OM_E_STATE, "%s for job %u, which it does not run yet", om_type_name(h->type), j->id);
	return 1;
}

int
move_relay_stalled(const struct job *j, uint64_t now)
{
	return j->move_to != NULL && now > j->move_heard_ms + MOVE_STALL_MS;
}

int
move_relay_from_node(struct node *n, struct conn *c, struct job *j, const struct om_hdr *h,
    const uint8_t *p)
{
	if (j->move_to == n && j->node != n)
		return from_target(c, j, h, p);
	if (j->node == n)
		return from_source(c, j, h, p);
	return 0;
}
