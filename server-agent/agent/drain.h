/* drain.h - nodes that take no new jobs, or send theirs away.
 *
 * An admin's levers (CTL_NODE from om-ctl, root only): drain (its jobs
 * leave, no new ones), block / unblock (no new jobs; unblock also ends a
 * drain), expel (its jobs go home now, no new ones), reboot (NODE_RESTART
 * to the node, which empties itself and restarts). A node may also leave
 * by itself (NODE_LEAVING: its owner is back): it sends its jobs home
 * right after, and the agent tells each job's om-run where to go on to.
 *
 * A job leaving a node goes to the fastest other open node with a free
 * core that has its CPU features and memory, else home ("elsewhere or
 * home"); the move counts as the balancer's (not a pin). Flags live in
 * struct node (nodes.h) and show in CTL_NODES_REPLY; placement and the
 * balancer send nothing to a node with any flag set. */
#ifndef OM_DRAIN_H
#define OM_DRAIN_H

#include <stdint.h>

#include "conn.h"
#include "nodes.h"

/* CTL_NODE from a control connection whose peer is uid: applies it and
 * answers CTL_NODE_REPLY, or ERROR and closes (non-root: OM_E_STATE
 * "permission denied"; unknown or retired node: OM_E_RANGE "no node N";
 * node not connected for reboot: OM_E_STATE). */
void drain_ctl(struct conn *c, uint32_t uid, const uint8_t *p, uint32_t len);
/* NODE_LEAVING from node n on its connection c. A second one on the same
 * connection is a protocol error (ERROR OM_E_STATE, connection closed). */
void drain_node_leaving(struct node *n, struct conn *c, const uint8_t *p, uint32_t len, uint32_t job);
/* JOB_STARTED came for j (relay.c): a job that was on its way when its
 * node began to drain or leave goes on at once, elsewhere or home. */
struct job;
void drain_job_started(struct job *j);
/* Whether n may be given new jobs (no flag set). */
int drain_open(const struct node *n);
/* Why a node that is not open takes no new jobs: "leaving", "draining"
 * or "blocked". */
const char *drain_why(const struct node *n);

#endif
