/* ctl_server.h - om-agent's control socket: a Unix stream socket speaking om frames
 * to local tools (om-mon, om-run, om-migrate).
 *
 * Requests: CTL_NODES -> CTL_NODES_REPLY; CTL_JOB_SUBMIT -> CTL_JOB_PLACED,
 * then job frames on the same connection (jobs.h); CTL_JOBS ->
 * CTL_JOBS_REPLY; CTL_MIGRATE -> CTL_MIGRATE; CTL_POLICY -> CTL_POLICY_REPLY
 * (what agent.conf decides for om-run's jobs). Anything else gets ERROR and
 * a closed connection. A client may send any number of requests on one
 * connection. SO_PEERCRED identifies the caller: its uid owns the jobs it
 * submits and limits what it sees (root sees all). */
#ifndef OM_CTL_SERVER_H
#define OM_CTL_SERVER_H

#include <stdint.h>

#include "ev.h"
#include "job_msg.h"

#define CTL_RX_CAP 4096 /* control requests are small */
/* Caps on control connections (every om-run holds one while its job
 * lives): all of them, and one user's, root's aside. */
#define CTL_CONNS_MAX 8192
#define CTL_CONNS_PER_UID 2048

/* Creates the socket's parent directory if missing, replaces a stale
 * socket (refusing when another agent answers on it, or when the path is
 * not a socket), binds, and starts accepting. Returns 0, or -1 after
 * logging why. */
int ctl_start(struct ev_loop *ev, const char *path);
/* What CTL_POLICY_REPLY says (agent.conf's confine, checkpoint_every_ms,
 * checkpoint_max_pct; none, no checkpoints and 5 % until set). */
void ctl_set_policy(const struct om_policy *p);
/* Closes all control connections and removes the socket file if it is
 * still the one this process created. */
void ctl_stop(void);

#endif
