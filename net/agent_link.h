/* agent_link.h - the node's TCP link to om-agent (private to net/).
 *
 * A state machine over one raw-API pcb: connect, the encrypted link's
 * handshake (link_stream.h), HELLO, WELCOME, heartbeats,
 * ECHO answers; any failure closes the pcb and retries with exponential
 * backoff (250 ms doubling to 5 s). Main-loop context only. */
#ifndef OM_AGENT_LINK_H
#define OM_AGENT_LINK_H

#include <stdint.h>

#include "net.h"

/* Remembers the identity to send in HELLO (copied) and the NIC it describes,
 * and makes this boot's link key. agent_key: the agent's static public key
 * (om.key=), or NULL: then the link never connects (AGENT_NO_KEY). The
 * link stays in AGENT_WAIT_ADDR until agent_set_peer. */
void agent_init(const struct node_identity *id, const struct nic *nic, const uint8_t *agent_key);
/* Sets (or, with ip 0, forgets) the agent's address: ip in network byte
 * order, port in host order. A change drops the current connection. */
void agent_set_peer(uint32_t ip, uint16_t port);
/* Runs due timers: backoff expiry, heartbeats, the WELCOME deadline. */
void agent_poll(void);
void agent_get_status(struct net_status *st);

#endif
