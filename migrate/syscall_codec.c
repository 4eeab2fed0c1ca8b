/* syscall_codec.c - the system-call table and the SYSCALL_REQ / SYSCALL_REP
 * codec (see syscall_codec.h for the contract and the wire layout). */
#include <string.h>

#include "proto.h"
#include "syscall_codec.h"
#include "wire.h"

/* Linux x86-64 errno values the node hands back to the job. */
#define SC_E2BIG 7
#define SC_EFAULT 14
#define SC_EINVAL 22
#define SC_ENAMETOOLONG 36
#define SC_EMSGSIZE 90
#define SC_ENOBUFS 105

#define SC_MAP_ANONYMOUS 0x20
#define SC_MAP_SHARED 0x01
#define SC_PROT_WRITE 0x2
#define SC_RUSAGE_CHILDREN (-1)
#define SC_SIGCHLD 17
#define SC_CLOCK_BOOTTIME 7 /* the last clock the node keeps: 0..7 */
#define SC_PR_SET_VMA 0x53564d41u
#define SC_PAGE 4096u
#define SC_MSGHDR_SIZE 56 /* struct msghdr: name, namelen, iov, iovlen, control, controllen, flags */

/* ---- the table */

enum sc_nr {
#define SYSCALL(nr, name, where, a0, a1, a2, a3, a4, a5) SC_NR_##name = nr,
#include "syscalls.def"
#undef SYSCALL
};

#define NONE { OM_K_NONE, 0, 0 }
#define VAL { OM_K_VAL, 0, 0 }
#define IN(l) { OM_K_IN, l, 0 }
#define OUT(l) { OM_K_OUT, l, 0 }
#define INOUT(l) { OM_K_INOUT, l, 0 }
#define OUTRET(l) { OM_K_OUTRET, l, 0 }
#define INN(c, s) { OM_K_INN, c, s }
#define OUTRETN(c, s) { OM_K_OUTRETN, c, s }
#define STR { OM_K_STR, 0, 0 }
#define STRV { OM_K_STRV, 0, 0 }
#define INS(s) { OM_K_INS, 0, s }
#define OUTS(s) { OM_K_OUTS, 0, s }
#define INOUTS(s) { OM_K_INOUTS, 0, s }
#define IOV_IN(c) { OM_K_IOV_IN, c, 0 }
#define IOV_OUT(c) { OM_K_IOV_OUT, c, 0 }
#define SOCKADDR_IN(l) { OM_K_SOCKADDR_IN, l, 0 }
#define SOCKADDR_OUT(p) { OM_K_SOCKADDR_OUT, p, 0 }
#define OPT_OUT(p) { OM_K_OPT_OUT, p, 0 }
#define LENP { OM_K_LENP, 0, 4 }
#define IOCTL(r) { OM_K_IOCTL, r, 0 }
#define FCNTL(r) { OM_K_FCNTL, r, 0 }
#define PRCTL(r) { OM_K_PRCTL, r, 0 }
#define POLL(n) { OM_K_POLL, n, 8 }
#define FDSET(n) { OM_K_FDSET, n, 0 }
#define SIGSET6 { OM_K_SIGSET6, 0, 0 }
#define MSG_IN { OM_K_MSG_IN, 0, SC_MSGHDR_SIZE }
#define MSG_OUT { OM_K_MSG_OUT, 0, SC_MSGHDR_SIZE }

