/* proto.h - the om wire protocol: frames and the messages they carry.
 *
 * Portable C99, no allocation, no I/O: the node kernel and the server tools
 * both compile it. The full specification is docs/protocol.md.
 *
 * A frame is a 16-byte header followed by 'length' payload bytes. All integers
 * are little-endian.
 *
 *   off size field
 *   0   2    magic    0x6d6f ("om" on the wire)
 *   2   1    version  OM_PROTO_VERSION
 *   3   1    type     enum om_type
 *   4   4    length   payload bytes, at most OM_MAX_PAYLOAD
 *   8   4    job      job id, 0 for node-level messages
 *   12  4    seq      per-job sequence number, 0 when unused
 *
 * Decoders take (buf, len) of exactly one payload and fail on a short payload,
 * an out-of-range field, or trailing bytes. */
#ifndef OM_PROTO_H
#define OM_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define OM_MAGIC 0x6d6fu
#define OM_PROTO_VERSION 16
/* A node runs at most this many jobs at a time, time-shared on its cores. */
#define OM_NODE_JOBS_MAX 16
#define OM_HDR_SIZE 16
#define OM_MAX_PAYLOAD (1u << 20)
#define OM_DEFAULT_PORT 7707
/* om-run gives up on a node that stops in the middle of an image for this
 * long: the agent's grace for a silent node is at most this. */
#define OM_IMAGE_QUIET_MS 60000

enum om_type {
	OM_T_ERROR = 1,      /* either way: om_error */
	OM_T_HELLO = 2,      /* node -> agent: om_hello, first frame */
	OM_T_WELCOME = 3,    /* agent -> node: om_welcome */
	OM_T_HEARTBEAT = 4,  /* node -> agent: om_heartbeat */
	OM_T_ECHO = 5,       /* either way: opaque payload, answered by ECHO_REPLY */
	OM_T_ECHO_REPLY = 6, /* the same payload back */
	OM_T_BYE = 7,        /* either way: empty payload, orderly close */
	OM_T_NODE_LEAVING = 8, /* node -> agent: om_node_leaving, once per connection */
	OM_T_NODE_RESTART = 9, /* agent -> node: empty, empty yourself and restart */
	/* jobs (docs/migration.md): relayed by the agent by job id */
	OM_T_IMAGE_BEGIN = 16,  /* home <-> node: om_image_hdr (migrate/image.h) */
	OM_T_IMAGE_REGION = 17, /* home <-> node: one om_image_region */
	OM_T_IMAGE_PAGES = 18,  /* home <-> node: region, page offset, count, pages */
	OM_T_IMAGE_END = 19,    /* home <-> node: totals (regions, pages) */
	OM_T_JOB_STARTED = 20,  /* node -> home: empty, the job runs */
	OM_T_JOB_ERROR = 21,    /* node/agent -> home: om_error, job did not start */
	OM_T_SYSCALL_REQ = 22,  /* node -> home: a forwarded call (syscall_codec.h) */
	OM_T_SYSCALL_REP = 23,  /* home -> node: its result (syscall_codec.h) */
	OM_T_SIGNAL = 24,       /* home -> node: signo, si_code, si_errno, siginfo fields */
	OM_T_JOB_EXIT = 25,     /* node -> home: exited / killed by signal, code, core */
	OM_T_JOB_HOME = 26,     /* node -> home: reason, text, pending syscall nr */
	OM_T_MIGRATE_HOME = 27, /* home -> node: empty, send the job home */
	OM_T_JOB_KILL = 28,     /* agent -> node: empty, the deputy is gone */
	OM_T_NODE_LOST = 29,    /* agent -> home: node id, reason text */
	OM_T_JOB_STOPPED = 30,  /* node -> home: the job stopped (signo) or goes on (0) */
	OM_T_JOB_CONTINUE = 31, /* home -> node: empty, a stopped job goes on */
	OM_T_SIGNAL_SEEN = 32,  /* node -> home: SIGNAL/JOB_CONTINUE frames taken in */
	OM_T_CALL_INTERRUPT = 33, /* node -> home: a signal came; cut call seq short */
	OM_T_JOB_FORK = 34,     /* agent -> node: om_job_fork, the child of a fork made there */
	OM_T_JOB_MOVE = 35,     /* agent -> node: empty, send the job to another node (through the agent) */
	OM_T_JOB_MOVING = 36,   /* node -> agent: om_job_moving; its image follows, the job waits */
	OM_T_JOB_MOVE_REFUSED = 37, /* node -> agent: om_error, it cannot leave that way now */
	OM_T_JOB_RESUME = 38,   /* agent -> node: empty, the move failed: the waiting job goes on */
	OM_T_JOB_ARRIVING = 39, /* agent -> node: om_job_moving, before the image of a moving job */
	OM_T_JOB_MOVED = 40,    /* agent -> home: om_job_moved, the job runs on another node */
	OM_T_IMAGE_THREAD = 41, /* home <-> node: one om_image_thread, after IMAGE_BEGIN */
	OM_T_CHECKPOINT = 42,   /* home -> node: om_checkpoint, send an image of the job and go on */
	OM_T_CHECKPOINT_TAKEN = 43, /* node -> home: om_error; code 0: the image follows */
	OM_T_JOB_REATTACH = 44, /* node -> agent -> home: om_job_reattach (reattach_msg.h) */
	OM_T_JOB_REATTACHED = 45, /* agent -> node: empty, the job's home is back */
	OM_T_DECISIONS = 46,    /* node <-> home: what the node decided on its own (decision.h) */
	OM_T_JOB_LAST = 46,     /* the last job frame type */
	/* control socket (tools <-> agent) */
	OM_T_CTL_NODES = 64,       /* tool -> agent: empty payload */
	OM_T_CTL_NODES_REPLY = 65, /* agent -> tool: om_node_list */
	OM_T_CTL_JOB_SUBMIT = 66,  /* om-run -> agent: pid, command, cpu, memory, node */
	OM_T_CTL_JOB_PLACED = 67,  /* agent -> om-run: job id, node id (0 = home), ... */
	OM_T_CTL_JOBS = 68,        /* tool -> agent: empty payload */
	OM_T_CTL_JOBS_REPLY = 69,  /* agent -> tool: count + job records */
	OM_T_CTL_MIGRATE = 70,     /* om-migrate -> agent -> om-run: pid, target */
	OM_T_CTL_NODE = 71,        /* om-ctl -> agent: om_ctl_node */
	OM_T_CTL_NODE_REPLY = 72,  /* agent -> om-ctl: om_ctl_node_reply */
	OM_T_CTL_ADMIT = 73,       /* om-ctl -> agent: om_ctl_admit (admit_msg.h) */
	OM_T_CTL_ADMIT_REPLY = 74, /* agent -> om-ctl: om_ctl_admit_reply */
	OM_T_CTL_PENDING = 75,     /* tool -> agent: empty payload */
	OM_T_CTL_PENDING_REPLY = 76, /* agent -> tool: the nodes waiting for admission */
	OM_T_CTL_POLICY = 77,      /* om-run -> agent: empty payload */
	OM_T_CTL_POLICY_REPLY = 78, /* agent -> om-run: om_policy (job_msg.h) */
	OM_T_CTL_JOB_REATTACH = 79, /* om-run -> agent: om_ctl_reattach (reattach_msg.h) */
	OM_T_CTL_CHECKPOINT = 80,  /* om-checkpoint -> agent -> om-run: om_ctl_checkpoint; the answer */
	/* In checkpoint files only, never on a link (ckpt_file.h): */
	OM_T_CKPT_HOME = 81,       /* om_ckpt_home */
	OM_T_CKPT_ENTRY = 82,      /* om_ckpt_entry */
	OM_T_MAX_KNOWN = 82
};

