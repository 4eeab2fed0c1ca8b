/* node_conn.h - the TCP side of om-agent: accepts node connections and runs
 * the node protocol (HELLO -> WELCOME, heartbeats, ECHO, BYE) on them.
 *
 * Every malformed or unexpected frame closes that one connection with an
 * ERROR frame and a log line naming the peer; nothing a node sends can
 * affect other connections beyond its own node table entry. */
#ifndef OM_NODE_CONN_H
#define OM_NODE_CONN_H

#include <netinet/in.h>
#include <stdint.h>

#include "ev.h"

#define NODE_RX_CAP (64 * 1024)        /* one incoming node frame, header included */
#define NODE_OUT_MAX (256 * 1024)      /* queued output before a node is dropped */
#define AGENT_MAX_CONNS (OM_NODES_MAX + 64)

struct node_conn_cfg {
	uint32_t heartbeat_ms;   /* told to nodes in WELCOME */
	uint32_t down_after_ms;  /* silence -> DOWN; also the HELLO deadline */
	uint32_t drop_after_ms;  /* silence -> retired */
};

/* Listens on *sin (updated with the bound port) and starts the sweep timer.
 * Returns 0, or -1 with errno. */
int node_conn_start(struct ev_loop *ev, struct sockaddr_in *sin, const struct node_conn_cfg *cfg);
/* Says BYE to every node and closes all node connections and the listener. */
void node_conn_stop(void);

#endif