static const struct om_syscall sc_table[OM_SYSCALL_NR_MAX] = {
#define SYSCALL(nr, name, where, a0, a1, a2, a3, a4, a5) \
	[nr] = { #name, nr, OM_##where, { a0, a1, a2, a3, a4, a5 } },
#include "syscalls.def"
#undef SYSCALL
};

#undef NONE
#undef VAL
#undef IN
#undef OUT
#undef INOUT
#undef OUTRET
#undef INN
#undef OUTRETN
#undef STR
#undef INS
#undef OUTS
#undef INOUTS
#undef IOV_IN
#undef IOV_OUT
#undef SOCKADDR_IN
#undef SOCKADDR_OUT
#undef OPT_OUT
#undef LENP
#undef IOCTL
#undef FCNTL
#undef PRCTL
#undef POLL
#undef FDSET
#undef SIGSET6
#undef MSG_IN
#undef MSG_OUT

const struct om_syscall *
om_syscall_get(unsigned nr)
{
	if (nr >= OM_SYSCALL_NR_MAX || sc_table[nr].name == NULL)
		return NULL;
	return &sc_table[nr];
}

const char *
om_syscall_name(unsigned nr)
{
	const struct om_syscall *e = om_syscall_get(nr);

	return e ? e->name : NULL;
}

int
om_syscall_where(unsigned nr)
{
	const struct om_syscall *e = om_syscall_get(nr);

	return e ? e->where : OM_HOME;
}

int
om_syscall_nargs(const struct om_syscall *e)
{
	int n = 6;

	while (n > 0 && e->arg[n - 1].kind == OM_K_NONE)
		n--;
	return n;
}

const char *
om_where_name(int where)
{
	switch (where) {
	case OM_LOCAL: return "local";
	case OM_FORWARD: return "forward";
	case OM_HOME: return "home";
	}
	return "?";
}

const char *
om_kind_name(int kind)
{
	static const char *const names[OM_K_COUNT] = {
		[OM_K_NONE] = "NONE", [OM_K_VAL] = "VAL", [OM_K_IN] = "IN",
		[OM_K_OUT] = "OUT", [OM_K_INOUT] = "INOUT", [OM_K_OUTRET] = "OUTRET",
		[OM_K_INN] = "INN", [OM_K_OUTRETN] = "OUTRETN", [OM_K_STR] = "STR",
		[OM_K_INS] = "INS", [OM_K_OUTS] = "OUTS", [OM_K_INOUTS] = "INOUTS",
		[OM_K_IOV_IN] = "IOV_IN", [OM_K_IOV_OUT] = "IOV_OUT",
		[OM_K_SOCKADDR_IN] = "SOCKADDR_IN", [OM_K_SOCKADDR_OUT] = "SOCKADDR_OUT",
		[OM_K_OPT_OUT] = "OPT_OUT", [OM_K_LENP] = "LENP", [OM_K_IOCTL] = "IOCTL",
		[OM_K_FCNTL] = "FCNTL", [OM_K_PRCTL] = "PRCTL", [OM_K_POLL] = "POLL",
		[OM_K_FDSET] = "FDSET", [OM_K_SIGSET6] = "SIGSET6",
		[OM_K_MSG_IN] = "MSG_IN", [OM_K_MSG_OUT] = "MSG_OUT", [OM_K_STRV] = "STRV",
	};

	if (kind < 0 || kind >= OM_K_COUNT)
		return "?";
	return names[kind];
}

/* ---- requests with a special argument: ioctl, fcntl, prctl */

static const struct om_sysreq_kind sc_ioctls[] = {
	{ 0x5401, OM_K_OUTS, 36, "TCGETS" }, /* the kernel's struct termios */
	{ 0x5402, OM_K_INS, 36, "TCSETS" },
	{ 0x5403, OM_K_INS, 36, "TCSETSW" },
	{ 0x5404, OM_K_INS, 36, "TCSETSF" },
	{ 0x5409, OM_K_VAL, 0, "TCSBRK" },
	{ 0x540a, OM_K_VAL, 0, "TCXONC" },
	{ 0x540b, OM_K_VAL, 0, "TCFLSH" },
	{ 0x540e, OM_K_VAL, 0, "TIOCSCTTY" },
	{ 0x540f, OM_K_OUTS, 4, "TIOCGPGRP" },
	{ 0x5410, OM_K_INS, 4, "TIOCSPGRP" },
	{ 0x5411, OM_K_OUTS, 4, "TIOCOUTQ" },
	{ 0x5413, OM_K_OUTS, 8, "TIOCGWINSZ" },
	{ 0x5414, OM_K_INS, 8, "TIOCSWINSZ" },
	{ 0x541b, OM_K_OUTS, 4, "FIONREAD" },
	{ 0x5421, OM_K_INS, 4, "FIONBIO" },
	{ 0x5422, OM_K_VAL, 0, "TIOCNOTTY" },
	{ 0x5429, OM_K_OUTS, 4, "TIOCGSID" },
	{ 0x5450, OM_K_VAL, 0, "FIONCLEX" },
	{ 0x5451, OM_K_VAL, 0, "FIOCLEX" },
	{ 0x5452, OM_K_INS, 4, "FIOASYNC" },
	{ 0x80045430, OM_K_OUTS, 4, "TIOCGPTN" },
	{ 0x40045431, OM_K_INS, 4, "TIOCSPTLCK" },
};

static const struct om_sysreq_kind sc_fcntls[] = {
	{ 0, OM_K_VAL, 0, "F_DUPFD" },
	{ 1, OM_K_VAL, 0, "F_GETFD" },
	{ 2, OM_K_VAL, 0, "F_SETFD" },
	{ 3, OM_K_VAL, 0, "F_GETFL" },
	{ 4, OM_K_VAL, 0, "F_SETFL" },
	{ 5, OM_K_INOUTS, 32, "F_GETLK" }, /* struct flock */
	{ 6, OM_K_INS, 32, "F_SETLK" },
	{ 7, OM_K_INS, 32, "F_SETLKW" },
	{ 36, OM_K_INOUTS, 32, "F_OFD_GETLK" },
	{ 37, OM_K_INS, 32, "F_OFD_SETLK" },
	{ 38, OM_K_INS, 32, "F_OFD_SETLKW" },
	{ 1030, OM_K_VAL, 0, "F_DUPFD_CLOEXEC" },
	{ 1031, OM_K_VAL, 0, "F_SETPIPE_SZ" },
	{ 1032, OM_K_VAL, 0, "F_GETPIPE_SZ" },
	{ 1033, OM_K_VAL, 0, "F_ADD_SEALS" },
	{ 1034, OM_K_VAL, 0, "F_GET_SEALS" },
};

static const struct om_sysreq_kind sc_prctls[] = {
	{ 1, OM_K_VAL, 0, "PR_SET_PDEATHSIG" },
	{ 2, OM_K_OUTS, 4, "PR_GET_PDEATHSIG" },
	{ 3, OM_K_VAL, 0, "PR_GET_DUMPABLE" },
	{ 4, OM_K_VAL, 0, "PR_SET_DUMPABLE" },
	{ 15, OM_K_INS, 16, "PR_SET_NAME" },
	{ 16, OM_K_OUTS, 16, "PR_GET_NAME" },
	{ 29, OM_K_VAL, 0, "PR_SET_TIMERSLACK" },
	{ 30, OM_K_VAL, 0, "PR_GET_TIMERSLACK" },
	{ 36, OM_K_VAL, 0, "PR_SET_CHILD_SUBREAPER" },
	{ 37, OM_K_OUTS, 4, "PR_GET_CHILD_SUBREAPER" },
	{ 38, OM_K_VAL, 0, "PR_SET_NO_NEW_PRIVS" },
	{ 39, OM_K_VAL, 0, "PR_GET_NO_NEW_PRIVS" },
};

#define SC_COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const struct om_sysreq_kind *
sc_lookup(const struct om_sysreq_kind *t, size_t n, uint32_t req)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i].req == req)
			return &t[i];
	return NULL;
}

const struct om_sysreq_kind *
om_syscall_request_kind(int kind, size_t i)
{
	switch (kind) {
	case OM_K_IOCTL: return i < SC_COUNT(sc_ioctls) ? &sc_ioctls[i] : NULL;
	case OM_K_FCNTL: return i < SC_COUNT(sc_fcntls) ? &sc_fcntls[i] : NULL;
	case OM_K_PRCTL: return i < SC_COUNT(sc_prctls) ? &sc_prctls[i] : NULL;
	}
	return NULL;
}

/* The kind argument i of e has for these args, specials resolved to a
 * plain kind. Returns 0 for a request outside the lists. */
static int
sc_resolve(const struct om_syscall *e, int i, const uint64_t a[6], struct om_argkind *k)
{
	const struct om_sysreq_kind *r;
	uint32_t req;

	*k = e->arg[i];
	switch (k->kind) {
	case OM_K_IOCTL:
		req = (uint32_t)a[k->x]; /* the kernel's cmd is an unsigned int */
		r = sc_lookup(sc_ioctls, SC_COUNT(sc_ioctls), req);
		break;
	case OM_K_FCNTL:
		req = (uint32_t)a[k->x];
		r = sc_lookup(sc_fcntls, SC_COUNT(sc_fcntls), req);
		break;
	case OM_K_PRCTL:
		/* the option is an int, but prctl takes the whole register */
		if (a[k->x] > 0xffffffffu)
			return 0;
		req = (uint32_t)a[k->x];
		r = sc_lookup(sc_prctls, SC_COUNT(sc_prctls), req);
		break;
	default:
		return 1;
	}
	if (r == NULL)
		return 0;
	k->kind = r->kind;
	k->x = 0;
	k->size = r->size;
	return 1;
}

