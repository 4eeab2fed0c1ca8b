/* relay.c - job frames between om-run and the node, by job id, with
 * back-pressure (see jobs.h). The agent checks who may send what and reads
 * the small control payloads it must act on (JOB_EXIT, JOB_ERROR, JOB_HOME,
 * SIGNAL); IMAGE and SYSCALL payloads pass through undecoded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bufmem.h"
#include "decision.h"
#include "drain.h"
#include "jobs.h"
#include "log.h"
#include "move_relay.h"
#include "moves.h"
#include "reattach.h"

/* Connections not being read because a peer's queue is full. */
static struct conn **relay_paused;
static int relay_npaused, relay_cap;

static void
relay_unpause_at(int i)
{
	struct conn *c = relay_paused[i];

	relay_paused[i] = relay_paused[--relay_npaused];
	conn_resume(c);
}

void
jobs_relay_send(struct conn *from, struct conn *to, const struct om_hdr *h, const uint8_t *p)
{
	struct conn **v;

	if (conn_send(to, h->type, h->job, h->seq, p, h->length) == -1)
		return; /* 'to' is closed; its owner ends the jobs */
	if (conn_queued(to) <= RELAY_HIGH || from->paused)
		return;
	if (relay_npaused == relay_cap) {
		int cap = relay_cap ? relay_cap * 2 : 16;

		/* Without memory to remember it, do not pause: the queue
		 * limit still bounds the output. */
		if ((v = realloc(relay_paused, (size_t)cap * sizeof *v)) == NULL)
			return;
		relay_paused = v;
		relay_cap = cap;
	}
	conn_pause(from);
	from->blocked_by = to;
	relay_paused[relay_npaused++] = from;
	log_debug("%s: paused while %s has %zu bytes queued", from->peer, to->peer,
	    conn_queued(to));
}

void
jobs_drained(struct conn *c)
{
	int i;

	for (i = 0; i < relay_npaused; )
		if (relay_paused[i]->blocked_by == c)
			relay_unpause_at(i);
		else
			i++;
}

void
jobs_conn_gone(struct conn *c)
{
	int i;

	for (i = 0; i < relay_npaused; ) {
		if (relay_paused[i] == c)
			relay_paused[i] = relay_paused[--relay_npaused];
		else if (relay_paused[i]->blocked_by == c)
			relay_unpause_at(i);
		else
			i++;
	}
	if (relay_npaused == 0) {
		free(relay_paused);
		relay_paused = NULL;
		relay_cap = 0;
	}
}

static int
is_image(uint8_t type)
{
	return om_type_is_image(type);
}

static int
home_owned(const struct job_home *jh, uint32_t id)
{
	int i;

	for (i = 0; i < (int)jh->nids && i < JOBS_REMEMBERED; i++)
		if (jh->ids[i] == id)
			return 1;
	return 0;
}

