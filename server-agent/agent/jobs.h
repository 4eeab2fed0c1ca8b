/* jobs.h - the agent's job table and the job side of both connections.
 *
 * A job exists from its placement (CTL_JOB_SUBMIT answered by CTL_JOB_PLACED
 * with a node) until the node is done with it: JOB_EXIT, JOB_ERROR, the
 * last IMAGE frame after JOB_HOME, the node lost (NODE_LOST to om-run), or
 * the om-run connection gone (JOB_KILL to the node). While it lives, the
 * node's jobs count includes it. The om-run connection that submitted a
 * job is its home; only that connection may send frames for it, and it
 * remembers the ids it was given (so frames that cross an ending in flight
 * are dropped quietly, not taken for an attack).
 *
 * Visibility: a caller sees and controls only jobs of its own uid (from
 * SO_PEERCRED); uid 0 sees all. Every job event is logged. */
#ifndef OM_JOBS_H
#define OM_JOBS_H

#include <stdint.h>
#include <sys/types.h>

#include "conn.h"
#include "proc_stat.h"
#include "job_msg.h"
#include "nodes.h"

#define JOBS_PER_HOME 64   /* live jobs one control connection may have */
#define JOBS_REMEMBERED 64 /* its latest job ids, whose late frames are dropped quietly */
/* Jobs per user and the image-start deadline: job_limits.h. */

/* Limits of a connection that carries job frames: one IMAGE frame of
 * OM_MAX_PAYLOAD, and room to queue a few of them. The relay stops reading
 * a side while the other side has more than RELAY_HIGH bytes queued, so
 * the queue stays below RELAY_HIGH plus one receive buffer of frames. */
#define RELAY_RX_CAP (OM_HDR_SIZE + OM_MAX_PAYLOAD)
#define RELAY_HIGH (2 * RELAY_RX_CAP)
#define RELAY_OUT_MAX (4 * RELAY_RX_CAP + 64 * 1024)
/* A node's connection is fed by each of its jobs' om-run: each may add a
 * receive buffer before it is stopped. A node paused for its grace must
 * not lose its jobs because they all sent it something meanwhile. */
#define RELAY_NODE_OUT_MAX (RELAY_HIGH + (OM_NODE_JOBS_MAX + 2) * RELAY_RX_CAP)
/* How long a connection keeps those limits after its last job there
 * ended: frames of that job still on their way (an image a node sent
 * before it read JOB_KILL) must fit. One that comes later fails the
 * connection (OM_E_TOOBIG), which then carries no job. */
#define JOBS_RELAX_MS 5000

struct job {
	uint32_t id;
	uint32_t uid;              /* SO_PEERCRED of the home connection */
	uint32_t pid;              /* the program's pid (from SUBMIT) */
	uint32_t home_pid;         /* om-run's pid (SO_PEERCRED) */
	char cmd[OM_CMD_MAX + 1];
	uint8_t state;             /* enum om_job_state */
	uint64_t start_ms;         /* placed where it is now */
	struct om_cpu need;        /* features it may use (from SUBMIT) */
	uint64_t mem_bytes;        /* its memory estimate (from SUBMIT) */
	uint8_t pinned;            /* om-run --node chose its node */
	uint8_t why;               /* enum om_job_why: how it got there */
	/* The balancer's view (balancer.c): CPU used where it is now, when
	 * that was sampled, whether it wants a core, whether it cannot move
	 * (threads, stopped, on its way). */
	uint64_t cpu_ms, sampled_ms;
	uint8_t runnable, unmovable;
	uint8_t in_call;           /* a SYSCALL_REQ of its was relayed home, no reply yet */
	uint8_t image_begun;       /* om-run sent an IMAGE frame of it (job_limits.h) */
	uint8_t checkpoint_asked;  /* om-run sent CHECKPOINT, the node has not answered */
	uint8_t checkpoint_open;   /* ... it said yes: the image comes, the job stays */
	uint64_t starttime;        /* its home process's (proc_stat.h), 0 unknown */
	/* Its node connected again: since reattach_ms (0: not waiting; first
	 * since reattach_first_ms) the job waits for its claim (reattach.h),
	 * and frames from home for it are dropped (the claim says what the
	 * node missed). */
	uint64_t reattach_ms, reattach_first_ms;
	struct node *node;
	struct conn *home;
	/* A node -> node move the agent relays (move_relay.c). */
	struct node *move_to;      /* its target; NULL: no such move */
	uint8_t move_phase;        /* 1: JOB_MOVE sent, 2: the image streams */
	/* The node's answer to a JOB_MOVE (JOB_MOVING or JOB_MOVE_REFUSED)
	 * is still to come, whatever became of the move (it failed, the job
	 * went home); after a JOB_MOVING for a move that is over, its image
	 * frames are dropped until the node sends anything else. */
	uint8_t move_answer_due, move_stale_image;
	uint64_t move_since_ms, move_heard_ms; /* asked; last frame of it */
	uint64_t move_cpu_ns;      /* JOB_MOVING's: its CPU time on the node it leaves */
	struct held_frame *held, **held_tail; /* om-run's frames while it moves */
	size_t held_bytes;
	struct job *prev, *next;   /* every live job */
	struct job *hnext;         /* id hash chain */
};