static int
sc_is_self(uint64_t v, uint32_t self_pid)
{
	return self_pid != 0 && (int32_t)(uint32_t)v == (int32_t)self_pid;
}

/* The clocks the node keeps (REALTIME ... BOOTTIME): not TAI, the alarm
 * clocks or the CPU clock of a process or thread named by id. */
static int
sc_node_clock(uint64_t clock)
{
	return clock <= SC_CLOCK_BOOTTIME;
}

int
om_syscall_where_at(unsigned nr, const uint64_t a[6], uint32_t self_pid)
{
	const struct om_syscall *e = om_syscall_get(nr);
	struct om_argkind k;
	int i;

	if (e == NULL)
		return OM_HOME;
	switch (nr) {
	case SC_NR_mmap:
		/* A file mapping is a copy the node fills from home, unless it
		 * is shared and writable: then it must be the file itself. */
		return (!(a[3] & SC_MAP_ANONYMOUS) && (a[3] & SC_MAP_SHARED) && (a[2] & SC_PROT_WRITE))
			   ? OM_HOME : OM_LOCAL;
	case SC_NR_kill:
	case SC_NR_tkill:
	case SC_NR_rt_sigqueueinfo:
		return sc_is_self(a[0], self_pid) ? OM_LOCAL : OM_FORWARD;
	case SC_NR_tgkill:
	case SC_NR_rt_tgsigqueueinfo:
		return sc_is_self(a[0], self_pid) && sc_is_self(a[1], self_pid) ?
		    OM_LOCAL : OM_FORWARD;
	case SC_NR_getpgid:
	case SC_NR_getsid:
		return (uint32_t)a[0] == 0 || sc_is_self(a[0], self_pid) ?
		    OM_LOCAL : OM_FORWARD;
	case SC_NR_get_robust_list:
		return (uint32_t)a[0] == 0 || sc_is_self(a[0], self_pid) ?
		    OM_LOCAL : OM_FORWARD;
	case SC_NR_getrusage:
		return (int32_t)a[0] == SC_RUSAGE_CHILDREN ? OM_FORWARD : OM_LOCAL;
	case SC_NR_clock_gettime:
	case SC_NR_clock_getres:
	case SC_NR_clock_nanosleep:
		return sc_node_clock(a[0]) ? OM_LOCAL : OM_FORWARD;
	case SC_NR_clone:
		return om_syscall_is_fork(nr, a) || om_syscall_is_thread(nr, a) ? OM_FORWARD : OM_HOME;
	case SC_NR_prctl:
		/* The node answers PR_SET_VMA; a known option goes out. */
		if (a[0] == SC_PR_SET_VMA)
			return OM_LOCAL;
		return sc_resolve(e, 1, a, &k) ? OM_FORWARD : OM_HOME;
	}
	for (i = 0; i < 6; i++)
		if (!sc_resolve(e, i, a, &k))
			return OM_HOME;
	return e->where;
}

int
om_syscall_is_fork(unsigned nr, const uint64_t a[6])
{
	if (nr == SC_NR_fork || nr == SC_NR_vfork)
		return 1;
	/* A new process with its own copy of everything that says SIGCHLD
	 * when it ends: glibc's and musl's fork(). Threads, shared tables,
	 * namespaces, a new stack, another exit signal (its tracer would see
	 * a clone, not a fork) go home. */
	return nr == SC_NR_clone && (a[0] & ~OM_FORK_CLONE_FLAGS) == 0 && (a[0] & 0xff) == SC_SIGCHLD &&
	       a[1] == 0;
}

int
om_syscall_is_thread(unsigned nr, const uint64_t a[6])
{
	return nr == SC_NR_clone && (a[0] & OM_THREAD_CLONE_FLAGS) == OM_THREAD_CLONE_FLAGS &&
	       a[1] <= OM_THREAD_TID_MAX && a[2] == 0 && a[3] == 0 && a[4] == 0 && a[5] == OM_THREAD_CLONE_MARK;
}

int
om_syscall_forwardable(unsigned nr, const uint64_t args[6])
{
	/* getrandom: a node CPU without RDRAND has no entropy of its own. */
	return om_syscall_where_at(nr, args, 0) == OM_FORWARD || nr == SC_NR_getrandom;
}

/* ---- helpers shared by both directions */

static int
sc_kind_has_in(int kind)
{
	switch (kind) {
	case OM_K_IN: case OM_K_INOUT: case OM_K_INN: case OM_K_STR: case OM_K_STRV:
	case OM_K_INS: case OM_K_INOUTS: case OM_K_IOV_IN: case OM_K_SOCKADDR_IN:
	case OM_K_LENP: case OM_K_POLL: case OM_K_FDSET: case OM_K_SIGSET6:
	case OM_K_MSG_IN:
		return 1;
	}
	return 0;
}

static int
sc_kind_has_out(int kind)
{
	switch (kind) {
	case OM_K_OUT: case OM_K_INOUT: case OM_K_OUTRET: case OM_K_OUTRETN:
	case OM_K_OUTS: case OM_K_INOUTS: case OM_K_IOV_OUT: case OM_K_SOCKADDR_OUT:
	case OM_K_OPT_OUT: case OM_K_LENP: case OM_K_POLL: case OM_K_FDSET:
	case OM_K_MSG_OUT:
		return 1;
	}
	return 0;
}

/* Whether argument i (resolved kind k) carries an item: a non-NULL pointer,
 * and for LENP only together with its buffer. */
static int
sc_item_present(const struct om_syscall *e, int i, const struct om_argkind *k,
    const uint64_t a[6])
{
	int j;

	if (!sc_kind_has_in(k->kind) && !sc_kind_has_out(k->kind))
		return 0;
	if (a[i] == 0)
		return 0;
	if (k->kind == OM_K_LENP) {
		for (j = 0; j < 6; j++)
			if ((e->arg[j].kind == OM_K_SOCKADDR_OUT ||
			    e->arg[j].kind == OM_K_OPT_OUT) && e->arg[j].x == i)
				return a[j] != 0;
		return 0;
	}
	return 1;
}

static uint32_t
sc_addr_limit(int kind)
{
	return kind == OM_K_OPT_OUT ? OM_SYSCALL_OPT_MAX : OM_SYSCALL_SOCKADDR_MAX;
}

/* fd_set bytes select reads for nfds descriptors: whole 64-bit words. */
static uint32_t
sc_fdset_bytes(uint32_t nfds)
{
	return (nfds + 63) / 64 * 8;
}

