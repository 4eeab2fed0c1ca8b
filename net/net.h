/* net.h - the node's network: lwIP (NO_SYS=1) on one NIC, and the link to
 * om-agent. Everything here runs in main-loop context only; lwIP is never
 * entered from an interrupt. */
#ifndef OM_NET_H
#define OM_NET_H

#include <stdint.h>

#include "nic.h"
#include "proto.h"

struct net_config {
	int use_dhcp;             /* 0: ip/netmask/gw below are set */
	uint32_t ip, netmask, gw; /* network byte order */
	uint32_t agent_ip;        /* network byte order; 0 = the DHCP server */
	uint16_t agent_port;      /* host order; 0 = OM_DEFAULT_PORT */
	/* The agent's static public key (om.key=): the link refuses any
	 * agent that does not hold its private half. */
	uint8_t agent_key[32];
	int have_agent_key;
};

/* What the node tells the agent; filled by the kernel before net_start. */
struct node_identity {
	struct om_hello hello;    /* mac and nic are filled by net_start */
	/* Fills the live values of each heartbeat (uptime, memory, load);
	 * the kernel's, so that net/ depends on nothing above it. */
	void (*status)(struct om_heartbeat *hb);
};

/* Brings up lwIP on nic (opening it), starts DHCP or the static address, and
 * begins connecting to the agent. Returns 0 or a negative error (logged). */
int net_start(struct nic *nic, const struct net_config *cfg, const struct node_identity *id);
/* Does all pending network work: NIC receive, lwIP timers, agent link.
 * Call from the main loop whenever an interrupt or a tick arrived. */
void net_poll(void);

/* State for the status screen. */
enum agent_state { AGENT_IDLE, AGENT_WAIT_ADDR, AGENT_CONNECTING, AGENT_HELLO_SENT, AGENT_REGISTERED, AGENT_BACKOFF,
		   AGENT_NO_KEY /* no om.key=: no agent can be trusted */ };
struct net_status {
	uint32_t ip;              /* network byte order, 0 until bound */
	uint32_t agent_ip;
	uint16_t agent_port;
	enum agent_state agent;
	uint32_t node_id;         /* from WELCOME, 0 before */
	uint32_t reconnects;
	/* Home's CLOCK_REALTIME from the last WELCOME and timer_ms() when that
	 * WELCOME arrived, for setting the node clock; both 0 before. */
	uint64_t welcome_time_ns;
	uint32_t welcome_at_ms;
	char key_fp[20];          /* this node's link key, as the admin sees it */
	int key_refused;          /* the last attempt failed on the agent's key */
	int not_admitted;         /* the agent does not admit this node (yet) */
};
void net_get_status(struct net_status *st);

/* Job traffic (docs/migration.md). Main-loop context. */
typedef void (*agent_job_rx_fn)(const struct om_hdr *h, const uint8_t *payload);
/* rx gets every job frame from the agent (IMAGE_*, SYSCALL_REP, SIGNAL,
 * MIGRATE_HOME, JOB_KILL, ...); lost runs when the link drops while
 * registered, back when the node is registered again (WELCOME): the jobs
 * kept meanwhile are claimed again then (reattach_msg.h). */
void agent_set_job_handlers(agent_job_rx_fn rx, void (*lost)(void), void (*back)(void));
/* The agent's grace (WELCOME): how long it keeps a silent node's jobs. */
uint32_t agent_grace_ms(void);
/* fn runs when the agent asks the node to restart (NODE_RESTART, om-ctl
 * reboot). Main-loop context, inside net_poll. */
void agent_set_restart_handler(void (*fn)(void));
/* The jobs wanting the CPU changed: the next heartbeat goes soon (within
 * AGENT_HB_SOON_MS of the last one), so that the agent knows a core is
 * free (a shell now waiting for its children) before it places one. */
void agent_heartbeat_soon(void);
/* Bytes of payload agent_job_send would take now (0 when not registered). */
size_t agent_job_room(void);
/* Queues one frame (a job frame, or a node-level one with job 0: NODE_LEAVING,
 * BYE). 0: queued; -1: no room now (call again after net_poll);
 * -2: no registered link. */
int agent_job_send(uint8_t type, uint32_t job, uint32_t seq, const void *payload, size_t len);

#endif
