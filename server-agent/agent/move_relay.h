/* move_relay.h - node -> node moves relayed by the agent, without the
 * image going home (docs/migration.md, "Node to node").
 *
 * The agent asks the job's node for it (JOB_MOVE); the node stops the job
 * and streams JOB_MOVING and its image, which the agent relays to the
 * target (JOB_ARRIVING first), while it keeps the job, stopped, until the
 * agent decides: JOB_KILL once the target has started it (JOB_STARTED),
 * JOB_RESUME if the target refuses it or is lost. What om-run sends for
 * the job meanwhile waits at the agent and goes to wherever the job runs
 * then. A node that cannot let the job go that way now (a call out, a
 * stop) says JOB_MOVE_REFUSED and the move goes through home. Its om-run
 * hears of a move done with JOB_MOVED; the job keeps its id. */
#ifndef OM_MOVE_RELAY_H
#define OM_MOVE_RELAY_H

#include "jobs.h"

/* Whether node -> node moves go this way (1, the default) or through home
 * (0, agent.conf "node_moves = home"). */
void move_relay_enable(int on);
/* Starts moving j, running on a node, to node 'to': 0, or -1 if it cannot
 * go this way (the caller sends it through home). */
int move_relay_start(struct job *j, struct node *to, const char *who);
/* A frame from j's om-run while j moves: kept for where j runs next.
 * Returns 1 if kept; 0: the caller relays it (j does not move); -1: no
 * memory for it (1 MiB held for the job already), -2: the cap on buffer
 * memory (bufmem.h); the caller fails that connection. */
int move_relay_hold(struct job *j, const struct om_hdr *h, const uint8_t *p);
/* A frame from node n for j that is about j's move (from the node it
 * leaves or the node it goes to): 1 if dealt with here (which may have
 * failed n's connection or ended j), 0 if the caller goes on with it. */
int move_relay_from_node(struct node *n, struct conn *c, struct job *j, const struct om_hdr *h,
    const uint8_t *p);
/* The move of j fails (its target lost, refused it): j goes on where it is.
 * why is logged. */
void move_relay_abort(struct job *j, const char *why);
/* A move that has heard nothing of its node for this long (no answer to
 * JOB_MOVE, no image frame, no word from the target) fails: a node that
 * hangs must not keep the job stopped and om-run's frames held. */
#define MOVE_STALL_MS 15000
/* Whether j's move has stalled so (the caller aborts it). */
int move_relay_stalled(const struct job *j, uint64_t now);
/* j ends during its move: the target's share goes (JOB_KILL if it has a
 * part of the image). */
void move_relay_end(struct job *j);

#endif
