/* ctl.h - om-agent's control socket: a Unix stream socket speaking om frames
 * to local tools (om-mon, later om-ctl and om-run).
 *
 * Requests: CTL_NODES (empty payload) -> CTL_NODES_REPLY (om_node_list).
 * Anything else gets ERROR and a closed connection. A client may send any
 * number of requests on one connection. SO_PEERCRED identifies the caller
 * (logged with -v; it will decide job visibility once jobs exist). */
#ifndef OM_CTL_H
#define OM_CTL_H

#include "ev.h"

#define CTL_RX_CAP 4096 /* control requests are small */

/* Creates the socket's parent directory if missing, replaces a stale
 * socket (refusing when another agent answers on it, or when the path is
 * not a socket), binds, and starts accepting. Returns 0, or -1 after
 * logging why. */
int ctl_start(struct ev_loop *ev, const char *path);
/* Closes all control connections and removes the socket file if it is
 * still the one this process created. */
void ctl_stop(void);

#endif