static uint64_t
sc_le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t
sc_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
sc_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void
sc_put64(uint8_t *p, uint64_t v)
{
	sc_put32(p, (uint32_t)v);
	sc_put32(p + 4, (uint32_t)(v >> 32));
}

/* The reply length rule for one OUT side (see syscall_codec.h). cap is the
 * byte capacity; elem the OUTRETN element size. */
static int
sc_out_len_ok(int kind, uint32_t cap, uint32_t elem, int64_t ret, uint32_t len)
{
	uint64_t want;

	switch (kind) {
	case OM_K_OUTS: case OM_K_INOUTS: case OM_K_INOUT: case OM_K_POLL:
	case OM_K_FDSET: case OM_K_LENP:
		return len == 0 || len == cap;
	case OM_K_OUT: case OM_K_SOCKADDR_OUT: case OM_K_OPT_OUT:
		return len <= cap;
	case OM_K_OUTRET: case OM_K_IOV_OUT: case OM_K_MSG_OUT:
		want = ret < 0 ? 0 : (uint64_t)ret < cap ? (uint64_t)ret : cap;
		return len == want;
	case OM_K_OUTRETN:
		want = ret < 0 ? 0 : (uint64_t)ret < cap / elem ? (uint64_t)ret : cap / elem;
		return len == want * elem;
	}
	return 0;
}



/* ---- node: encode a request */

struct sc_enc {
	struct wire_wr w;
	om_user_read_fn rd;
	void *rctx;
	int uerr;          /* errno for the job, 0 while all is well */
	struct om_sysctx *ctx;
	uint32_t lenp_val[6]; /* the clamped *lenptr values, by LENP argument */
};

static int
enc_failed(const struct sc_enc *s)
{
	return s->uerr != 0 || s->w.err != OM_OK;
}

static void
enc_uerr(struct sc_enc *s, int err)
{
	if (s->uerr == 0)
		s->uerr = err;
}

/* Reads n bytes of the job's memory at addr into dst. */
static int
enc_read(struct sc_enc *s, uint64_t addr, uint32_t n, void *dst)
{
	int rc;

	if (enc_failed(s))
		return -1;
	if (n == 0)
		return 0;
	rc = s->rd(s->rctx, addr, n, dst);
	if (rc != 0) {
		enc_uerr(s, rc < 0 && rc > -4096 ? -rc : SC_EFAULT);
		return -1;
	}
	return 0;
}

/* Appends n bytes of the job's memory at addr to the payload. */
static void
enc_copy(struct sc_enc *s, uint64_t addr, uint32_t n)
{
	uint8_t *q;

	if (enc_failed(s))
		return;
	if ((q = wire_wr_take(&s->w, n)) != NULL)
		enc_read(s, addr, n, q);
}

/* u32 length + n bytes from the job. */
static void
enc_in(struct sc_enc *s, uint64_t addr, uint32_t n)
{
	wire_wr_u32(&s->w, n);
	enc_copy(s, addr, n);
}

/* A NUL-terminated string of at most max bytes with its NUL (longer:
 * the job's errno toolong), read a page at a time so that no byte past its
 * end is touched (it may end just before an unmapped page). */
static void
enc_str(struct sc_enc *s, uint64_t addr, uint32_t *lenp, uint32_t max, int toolong)
{
	uint8_t *lenq = wire_wr_take(&s->w, 4);
	uint32_t n = 0, chunk, room;
	const uint8_t *nul;
	uint8_t *q;

	for (;;) {
		if (enc_failed(s))
			return;
		chunk = SC_PAGE - (uint32_t)((addr + n) % SC_PAGE);
		if (chunk > max - n)
			chunk = max - n;
		if (chunk == 0) {
			enc_uerr(s, toolong);
			return;
		}
		room = (uint32_t)(s->w.cap - s->w.pos < chunk ? s->w.cap - s->w.pos : chunk);
		if (room == 0) {
			s->w.err = OM_E_NOSPACE;
			return;
		}
		q = s->w.p + s->w.pos;
		if (enc_read(s, addr + n, room, q) != 0)
			return;
		if ((nul = memchr(q, 0, room)) != NULL) {
			s->w.pos += (size_t)(nul - q);
			n += (uint32_t)(nul - q);
			sc_put32(lenq, n);
			*lenp = n;
			return;
		}
		s->w.pos += room;
		n += room;
	}
}

/* A NULL-ended array of string pointers at addr (execve's argv, envp):
 * u32 count, then each string as enc_str writes it. Linux's E2BIG for a
 * string longer than MAX_ARG_STRLEN; more strings than a frame carries
 * is OM_E_NOSPACE (the call goes home, where Linux judges them). */
static void
enc_strv(struct sc_enc *s, uint64_t addr, struct om_sysctx_buf *b)
{
	uint8_t *countq = wire_wr_take(&s->w, 4), v[8];
	uint32_t n, len;
	size_t start = s->w.pos;

	for (n = 0; !enc_failed(s); n++) {
		if (enc_read(s, addr + 8ull * n, 8, v) != 0)
			return;
		if (sc_le64(v) == 0)
			break;
		if (n == OM_SYSCALL_STRV_MAX) {
			s->w.err = OM_E_NOSPACE;
			return;
		}
		enc_str(s, sc_le64(v), &len, OM_SYSCALL_ARG_STRLEN, SC_E2BIG);
	}
	if (enc_failed(s))
		return;
	sc_put32(countq, n);
	b->len = (uint32_t)(s->w.pos - start);
}

/* Clamps the length in argument x to max; marks the call clamped. */
static uint32_t
enc_clamp(struct sc_enc *s, uint64_t *a, int x, uint32_t max)
{
	if (a[x] > max) {
		a[x] = max;
		s->ctx->clamped = 1;
	}
	return (uint32_t)a[x];
}

/* An iovec array of cnt entries at addr: u32 count, the lengths (their sum
 * clamped to OM_SYSCALL_MAX_BUF), then for gather the data. The entries
 * stay in ctx for scattering the reply. Returns the total. */
