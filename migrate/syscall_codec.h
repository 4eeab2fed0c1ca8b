/* syscall_codec.h - the system-call table (syscalls.def) and the SYSCALL_REQ /
 * SYSCALL_REP payload codec.
 *
 * Portable C99, no allocation, no I/O: the node kernel (-DOM_NODE) and the
 * deputy both compile it. docs/migration.md fixes the contract, docs/syscalls.md
 * (generated from the table) lists every call.
 *
 * One forwarded call is one round trip:
 *
 *   node:   om_sysreq_encode()  reads the job's IN buffers through a callback,
 *                               fills a struct om_sysctx it keeps for the reply
 *   deputy: om_sysreq_decode()  checks the payload, gives the buffers
 *           ... runs the call ...
 *           om_sysrep_encode()  result and OUT buffers
 *   node:   om_sysrep_decode()  checks the reply against the om_sysctx, then
 *                               writes the OUT buffers into the job's memory
 *
 * SYSCALL_REQ payload (little-endian):
 *   u32 nr, u32 tid (the calling thread's: the deputy runs the call in
 *   its home thread), 6 x u64 args, then one item per buffer, in argument order, for
 *   every pointer argument that is not NULL (a NULL pointer carries nothing
 *   and the deputy passes NULL):
 *     IN-like (IN, INN, STR, INS, SOCKADDR_IN, SIGSET6)  u32 len + bytes
 *     STRV     u32 count, then count x (u32 len + bytes): a NULL-ended
 *              array of strings (execve's argv, envp), each without its NUL
 *     INOUT-like (INOUT, INOUTS, POLL, FDSET, LENP)      u32 len + bytes
 *     OUT-like (OUT, OUTRET, OUTRETN, OUTS, SOCKADDR_OUT, OPT_OUT)  u32 cap
 *     IOV_IN   u32 count, count x u32 len, then the gathered bytes
 *     IOV_OUT  u32 count, count x u32 len
 *     MSG_IN   u32 msg_flags, u32 name len + bytes, iovec as IOV_IN,
 *              u32 control len + bytes
 *     MSG_OUT  u32 msg_flags, u32 name cap, iovec as IOV_OUT, u32 control cap
 *   Length arguments travel clamped to what the buffers hold (see
 *   OM_SYSCALL_MAX_BUF), so the deputy may pass args as they are, with only
 *   the pointers rewritten. A STR travels without its NUL.
 *
 * SYSCALL_REP payload:
 *   i64 result (negative errno), then one item per OUT-capable buffer of the
 *   request, in the same order:
 *     OUT, OUTS, INOUT, INOUTS, POLL, FDSET, LENP, SOCKADDR_OUT, OPT_OUT,
 *     OUTRET, OUTRETN, IOV_OUT:  u32 len + bytes
 *     MSG_OUT: u32 msg_namelen, u32 name len + bytes, u32 data len + bytes,
 *              u32 msg_controllen, u32 control len + bytes, u32 msg_flags
 *   Length rules (checked by both om_sysrep_encode and om_sysrep_decode):
 *     OUTS, INOUTS, INOUT, POLL, FDSET, LENP: 0 (not written) or the full size
 *     OUT, SOCKADDR_OUT, OPT_OUT, MSG_OUT name: <= the capacity
 *     OUTRET, IOV_OUT, MSG_OUT data: == min(result, capacity) when the
 *       result is >= 0, else 0 (min: recv with MSG_TRUNC and getxattr with
 *       size 0 return more than they fill)
 *     OUTRETN: == min(result, count) x element size, likewise
 *     MSG_OUT control: == msg_controllen <= the capacity
 *
 * Large buffers: a data buffer (IN/OUT/INOUT/OUTRET with a length argument,
 * INN/OUTRETN arrays, the sum of an iovec) is clamped to OM_SYSCALL_MAX_BUF
 * and its length argument rewritten, so request and reply both fit
 * OM_MAX_PAYLOAD. For read-like calls the job sees a short read, which is
 * always legal; om_sysctx.clamped tells the node that a write-like call was
 * cut, and the node continues it (at the new offset for pwrite) until it is
 * done or returns short. */
#ifndef OM_SYSCALL_CODEC_H
#define OM_SYSCALL_CODEC_H

#include <stddef.h>
#include <stdint.h>