void
jobs_from_home(struct conn *c, const struct job_home *jh, const struct om_hdr *h,
    const uint8_t *p)
{
	struct om_job_signal sig;
	struct conn *nc;
	struct job *j;
	uint32_t id;
	int rc, on_node;

	if (!is_image(h->type) && h->type != OM_T_SYSCALL_REP && h->type != OM_T_SIGNAL &&
	    h->type != OM_T_MIGRATE_HOME && h->type != OM_T_JOB_CONTINUE && h->type != OM_T_JOB_KILL &&
	    h->type != OM_T_CHECKPOINT && h->type != OM_T_DECISIONS) {
		conn_fail(c, OM_E_STATE, "unexpected %s from om-run", om_type_name(h->type));
		return;
	}
	if ((j = jobs_find(h->job)) == NULL || j->home != c) {
		/* A job of ours that just ended (exit or node lost crossed
		 * this frame on the way): nothing to deliver it to. */
		if (home_owned(jh, h->job) && (j == NULL || j->home != c)) {
			log_debug("control %s: %s for ended job %u dropped", c->peer,
			    om_type_name(h->type), h->job);
			return;
		}
		conn_fail(c, OM_E_STATE, "%s for job %u, which is not yours",
		    om_type_name(h->type), h->job);
		return;
	}
	if (j->reattach_ms != 0 && h->type != OM_T_JOB_KILL) {
		/* Its node connected again and has not claimed it: what it
		 * missed, its claim says, and home sends again (reattach.h). */
		log_debug("control %s: %s for job %u dropped: it waits for its node's claim", c->peer,
		    om_type_name(h->type), h->job);
		return;
	}
	if (j->node == NULL && h->type != OM_T_JOB_KILL) {
		/* A process at home has no node to send anything to. */
		conn_fail(c, OM_E_STATE, "%s for job %u, which runs at home", om_type_name(h->type), h->job);
		return;
	}
	if (h->type == OM_T_SIGNAL) {
		if ((rc = om_job_signal_decode(p, h->length, &sig)) != OM_OK) {
			conn_fail(c, rc, "bad SIGNAL: %s", om_strerror(rc));
			return;
		}
		log_info("job %u: signal %u for the program on node %u", j->id, sig.signo,
		    j->node->id);
	} else if (h->type == OM_T_JOB_KILL) {
		/* om-run gives the job up (it could not send it): the node
		 * drops it, wherever it is, and the agent forgets it. */
		if (h->length != 0) {
			conn_fail(c, OM_E_TRAILING, "bad JOB_KILL: %s", om_strerror(OM_E_TRAILING));
			return;
		}
		id = j->id;
		on_node = j->node != NULL;
		/* A failed send closes the node's connection when the loop's
		 * turn is over (conn.h): j is still there below. */
		if ((nc = node_conn_get(j->node)) != NULL)
			(void)conn_send(nc, OM_T_JOB_KILL, j->id, 0, NULL, 0);
		if ((j = jobs_find(id)) != NULL)
			jobs_end(j, on_node ? "om-run gave it up; JOB_KILL sent to the node" : "it left home");
		return;
	} else if (h->type == OM_T_DECISIONS) {
		if ((rc = om_decisions_check(p, h->length, NULL)) != OM_OK) {
			conn_fail(c, rc, "bad DECISIONS: %s", om_strerror(rc));
			return;
		}
	} else if (h->type == OM_T_MIGRATE_HOME || h->type == OM_T_JOB_CONTINUE || h->type == OM_T_CHECKPOINT) {
		struct om_checkpoint ck;
		int bad = h->type == OM_T_CHECKPOINT ? om_checkpoint_decode(p, h->length, &ck) :
		    h->length != 0 ? OM_E_TRAILING : OM_OK;
		if (bad != OM_OK) {
			conn_fail(c, bad, "bad %s: %s", om_type_name(h->type), om_strerror(bad));
			return;
		}
		if (h->type == OM_T_MIGRATE_HOME)
			log_info("job %u: om-run asks node %u to send it home", j->id, j->node->id);
		if (h->type == OM_T_CHECKPOINT) {
			if (j->checkpoint_asked || j->checkpoint_open) {
				conn_fail(c, OM_E_STATE, "a second CHECKPOINT for job %u before the first is in", j->id);
				return;
			}
			j->checkpoint_asked = 1;
		}
	}
	if (h->type == OM_T_SYSCALL_REP)
		j->in_call = 0;
	else if (is_image(h->type))
		j->image_begun = 1;
	if ((rc = move_relay_hold(j, h, p)) != 0) {
		if (rc == -2) {
			log_warnx("control %s: a frame for job %u while it moves: at the cap on %s", c->peer,
			    j->id, bufmem_cap_name());
			conn_fail(c, OM_E_BUSY, "job %u: at the cap on %s", j->id, bufmem_cap_name());
		} else if (rc < 0)
			conn_fail(c, OM_E_BUSY, "too many frames for job %u while it moves", j->id);
		return;
	}
	if ((nc = node_conn_get(j->node)) != NULL)
		jobs_relay_send(c, nc, h, p);
}