static uint32_t
enc_iov(struct sc_enc *s, uint64_t addr, uint64_t cnt, int gather, int einval)
{
	struct om_sysctx *ctx = s->ctx;
	uint32_t i, total = 0;
	uint8_t ent[16];
	uint64_t len;

	if (cnt > OM_SYSCALL_MAX_IOV) {
		enc_uerr(s, einval);
		return 0;
	}
	wire_wr_u32(&s->w, (uint32_t)cnt);
	ctx->niov = (uint32_t)cnt;
	for (i = 0; i < cnt && !enc_failed(s); i++) {
		if (enc_read(s, addr + 16ull * i, 16, ent) != 0)
			break;
		len = sc_le64(ent + 8);
		if (len > 0x7fffffffffffffffull) { /* the kernel's ssize_t check */
			enc_uerr(s, SC_EINVAL);
			break;
		}
		if (len > OM_SYSCALL_MAX_BUF - total) {
			len = OM_SYSCALL_MAX_BUF - total;
			ctx->clamped = 1;
		}
		ctx->iov_base[i] = sc_le64(ent);
		ctx->iov_len[i] = (uint32_t)len;
		total += (uint32_t)len;
		wire_wr_u32(&s->w, (uint32_t)len);
	}
	if (gather)
		for (i = 0; i < cnt && !enc_failed(s); i++)
			enc_copy(s, ctx->iov_base[i], ctx->iov_len[i]);
	return total;
}

static void
enc_msg(struct sc_enc *s, struct om_sysctx_buf *b, int out)
{
	uint8_t h[SC_MSGHDR_SIZE];
	uint64_t name, iov, iovlen, ctl, ctllen;
	int32_t namelen;
	uint32_t n;

	if (enc_read(s, b->addr, SC_MSGHDR_SIZE, h) != 0)
		return;
	name = sc_le64(h);
	namelen = (int32_t)sc_le32(h + 8);
	iov = sc_le64(h + 16);
	iovlen = sc_le64(h + 24);
	ctl = sc_le64(h + 32);
	ctllen = sc_le64(h + 40);
	/* The kernel's msghdr rules: no name means length 0, a negative
	 * length is EINVAL, a longer one is cut to a sockaddr_storage. */
	if (name == 0)
		namelen = 0;
	if (namelen < 0) {
		enc_uerr(s, SC_EINVAL);
		return;
	}
	n = (uint32_t)namelen > OM_SYSCALL_SOCKADDR_MAX ? OM_SYSCALL_SOCKADDR_MAX :
	    (uint32_t)namelen;
	wire_wr_u32(&s->w, sc_le32(h + 48));
	if (ctl == 0)
		ctllen = 0;
	if (!out) {
		enc_in(s, name, n);
		b->len = enc_iov(s, iov, iovlen, 1, SC_EMSGSIZE);
		if (ctllen > OM_SYSCALL_CTL_MAX) {
			enc_uerr(s, SC_ENOBUFS);
			return;
		}
		enc_in(s, ctl, (uint32_t)ctllen);
		return;
	}
	b->name = name;
	b->name_cap = n;
	wire_wr_u32(&s->w, n);
	b->cap = enc_iov(s, iov, iovlen, 0, SC_EMSGSIZE);
	b->ctl = ctl;
	b->ctl_cap = ctllen > OM_SYSCALL_CTL_MAX ? OM_SYSCALL_CTL_MAX : (uint32_t)ctllen;
	wire_wr_u32(&s->w, b->ctl_cap);
}

static void
enc_item(struct sc_enc *s, const struct om_syscall *e, const struct om_argkind *k,
    uint64_t *a, struct om_sysctx_buf *b)
{
	uint8_t v[16];
	uint64_t n;
	int32_t i32;
	uint32_t len;

	switch (k->kind) {
	case OM_K_IN:
	case OM_K_INOUT:
		b->len = enc_clamp(s, a, k->x, OM_SYSCALL_MAX_BUF);
		b->cap = k->kind == OM_K_INOUT ? b->len : 0;
		enc_in(s, b->addr, b->len);
		break;
	case OM_K_OUT:
	case OM_K_OUTRET:
		b->cap = enc_clamp(s, a, k->x, OM_SYSCALL_MAX_BUF);
		wire_wr_u32(&s->w, b->cap);
		break;
	case OM_K_INN:
		if (a[k->x] > OM_SYSCALL_MAX_BUF / k->size) {
			enc_uerr(s, SC_EINVAL);
			break;
		}
		b->len = (uint32_t)a[k->x] * k->size;
		enc_in(s, b->addr, b->len);
		break;
	case OM_K_OUTRETN:
		/* the counts (epoll_wait's maxevents, getgroups' size) are ints:
		 * a negative one is the kernel's EINVAL, not a huge one to cut */
		i32 = (int32_t)(uint32_t)a[k->x];
		if (i32 < 0) {
			enc_uerr(s, SC_EINVAL);
			break;
		}
		a[k->x] = (uint32_t)i32;
		b->elem = k->size;
		b->cap = enc_clamp(s, a, k->x, OM_SYSCALL_MAX_BUF / k->size) * k->size;
		wire_wr_u32(&s->w, b->cap);
		break;
	case OM_K_STR:
		enc_str(s, b->addr, &b->len, OM_SYSCALL_STR_MAX, SC_ENAMETOOLONG);
		break;
	case OM_K_STRV:
		enc_strv(s, b->addr, b);
		break;
	case OM_K_INS:
	case OM_K_INOUTS:
		b->len = k->size;
		b->cap = k->kind == OM_K_INOUTS ? k->size : 0;
		enc_in(s, b->addr, b->len);
		break;
	case OM_K_OUTS:
		b->cap = k->size;
		wire_wr_u32(&s->w, b->cap);
		break;
	case OM_K_IOV_IN:
	case OM_K_IOV_OUT:
		len = enc_iov(s, b->addr, a[k->x], k->kind == OM_K_IOV_IN, SC_EINVAL);
		if (k->kind == OM_K_IOV_IN)
			b->len = len;
		else
			b->cap = len;
		break;
	case OM_K_SOCKADDR_IN:
		/* socklen_t is an int: the kernel takes the low half */
		i32 = (int32_t)(uint32_t)a[k->x];
		if (i32 < 0 || i32 > (int32_t)OM_SYSCALL_SOCKADDR_MAX) {
			enc_uerr(s, SC_EINVAL);
			break;
		}
		b->len = (uint32_t)i32;
		enc_in(s, b->addr, b->len);
		break;
	case OM_K_SOCKADDR_OUT:
	case OM_K_OPT_OUT:
		if (a[k->x] == 0) {
			enc_uerr(s, SC_EFAULT);
			break;
		}
		if (enc_read(s, a[k->x], 4, v) != 0)
			break;
		i32 = (int32_t)sc_le32(v);
		if (i32 < 0) {
			enc_uerr(s, SC_EINVAL);
			break;
		}
		b->cap = (uint32_t)i32 > sc_addr_limit(k->kind) ? sc_addr_limit(k->kind) :
		    (uint32_t)i32;
		s->lenp_val[k->x] = b->cap;
		wire_wr_u32(&s->w, b->cap);
		break;
	case OM_K_LENP:
		b->len = b->cap = 4;
		wire_wr_u32(&s->w, 4);
		wire_wr_u32(&s->w, s->lenp_val[b->arg]);
		break;
	case OM_K_POLL:
		if (a[k->x] > OM_SYSCALL_MAX_BUF / 8) {
			enc_uerr(s, SC_EINVAL);
			break;
		}
		b->len = b->cap = (uint32_t)a[k->x] * 8;
		enc_in(s, b->addr, b->len);
		break;
	case OM_K_FDSET:
		i32 = (int32_t)(uint32_t)a[k->x];
		if (i32 < 0) {
			enc_uerr(s, SC_EINVAL);
			break;
		}
		/* The kernel cuts nfds to its descriptor table; we cut it to
		 * OM_SYSCALL_MAX_FDS, above any table a job has. */
		if (i32 > OM_SYSCALL_MAX_FDS)
			i32 = OM_SYSCALL_MAX_FDS;
		a[k->x] = (uint32_t)i32;
		b->len = b->cap = sc_fdset_bytes((uint32_t)i32);
		enc_in(s, b->addr, b->len);
		break;
	case OM_K_SIGSET6:
		if (enc_read(s, b->addr, 16, v) != 0)
			break;
		n = sc_le64(v);
		if (n == 0) {
			wire_wr_u32(&s->w, 0);
			break;
		}
		if (sc_le64(v + 8) != 8) {
			enc_uerr(s, SC_EINVAL);
			break;
		}
		b->len = 8;
		enc_in(s, n, 8);
		break;
	case OM_K_MSG_IN:
	case OM_K_MSG_OUT:
		enc_msg(s, b, k->kind == OM_K_MSG_OUT);
		break;
	}
	(void)e;
}