/* Whether frames of type t are part of an image (migrate/image.h). */
static inline int
om_type_is_image(int t)
{
	return (t >= OM_T_IMAGE_BEGIN && t <= OM_T_IMAGE_END) || t == OM_T_IMAGE_THREAD;
}

/* Result codes of every decoder and of om_frame_check. */
enum om_err {
	OM_OK = 0,
	OM_E_SHORT = -1,     /* more bytes needed (a stream may wait for them) */
	OM_E_MAGIC = -2,     /* not an om frame */
	OM_E_VERSION = -3,   /* a version this build does not speak */
	OM_E_TOOBIG = -4,    /* length above OM_MAX_PAYLOAD */
	OM_E_TYPE = -5,      /* unknown frame type */
	OM_E_TRUNC = -6,     /* payload ends inside a field */
	OM_E_TRAILING = -7,  /* payload has bytes after the last field */
	OM_E_RANGE = -8,     /* a field holds a value it may not */
	OM_E_NOSPACE = -9,   /* encoder: output buffer too small */
	/* Protocol-level reasons, carried in ERROR frames: */
	OM_E_STATE = -10,    /* a valid frame that is not allowed now */
	OM_E_BUSY = -11,     /* the agent cannot take this node now */
	OM_E_ADMIT = -12     /* the agent's admission policy does not admit this node (yet) */
};

const char *om_strerror(int err);
const char *om_type_name(int type); /* "HELLO", ..., "?" when unknown */