#define OM_SYSCALL_NR_MAX 463            /* table covers 0 .. OM_SYSCALL_NR_MAX - 1 */
#define OM_SYSCALL_MAX_BUF (512u << 10)  /* largest data buffer of one call */
#define OM_SYSCALL_STR_MAX 4096          /* longest STR, the NUL included */
#define OM_SYSCALL_MAX_IOV 1024          /* Linux UIO_MAXIOV */
#define OM_SYSCALL_SOCKADDR_MAX 128      /* sizeof(struct sockaddr_storage) */
#define OM_SYSCALL_OPT_MAX 4096          /* getsockopt values */
#define OM_SYSCALL_CTL_MAX 65536         /* msg_control of sendmsg/recvmsg */
#define OM_SYSCALL_MAX_FDS 65536         /* select: nfds is clamped to this */
#define OM_SYSCALL_MAX_BUFS 6            /* buffers of one call (one per arg) */
#define OM_SYSCALL_STRV_MAX 32768        /* strings of one STRV (more: home) */
#define OM_SYSCALL_ARG_STRLEN 131072     /* Linux MAX_ARG_STRLEN, the NUL included */

enum om_where { OM_LOCAL = 1, OM_FORWARD = 2, OM_HOME = 3 };

enum om_kind {
	OM_K_NONE = 0,     /* no such argument */
	OM_K_VAL,          /* plain value */
	OM_K_IN,           /* x = length arg */
	OM_K_OUT,
	OM_K_INOUT,
	OM_K_OUTRET,
	OM_K_INN,          /* x = count arg, size = element size */
	OM_K_OUTRETN,
	OM_K_STR,
	OM_K_INS,          /* size = struct size */
	OM_K_OUTS,
	OM_K_INOUTS,
	OM_K_IOV_IN,       /* x = count arg */
	OM_K_IOV_OUT,
	OM_K_SOCKADDR_IN,  /* x = length arg */
	OM_K_SOCKADDR_OUT, /* x = arg pointing at the length (LENP) */
	OM_K_OPT_OUT,      /* x = arg pointing at the length (LENP) */
	OM_K_LENP,
	OM_K_IOCTL,        /* x = request arg */
	OM_K_FCNTL,        /* x = command arg */
	OM_K_PRCTL,        /* x = option arg */
	OM_K_POLL,         /* x = nfds arg */
	OM_K_FDSET,        /* x = nfds arg */
	OM_K_SIGSET6,
	OM_K_MSG_IN,
	OM_K_MSG_OUT,
	OM_K_STRV,         /* NULL-ended array of strings */
	OM_K_COUNT
};

struct om_argkind {
	uint8_t kind;      /* enum om_kind */
	uint8_t x;         /* the argument it refers to, see enum om_kind */
	uint16_t size;     /* struct or element size */
};

struct om_syscall {
	const char *name;  /* "read", ...; NULL for a number Linux does not use */
	uint16_t nr;
	uint8_t where;     /* enum om_where */
	struct om_argkind arg[6];
};

/* The entry for nr, or NULL when nr is outside the table or unused. */
const struct om_syscall *om_syscall_get(unsigned nr);
/* Arguments the call takes (the last one that is not NONE, plus one). */
int om_syscall_nargs(const struct om_syscall *e);
/* The call's name, or NULL. */
const char *om_syscall_name(unsigned nr);
/* The table's where (enum om_where); OM_HOME for an unknown number. */
int om_syscall_where(unsigned nr);
/* "local", "forward", "home". */
const char *om_where_name(int where);
/* "VAL", "IN", ... as written in syscalls.def. */
const char *om_kind_name(int kind);

/* The requests an IOCTL, FCNTL or PRCTL argument knows: entry i of the
 * list for kind, or NULL past its end. A request's argument travels as
 * kind/size (VAL, INS, OUTS or INOUTS); any other request goes home. */
struct om_sysreq_kind {
	uint32_t req;      /* ioctl request, fcntl command, prctl option */
	uint8_t kind;
	uint16_t size;
	const char *name;  /* "TCGETS", ... */
};
const struct om_sysreq_kind *om_syscall_request_kind(int kind, size_t i);

/* Where this call runs, given its arguments (enum om_where): the table's
 * where, refined at run time:
 *   mmap            HOME for a shared writable file mapping (it must be
 *                   the file itself), else LOCAL (a file mapping is a
 *                   copy the node fills from home);
 *   kill, tkill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo
 *                   LOCAL when aimed at self_pid only, else FORWARD;
 *   getpgid, getsid, get_robust_list  LOCAL for 0 or self_pid, else FORWARD;
 *   clone           FORWARD for a plain fork (om_syscall_is_fork) or a
 *                   node's thread (om_syscall_is_thread), else HOME;
 *   getrusage       FORWARD for RUSAGE_CHILDREN (they are at home), else LOCAL;
 *   clock_gettime, clock_getres, clock_nanosleep  LOCAL for the clocks the
 *                   node keeps (REALTIME .. BOOTTIME), else FORWARD;
 *   ioctl, fcntl, prctl  FORWARD for a request in the codec's list
 *                   (prctl PR_SET_VMA: LOCAL), else HOME.
 * self_pid 0 means "unknown": every "self" test then fails, which is what
 * the deputy wants (it accepts exactly the calls this says FORWARD for). */
