/* job_msg.h - payloads of the job and job-control frames (docs/migration.md,
 * layouts in docs/protocol.md section 4).
 *
 * Portable C99 like proto.c: no allocation, no I/O; compiled into the node
 * kernel and the server tools. Encoders write the payload only (no header)
 * and return its length, OM_E_NOSPACE, or OM_E_RANGE for a field the
 * decoder would reject (a sender finds its own bug). Decoders take exactly
 * one payload and return OM_OK or OM_E_TRUNC / OM_E_TRAILING / OM_E_RANGE;
 * the encoding is canonical (what decodes re-encodes to the same bytes).
 *
 * Payloads not defined here: IMAGE_* (migrate/image.h), SYSCALL_REQ/REP
 * (migrate/syscall_codec.h), JOB_ERROR (struct om_error, proto.h), and the
 * empty ones: JOB_STARTED, MIGRATE_HOME, JOB_KILL, CTL_JOBS, CTL_POLICY. */
#ifndef OM_JOB_MSG_H
#define OM_JOB_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "image.h"
#include "proto.h"

#define OM_CMD_MAX 200   /* command line bytes in SUBMIT and job records */
#define OM_JOBS_MAX 4096 /* jobs an agent holds; records in one JOBS_REPLY */
#define OM_SIG_MAX 64    /* signal numbers are 1..OM_SIG_MAX */

/* CTL_JOB_SUBMIT flags */
#define OM_JOB_F_HOME 1u /* record only: the process runs at home */
#define OM_JOB_F_FORK 2u /* the child of a fork its parent made on a node */
#define OM_JOB_F_ALL (OM_JOB_F_HOME | OM_JOB_F_FORK)

/* CTL_JOB_SUBMIT (66), om-run -> agent. The command line is printable
 * ASCII (om-run replaces anything else with '?' and cuts it at OM_CMD_MAX);
 * it is for display only. cpu holds the features the program may use: the
 * chosen node must have every bit of leaf1_ecx/edx, leaf7_ebx/ecx/edx and
 * xcr0 set that cpu has. cpu.cores is the cores the job needs (1). */
struct om_job_submit {
	uint32_t pid;              /* the deputy's (and the program's) pid */
	char cmd[OM_CMD_MAX + 1];
	struct om_cpu cpu;
	uint64_t mem_bytes;        /* memory estimate, 0 = unknown */
	uint32_t node;             /* preferred node id, 0 = any */
	uint32_t flags;            /* OM_JOB_F_*; other bits are OM_E_RANGE */
	/* OM_JOB_F_FORK only (on the wire only then): the parent's job and
	 * the sequence number of its fork call, in flight on its node; pid is
	 * the child's home process, made by that call run at home. */
	uint32_t fork_job, fork_seq;
};

/* CTL_POLICY_REPLY (78), agent -> om-run: what agent.conf decides for
 * every job of the site, asked (CTL_POLICY, empty) before the program
 * starts; om-run follows it unless its user says otherwise. */
#define OM_POLICY_CONFINE 1u /* confine = yes: --confine unless --no-confine */
#define OM_POLICY_ALL OM_POLICY_CONFINE
#define OM_CKPT_PCT_DEFAULT 5  /* checkpoints take at most this % of a job's time */
#define OM_CKPT_PCT_MAX 50
struct om_policy {
	uint32_t flags;            /* OM_POLICY_*; other bits are OM_E_RANGE */
	uint32_t ckpt_every_ms;    /* checkpoint every job this often unless om-run says (0: only when asked;
	                            * else 100..86400000) */
	uint32_t ckpt_max_pct;     /* checkpoints take at most this % of a job's time (1..OM_CKPT_PCT_MAX) */
};

/* JOB_FORK (34), agent -> node, header job = the child's new job id: make
 * the child of the fork call seq that job parent has in flight, with home
 * pid pid, and run it (JOB_STARTED), or refuse (JOB_ERROR). */
struct om_job_fork {
	uint32_t parent;           /* >= 1 */
	uint32_t seq;
	uint32_t pid;              /* >= 1 */
};