int
om_sysreq_encode(struct om_sysctx *ctx, unsigned nr, uint32_t tid, const uint64_t args[6],
    om_user_read_fn read_user, void *rctx, void *out, size_t cap, int *uerr)
{
	const struct om_syscall *e = om_syscall_get(nr);
	struct sc_enc s;
	struct om_argkind k;
	uint8_t *hdr;
	int i;

	*uerr = 0;
	if (e == NULL || !om_syscall_forwardable(nr, args))
		return OM_E_RANGE;
	memset(&s, 0, sizeof s);
	wire_wr_init(&s.w, out, cap);
	s.rd = read_user;
	s.rctx = rctx;
	s.ctx = ctx;
	ctx->nr = nr;
	ctx->tid = tid;
	ctx->clamped = 0;
	ctx->nbuf = 0;
	ctx->niov = 0;
	memcpy(ctx->args, args, sizeof ctx->args);
	hdr = wire_wr_take(&s.w, 8 + 6 * 8);
	for (i = 0; i < 6 && !enc_failed(&s); i++) {
		struct om_sysctx_buf *b;

		sc_resolve(e, i, ctx->args, &k);
		if (!sc_item_present(e, i, &k, ctx->args))
			continue;
		b = &ctx->buf[ctx->nbuf++];
		memset(b, 0, sizeof *b);
		b->arg = (uint8_t)i;
		b->kind = k.kind;
		b->addr = ctx->args[i];
		enc_item(&s, e, &k, ctx->args, b);
	}
	if (s.uerr != 0) {
		*uerr = s.uerr;
		return OM_SC_EUSER;
	}
	if (s.w.err != OM_OK)
		return s.w.err;
	sc_put32(hdr, nr);
	sc_put32(hdr + 4, tid);
	for (i = 0; i < 6; i++)
		sc_put64(hdr + 8 + 8 * i, ctx->args[i]);
	return wire_wr_end(&s.w);
}

/* ---- deputy: decode a request */

uint32_t
om_sysbuf_iov_len(const struct om_sysbuf *b, uint32_t i)
{
	return i < b->niov ? sc_le32(b->iov_lens + 4 * (size_t)i) : 0;
}

const uint8_t *
om_sysbuf_str(const struct om_sysbuf *b, uint32_t *at, uint32_t *len)
{
	const uint8_t *p = b->data + *at;

	*len = sc_le32(p);
	*at += 4 + *len;
	return p + 4;
}

/* u32 length that must satisfy len <= max, then the bytes. */
static const uint8_t *
dec_in(struct wire_rd *r, uint32_t max, uint32_t *len)
{
	*len = wire_rd_u32(r);
	if (r->err == OM_OK && *len > max)
		wire_rd_fail(r, OM_E_RANGE);
	return wire_rd_take(r, *len);
}

static void
dec_exact(struct wire_rd *r, struct om_sysbuf *b, uint64_t want)
{
	b->data = dec_in(r, OM_SYSCALL_MAX_BUF, &b->len);
	if (r->err == OM_OK && b->len != want)
		wire_rd_fail(r, OM_E_RANGE);
}

static void
dec_cap(struct wire_rd *r, struct om_sysbuf *b, uint64_t want)
{
	b->cap = wire_rd_u32(r);
	if (r->err == OM_OK && b->cap != want)
		wire_rd_fail(r, OM_E_RANGE);
}

static uint32_t
dec_iov(struct wire_rd *r, struct om_sysbuf *b, uint64_t want_cnt)
{
	uint64_t total = 0;
	uint32_t i;

	b->niov = wire_rd_u32(r);
	if (r->err == OM_OK && (b->niov > OM_SYSCALL_MAX_IOV ||
	    (want_cnt != UINT64_MAX && b->niov != want_cnt)))
		wire_rd_fail(r, OM_E_RANGE);
	b->iov_lens = wire_rd_take(r, 4 * (size_t)b->niov);
	if (r->err != OM_OK)
		return 0;
	for (i = 0; i < b->niov; i++)
		total += om_sysbuf_iov_len(b, i);
	if (total > OM_SYSCALL_MAX_BUF) {
		wire_rd_fail(r, OM_E_RANGE);
		return 0;
	}
	b->iov_total = (uint32_t)total;
	return (uint32_t)total;
}