int om_syscall_where_at(unsigned nr, const uint64_t args[6], uint32_t self_pid);
/* The clone flags of a plain fork: the exit signal (CSIGNAL, SIGCHLD
 * only), CLONE_PARENT_SETTID, CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID. */
#define OM_FORK_CLONE_FLAGS 0x013000ffull
/* A fork's argument 5, which Linux does not read: the node puts the
 * caller's SIGCHLD disposition there, for it decides at home whether the
 * children become zombies: SA_NOCLDSTOP (1) and SA_NOCLDWAIT (2) as they
 * are, and OM_FORK_CHLD_IGN for SIG_IGN. */
#define OM_FORK_CHLD_IGN 0x100u
#define OM_FORK_CHLD_MASK 0x103u
/* Whether the call makes a new process that copies the caller: fork,
 * vfork, or clone with OM_FORK_CLONE_FLAGS only, SIGCHLD as its exit
 * signal and no new stack. The
 * deputy runs it at home and the node makes the child from the parent
 * (docs/migration.md, "Fork on a node"); any other clone goes home. */
int om_syscall_is_fork(unsigned nr, const uint64_t args[6]);
/* A node's thread asks home for a thread of its own (its tid is the
 * answer; the thread runs on the node): clone with the flags of a thread
 * (CLONE_VM | CLONE_SIGHAND | CLONE_THREAD and whatever else the program
 * asked for), in argument 1 the tid of a thread that ended on the node
 * (its home thread ends: 0 none), nothing else but the mark in argument
 * 5, which Linux does not read. The node never forwards a program's own
 * clone of this form. */
#define OM_THREAD_CLONE_FLAGS 0x00010900ull
#define OM_THREAD_CLONE_MARK 0x6f6d7468ull /* "omth" */
#define OM_THREAD_TID_MAX 0x3fffffffull   /* FUTEX_TID_MASK */
int om_syscall_is_thread(unsigned nr, const uint64_t args[6]);
/* Whether the deputy runs this call for a node: where_at(nr, args, 0) says
 * FORWARD, or the call is LOCAL but the node may lack the means to answer
 * it (getrandom without RDRAND). The node's encoder and the deputy's
 * decoder both refuse any other call (OM_E_RANGE). */
int om_syscall_forwardable(unsigned nr, const uint64_t args[6]);

/* ---- node side */

/* Copies len bytes of the job's memory at addr into dst. Returns 0, or a
 * negative errno (-14, EFAULT) when any byte is not readable. */
typedef int (*om_user_read_fn)(void *ctx, uint64_t addr, uint32_t len, void *dst);
/* Copies len bytes from src into the job's memory at addr; 0 or -errno. */
typedef int (*om_user_write_fn)(void *ctx, uint64_t addr, uint32_t len, const void *src);

struct om_sysctx_buf {
	uint8_t arg;       /* argument index */
	uint8_t kind;      /* resolved kind: never IOCTL, FCNTL, PRCTL */
	uint16_t elem;     /* OUTRETN element size */
	uint32_t len;      /* bytes sent (IN side) */
	uint32_t cap;      /* capacity (OUT side) */
	uint64_t addr;     /* the job's address of the buffer */
	/* MSG_OUT: where the results go */
	uint64_t name;     /* msg_name */
	uint32_t name_cap;
	uint64_t ctl;      /* msg_control */
	uint32_t ctl_cap;
};

/* One pending forwarded call, kept by the node until the reply arrives.
 * About 12 KiB: keep it in the job's state, not on a kernel stack. */
struct om_sysctx {
	uint32_t nr;
	uint32_t tid;
	uint64_t args[6];  /* as sent: length arguments clamped */
	int clamped;       /* a data buffer was cut to OM_SYSCALL_MAX_BUF */
	unsigned nbuf;
	struct om_sysctx_buf buf[OM_SYSCALL_MAX_BUFS];
	uint32_t niov;     /* IOV_OUT / MSG_OUT: the scatter list */
	uint64_t iov_base[OM_SYSCALL_MAX_IOV];
	uint32_t iov_len[OM_SYSCALL_MAX_IOV];
};

/* Result of om_sysreq_encode beyond enum om_err: the job's arguments are
 * bad (a buffer it cannot read, a length the kernel refuses). */
#define OM_SC_EUSER (-100)

