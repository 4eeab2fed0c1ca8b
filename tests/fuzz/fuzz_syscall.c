/* fuzz_syscall.c - the forwarded-call codec (migrate/syscall_codec.c,
 * driven by migrate/syscalls.def's table) both ways.
 *
 * Mode 0, home: a SYSCALL_REQ payload as the deputy gets it from a node:
 * om_sysreq_decode over an exact-size copy; every buffer it hands out
 * (data, iovec lengths, STRV strings, msghdr name and control) must lie in
 * the payload, the call must be one home runs for a node
 * (om_syscall_forwardable), and the error reply om_sysrep_encode makes
 * for it must encode.
 *
 * Mode 1, node: a call of the table's (input picks the number among the
 * forwardable ones, its tid and six arguments) is encoded as the node
 * does, reading the job's memory from the input (any address below 2^63
 * reads as the input's pool bytes, others fault); what encodes must decode
 * at home to the same call, and home's error reply must decode on the node
 * to the same result. Then the rest of the input is the reply as the node
 * gets it: om_sysrep_decode must write nothing outside the buffers the
 * request named (out buffers, iovecs, msghdr fields and name and
 * control). With FUZZ_STRICT=1 an error reply must write nothing at all,
 * as Linux does (recvmsg breaks it: tests/fuzz/crashes/README).
 *
 * Input: byte 0 the mode; mode 0: the payload; mode 1: u16 call index,
 * u32 tid, 6 x u64 args, i16 errno of the error reply, u16 pool length
 * and the pool, then the reply payload. */
#include "proto.h"
#include "syscall_codec.h"

#include "fuzz.h"

#define EFAULT_ 14

/* FUZZ_STRICT=1 in the environment: also Linux's rule that a failed call
 * writes nothing into the caller's memory (a known breach, reported). */
static int strict;
static unsigned fwd_nr[OM_SYSCALL_NR_MAX];
static unsigned nfwd;

/* The calls a node may forward for some arguments: the table's FORWARD
 * entries and the LOCAL ones om_syscall_where_at or _forwardable may
 * send (kill of another process, getrusage of the children, ...). */
static void
table_init(void)
{
	for (unsigned nr = 0; nr < OM_SYSCALL_NR_MAX; nr++) {
		const struct om_syscall *e = om_syscall_get(nr);

		if (e != NULL && e->name != NULL && e->where != OM_HOME)
			fwd_nr[nfwd++] = nr;
	}
}

/* A payload pointer and length handed out by the decoder lies inside it. */
static void
inside(const uint8_t *payload, size_t len, const uint8_t *p, size_t n, const char *what)
{
	if (n == 0)
		return;
	FUZZ_ASSERT(p != NULL && p >= payload && p <= payload + len && n <= (size_t)(payload + len - p),
	    "%s: %zu bytes at offset %td of a %zu-byte payload", what, n, p - payload, len);
	free(fz_dup(p, n)); /* and ASan checks every byte of it */
}

static int
carries_in(int kind)
{
	switch (kind) {
	case OM_K_IN: case OM_K_INN: case OM_K_STR: case OM_K_INS: case OM_K_SOCKADDR_IN:
	case OM_K_SIGSET6: case OM_K_STRV: case OM_K_INOUT: case OM_K_INOUTS: case OM_K_POLL:
	case OM_K_FDSET: case OM_K_LENP: case OM_K_IOV_IN: case OM_K_MSG_IN:
		return 1;
	}
	return 0;
}

