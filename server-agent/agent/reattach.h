/* reattach.h - jobs that outlive a connection (reattach_msg.h).
 *
 * A node whose link dropped, or whose agent restarted, keeps its running
 * jobs for the grace and claims each one (JOB_REATTACH) as soon as it has
 * said HELLO again; an om-run whose agent restarted claims its job too
 * (CTL_JOB_REATTACH), naming the node's link key. A job goes on once both
 * sides hold it: the node claim is relayed home (with the node's new id)
 * and the node hears JOB_REATTACHED. Nobody takes another's job: the two
 * claims pair only when they name the same job id, the node's link key,
 * the same home pid (om-run's child or tracee, which the kernel vouches
 * for) and om-run's uid; om-run's claim joins the job table only then.
 *
 * Waiting is bounded: a node that connected again has REATTACH_WAIT_MS to
 * claim the jobs the agent holds for it (the rest were lost on the way,
 * say in the middle of an image: NODE_LOST); an om-run claim, and a node
 * claim, wait for the other side up to the grace (NODE_LOST to om-run,
 * JOB_KILL to the node). */
#ifndef OM_REATTACH_H
#define OM_REATTACH_H

#include <stdint.h>

#include "conn.h"
#include "jobs.h"
#include "nodes.h"

#define REATTACH_WAIT_MS 10000
#define REATTACH_PENDING_MAX 4096 /* om-run claims waiting, in all */

/* The grace of node_conn_cfg (the agent's --grace). */
void reattach_init(uint32_t grace_ms);
/* Node n said HELLO again with the key of its last connection: the
 * agent's jobs on it wait for its claims. */
void reattach_node_back(struct node *n);
/* JOB_REATTACH from node n on connection c. */
void reattach_from_node(struct node *n, struct conn *c, const struct om_hdr *h, const uint8_t *p);
/* CTL_JOB_REATTACH from om-run. */
void reattach_from_home(struct conn *c, struct job_home *jh, const uint8_t *p, uint32_t len);
/* Whether this agent started lately (within the grace and
 * REATTACH_WAIT_MS): the end of a job it never placed (JOB_EXIT, an image
 * home) may be that of one a node kept from the agent before (it gets
 * JOB_KILL, not a closed connection). */
int reattach_agent_new(void);
/* A control connection closes: its claim, if any, goes. */
void reattach_home_gone(struct conn *c);
/* Claims that waited too long end (see above). */
void reattach_sweep(uint64_t now);
/* Whether a node claims job id, waiting for its om-run (a new job must
 * not take that id). */
int reattach_claimed(uint32_t id);

#endif