/* STRV: each string within MAX_ARG_STRLEN, without a NUL inside. */
static void
dec_strv(struct wire_rd *r, struct om_sysbuf *b)
{
	const uint8_t *s;
	size_t start;
	uint32_t i, len;

	b->niov = wire_rd_u32(r);
	if (r->err == OM_OK && b->niov > OM_SYSCALL_STRV_MAX)
		wire_rd_fail(r, OM_E_RANGE);
	start = r->pos;
	b->data = r->p + start;
	for (i = 0; i < b->niov && r->err == OM_OK; i++) {
		s = dec_in(r, OM_SYSCALL_ARG_STRLEN - 1, &len);
		if (r->err == OM_OK && memchr(s, 0, len) != NULL)
			wire_rd_fail(r, OM_E_RANGE);
	}
	b->len = r->err == OM_OK ? (uint32_t)(r->pos - start) : 0;
}

static void
dec_item(struct wire_rd *r, const struct om_argkind *k, const uint64_t *a,
    struct om_sysreq *req, struct om_sysbuf *b)
{
	unsigned j;

	switch (k->kind) {
	case OM_K_IN:
	case OM_K_INOUT:
		dec_exact(r, b, a[k->x]);
		b->cap = k->kind == OM_K_INOUT ? b->len : 0;
		break;
	case OM_K_OUT:
	case OM_K_OUTRET:
		dec_cap(r, b, a[k->x] <= OM_SYSCALL_MAX_BUF ? a[k->x] : UINT64_MAX);
		break;
	case OM_K_INN:
		dec_exact(r, b, a[k->x] <= OM_SYSCALL_MAX_BUF / k->size ?
		    a[k->x] * k->size : UINT64_MAX);
		break;
	case OM_K_OUTRETN:
		b->elem = k->size;
		dec_cap(r, b, a[k->x] <= OM_SYSCALL_MAX_BUF / k->size ?
		    a[k->x] * k->size : UINT64_MAX);
		break;
	case OM_K_STR:
		b->data = dec_in(r, OM_SYSCALL_STR_MAX - 1, &b->len);
		if (r->err == OM_OK && memchr(b->data, 0, b->len) != NULL)
			wire_rd_fail(r, OM_E_RANGE);
		break;
	case OM_K_STRV:
		dec_strv(r, b);
		break;
	case OM_K_INS:
	case OM_K_INOUTS:
		dec_exact(r, b, k->size);
		b->cap = k->kind == OM_K_INOUTS ? b->len : 0;
		break;
	case OM_K_OUTS:
		dec_cap(r, b, k->size);
		break;
	case OM_K_IOV_IN:
		b->iov_total = dec_iov(r, b, a[k->x]);
		b->len = b->iov_total;
		b->data = wire_rd_take(r, b->len);
		break;
	case OM_K_IOV_OUT:
		b->cap = dec_iov(r, b, a[k->x]);
		break;
	case OM_K_SOCKADDR_IN:
		dec_exact(r, b, (uint32_t)a[k->x] <= OM_SYSCALL_SOCKADDR_MAX ?
		    (uint32_t)a[k->x] : UINT64_MAX);
		break;
	case OM_K_SOCKADDR_OUT:
	case OM_K_OPT_OUT:
		b->cap = wire_rd_u32(r);
		if (r->err == OM_OK && (b->cap > sc_addr_limit(k->kind) || a[k->x] == 0))
			wire_rd_fail(r, OM_E_RANGE);
		break;
	case OM_K_LENP:
		dec_exact(r, b, 4);
		b->cap = 4;
		/* it carries the capacity of the buffer it belongs to */
		for (j = 0; j < req->nbuf && r->err == OM_OK; j++)
			if ((req->buf[j].kind == OM_K_SOCKADDR_OUT ||
			    req->buf[j].kind == OM_K_OPT_OUT) &&
			    sc_le32(b->data) != req->buf[j].cap)
				wire_rd_fail(r, OM_E_RANGE);
		break;
	case OM_K_POLL:
		dec_exact(r, b, a[k->x] <= OM_SYSCALL_MAX_BUF / 8 ? a[k->x] * 8 : UINT64_MAX);
		b->cap = b->len;
		break;
	case OM_K_FDSET:
		dec_exact(r, b, a[k->x] <= OM_SYSCALL_MAX_FDS ?
		    sc_fdset_bytes((uint32_t)a[k->x]) : UINT64_MAX);
		b->cap = b->len;
		break;
	case OM_K_SIGSET6:
		b->data = dec_in(r, 8, &b->len);
		if (r->err == OM_OK && b->len != 0 && b->len != 8)
			wire_rd_fail(r, OM_E_RANGE);
		break;
	case OM_K_MSG_IN:
		b->msg_flags = wire_rd_u32(r);
		b->name = dec_in(r, OM_SYSCALL_SOCKADDR_MAX, &b->name_len);
		b->len = dec_iov(r, b, UINT64_MAX);
		b->data = wire_rd_take(r, b->len);
		b->ctl = dec_in(r, OM_SYSCALL_CTL_MAX, &b->ctl_len);
		break;
	case OM_K_MSG_OUT:
		b->msg_flags = wire_rd_u32(r);
		b->name_len = wire_rd_u32(r);
		if (r->err == OM_OK && b->name_len > OM_SYSCALL_SOCKADDR_MAX)
			wire_rd_fail(r, OM_E_RANGE);
		b->cap = dec_iov(r, b, UINT64_MAX);
		b->ctl_len = wire_rd_u32(r);
		if (r->err == OM_OK && b->ctl_len > OM_SYSCALL_CTL_MAX)
			wire_rd_fail(r, OM_E_RANGE);
		break;
	}
}

int
om_sysreq_decode(const void *payload, size_t len, struct om_sysreq *req)
{
	const struct om_syscall *e;
	struct om_argkind k;
	struct wire_rd r;
	int i;

	memset(req, 0, sizeof *req);
	wire_rd_init(&r, payload, len);
	req->nr = wire_rd_u32(&r);
	req->tid = wire_rd_u32(&r);
	for (i = 0; i < 6; i++)
		req->args[i] = wire_rd_u64(&r);
	if (r.err != OM_OK)
		return r.err;
	e = om_syscall_get(req->nr);
	if (e == NULL || !om_syscall_forwardable(req->nr, req->args))
		return OM_E_RANGE;
	for (i = 0; i < 6 && r.err == OM_OK; i++) {
		struct om_sysbuf *b;

		sc_resolve(e, i, req->args, &k);
		if (!sc_item_present(e, i, &k, req->args))
			continue;
		b = &req->buf[req->nbuf];
		b->arg = (uint8_t)i;
		b->kind = k.kind;
		dec_item(&r, &k, req->args, req, b);
		req->nbuf++;
	}
	return wire_rd_end(&r);
}

