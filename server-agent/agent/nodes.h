/* nodes.h - the agent's node table.
 *
 * A node is known by its MAC. Its id is handed out the first time the MAC
 * says HELLO and stays the same for the agent's lifetime: reconnects and
 * even a drop keep it, because a dropped node's entry is retired, not
 * forgotten. Only when the table is full (OM_NODES_MAX entries) is the
 * longest-retired entry recycled, and that MAC would get a fresh id later.
 *
 * State: UP while connected and heard from within down_after; DOWN when
 * its connection closed or it went silent; retired (not listed) once
 * silent for drop_after. A silent node's jobs wait for it until grace:
 * a switch or cable hiccup, a paused machine, is not a failure. Times
 * are ev_now_ms() milliseconds. */
#ifndef OM_NODES_H
#define OM_NODES_H

#include <stdint.h>

#include "claims.h"
#include "noise.h"
#include "proto.h"
#include "reattach_msg.h"

#define NODE_RETIRED 0 /* state of an entry kept only for its id */
#define NODE_ENDED 1024 /* the latest job ids that ended on a node */
#define NODE_UNPAIRED (2 * OM_NODE_JOBS_MAX) /* its jobs and lately ended ones */

/* A job a node claimed (JOB_REATTACH) that no om-run has claimed yet. */
struct node_unpaired {
	uint32_t job, seq;
	struct om_job_reattach r;
	uint64_t since_ms;
};

struct node {
	uint32_t id;
	uint8_t mac[6];
	int state;                 /* OM_NODE_UP, OM_NODE_DOWN or NODE_RETIRED */
	char ip[OM_STR_MAX + 1];   /* peer address of the last HELLO */
	struct om_hello hello;     /* as the node sent it: untrusted values */
	uint8_t key[NOISE_KEY];    /* its link's static key (made at its boot) */
	char fp[NOISE_FP_LEN + 1]; /* ... and the key's fingerprint */
	struct om_heartbeat hb;    /* the last heartbeat (uptime from HELLO at first) */
	uint64_t registered_ms;    /* last HELLO */
	uint64_t last_seen_ms;     /* last valid frame */
	void *link;                /* the node's connection, NULL when none */
	uint32_t jobs;             /* jobs the agent placed here and not ended */
	uint32_t wide;             /* their cores beyond one each (om-run --cores) */
	/* Jobs the HEARTBEATs have listed as not runnable, since when. */
	struct { uint32_t job; uint64_t since_ms; } idle[OM_NODE_JOBS_MAX];
	uint32_t nidle;
	/* Cores held for processes that left by an exec (nodes_hold). */
	struct { uint32_t uid, pid, cores; uint64_t until_ms; } held[OM_NODE_JOBS_MAX];
	uint32_t nheld;
	uint8_t flags;             /* enum om_node_flag (drain.c); LEAVING ends with a new HELLO */
	uint8_t said_leaving;      /* NODE_LEAVING came on this connection */
	double load_shown;         /* balancer.c: its smoothed load */
	int balance_at;            /* balancer.c: its place this round, -1 none */
	/* Jobs that ended here lately (a ring: ended[n % NODE_ENDED]): a
	 * frame of the node's for one of them crossed its end, while one for
	 * a job it never had is a lie. A frame crosses an end within a round
	 * trip; every exec on a node ends a job, so a busy node ends many in
	 * one: the ring holds far more than that. */
	uint32_t ended[NODE_ENDED];
	uint32_t nended;
	struct node_claims claims; /* its CPU figures checked (claims.h) */
	/* Its JOB_REATTACH claims waiting for their om-run (reattach.c). */
	struct node_unpaired unpaired[NODE_UNPAIRED];
	uint32_t nunpaired;
};

/* Called by nodes_sweep for a node being retired while link is set; the
 * callee must close that connection and clear link. */
typedef void nodes_unlink_fn(struct node *n);
/* Called by nodes_sweep when n goes DOWN by silence (connected or not),
 * and when its jobs have waited for it long enough (lost). */