struct om_hdr {
	uint8_t version;
	uint8_t type;
	uint32_t length;
	uint32_t job;
	uint32_t seq;
};

/* Checks the header at buf. Returns OM_OK and fills *h when a header is
 * present and valid (the payload may still be incomplete: the caller waits
 * for OM_HDR_SIZE + h->length bytes); OM_E_SHORT when fewer than OM_HDR_SIZE
 * bytes are there; otherwise the error that makes the stream unusable. */
int om_frame_check(const void *buf, size_t len, struct om_hdr *h);
/* Writes a header for a payload of 'length' bytes into out[OM_HDR_SIZE]. */
void om_hdr_encode(void *out, uint8_t type, uint32_t length, uint32_t job, uint32_t seq);

#define OM_STR_MAX 64 /* longest string field, without the NUL */

/* Field rules every decoder enforces (and every encoder, so a sender finds
 * its own bug instead of the peer): strings are u16 length + bytes, at most
 * the field's size - 1 bytes, printable ASCII 0x20-0x7e only (OM_E_RANGE);
 * a MAC is a unicast, non-zero station address; cpu.cores >= 1; a WELCOME
 * has node_id >= 1 and heartbeat_ms >= 1; a node record has id >= 1, a
 * state from enum om_node_state, flags within OM_NODE_F_ALL and claims
 * from enum om_claims; NODE_LEAVING
 * a reason from enum om_leave_reason; CTL_NODE an action from enum
 * om_ctl_action and node >= 1; its reply node >= 1 and flags within
 * OM_NODE_F_ALL. */

struct om_error {
	uint32_t code;              /* enum om_err or a protocol-level reason */
	char msg[OM_STR_MAX + 1];
};

struct om_cpu {
	char vendor[13];            /* CPUID leaf 0, e.g. "GenuineIntel" */
	char model[49];             /* brand string, leaves 0x80000002-4 */
	uint32_t family, model_id, stepping;
	uint32_t leaf1_ecx, leaf1_edx;
	uint32_t leaf7_ebx, leaf7_ecx, leaf7_edx;
	uint64_t xcr0;              /* 0 when XSAVE is unsupported */
	uint16_t cores;
};

struct om_hello {
	uint8_t mac[6];
	char nic[OM_STR_MAX + 1];   /* driver name, e.g. "virtio-net" */
	struct om_cpu cpu;
	uint64_t mem_bytes;         /* usable RAM */
	uint32_t speed;             /* boot-time benchmark score, higher is faster */
	uint32_t boot_ms;           /* node uptime when HELLO was sent */
	char version[OM_STR_MAX + 1]; /* node build, e.g. "om 0.1" */
};

struct om_welcome {
	uint32_t node_id;
	uint32_t heartbeat_ms;      /* the node sends a heartbeat this often */
	uint64_t time_ns;           /* home's CLOCK_REALTIME at send time */
	uint32_t grace_ms;          /* the agent waits this long for a silent node's
				     * jobs: the node waits as long for its acks */
};

/* One job the node runs, as the balancer needs it. */
struct om_hb_job {
	uint32_t job;
	uint64_t cpu_ns;            /* CPU time on this node, this stay */
	uint8_t runnable;           /* wants the CPU now (0 or 1) */
};

struct om_heartbeat {
	uint32_t uptime_ms;
	uint32_t load_milli;        /* runnable jobs x 1000, averaged */
	uint64_t mem_free;
	uint32_t jobs;
	uint32_t nlisted;           /* <= OM_NODE_JOBS_MAX */
	struct om_hb_job listed[OM_NODE_JOBS_MAX];
};

enum om_node_state { OM_NODE_UP = 1, OM_NODE_DOWN = 2 };

/* What keeps new jobs off a node (node records, CTL_NODE_REPLY). Any of
 * them means no new jobs; DRAINING and LEAVING also send its jobs away. */
enum om_node_flag {
	OM_NODE_F_BLOCKED = 1,  /* om-ctl block */
	OM_NODE_F_DRAINING = 2, /* om-ctl drain or expel */
	OM_NODE_F_LEAVING = 4,  /* NODE_LEAVING came, or om-ctl reboot asked */
	OM_NODE_F_ALL = 7
};

/* NODE_LEAVING: the node empties itself and restarts (into the boot
 * menu's default entry). Its jobs go home (JOB_HOME) right after it. */
enum om_leave_reason {
	OM_LEAVE_OWNER = 1,   /* a key or the mouse at the node: its owner is back */
	OM_LEAVE_RESTART = 2  /* NODE_RESTART asked for it (om-ctl reboot) */
};