/* The control connection's identity and the job ids it was given last
 * (a ring: ids[n % JOBS_REMEMBERED]). */
struct job_home {
	uint32_t uid;
	uint32_t pid;
	uint32_t ids[JOBS_REMEMBERED];
	unsigned nids;             /* given so far */
};

/* ---- control side (ctl_server.c) */

/* CTL_JOB_SUBMIT: places the job and answers CTL_JOB_PLACED. */
void jobs_submit(struct conn *c, struct job_home *jh, const uint8_t *p, uint32_t len);
/* CTL_JOBS: answers CTL_JOBS_REPLY with the jobs jh may see. */
void jobs_list(struct conn *c, const struct job_home *jh);
/* CTL_MIGRATE: asks the job's node to send it home, and for another node
 * tells the job's om-run where it goes next (CTL_MIGRATE to it too);
 * answers CTL_MIGRATE. */
void jobs_migrate(struct conn *c, const struct job_home *jh, const uint8_t *p, uint32_t len);
/* CTL_CHECKPOINT: passed on to the job's om-run, answered with the same
 * frame; a job not running on a node is OM_E_STATE. */
void jobs_checkpoint(struct conn *c, const struct job_home *jh, const uint8_t *p, uint32_t len);
/* A job frame (types 16-29) from om-run: checked and relayed to the node. */
void jobs_from_home(struct conn *c, const struct job_home *jh, const struct om_hdr *h,
    const uint8_t *p);
/* The control connection is closing: its jobs' nodes get JOB_KILL. */
void jobs_home_gone(struct conn *c);

/* Moves j to node target (0: home): from a node it is sent home (and om-run
 * told where it goes next), from home its deputy sends it out. cause
 * (OM_WHY_MIGRATE or OM_WHY_BALANCER) is shown where it lands; who names
 * the asker in the log. Returns OM_OK, or an OM_E_* code with the reason
 * in why[len]. */
int jobs_move(struct job *j, uint32_t target, uint8_t cause, const char *who, char *why,
    size_t len);
/* The second half of a move from a node (or any move from home): its
 * om-run hears the target (CTL_MIGRATE), the node gets MIGRATE_HOME. */
void jobs_move_through_home(struct job *j, uint32_t target);
/* A job om-run follows from an earlier connection or agent (reattach.c):
 * recorded under its old id, with no node yet; NULL, and why, when it
 * cannot be (the pid is not the caller's, the id is taken, a limit). */
struct job *jobs_adopt(struct conn *c, struct job_home *jh, const struct om_job_submit *s, uint32_t id,
    const char **why);
/* Ends j: NODE_LOST (saying why) to its om-run, JOB_KILL to its node if
 * that is connected. */
void jobs_lose(struct job *j, const char *why);
/* Whether caller (om-run's pid) may name pid: itself, its child, its tracee. */
int jobs_pid_ok(uint32_t pid, uint32_t caller);
/* What jobs_relay_limits gives: NULL, or why c and n cannot carry j's frames. */
const char *jobs_relay_limits(struct conn *c, struct node *n);
/* From now on (the agent stops) closing connections ends no job on the
 * other side: a node and an om-run keep their job for the next agent. */
void jobs_keep_on_close(void);
/* Calls fn for every live job (fn must not end jobs). */
void jobs_each(void (*fn)(struct job *j, void *arg), void *arg);
/* The state of j's home process, if it is still the one the job was
 * recorded for (not a reuse of its pid). Returns 0 or -1. */
int jobs_proc_stat(const struct job *j, struct proc_stat *st);

/* ---- node side (node_conn.c) */

/* A job frame from node n on connection c: checked and relayed home. */
void jobs_from_node(struct node *n, struct conn *c, const struct om_hdr *h,
    const uint8_t *p);
/* n is down or gone: every job on it ends with NODE_LOST to its om-run;
 * if n is still connected it gets JOB_KILL for each. */
void jobs_node_lost(struct node *n, const char *why);
/* Moves to n fail (its connection closed): the jobs go on where they are. */
void jobs_moves_to_lost(struct node *n);
/* Moves through the agent that stalled (move_relay.h) fail. */
void jobs_moves_sweep(uint64_t now);
/* Connections that have carried no job for JOBS_RELAX_MS get their
 * limits from before (conn_relax_idle): their 1 MiB receive buffers go
 * back under the cap on buffer memory. */
void jobs_relax_sweep(uint64_t now);
/* A node connection is closing (after jobs_node_lost). */
void jobs_conn_gone(struct conn *c);

/* ---- both: back-pressure (conn_ops.drained) */
void jobs_drained(struct conn *c);

/* ---- the table (jobs.c, used by relay.c) */
struct job *jobs_find(uint32_t id);
/* Ends a live job: the node's count drops, the entry is freed. */
void jobs_end(struct job *j, const char *what);
/* Sends a frame to c; if c's queue is then above RELAY_HIGH, stops
 * reading from 'from' until c drains. */
void jobs_relay_send(struct conn *from, struct conn *to, const struct om_hdr *h,
    const uint8_t *p);
/* The connection of a node (NULL when it has none); node_conn.c. */
struct conn *node_conn_get(const struct node *n);
/* Frees every job at agent exit (connections are being closed anyway). */
void jobs_free_all(void);

#endif