/* CTL_JOB_PLACED (67), agent -> om-run. node == 0: not placed, run at
 * home, reason says why; cpu/addr are not on the wire, and job is 0, or
 * the id of the record of a process at home (the answer to a SUBMIT with
 * OM_JOB_F_HOME). node != 0: job >= 1, cpu and addr describe the node;
 * reason may be "". */
/* CTL_JOB_PLACED's reason when every core is busy, its parent's (on a
 * node, running) among them: the parent may be about to wait for it, and
 * the deputy asks once more after OM_PARENT_RETRY_MS. */
#define OM_REASON_PARENT_BUSY "all cores busy, its parent's among them"
#define OM_PARENT_RETRY_MS 200

struct om_job_placed {
	uint32_t job;
	uint32_t node;
	struct om_cpu cpu;
	char addr[OM_STR_MAX + 1]; /* the node's address, dotted quad */
	uint8_t key[32];           /* the node's link key (om-run names it when it
	                            * reattaches: reattach_msg.h) */
	char reason[OM_STR_MAX + 1];
};

enum om_job_state {
	OM_JOB_PLACED = 1,   /* placed; the image is on its way */
	OM_JOB_RUNNING = 2,  /* JOB_STARTED seen */
	OM_JOB_HOMING = 3,   /* JOB_HOME seen; the image is on its way home */
	OM_JOB_STOPPED = 4,  /* JOB_STOPPED seen: a stop signal holds it */
	OM_JOB_HOME = 5,     /* a process at home, followed by its deputy (node 0) */
	OM_JOB_MOVING = 6    /* on its way to another node, relayed by the agent */
};

/* Why a process is where it is (CTL_JOBS_REPLY). */
enum om_job_why {
	OM_WHY_UNKNOWN = 0,
	OM_WHY_PLACED = 1,         /* the agent chose the node at its exec */
	OM_WHY_ASKED = 2,          /* om-run --node chose it */
	OM_WHY_MIGRATE = 3,        /* om-migrate moved it there */
	OM_WHY_BALANCER = 4,       /* the balancer moved it there */
	OM_WHY_HOME = 5,           /* at home: not placed, or it came home */
	OM_WHY_FORK = 6            /* forked there by its parent */
};
#define OM_WHY_MAX OM_WHY_FORK

/* A CTL_JOBS_REPLY (69) record. */
struct om_job_info {
	uint32_t job;              /* >= 1 */
	uint32_t node;             /* >= 1; 0 (home) iff state is OM_JOB_HOME */
	uint32_t uid;
	uint32_t pid;
	uint32_t ppid;             /* its parent at home, 0 if unknown */
	uint8_t why;               /* enum om_job_why */
	char cmd[OM_CMD_MAX + 1];
	uint64_t runtime_ms;       /* since placement */
	uint8_t state;             /* enum om_job_state */
};

/* CHECKPOINT (42), home -> node: send the job's image now. base is the
 * node's count of the checkpoints it sent for this job that home holds
 * whole, the last being the one it holds now (0: none): when it is the
 * node's own count, the node may send only what changed since
 * (image.h, OM_RF_DELTA); otherwise it sends everything. */
struct om_checkpoint {
	uint32_t base;
};

/* CTL_CHECKPOINT (80), om-checkpoint -> agent -> the job's om-run: take a
 * checkpoint of the job of pid now, into path (absolute); the agent
 * answers the asker with the same frame once it has passed it on. */
#define OM_PATH_MAX 4095
struct om_ctl_checkpoint {
	uint32_t pid;              /* >= 1 */
	char path[OM_PATH_MAX + 1]; /* starts with '/', printable ASCII */
};

/* CTL_MIGRATE (70), om-migrate -> agent, answered with the same frame. */
struct om_job_migrate {
	uint32_t pid;
	uint32_t target;           /* node id, 0 = home, OM_MIGRATE_BALANCE */
};
/* CTL_MIGRATE target from a tool: wherever the balancer would put the
 * process now (the answer names the place chosen). */
#define OM_MIGRATE_BALANCE 0xffffffffu