struct om_node_leaving {
	uint8_t reason;             /* enum om_leave_reason */
	char text[OM_STR_MAX + 1];  /* for the log, e.g. "a key was pressed" */
};

/* CTL_NODE: an admin's lever on one node (root only). */
enum om_ctl_action {
	OM_CTL_DRAIN = 1,   /* its jobs leave (to a free core elsewhere, else home), no new ones */
	OM_CTL_BLOCK = 2,   /* no new jobs; its jobs stay */
	OM_CTL_UNBLOCK = 3, /* clears BLOCKED and DRAINING */
	OM_CTL_EXPEL = 4,   /* its jobs go home now, no new ones */
	OM_CTL_REBOOT = 5   /* NODE_RESTART: it empties itself and restarts */
};

struct om_ctl_node {
	uint8_t action;             /* enum om_ctl_action */
	uint32_t node;              /* >= 1 */
};

struct om_ctl_node_reply {
	uint32_t node;
	uint8_t flags;              /* enum om_node_flag, after the action */
	uint32_t moving;            /* jobs the action sent away */
};

/* What the agent found of a node's CPU claims (node records; the agent's
 * claims.h says how it judges, docs/security.md what that proves). */
enum om_claims {
	OM_CLAIMS_OK = 0,       /* nothing found against them */
	OM_CLAIMS_CPU_TIME = 1, /* its jobs' CPU time exceeds what its cores can give */
	OM_CLAIMS_CORES = 2     /* its runnable jobs got far less CPU than its cores give */
};
#define OM_CLAIMS_MAX OM_CLAIMS_CORES

#define OM_KEY_FP_BYTES 8 /* a key's fingerprint: the first bytes of its SHA-256 */

struct om_node_info {
	uint32_t id;
	uint8_t mac[6];
	char ip[OM_STR_MAX + 1];    /* dotted quad as the agent saw the peer */
	char nic[OM_STR_MAX + 1];
	struct om_cpu cpu;
	uint32_t speed;
	uint64_t mem_bytes;
	uint64_t mem_free;
	uint32_t load_milli;
	uint32_t jobs;
	uint8_t state;              /* enum om_node_state */
	uint8_t flags;              /* enum om_node_flag */
	uint32_t uptime_ms;         /* node's own uptime at its last heartbeat */
	uint32_t registered_s;      /* seconds since it registered */
	uint32_t last_seen_ms;      /* milliseconds since its last frame */
	uint8_t key_fp[OM_KEY_FP_BYTES]; /* its link key's fingerprint (noise_fp_format) */
	uint8_t claims;             /* enum om_claims */
};

#define OM_NODES_MAX 4096

/* Encoders write the payload only (no header) and return its length, or
 * OM_E_NOSPACE. Decoders return OM_OK or a negative enum om_err. */
int om_error_encode(const struct om_error *m, void *out, size_t cap);
int om_error_decode(const void *buf, size_t len, struct om_error *m);
int om_hello_encode(const struct om_hello *m, void *out, size_t cap);
int om_hello_decode(const void *buf, size_t len, struct om_hello *m);
int om_welcome_encode(const struct om_welcome *m, void *out, size_t cap);
int om_welcome_decode(const void *buf, size_t len, struct om_welcome *m);
int om_heartbeat_encode(const struct om_heartbeat *m, void *out, size_t cap);
int om_heartbeat_decode(const void *buf, size_t len, struct om_heartbeat *m);
int om_node_leaving_encode(const struct om_node_leaving *m, void *out, size_t cap);
int om_node_leaving_decode(const void *buf, size_t len, struct om_node_leaving *m);
int om_ctl_node_encode(const struct om_ctl_node *m, void *out, size_t cap);
int om_ctl_node_decode(const void *buf, size_t len, struct om_ctl_node *m);
int om_ctl_node_reply_encode(const struct om_ctl_node_reply *m, void *out, size_t cap);
int om_ctl_node_reply_decode(const void *buf, size_t len, struct om_ctl_node_reply *m);

/* A node list is a u32 count followed by that many node records. Decoding is
 * one record at a time so callers need no large buffers. */
int om_node_list_encode(const struct om_node_info *nodes, uint32_t n, void *out, size_t cap);
/* Reads the count; *pos is set to the offset of the first record. */
int om_node_list_count(const void *buf, size_t len, uint32_t *count, size_t *pos);
/* Decodes the record at *pos and advances *pos. After the last record the
 * caller checks *pos == len (om_node_list_end) to reject trailing bytes. */
int om_node_list_next(const void *buf, size_t len, size_t *pos, struct om_node_info *out);
int om_node_list_end(size_t len, size_t pos);

#endif