static void
home_side(const uint8_t *data, size_t size)
{
	static struct om_sysreq req;
	static uint8_t rep[64 + 8 * OM_SYSCALL_MAX_BUFS * 4];
	uint8_t *in = fz_dup(data, size);
	uint32_t at, len, i, total;

	if (om_sysreq_decode(in, size, &req) != OM_OK) {
		free(in);
		return;
	}
	FUZZ_ASSERT(om_syscall_forwardable(req.nr, req.args), "call %u decoded, not forwardable", req.nr);
	FUZZ_ASSERT(req.nbuf <= OM_SYSCALL_MAX_BUFS, "%u buffers", req.nbuf);
	for (unsigned b = 0; b < req.nbuf; b++) {
		const struct om_sysbuf *sb = &req.buf[b];

		FUZZ_ASSERT(sb->arg < 6 && sb->kind < OM_K_COUNT && sb->kind != OM_K_IOCTL &&
		    sb->kind != OM_K_FCNTL && sb->kind != OM_K_PRCTL, "buffer %u: arg %u kind %u",
		    b, sb->arg, sb->kind);
		/* Bytes in the payload: what the node sent in (an OUT kind's
		 * len, name_len, ctl_len are capacities: om_sysbuf). */
		if (carries_in(sb->kind))
			inside(in, size, sb->data, sb->len, "data");
		if (sb->kind == OM_K_MSG_IN) {
			inside(in, size, sb->name, sb->name_len, "msg name");
			inside(in, size, sb->ctl, sb->ctl_len, "msg control");
		}
		if (sb->kind == OM_K_STRV) {
			for (i = 0, at = 0; i < sb->niov; i++) {
				const uint8_t *s = om_sysbuf_str(sb, &at, &len);

				inside(in, size, s, len, "STRV string");
				FUZZ_ASSERT(at <= sb->len, "STRV string %u ends at %u of %u", i, at, sb->len);
			}
			FUZZ_ASSERT(at == sb->len, "STRV strings end at %u of %u", at, sb->len);
		} else if (sb->niov > 0) {
			inside(in, size, sb->iov_lens, 4 * (size_t)sb->niov, "iovec lengths");
			for (i = 0, total = 0; i < sb->niov; i++)
				total += om_sysbuf_iov_len(sb, i);
			FUZZ_ASSERT(total == sb->iov_total, "iovec lengths sum %u, not %u", total,
			    sb->iov_total);
		}
	}
	/* The deputy's answer when the call failed: nothing read back. */
	FUZZ_ASSERT(om_sysrep_encode(&req, -EFAULT_, NULL, rep, sizeof rep) > 0,
	    "no error reply for call %u", req.nr);
	free(in);
}

/* The job's memory: the pool repeated, from the address's offset on. */
struct pool {
	const uint8_t *p;
	size_t len;
};

static int
read_user(void *ctx, uint64_t addr, uint32_t len, void *dst)
{
	const struct pool *pl = ctx;
	uint8_t *d = dst;

	if ((addr >> 63) || addr + len < addr)
		return -EFAULT_;
	if (pl->len == 0) {
		memset(d, 0, len);
		return 0;
	}
	for (size_t at = (size_t)(addr % pl->len), n; len > 0; at = 0, d += n, len -= (uint32_t)n) {
		n = pl->len - at < len ? pl->len - at : len;
		memcpy(d, pl->p + at, n);
	}
	return 0;
}

/* Where a reply may write: what the request named as output. */
static int
within(uint64_t base, uint64_t cap, uint64_t addr, uint32_t n)
{
	return addr >= base && addr - base <= cap && n <= cap - (addr - base);
}

/* write_user's context: the request, whether a write may fail (never
 * while the round trip is checked), and how many were made. */
struct wctx {
	const struct om_sysctx *c;
	int may_fault;
	unsigned writes;
};

static int
write_user(void *ctx, uint64_t addr, uint32_t len, const void *src)
{
	struct wctx *w = ctx;
	const struct om_sysctx *c = w->c;
	int ok = 0;

	w->writes++;
	free(fz_dup(src, len)); /* src must be readable for len bytes */
	for (unsigned i = 0; i < c->nbuf && !ok; i++) {
		const struct om_sysctx_buf *b = &c->buf[i];

		if (b->kind == OM_K_MSG_OUT)
			ok = within(b->name, b->name_cap, addr, len) || within(b->ctl, b->ctl_cap, addr, len) ||
			    within(b->addr + 8, 4, addr, len) || within(b->addr + 40, 8, addr, len) ||
			    within(b->addr + 48, 4, addr, len);
		else if (b->kind != OM_K_IOV_OUT)
			ok = within(b->addr, b->cap, addr, len);
	}
	for (uint32_t i = 0; i < c->niov && !ok; i++)
		ok = within(c->iov_base[i], c->iov_len[i], addr, len);
	FUZZ_ASSERT(ok, "call %u: the reply writes %u bytes at %#llx, outside its buffers", c->nr, len,
	    (unsigned long long)addr);
	/* Some writes fail, as on a job's read-only page. */
	return w->may_fault && (addr >> 62) ? -EFAULT_ : 0;
}

