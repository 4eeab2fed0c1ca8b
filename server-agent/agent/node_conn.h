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
#include "noise.h"

#define NODE_RX_CAP (64 * 1024)        /* one incoming node frame, header included */
#define NODE_OUT_MAX (256 * 1024)      /* queued output before a node is dropped */
/* Caps on node connections, each refusal logged with its name: all of
 * them, those that have not registered yet (the handshake costs the agent
 * X25519 work, and an idle one memory), and those from one address. The
 * control socket has its own (ctl_server.h). */
#define NODE_CONNS_MAX (OM_NODES_MAX + 64)
#define NODE_UNREGISTERED_MAX 256
#define NODE_UNREGISTERED_PER_ADDR 8

struct node_conn_cfg {
	uint32_t heartbeat_ms;   /* told to nodes in WELCOME */
	uint32_t down_after_ms;  /* silence -> DOWN; also the HELLO deadline */
	uint32_t grace_ms;       /* silence -> its jobs are lost; told in WELCOME */
	uint32_t drop_after_ms;  /* silence -> retired */
	uint8_t key[NOISE_KEY];  /* the agent's static private key (agent_key.h) */
	uint8_t pub[NOISE_KEY];  /* ... and its public half */
};

/* Listens on *sin (updated with the bound port) and starts the sweep timer.
 * Returns 0, or -1 with errno. */
int node_conn_start(struct ev_loop *ev, struct sockaddr_in *sin, const struct node_conn_cfg *cfg);
/* Says BYE to every node and closes all node connections and the listener. */
void node_conn_stop(void);

#endif