/* Decodes what the agent must understand of a node's frame; fails the
 * node's connection on a malformed one. Returns 0 to relay, -1 not.
 * *stop_sig: a JOB_STOPPED's signal (0: the job goes on); *execed: a
 * JOB_EXIT says its program execed (it is placed anew). */
static int
node_check(struct conn *c, struct job *j, const struct om_hdr *h, const uint8_t *p,
    char *what, size_t len, uint32_t *stop_sig, int *execed)
{
	struct om_job_exit ex;
	struct om_job_home home;
	struct om_job_stopped st;
	struct om_signal_seen seen;
	struct om_call_interrupt ci;
	struct om_error e;
	int rc = OM_OK;

	what[0] = '\0';
	switch (h->type) {
	case OM_T_JOB_STARTED:
		/* Only a job whose image or JOB_FORK it was given starts. */
		if (h->length != 0)
			rc = OM_E_TRAILING;
		else if (j->state != OM_JOB_PLACED)
			rc = OM_E_STATE;
		break;
	case OM_T_JOB_ERROR:
		if ((rc = om_error_decode(p, h->length, &e)) == OM_OK)
			snprintf(what, len, "did not start: %s", e.msg);
		break;
	case OM_T_JOB_EXIT:
		if ((rc = om_job_exit_decode(p, h->length, &ex)) != OM_OK)
			break;
		if (ex.kind == OM_EXIT_EXITED)
			snprintf(what, len, "exited with status %u", ex.status);
		else if ((*execed = ex.kind == OM_EXIT_EXECED))
			snprintf(what, len, "execed: the new program is at home");
		else
			snprintf(what, len, "killed by signal %u%s", ex.status,
			    ex.core ? " (core dumped)" : "");
		break;
	case OM_T_JOB_HOME:
		if ((rc = om_job_home_decode(p, h->length, &home)) == OM_OK)
			snprintf(what, len, "coming home (reason %u: %s, pending syscall %d)",
			    home.reason, home.text, (int)home.pending);
		break;
	case OM_T_JOB_STOPPED:
		if (j->state != OM_JOB_RUNNING && j->state != OM_JOB_STOPPED) {
			rc = OM_E_STATE;
			break;
		}
		if ((rc = om_job_stopped_decode(p, h->length, &st)) != OM_OK)
			break;
		*stop_sig = st.signo;
		if (st.signo != 0)
			snprintf(what, len, "stopped by signal %u", st.signo);
		else
			snprintf(what, len, "goes on");
		break;
	case OM_T_SIGNAL_SEEN:
		rc = om_signal_seen_decode(p, h->length, &seen);
		break;
	case OM_T_CHECKPOINT_TAKEN:
		/* Only to a CHECKPOINT; a no (or an image that failed) after a
		 * yes closes the image. */
		if ((rc = om_error_decode(p, h->length, &e)) != OM_OK)
			break;
		if (j->state == OM_JOB_HOMING) {
			/* It crossed JOB_HOME honestly: moot now. */
			log_debug("job %u: CHECKPOINT_TAKEN while it comes home, dropped", j->id);
			j->checkpoint_asked = j->checkpoint_open = 0;
			return -1;
		}
		if (!j->checkpoint_asked && !(j->checkpoint_open && e.code != 0)) {
			rc = OM_E_STATE;
			break;
		}
		j->checkpoint_asked = 0;
		j->checkpoint_open = e.code == 0;
		break;
	case OM_T_CALL_INTERRUPT:
		if ((rc = om_call_interrupt_decode(p, h->length, &ci)) != OM_OK)
			break;
		if (j->state == OM_JOB_HOMING) {
			/* It may cross the node's JOB_HOME honestly: moot now. */
			log_debug("job %u: CALL_INTERRUPT while it comes home, dropped", j->id);
			return -1;
		}
		if (j->state != OM_JOB_RUNNING && j->state != OM_JOB_STOPPED)
			rc = OM_E_STATE;
		break;
	case OM_T_SYSCALL_REQ:
		if (j->state != OM_JOB_RUNNING && j->state != OM_JOB_STOPPED)
			rc = OM_E_STATE;
		break;
	case OM_T_DECISIONS:
		if ((rc = om_decisions_check(p, h->length, NULL)) != OM_OK)
			break;
		if (j->state == OM_JOB_HOMING) {
			/* Sent before it knew it goes home: moot now. */
			log_debug("job %u: DECISIONS while it comes home, dropped", j->id);
			return -1;
		}
		if (j->state != OM_JOB_RUNNING && j->state != OM_JOB_STOPPED) /* a move's too: it runs till it lands */
			rc = OM_E_STATE;
		break;
	default:
		if (is_image(h->type) && j->state == OM_JOB_HOMING)
			break;
		if (is_image(h->type) && j->checkpoint_open) {
			if (h->type == OM_T_IMAGE_END)
				j->checkpoint_open = 0; /* the job goes on */
			break;
		}
		conn_fail(c, OM_E_STATE, "unexpected %s from a node for job %u",
		    om_type_name(h->type), j->id);
		return -1;
	}
	if (rc != OM_OK) {
		conn_fail(c, rc, "bad %s for job %u: %s", om_type_name(h->type), j->id,
		    om_strerror(rc));
		return -1;
	}
	return 0;
}