static void
node_side(struct fz *f)
{
	static struct om_sysctx ctx;
	static struct om_sysreq req;
	static uint8_t *out, rep[64 + 8 * OM_SYSCALL_MAX_BUFS * 4];
	unsigned nr = fwd_nr[fz_u16(f) % nfwd];
	uint32_t tid = fz_u32(f);
	uint64_t args[6];
	int64_t ret, err;
	struct wctx w = { 0 };
	struct pool pl;
	size_t got;
	int n, uerr, rc;

	if (out == NULL && (out = malloc(OM_MAX_PAYLOAD)) == NULL)
		abort();
	for (int i = 0; i < 6; i++)
		args[i] = fz_u64(f);
	err = 1 + fz_u16(f) % 4095;
	pl.len = fz_u16(f);
	pl.p = fz_take(f, pl.len, &got);
	pl.len = got;
	(void)om_syscall_where_at(nr, args, tid);
	(void)om_syscall_is_fork(nr, args);
	(void)om_syscall_is_thread(nr, args);
	n = om_sysreq_encode(&ctx, nr, tid, args, read_user, &pl, out, OM_MAX_PAYLOAD, &uerr);
	FUZZ_ASSERT(n > 0 || n == OM_E_RANGE || n == OM_E_NOSPACE || (n == OM_SC_EUSER && uerr > 0),
	    "call %u: encode gave %d (errno %d)", nr, n, uerr);
	if (n <= 0)
		return;
	/* What the node sends, home reads as the same call. */
	uint8_t *sent = fz_dup(out, (size_t)n);
	rc = om_sysreq_decode(sent, (size_t)n, &req);
	FUZZ_ASSERT(rc == OM_OK && req.nr == nr && req.tid == tid && req.nbuf == ctx.nbuf &&
	    memcmp(req.args, ctx.args, sizeof req.args) == 0,
	    "call %u: %d-byte request decodes to %d (nr %u, %u buffers of %u)", nr, n, rc, req.nr,
	    req.nbuf, ctx.nbuf);
	for (unsigned b = 0; b < ctx.nbuf; b++)
		FUZZ_ASSERT(req.buf[b].arg == ctx.buf[b].arg && req.buf[b].kind == ctx.buf[b].kind,
		    "call %u buffer %u: arg %u kind %u, sent arg %u kind %u", nr, b, req.buf[b].arg,
		    req.buf[b].kind, ctx.buf[b].arg, ctx.buf[b].kind);
	/* Home's error reply reads back on the node as that error. */
	n = om_sysrep_encode(&req, -err, NULL, rep, sizeof rep);
	FUZZ_ASSERT(n > 0, "call %u: no error reply (%d)", nr, n);
	w.c = &ctx;
	rc = om_sysrep_decode(&ctx, rep, (size_t)n, write_user, &w, &ret);
	FUZZ_ASSERT(rc == OM_OK && ret == -err, "call %u: error reply decodes to %d, result %lld", nr, rc,
	    (long long)ret);
	/* Linux writes nothing back from a call that failed; see the
	 * report on recvmsg (tests/fuzz/crashes/README). Off by default so
	 * that the fuzzer goes on past it. */
	FUZZ_ASSERT(!strict || w.writes == 0, "call %u: its error reply (%lld) wrote %u times into the job",
	    nr, (long long)ret, w.writes);
	free(sent);
	/* Whatever else comes back. */
	uint8_t *reply = fz_dup(f->p + f->pos, fz_left(f));
	w.may_fault = 1;
	rc = om_sysrep_decode(&ctx, reply, fz_left(f), write_user, &w, &ret);
	FUZZ_ASSERT(rc <= 0, "reply decode gave %d", rc);
	free(reply);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f;

	if (nfwd == 0) {
		table_init();
		strict = getenv("FUZZ_STRICT") != NULL && atoi(getenv("FUZZ_STRICT")) != 0;
	}
	if (size == 0)
		return 0;
	fz_init(&f, data + 1, size - 1);
	if (data[0] & 1)
		node_side(&f);
	else
		home_side(data + 1, size - 1);
	return 0;
}