/* Encodes the SYSCALL_REQ payload for call nr of thread tid with the job's args into
 * out[cap]; fills *ctx for om_sysrep_decode. Returns the payload length,
 * or:
 *   OM_E_RANGE    the call cannot be forwarded (om_syscall_where_at with
 *                 self_pid 0 is not FORWARD): the node runs it or goes home;
 *   OM_E_NOSPACE  cap is too small: cap >= OM_MAX_PAYLOAD fits every call
 *                 but an execve whose strings do not (more than
 *                 OM_SYSCALL_STRV_MAX of them, or more bytes than a frame
 *                 holds): the node runs that one at home;
 *   OM_SC_EUSER   *uerr is set to a positive Linux errno (EFAULT from the
 *                 read callback, EINVAL, ENAMETOOLONG, E2BIG): the node returns
 *                 -*uerr to the job without forwarding. */
int om_sysreq_encode(struct om_sysctx *ctx, unsigned nr, uint32_t tid, const uint64_t args[6],
    om_user_read_fn read_user, void *rctx, void *out, size_t cap, int *uerr);

/* Checks a SYSCALL_REP payload against ctx, then copies every OUT buffer
 * into the job's memory. Returns OM_OK with *ret set to the result for the
 * job (-EFAULT when a write into the job's memory failed: the call did
 * happen at home, as a kernel that faults on copy-out would report), or a
 * negative enum om_err for a bad reply, in which case nothing was written. */
int om_sysrep_decode(const struct om_sysctx *ctx, const void *payload, size_t len,
    om_user_write_fn write_user, void *wctx, int64_t *ret);

/* ---- deputy side */

struct om_sysbuf {
	uint8_t arg;       /* argument index */
	uint8_t kind;      /* resolved kind: never IOCTL, FCNTL, PRCTL */
	uint16_t elem;     /* OUTRETN element size */
	const uint8_t *data; /* IN side: len bytes inside the payload */
	uint32_t len;
	uint32_t cap;      /* OUT side capacity (INOUT kinds: == len) */
	/* IOV_IN, IOV_OUT, MSG_*: niov little-endian u32 lengths in the
	 * payload (use om_sysbuf_iov_len); for IOV_IN and MSG_IN data/len
	 * hold the gathered bytes. STRV: niov strings; data/len hold them
	 * as they travel (u32 len + bytes each, checked: use om_sysbuf_str) */
	uint32_t niov;
	const uint8_t *iov_lens;
	uint32_t iov_total;
	/* MSG_IN: name and control bytes; MSG_OUT: name_len and ctl_len are
	 * the capacities, cap the data capacity (iov_total) */
	const uint8_t *name;
	uint32_t name_len;
	const uint8_t *ctl;
	uint32_t ctl_len;
	uint32_t msg_flags;
};

struct om_sysreq {
	uint32_t nr;
	uint32_t tid;      /* the calling thread */
	uint64_t args[6];
	unsigned nbuf;
	struct om_sysbuf buf[OM_SYSCALL_MAX_BUFS];
};

/* String i of a STRV buffer, walking from *at (0 for the first; strings
 * come in order): its bytes (no NUL) and length. */
const uint8_t *om_sysbuf_str(const struct om_sysbuf *b, uint32_t *at, uint32_t *len);
/* Length of iovec i of b (i < b->niov). */
uint32_t om_sysbuf_iov_len(const struct om_sysbuf *b, uint32_t i);

/* Decodes a SYSCALL_REQ payload. Pointers in *req point into payload, which
 * must outlive it. Returns OM_OK, or OM_E_TRUNC / OM_E_TRAILING /
 * OM_E_RANGE (unknown or unforwardable call, a length that disagrees with
 * its argument or a limit, a NUL inside a STR). */
int om_sysreq_decode(const void *payload, size_t len, struct om_sysreq *req);

/* What the deputy read back after running the call: one per req->buf[i]
 * (entries for IN-only buffers are ignored). */
struct om_sysout {
	const void *data;  /* MSG_OUT: the data read (scattered by the node) */
	uint32_t len;
	/* MSG_OUT only */
	uint32_t msg_namelen;   /* the value the kernel stored */
	const void *name;
	uint32_t name_len;
	const void *ctl;
	uint32_t ctl_len;       /* == the msg_controllen the kernel stored */
	uint32_t msg_flags;
};

/* Encodes the SYSCALL_REP payload for req with result ret. outs has
 * req->nbuf entries, or is NULL when nothing was read back (all OUT
 * lengths 0; only valid when ret < 0 or the call has no OUTRET buffer).
 * Returns the payload length, OM_E_RANGE when a length breaks the rules
 * above, or OM_E_NOSPACE. */
int om_sysrep_encode(const struct om_sysreq *req, int64_t ret,
    const struct om_sysout *outs, void *out, size_t cap);

#endif