typedef void nodes_down_fn(struct node *n, const char *why);

struct nodes_timeouts {
	uint32_t down_after_ms; /* silent this long: DOWN, no new jobs */
	uint32_t grace_ms;      /* ... this long: its jobs are lost */
	uint32_t drop_after_ms; /* ... this long: retired */
};

/* Finds or creates the node for h->mac and records the HELLO (state UP,
 * link untouched). *isnew tells whether the MAC was never seen. NULL when
 * the table is full. */
struct node *nodes_hello(const struct om_hello *h, const char *ip, uint64_t now, int *isnew);
/* The node with this MAC, or NULL. */
struct node *nodes_by_mac(const uint8_t mac[6]);
/* A valid frame arrived from n: refreshes last_seen and revives a node
 * that went DOWN by silence while still connected. */
void nodes_seen(struct node *n, uint64_t now);
void nodes_heartbeat(struct node *n, const struct om_heartbeat *hb, uint64_t now);
/* n's connection is gone: state DOWN, link cleared. */
void nodes_disconnected(struct node *n);
/* Applies the timeouts (down_after <= grace <= drop_after). */
void nodes_sweep(uint64_t now, const struct nodes_timeouts *t, nodes_unlink_fn *unlink, nodes_down_fn *down,
    nodes_down_fn *lost);
/* Calls fn for every listed (not retired) node. */
void nodes_each(void (*fn)(struct node *n, void *arg), void *arg);
/* Job id ended on n (nodes_had); whether it did lately. */
void nodes_job_ended(struct node *n, uint32_t id);
int nodes_had(const struct node *n, uint32_t id);
/* The node with this id, or NULL (retired nodes are not found). */
struct node *nodes_by_id(uint32_t id);
/* Jobs on n: the agent's own count. The node's HEARTBEAT count lags (it
 * still shows a job for up to one interval after it ended), and a node
 * never runs a job the agent does not know: it drops its job when the link
 * to the agent drops. */
uint32_t nodes_jobs(const struct node *n);
/* A job that takes cores (>= 1) of n's cores comes to n, or leaves it. */
void nodes_job_in(struct node *n, uint32_t cores);
void nodes_job_out(struct node *n, uint32_t cores);
/* The cores those of them that want a core take: all but the ones the
 * HEARTBEATs have listed as not runnable (waiting for a call at home,
 * asleep) for NODE_IDLE_MS or more, so that a shell waiting for its
 * children leaves its core to them, but a program that makes a short call
 * does not. A job given more cores holds them all, idle or not. */
#define NODE_IDLE_MS 50
uint32_t nodes_busy(const struct node *n, uint64_t now);
/* The same, not counting job 'waiting' (0: none) once n lists it not
 * runnable, however lately, or at once when waiting_in_call (a call of
 * its is at home now: the agent relayed it and no answer yet), nor the
 * core held for process pid of uid (pid 0: none). */
uint32_t nodes_busy_but(const struct node *n, uint64_t now, uint32_t waiting, int waiting_in_call,
    uint32_t uid, uint32_t pid);
/* A process whose program on n execed comes home to be placed anew: its
 * cores (om-run --cores) stay its own until it is placed, or NODE_HOLD_MS at most, so that
 * a job placed meanwhile does not take it (a gcc's cc1 would run at home
 * while a cc1 of another gcc runs on its parent's node). */
#define NODE_HOLD_MS 1000
void nodes_hold(struct node *n, uint32_t uid, uint32_t pid, uint32_t cores, uint64_t now);
/* The process is placed (or runs at home): its held core is free. */
void nodes_unhold(uint32_t uid, uint32_t pid, uint64_t now);

/* Fills a snapshot of the listed (not retired) nodes, in id order, into a
 * malloc'd array (*out, free it). Returns the count, or -1 (ENOMEM). */
int nodes_list(struct om_node_info **out, uint64_t now);
/* Human-readable "52:54:00:12:34:56" into buf[18]. */
void nodes_mac_str(const uint8_t mac[6], char buf[18]);

#endif