/* A job's end (its exit, its way home) that a node may send for a job it
 * kept from the agent before this one, which that one never heard. */
static int
kept_job_end(uint8_t type)
{
	return (type == OM_T_JOB_EXIT || type == OM_T_JOB_HOME || is_image(type)) && reattach_agent_new();
}

void
jobs_from_node(struct node *n, struct conn *c, const struct om_hdr *h, const uint8_t *p)
{
	struct job *j = jobs_find(h->job);
	uint32_t id = h->job, stop_sig = 0;
	int execed = 0;
	char what[128];

	if (j != NULL && (j->node == n || j->move_to == n) && move_relay_from_node(n, c, j, h, p))
		return;
	if ((j == NULL || j->node != n) && !nodes_had(n, id) && !(j == NULL && kept_job_end(h->type))) {
		conn_fail(c, OM_E_STATE, "%s for job %u, which never ran on node %u",
		    om_type_name(h->type), id, n->id);
		return;
	}
	if (j == NULL || j->node != n) {
		/* Ended here already (om-run gone, node declared lost), or
		 * one of an agent before this one, which the node kept: a
		 * race, not an attack; tell the node to drop it. */
		log_info("node %u: %s for unknown job %u; sending JOB_KILL", n->id,
		    om_type_name(h->type), id);
		(void)conn_send(c, OM_T_JOB_KILL, id, 0, NULL, 0);
		return;
	}
	if (node_check(c, j, h, p, what, sizeof what, &stop_sig, &execed) == -1)
		return;
	if (h->type == OM_T_JOB_STARTED) {
		j->state = OM_JOB_RUNNING;
		log_info("job %u started on node %u", id, n->id);
	} else if (h->type == OM_T_SYSCALL_REQ) {
		j->in_call = 1;
	} else if (h->type == OM_T_JOB_HOME) {
		j->state = OM_JOB_HOMING;
		log_info("job %u: %s", id, what);
	} else if (h->type == OM_T_JOB_STOPPED) {
		j->state = stop_sig != 0 ? OM_JOB_STOPPED : OM_JOB_RUNNING;
		log_info("job %u on node %u: %s", id, n->id, what);
	}
	jobs_relay_send(c, j->home, h, p);
	/* The relay may have ended the job (om-run gone): re-fetch it. */
	if ((j = jobs_find(id)) == NULL || j->node != n)
		return;
	if (h->type == OM_T_JOB_STARTED)
		drain_job_started(j);
	else if (h->type == OM_T_JOB_EXIT || h->type == OM_T_JOB_ERROR) {
		moves_forget(j->uid, j->pid);
		if (execed)
			nodes_hold(n, j->uid, j->pid, j->need.cores, ev_now_ms());
		jobs_end(j, what);
	}
	else if (h->type == OM_T_IMAGE_END && j->state == OM_JOB_HOMING)
		jobs_end(j, "the image went home; it runs there now");
}
