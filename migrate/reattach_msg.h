/* reattach_msg.h - the frames that carry a running job across a new link:
 * a node that connected again (the agent restarted, or its link dropped
 * for less than the grace) and an om-run that connected again each say
 * which jobs they hold; the agent pairs the two claims by job id and by
 * the node's link key, and only then do the job's frames flow again.
 *
 * JOB_REATTACH (44), node -> agent -> home, header job = the job, seq =
 * the last call the node sent (job_seq.h): where the job stands there.
 * The node sends node = 0; the agent fills in the node's id (which a
 * restarted agent may have changed) before it relays the frame home.
 *
 * JOB_REATTACHED (45), agent -> node, empty: the job's home is back; its
 * frames may flow (the call it waits for is sent again).
 *
 * The agent pairs a node's claim only with om-run's that names the same
 * job, that node's key, the same pid (which must be om-run's child or
 * tracee) and comes from the same uid: nobody takes another's job.
 *
 * CTL_JOB_REATTACH (79), om-run -> agent: a job om-run follows, placed
 * by an agent before this one (or before this connection): its id, the
 * node's link key (CTL_JOB_PLACED gave it), and what CTL_JOB_SUBMIT said
 * of it. Answered by the node's JOB_REATTACH, or NODE_LOST when the node
 * does not claim the job within the grace. */
#ifndef OM_REATTACH_MSG_H
#define OM_REATTACH_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "job_msg.h"

#define OM_KEY_LEN 32

struct om_job_reattach {
	uint32_t node;             /* 0 from the node; its id from the agent */
	uint32_t pid, uid;         /* its process at home, as its image said */
	uint32_t waiting;          /* the call it waits an answer for, 0: none */
	uint32_t signals_in;       /* SIGNAL and JOB_CONTINUE frames it took in */
	uint32_t stopped;          /* the stop signal that holds it, 0: none */
	uint32_t exited;           /* 1: it ended; its JOB_EXIT is sent again */
};

struct om_ctl_reattach {
	uint32_t job;              /* >= 1 */
	uint8_t key[OM_KEY_LEN];   /* the node's link key */
	struct om_job_submit s;    /* as submitted (s.flags and s.node: 0) */
};

int om_job_reattach_encode(const struct om_job_reattach *m, void *out, size_t cap);
int om_job_reattach_decode(const void *buf, size_t len, struct om_job_reattach *m);
int om_ctl_reattach_encode(const struct om_ctl_reattach *m, void *out, size_t cap);
int om_ctl_reattach_decode(const void *buf, size_t len, struct om_ctl_reattach *m);

#endif