/* SIGNAL (24), home -> node: a signal for the program, with its siginfo
 * as home's kernel filled it. */
struct om_job_signal {
	uint32_t signo;            /* 1..OM_SIG_MAX */
	int32_t code;              /* si_code */
	int32_t errnum;            /* si_errno */
	/* siginfo_t bytes 16..47: the union, laid out as code and signo say
	 * (_kill/_rt: si_pid, si_uid, si_value; _sigchld: si_pid, si_uid,
	 * si_status, si_utime, si_stime; _timer; _sigpoll; ...) */
	uint8_t fields[OM_SIGINFO_FIELDS];
};

/* CALL_INTERRUPT (33), node -> home: a signal the job must take arrived on
 * the node while forwarded call seq is out; if the call blocks at home, the
 * deputy cuts it short as a signal would (it returns its restart code). */
struct om_call_interrupt {
	uint32_t seq;
};

/* JOB_STOPPED (30), node -> home: a stop signal stopped the job (signo
 * SIGSTOP 19, SIGTSTP 20, SIGTTIN 21 or SIGTTOU 22), or a stopped job goes
 * on (0). */
struct om_job_stopped {
	uint32_t signo;
};

/* SIGNAL_SEEN (32), node -> home, sent as each SIGNAL or JOB_CONTINUE for
 * the job arrives: how many have arrived so far. A SYSCALL_REQ that comes
 * home before the acknowledgement of a signal was made before the node
 * knew of it. */
struct om_signal_seen {
	uint32_t count;
};

enum om_exit_kind { OM_EXIT_EXITED = 1, OM_EXIT_SIGNALED = 2, OM_EXIT_EXECED = 3 };

/* JOB_EXIT (25), node -> home. EXITED: status 0..255, core 0. SIGNALED:
 * status is the signal 1..OM_SIG_MAX, core 0 or 1. EXECED: status and
 * core 0; the job's execve ran at home (its reply said 0), so the job
 * here is over and its process at home runs the new program. */
struct om_job_exit {
	uint8_t kind;
	uint32_t status;
	uint8_t core;
	uint64_t cpu_ns;           /* CPU time it used on the node, this stay */
};

enum om_home_reason {
	OM_HOME_SYSCALL = 1,   /* a call the node cannot run (fork, execve, ...) */
	OM_HOME_REQUESTED = 2, /* MIGRATE_HOME (om-migrate PID home) */
	OM_HOME_FEATURE = 3,   /* the program needs something the node lacks */
	OM_HOME_RESOURCE = 4   /* the node ran out of memory or another resource */
};

/* JOB_HOME (26), node -> home; the image follows. */
struct om_job_home {
	uint32_t reason;           /* enum om_home_reason */
	char text[OM_STR_MAX + 1];
	int32_t pending;           /* syscall nr to re-execute at home, or -1 */
	uint64_t cpu_ns;           /* CPU time it used on the node, this stay */
};

/* JOB_MOVING (36), node -> agent, and the same payload as JOB_ARRIVING
 * (39), agent -> the target node: what of the job's stay on its node
 * does not travel in its image. */
struct om_job_moving {
	uint64_t cpu_ns;           /* CPU time it used on the node it leaves, this stay */
	uint32_t signals_in;       /* SIGNAL and JOB_CONTINUE frames that node took in */
};

/* JOB_MOVED (40), agent -> home: the job runs on another node now, under
 * the same job id (to.job); to describes the node as CTL_JOB_PLACED does. */
struct om_job_moved {
	uint64_t cpu_ns;           /* CPU time it used on the node it left, that stay */
	struct om_job_placed to;   /* node >= 1 */
};

/* NODE_LOST (29), agent -> home. */
struct om_node_lost {
	uint32_t node;             /* 0: no node claimed the job again (reattach_msg.h) */
	char reason[OM_STR_MAX + 1];
};