/* ---- deputy: encode the reply */

/* u32 length + bytes; src may be NULL when n is 0. */
static void
sc_wr_buf(struct wire_wr *w, const void *src, uint32_t n)
{
	wire_wr_u32(w, n);
	if (n > 0)
		wire_wr_bytes(w, src, n);
}

int
om_sysrep_encode(const struct om_sysreq *req, int64_t ret,
    const struct om_sysout *outs, void *out, size_t cap)
{
	static const struct om_sysout none;
	struct wire_wr w;
	unsigned i;

	wire_wr_init(&w, out, cap);
	wire_wr_u64(&w, (uint64_t)ret);
	for (i = 0; i < req->nbuf; i++) {
		const struct om_sysbuf *b = &req->buf[i];
		const struct om_sysout *o = outs ? &outs[i] : &none;

		if (!sc_kind_has_out(b->kind))
			continue;
		if (!sc_out_len_ok(b->kind, b->cap, b->elem ? b->elem : 1, ret, o->len))
			return OM_E_RANGE;
		if (b->kind != OM_K_MSG_OUT) {
			sc_wr_buf(&w, o->data, o->len);
			continue;
		}
		if (o->name_len > b->name_len || o->msg_namelen > OM_SYSCALL_SOCKADDR_MAX ||
		    o->ctl_len > b->ctl_len)
			return OM_E_RANGE;
		wire_wr_u32(&w, o->msg_namelen);
		sc_wr_buf(&w, o->name, o->name_len);
		sc_wr_buf(&w, o->data, o->len);
		wire_wr_u32(&w, o->ctl_len);
		sc_wr_buf(&w, o->ctl, o->ctl_len);
		wire_wr_u32(&w, o->msg_flags);
	}
	return wire_wr_end(&w);
}

/* ---- node: decode the reply */

struct sc_rep {
	const struct om_sysctx *ctx;
	struct wire_rd r;
	int commit;        /* 0: check only; 1: write into the job */
	om_user_write_fn wr;
	void *wctx;
	int fault;         /* a write into the job failed */
};

static void
rep_write(struct sc_rep *s, uint64_t addr, const uint8_t *src, uint32_t n)
{
	if (!s->commit || n == 0 || s->fault)
		return;
	if (s->wr(s->wctx, addr, n, src) != 0)
		s->fault = 1;
}

/* Scatters n bytes over the context's iovec list. */
static void
rep_scatter(struct sc_rep *s, const uint8_t *src, uint32_t n)
{
	const struct om_sysctx *ctx = s->ctx;
	uint32_t i, m;

	for (i = 0; i < ctx->niov && n > 0; i++) {
		m = ctx->iov_len[i] < n ? ctx->iov_len[i] : n;
		rep_write(s, ctx->iov_base[i], src, m);
		src += m;
		n -= m;
	}
}

static void
rep_msg(struct sc_rep *s, const struct om_sysctx_buf *b, int64_t ret)
{
	struct wire_rd *r = &s->r;
	uint32_t namelen, nlen, dlen, ctllen, clen, flags;
	const uint8_t *name, *data, *ctl;
	uint8_t v[8];

	namelen = wire_rd_u32(r);
	nlen = wire_rd_u32(r);
	if (r->err == OM_OK && (nlen > b->name_cap || namelen > OM_SYSCALL_SOCKADDR_MAX))
		wire_rd_fail(r, OM_E_RANGE);
	name = wire_rd_take(r, nlen);
	dlen = wire_rd_u32(r);
	if (r->err == OM_OK && !sc_out_len_ok(OM_K_MSG_OUT, b->cap, 1, ret, dlen))
		wire_rd_fail(r, OM_E_RANGE);
	data = wire_rd_take(r, dlen);
	ctllen = wire_rd_u32(r);
	clen = wire_rd_u32(r);
	if (r->err == OM_OK && (clen != ctllen || clen > b->ctl_cap))
		wire_rd_fail(r, OM_E_RANGE);
	ctl = wire_rd_take(r, clen);
	flags = wire_rd_u32(r);
	/* Read whole either way; a failed recvmsg leaves the caller's msghdr
	 * as it was in Linux (a retry after EAGAIN keeps its control buffer). */
	if (r->err != OM_OK || ret < 0)
		return;
	rep_write(s, b->name, name, nlen);
	if (b->name != 0) {
		sc_put32(v, namelen);
		rep_write(s, b->addr + 8, v, 4);
	}
	rep_scatter(s, data, dlen);
	rep_write(s, b->ctl, ctl, clen);
	sc_put64(v, ctllen);
	rep_write(s, b->addr + 40, v, 8);
	sc_put32(v, flags);
	rep_write(s, b->addr + 48, v, 4);
}

static int
rep_walk(struct sc_rep *s, const void *payload, size_t len, int64_t *ret)
{
	const struct om_sysctx *ctx = s->ctx;
	struct wire_rd *r = &s->r;
	const uint8_t *data;
	unsigned i;
	uint32_t n;

	wire_rd_init(r, payload, len);
	*ret = (int64_t)wire_rd_u64(r);
	for (i = 0; i < ctx->nbuf && r->err == OM_OK; i++) {
		const struct om_sysctx_buf *b = &ctx->buf[i];

		if (!sc_kind_has_out(b->kind))
			continue;
		if (b->kind == OM_K_MSG_OUT) {
			rep_msg(s, b, *ret);
			continue;
		}
		n = wire_rd_u32(r);
		if (r->err == OM_OK &&
		    !sc_out_len_ok(b->kind, b->cap, b->elem ? b->elem : 1, *ret, n))
			wire_rd_fail(r, OM_E_RANGE);
		data = wire_rd_take(r, n);
		if (r->err != OM_OK)
			break;
		if (b->kind == OM_K_IOV_OUT)
			rep_scatter(s, data, n);
		else
			rep_write(s, b->addr, data, n);
	}
	return wire_rd_end(r);
}

int
om_sysrep_decode(const struct om_sysctx *ctx, const void *payload, size_t len,
    om_user_write_fn write_user, void *wctx, int64_t *ret)
{
	struct sc_rep s;
	int rc;

	memset(&s, 0, sizeof s);
	s.ctx = ctx;
	s.wr = write_user;
	s.wctx = wctx;
	if ((rc = rep_walk(&s, payload, len, ret)) != OM_OK)
		return rc;
	s.commit = 1;
	rep_walk(&s, payload, len, ret);
	if (s.fault)
		*ret = -SC_EFAULT;
	return OM_OK;
}