int om_job_submit_encode(const struct om_job_submit *m, void *out, size_t cap);
int om_job_submit_decode(const void *buf, size_t len, struct om_job_submit *m);
int om_job_placed_encode(const struct om_job_placed *m, void *out, size_t cap);
int om_job_placed_decode(const void *buf, size_t len, struct om_job_placed *m);
int om_job_moving_encode(const struct om_job_moving *m, void *out, size_t cap);
int om_job_moving_decode(const void *buf, size_t len, struct om_job_moving *m);
int om_job_moved_encode(const struct om_job_moved *m, void *out, size_t cap);
int om_job_moved_decode(const void *buf, size_t len, struct om_job_moved *m);
int om_policy_encode(const struct om_policy *m, void *out, size_t cap);
int om_policy_decode(const void *buf, size_t len, struct om_policy *m);
int om_job_fork_encode(const struct om_job_fork *m, void *out, size_t cap);
int om_job_fork_decode(const void *buf, size_t len, struct om_job_fork *m);
int om_checkpoint_encode(const struct om_checkpoint *m, void *out, size_t cap);
int om_checkpoint_decode(const void *buf, size_t len, struct om_checkpoint *m);
int om_ctl_checkpoint_encode(const struct om_ctl_checkpoint *m, void *out, size_t cap);
int om_ctl_checkpoint_decode(const void *buf, size_t len, struct om_ctl_checkpoint *m);
int om_job_migrate_encode(const struct om_job_migrate *m, void *out, size_t cap);
int om_job_migrate_decode(const void *buf, size_t len, struct om_job_migrate *m);
int om_job_signal_encode(const struct om_job_signal *m, void *out, size_t cap);
int om_job_signal_decode(const void *buf, size_t len, struct om_job_signal *m);
int om_job_stopped_encode(const struct om_job_stopped *m, void *out, size_t cap);
int om_job_stopped_decode(const void *buf, size_t len, struct om_job_stopped *m);
int om_signal_seen_encode(const struct om_signal_seen *m, void *out, size_t cap);
int om_signal_seen_decode(const void *buf, size_t len, struct om_signal_seen *m);
int om_call_interrupt_encode(const struct om_call_interrupt *m, void *out, size_t cap);
int om_call_interrupt_decode(const void *buf, size_t len, struct om_call_interrupt *m);
/* The _kill / _rt layout of om_job_signal.fields: si_pid, si_uid. */
void om_job_signal_set_sender(struct om_job_signal *m, uint32_t pid, uint32_t uid);
int om_job_exit_encode(const struct om_job_exit *m, void *out, size_t cap);
int om_job_exit_decode(const void *buf, size_t len, struct om_job_exit *m);
int om_job_home_encode(const struct om_job_home *m, void *out, size_t cap);
int om_job_home_decode(const void *buf, size_t len, struct om_job_home *m);
int om_node_lost_encode(const struct om_node_lost *m, void *out, size_t cap);
int om_node_lost_decode(const void *buf, size_t len, struct om_node_lost *m);

/* CTL_JOBS_REPLY: u32 count (<= OM_JOBS_MAX) then count records, decoded
 * one at a time like the node list (proto.h). */
int om_job_list_encode(const struct om_job_info *jobs, uint32_t n, void *out, size_t cap);
int om_job_list_count(const void *buf, size_t len, uint32_t *count, size_t *pos);
int om_job_list_next(const void *buf, size_t len, size_t *pos, struct om_job_info *out);
int om_job_list_end(size_t len, size_t pos);

/* The worst-case encoded sizes, for buffers. */
#define OM_JOB_SUBMIT_MAX (4 + 2 + OM_CMD_MAX + (2 + 12 + 2 + 48 + 8 * 4 + 8 + 2) + 8 + 4 + 4 + 8)
#define OM_JOB_PLACED_MAX (4 + 4 + (2 + 12 + 2 + 48 + 8 * 4 + 8 + 2) + 2 + OM_STR_MAX + 32 + 2 + OM_STR_MAX)
#define OM_JOB_MOVED_MAX (8 + OM_JOB_PLACED_MAX)
#define OM_JOB_RECORD_MAX (4 + 4 + 4 + 4 + 4 + 1 + 2 + OM_CMD_MAX + 8 + 1)

#endif
