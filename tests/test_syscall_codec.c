/* test_syscall_codec.c - the SYSCALL_REQ/REP codec (migrate/syscall_codec.c):
 * round trips through a fake job memory for a representative set of calls,
 * the wire layout, clamping of large buffers, the job's own errors, every
 * truncation of requests and replies, replies whose lengths break the rules,
 * and deterministic fuzz of encoder, decoder and reply checker. Built with
 * ASan/UBSan; decoders read exact-size heap copies so any overread is caught. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <asm/ioctls.h>

#define CHECK_PREFIX "syscall_codec/"
#include "check.h"
#include "proto.h"
#include "syscall_codec.h"

/* ---- a fake job: one mapped range, everything else faults */

#define MEM_BASE 0x10000000ull
#define MEM_SIZE (3u << 20)
#define A(off) (MEM_BASE + (uint64_t)(off))

static uint8_t mem[MEM_SIZE];
static int nwrites;
static const struct om_sysctx *fence; /* when set, writes must stay inside its OUT buffers */
static int fence_broken;

static int
in_mem(uint64_t addr, uint32_t len)
{
	return addr >= MEM_BASE && addr - MEM_BASE <= MEM_SIZE &&
	    len <= MEM_SIZE - (addr - MEM_BASE);
}

static int
mem_read(void *ctx, uint64_t addr, uint32_t len, void *dst)
{
	(void)ctx;
	if (!in_mem(addr, len))
		return -14;
	memcpy(dst, mem + (addr - MEM_BASE), len);
	return 0;
}

static int
inside(uint64_t a, uint32_t n, uint64_t base, uint64_t cap)
{
	return a >= base && a - base <= cap && n <= cap - (a - base);
}

/* Whether a write of n bytes at a is one the call may make. */
static int
allowed(const struct om_sysctx *c, uint64_t a, uint32_t n)
{
	unsigned i;
	uint32_t j;

	for (i = 0; i < c->nbuf; i++) {
		const struct om_sysctx_buf *b = &c->buf[i];

		switch (b->kind) {
		case OM_K_IOV_OUT:
			for (j = 0; j < c->niov; j++)
				if (inside(a, n, c->iov_base[j], c->iov_len[j]))
					return 1;
			break;
		case OM_K_MSG_OUT:
			for (j = 0; j < c->niov; j++)
				if (inside(a, n, c->iov_base[j], c->iov_len[j]))
					return 1;
			if (inside(a, n, b->name, b->name_cap) || inside(a, n, b->ctl, b->ctl_cap) ||
			    (a == b->addr + 8 && n == 4) || (a == b->addr + 40 && n == 8) ||
			    (a == b->addr + 48 && n == 4))
				return 1;
			break;
		case OM_K_OUTS: case OM_K_INOUTS: case OM_K_OUT: case OM_K_INOUT:
		case OM_K_OUTRET: case OM_K_OUTRETN: case OM_K_POLL: case OM_K_FDSET:
		case OM_K_LENP: case OM_K_SOCKADDR_OUT: case OM_K_OPT_OUT:
			if (inside(a, n, b->addr, b->cap))
				return 1;
			break;
		}
	}
	return 0;
}

static int
mem_write(void *ctx, uint64_t addr, uint32_t len, const void *src)
{
	(void)ctx;
	if (!in_mem(addr, len))
		return -14;
	if (fence != NULL && !allowed(fence, addr, len))
		fence_broken = 1;
	memcpy(mem + (addr - MEM_BASE), src, len);
	nwrites++;
	return 0;
}

static void
put64(uint64_t off, uint64_t v)
{
	memcpy(mem + off, &v, 8);
}

static void
put32(uint64_t off, uint32_t v)
{
	memcpy(mem + off, &v, 4);
}

/* ---- one call through the codec */

static uint8_t reqbuf[OM_MAX_PAYLOAD], repbuf[OM_MAX_PAYLOAD];
static int reqlen, replen;
static struct om_sysctx ctx;
static struct om_sysreq dreq;
static uint8_t *dcopy;   /* the heap copy dreq points into */
static int uerr;

static int
enc(unsigned nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	uint64_t a[6] = { a0, a1, a2, a3, a4, a5 };

	reqlen = om_sysreq_encode(&ctx, nr, 4242, a, mem_read, NULL, reqbuf, sizeof reqbuf, &uerr);
	return reqlen;
}

/* Decodes reqbuf[0..len) from an exact-size heap copy. */
static int
dec_len(size_t len)
{
	free(dcopy);
	dcopy = malloc(len ? len : 1);
	memcpy(dcopy, reqbuf, len);
	return om_sysreq_decode(dcopy, len, &dreq);
}

static int
dec(void)
{
	return dec_len((size_t)reqlen);
}

static int
rep(int64_t ret, const struct om_sysout *outs)
{
	replen = om_sysrep_encode(&dreq, ret, outs, repbuf, sizeof repbuf);
	return replen;
}

static int64_t got_ret;

/* The node takes repbuf[0..len) from an exact-size heap copy. */
static int
apply_len(size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	memcpy(copy, repbuf, len);
	nwrites = 0;
	got_ret = 12345;
	rc = om_sysrep_decode(&ctx, copy, len, mem_write, NULL, &got_ret);
	free(copy);
	return rc;
}

static int
apply(void)
{
	return apply_len((size_t)replen);
}

/* A reply written by hand: ret, then n items of (len, fill byte). */
static void
raw_reply(int64_t ret, int n, const uint32_t *lens)
{
	size_t pos = 0;
	int i;

	memcpy(repbuf, &ret, 8);
	pos = 8;
	for (i = 0; i < n; i++) {
		memcpy(repbuf + pos, &lens[i], 4);
		pos += 4;
		memset(repbuf + pos, 0x5a, lens[i]);
		pos += lens[i];
	}
	replen = (int)pos;
}

static void
fill(uint64_t off, const char *s)
{
	memcpy(mem + off, s, strlen(s) + 1);
}

static void
reset_mem(void)
{
	memset(mem, 0xaa, MEM_SIZE);
}

/* ---- round trips */

static void
golden_read(void)
{
	static const uint8_t want[] = {
		0, 0, 0, 0,                                     /* nr 0 */
		0x92, 0x10, 0, 0,                               /* tid 4242 */
		3, 0, 0, 0, 0, 0, 0, 0,                         /* fd */
		0x00, 0x10, 0, 0x10, 0, 0, 0, 0,                /* buf */
		100, 0, 0, 0, 0, 0, 0, 0,                       /* count */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,             /* args 3..5 */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		100, 0, 0, 0,                                   /* OUTRET capacity */
	};
	static const uint8_t want_rep[] = {
		5, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 'h', 'e', 'l', 'l', 'o',
	};
	struct om_sysout o = { .data = "hello", .len = 5 };

	reset_mem();
	CHECK_EQ(enc(SYS_read, 3, A(0x1000), 100, 0, 0, 0), (int)sizeof want);
	CHECK(memcmp(reqbuf, want, sizeof want) == 0);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.nr, SYS_read);
	CHECK_EQ(dreq.tid, 4242);
	CHECK_EQ(dreq.nbuf, 1);
	CHECK_EQ(dreq.buf[0].arg, 1);
	CHECK_EQ(dreq.buf[0].kind, OM_K_OUTRET);
	CHECK_EQ(dreq.buf[0].cap, 100);
	CHECK_EQ(rep(5, &o), (int)sizeof want_rep);
	CHECK(memcmp(repbuf, want_rep, sizeof want_rep) == 0);
	CHECK_EQ(apply(), OM_OK);
	CHECK_EQ(got_ret, 5);
	CHECK(memcmp(mem + 0x1000, "hello", 5) == 0);
	CHECK_EQ(mem[0x1005], 0xaa);
	/* an error: nothing to copy */
	CHECK_EQ(rep(-11, NULL), 12);
	CHECK_EQ(apply(), OM_OK);
	CHECK_EQ(got_ret, -11);
	CHECK_EQ(nwrites, 0);
}

static void
read_clamped(void)
{
	reset_mem();
	CHECK(enc(SYS_read, 0, A(0), 2u << 20, 0, 0, 0) > 0);
	CHECK_EQ(ctx.clamped, 1);
	CHECK_EQ(ctx.args[2], OM_SYSCALL_MAX_BUF);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.args[2], OM_SYSCALL_MAX_BUF);
	CHECK_EQ(dreq.buf[0].cap, OM_SYSCALL_MAX_BUF);
	/* a count at the limit is not clamped */
	CHECK(enc(SYS_read, 0, A(0), OM_SYSCALL_MAX_BUF, 0, 0, 0) > 0);
	CHECK_EQ(ctx.clamped, 0);
	/* the 64-bit count cannot wrap into a small one */
	CHECK(enc(SYS_read, 0, A(0), 0x100000010ull, 0, 0, 0) > 0);
	CHECK_EQ(ctx.args[2], OM_SYSCALL_MAX_BUF);
}

static void
write_roundtrip(void)
{
	uint32_t i;

	reset_mem();
	fill(0x1000, "hello world");
	CHECK(enc(SYS_write, 1, A(0x1000), 11, 0, 0, 0) > 0);
	CHECK_EQ(ctx.clamped, 0);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.nbuf, 1);
	CHECK_EQ(dreq.buf[0].kind, OM_K_IN);
	CHECK_EQ(dreq.buf[0].len, 11);
	CHECK(memcmp(dreq.buf[0].data, "hello world", 11) == 0);
	CHECK_EQ(rep(11, NULL), 8);
	CHECK_EQ(apply(), OM_OK);
	CHECK_EQ(got_ret, 11);
	/* 2 MiB: the first OM_SYSCALL_MAX_BUF bytes travel, the node continues */
	for (i = 0; i < (2u << 20); i++)
		mem[i] = (uint8_t)(i * 7);
	CHECK(enc(SYS_write, 1, A(0), 2u << 20, 0, 0, 0) > 0);
	CHECK_EQ(ctx.clamped, 1);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.buf[0].len, OM_SYSCALL_MAX_BUF);
	CHECK_EQ(dreq.args[2], OM_SYSCALL_MAX_BUF);
	CHECK(memcmp(dreq.buf[0].data, mem, OM_SYSCALL_MAX_BUF) == 0);
	CHECK(reqlen < (int)OM_MAX_PAYLOAD);
	/* a buffer the job cannot read is its EFAULT, nothing is sent */
	CHECK_EQ(enc(SYS_write, 1, 0x1000, 10, 0, 0, 0), OM_SC_EUSER);
	CHECK_EQ(uerr, 14);
	CHECK_EQ(enc(SYS_write, 1, A(MEM_SIZE - 4), 8, 0, 0, 0), OM_SC_EUSER);
	/* NULL with length 0 carries nothing; NULL with a length reaches the
	 * deputy as NULL, and the kernel there says EFAULT */
	CHECK(enc(SYS_write, 1, 0, 0, 0, 0, 0) > 0);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.nbuf, 0);
	CHECK(enc(SYS_write, 1, 0, 5, 0, 0, 0) > 0);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.nbuf, 0);
	/* the encoder reports a small output buffer */
	CHECK_EQ(om_sysreq_encode(&ctx, SYS_write, 4242, (uint64_t[6]){ 1, A(0x1000), 11 },
	    mem_read, NULL, reqbuf, 8 + 48 + 4 + 10, &uerr), OM_E_NOSPACE);
	CHECK_EQ(om_sysreq_encode(&ctx, SYS_write, 4242, (uint64_t[6]){ 1, A(0x1000), 11 },
	    mem_read, NULL, reqbuf, 8 + 48 + 4 + 11, &uerr), 8 + 48 + 4 + 11);
}

static void
openat_strings(void)
{
	uint32_t i;

	reset_mem();
	fill(0x1000, "/etc/passwd");
	CHECK(enc(SYS_openat, (uint64_t)-100, A(0x1000), O_RDONLY, 0, 0, 0) > 0);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.nbuf, 1);
	CHECK_EQ(dreq.buf[0].kind, OM_K_STR);
	CHECK_EQ(dreq.buf[0].len, 11);
	CHECK(memcmp(dreq.buf[0].data, "/etc/passwd", 11) == 0);
	CHECK_EQ((int64_t)dreq.args[0], -100);
	CHECK_EQ(rep(3, NULL), 8);
	CHECK_EQ(apply(), OM_OK);
	CHECK_EQ(got_ret, 3);
	/* a string that ends just before unmapped memory */
	fill(MEM_SIZE - 4, "abc");
	CHECK(enc(SYS_openat, 1, A(MEM_SIZE - 4), 0, 0, 0, 0) > 0);
	/* one that runs into it */
	memset(mem + MEM_SIZE - 4, 'x', 4);
	CHECK_EQ(enc(SYS_openat, 1, A(MEM_SIZE - 4), 0, 0, 0, 0), OM_SC_EUSER);
	CHECK_EQ(uerr, 14);
	/* 4095 bytes and the NUL fit; 4096 do not (ENAMETOOLONG) */
	memset(mem + 0x10001, 'p', 4095);
	mem[0x10001 + 4095] = 0;
	CHECK(enc(SYS_openat, 1, A(0x10001), 0, 0, 0, 0) > 0);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.buf[0].len, 4095);
	mem[0x10001 + 4095] = 'p';
	mem[0x10001 + 4096] = 0;
	CHECK_EQ(enc(SYS_openat, 1, A(0x10001), 0, 0, 0, 0), OM_SC_EUSER);
	CHECK_EQ(uerr, 36);
	/* the decoder refuses a NUL inside a STR and an over-long one */
	fill(0x1000, "/etc/passwd");
	CHECK(enc(SYS_openat, 1, A(0x1000), 0, 0, 0, 0) > 0);
	reqbuf[8 + 48 + 4 + 3] = 0;
	CHECK_EQ(dec(), OM_E_RANGE);
	{
		uint32_t big = 4096;

		memset(reqbuf + 60, 'q', 4096);
		memcpy(reqbuf + 56, &big, 4);
		CHECK_EQ(dec_len(60 + 4096), OM_E_RANGE);
		big = 4095;
		memcpy(reqbuf + 56, &big, 4);
		CHECK_EQ(dec_len(60 + 4095), OM_OK);
	}
	/* strings on both sides of a page boundary, in one call */
	for (i = 0; i < 10; i++)
		mem[0x2ffb + i] = (uint8_t)('a' + i);
	mem[0x2ffb + 10] = 0;
	fill(0x5000, "new");
	CHECK(enc(SYS_renameat, 1, A(0x2ffb), 2, A(0x5000), 0, 0) > 0);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.nbuf, 2);
	CHECK_EQ(dreq.buf[0].len, 10);
	CHECK(memcmp(dreq.buf[0].data, "abcdefghij", 10) == 0);
	CHECK_EQ(dreq.buf[1].arg, 3);
	CHECK(memcmp(dreq.buf[1].data, "new", 3) == 0);
}

static void
newfstatat_outs(void)
{
	uint8_t st[144];
	struct om_sysout o[2] = { { 0 }, { .data = st, .len = 144 } };
	uint32_t lens[1];

	reset_mem();
	memset(st, 0x42, sizeof st);
	fill(0x1000, "file");
	CHECK(enc(SYS_newfstatat, (uint64_t)-100, A(0x1000), A(0x2000), 0, 0, 0) > 0);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.nbuf, 2);
	CHECK_EQ(dreq.buf[1].kind, OM_K_OUTS);
	CHECK_EQ(dreq.buf[1].cap, 144);
	CHECK_EQ(rep(0, o), 8 + 4 + 144);
	CHECK_EQ(apply(), OM_OK);
	CHECK_EQ(got_ret, 0);
	CHECK(memcmp(mem + 0x2000, st, 144) == 0);
	CHECK_EQ(mem[0x2000 + 144], 0xaa);
	/* a fixed struct comes back whole or not at all */
	o[1].len = 143;
	CHECK_EQ(rep(0, o), OM_E_RANGE);
	lens[0] = 143;
	raw_reply(0, 1, lens);
	CHECK_EQ(apply(), OM_E_RANGE);
	CHECK_EQ(nwrites, 0);
	lens[0] = 145;
	raw_reply(0, 1, lens);
	CHECK_EQ(apply(), OM_E_RANGE);
	lens[0] = 0;
	raw_reply(-2, 1, lens);
	CHECK_EQ(apply(), OM_OK);
	CHECK_EQ(got_ret, -2);
	CHECK_EQ(nwrites, 0);
	/* a reply for a job buffer that went away: -EFAULT for the job */
	CHECK(enc(SYS_fstat, 3, A(MEM_SIZE - 100), 0, 0, 0, 0) > 0);
	lens[0] = 144;
	raw_reply(0, 1, lens);
	CHECK_EQ(apply(), OM_OK);
	CHECK_EQ(got_ret, -14);
}

static void
getdents_outret(void)
{
	struct om_sysout o = { .data = mem, .len = 48 };
	uint32_t lens[1];

	reset_mem();
	CHECK(enc(SYS_getdents64, 3, A(0x1000), 4096, 0, 0, 0) > 0);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.buf[0].kind, OM_K_OUTRET);
	CHECK_EQ(dreq.buf[0].cap, 4096);
	CHECK_EQ(rep(48, &o), 8 + 4 + 48);
	CHECK_EQ(apply(), OM_OK);
	CHECK_EQ(got_ret, 48);
	/* the filled length must be the result */
	o.len = 40;
	CHECK_EQ(rep(48, &o), OM_E_RANGE);
	lens[0] = 40;
	raw_reply(48, 1, lens);
	CHECK_EQ(apply(), OM_E_RANGE);
	CHECK_EQ(nwrites, 0);
	lens[0] = 49;
	raw_reply(48, 1, lens);
	CHECK_EQ(apply(), OM_E_RANGE);
	lens[0] = 4;
	raw_reply(-9, 1, lens);
	CHECK_EQ(apply(), OM_E_RANGE);
	/* longer than the buffer: a result above the capacity fills it */
	lens[0] = 4096;
	raw_reply(5000, 1, lens);
	CHECK_EQ(apply(), OM_OK);
	lens[0] = 4097;
	raw_reply(5000, 1, lens);
	CHECK_EQ(apply(), OM_E_RANGE);
	/* the reply must hold every OUT item */
	raw_reply(0, 0, lens);
	CHECK_EQ(apply(), OM_E_TRUNC);
}

static void
setup_iov(void)
{
	put64(0x2000, A(0x3000)); put64(0x2008, 4);
	put64(0x2010, A(0x3100)); put64(0x2018, 3);
	put64(0x2020, A(0x3200)); put64(0x2028, 5);
	memcpy(mem + 0x3000, "abcd", 4);
	memcpy(mem + 0x3100, "efg", 3);
	memcpy(mem + 0x3200, "hijkl", 5);
}

static void
readv_writev(void)
{
	struct om_sysout o = { .data = "0123456789", .len = 10 };

	reset_mem();
	setup_iov();
	CHECK(enc(SYS_writev, 1, A(0x2000), 3, 0, 0, 0) > 0);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.nbuf, 1);
	CHECK_EQ(dreq.buf[0].kind, OM_K_IOV_IN);
	CHECK_EQ(dreq.buf[0].niov, 3);
	CHECK_EQ(om_sysbuf_iov_len(&dreq.buf[0], 0), 4);
	CHECK_EQ(om_sysbuf_iov_len(&dreq.buf[0], 1), 3);
	CHECK_EQ(om_sysbuf_iov_len(&dreq.buf[0], 2), 5);
	CHECK_EQ(om_sysbuf_iov_len(&dreq.buf[0], 3), 0);
	CHECK_EQ(dreq.buf[0].len, 12);
	CHECK(memcmp(dreq.buf[0].data, "abcdefghijkl", 12) == 0);
	CHECK_EQ(rep(12, NULL), 8);
	CHECK_EQ(apply(), OM_OK);

	CHECK(enc(SYS_readv, 0, A(0x2000), 3, 0, 0, 0) > 0);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.buf[0].kind, OM_K_IOV_OUT);
	CHECK_EQ(dreq.buf[0].cap, 12);
	CHECK_EQ(reqlen, 8 + 48 + 4 + 12);
	CHECK_EQ(rep(10, &o), 8 + 4 + 10);
	CHECK_EQ(apply(), OM_OK);
	CHECK_EQ(got_ret, 10);
	CHECK(memcmp(mem + 0x3000, "0123", 4) == 0);
	CHECK(memcmp(mem + 0x3100, "456", 3) == 0);
	CHECK(memcmp(mem + 0x3200, "789k", 4) == 0);
	o.len = 13;
	CHECK_EQ(rep(13, &o), OM_E_RANGE);
	/* the iovec limit and the total limit */
	CHECK_EQ(enc(SYS_readv, 0, A(0x2000), 1025, 0, 0, 0), OM_SC_EUSER);
	CHECK_EQ(uerr, 22);
	put64(0x2008, 400u << 10);
	put64(0x2018, 400u << 10);
	CHECK(enc(SYS_preadv, 0, A(0x2000), 3, 77, 0, 0) > 0);
	CHECK_EQ(ctx.clamped, 1);
	CHECK_EQ(ctx.iov_len[0], 400u << 10);
	CHECK_EQ(ctx.iov_len[1], OM_SYSCALL_MAX_BUF - (400u << 10));
	CHECK_EQ(ctx.iov_len[2], 0);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.buf[0].cap, OM_SYSCALL_MAX_BUF);
	/* a negative iov_len is the job's EINVAL */
	put64(0x2008, (uint64_t)-1);
	CHECK_EQ(enc(SYS_writev, 1, A(0x2000), 3, 0, 0, 0), OM_SC_EUSER);
	CHECK_EQ(uerr, 22);
	/* the decoder checks the count against the argument */
	setup_iov();
	CHECK(enc(SYS_writev, 1, A(0x2000), 3, 0, 0, 0) > 0);
	reqbuf[8 + 16] = 2;
	CHECK_EQ(dec(), OM_E_RANGE);
}

static void
ioctl_fcntl(void)
{
	uint8_t t[36], lk[32];
	struct om_sysout o[1] = { { .data = t, .len = 36 } };

	reset_mem();
	memset(t, 0x33, sizeof t);
	CHECK(enc(SYS_ioctl, 0, TCGETS, A(0x4000), 0, 0, 0) > 0);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.nbuf, 1);
	CHECK_EQ(dreq.buf[0].arg, 2);
	CHECK_EQ(dreq.buf[0].kind, OM_K_OUTS);
	CHECK_EQ(dreq.buf[0].cap, 36);
	CHECK_EQ(rep(0, o), 8 + 4 + 36);
	CHECK_EQ(apply(), OM_OK);
	CHECK(memcmp(mem + 0x4000, t, 36) == 0);
	CHECK_EQ(mem[0x4000 + 36], 0xaa);   /* glibc passes a 36-byte struct */
	memset(mem + 0x4000, 0x44, 36);
	CHECK(enc(SYS_ioctl, 0, TCSETSW, A(0x4000), 0, 0, 0) > 0);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.buf[0].kind, OM_K_INS);
	CHECK_EQ(dreq.buf[0].len, 36);
	CHECK_EQ(rep(0, NULL), 8);
	CHECK(enc(SYS_ioctl, 0, FIOCLEX, A(0x4000), 0, 0, 0) > 0);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.nbuf, 0);
	CHECK_EQ(enc(SYS_ioctl, 0, 0x8913, A(0x4000), 0, 0, 0), OM_E_RANGE);
	/* a crafted request for an unknown ioctl is refused by the deputy */
	CHECK(enc(SYS_ioctl, 0, FIOCLEX, 0, 0, 0, 0) > 0);
	reqbuf[16] = 0x13;
	reqbuf[17] = 0x89;
	CHECK_EQ(dec(), OM_E_RANGE);

	memset(lk, 0x21, sizeof lk);
	memset(mem + 0x4100, 0x11, 32);
	o[0].data = lk;
	o[0].len = 32;
	CHECK(enc(SYS_fcntl, 5, F_GETLK, A(0x4100), 0, 0, 0) > 0);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.buf[0].kind, OM_K_INOUTS);
	CHECK_EQ(dreq.buf[0].len, 32);
	CHECK_EQ(dreq.buf[0].cap, 32);
	CHECK_EQ(dreq.buf[0].data[0], 0x11);
	CHECK_EQ(rep(0, o), 8 + 4 + 32);
	CHECK_EQ(apply(), OM_OK);
	CHECK(memcmp(mem + 0x4100, lk, 32) == 0);
	CHECK(enc(SYS_fcntl, 5, F_SETFL, 04000, 0, 0, 0) > 0);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.nbuf, 0);
	CHECK_EQ(enc(SYS_fcntl, 5, F_NOTIFY, 1, 0, 0, 0), OM_E_RANGE);
}

static void
poll_select(void)
{
	struct om_sysout o[5];
	uint8_t set[16], ts[16], pfd[24];

	reset_mem();
	memset(mem + 0x5000, 0x01, 24);
	memset(pfd, 0x02, sizeof pfd);
	CHECK(enc(SYS_poll, A(0x5000), 3, 1000, 0, 0, 0) > 0);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.buf[0].kind, OM_K_POLL);
	CHECK_EQ(dreq.buf[0].len, 24);
	memset(o, 0, sizeof o);
	o[0].data = pfd;
	o[0].len = 24;
	CHECK_EQ(rep(1, o), 8 + 4 + 24);
	CHECK_EQ(apply(), OM_OK);
	CHECK(memcmp(mem + 0x5000, pfd, 24) == 0);
	CHECK_EQ(enc(SYS_poll, A(0x5000), (OM_SYSCALL_MAX_BUF / 8) + 1, 0, 0, 0, 0), OM_SC_EUSER);
	CHECK_EQ(uerr, 22);

	/* pselect6: nfds 70 is two words; writefds NULL */
	memset(mem + 0x6000, 0x0f, 16);
	memset(mem + 0x6100, 0xf0, 16);
	put64(0x6200, 1);
	put64(0x6208, 500);
	put64(0x6300, A(0x6400));
	put64(0x6308, 8);
	put64(0x6400, 0x12345678);
	CHECK(enc(SYS_pselect6, 70, A(0x6000), 0, A(0x6100), A(0x6200), A(0x6300)) > 0);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.nbuf, 4);
	CHECK_EQ(dreq.buf[0].arg, 1);
	CHECK_EQ(dreq.buf[0].kind, OM_K_FDSET);
	CHECK_EQ(dreq.buf[0].len, 16);
	CHECK_EQ(dreq.buf[1].arg, 3);
	CHECK_EQ(dreq.buf[1].data[0], 0xf0);
	CHECK_EQ(dreq.buf[2].kind, OM_K_INOUTS);
	CHECK_EQ(dreq.buf[2].len, 16);
	CHECK_EQ(dreq.buf[3].kind, OM_K_SIGSET6);
	CHECK_EQ(dreq.buf[3].len, 8);
	CHECK_EQ(dreq.buf[3].data[0], 0x78);
	memset(set, 0x03, sizeof set);
	memset(ts, 0x04, sizeof ts);
	memset(o, 0, sizeof o);
	o[0].data = set; o[0].len = 16;
	o[1].data = set; o[1].len = 16;
	o[2].data = ts; o[2].len = 16;
	CHECK_EQ(rep(2, o), 8 + 3 * (4 + 16));
	CHECK_EQ(apply(), OM_OK);
	CHECK(memcmp(mem + 0x6000, set, 16) == 0);
	CHECK(memcmp(mem + 0x6200, ts, 16) == 0);
	/* no sigmask pointer inside the pair: an empty item */
	put64(0x6300, 0);
	CHECK(enc(SYS_pselect6, 70, A(0x6000), 0, 0, 0, A(0x6300)) > 0);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.nbuf, 2);
	CHECK_EQ(dreq.buf[1].len, 0);
	put64(0x6300, A(0x6400));
	put64(0x6308, 16);
	CHECK_EQ(enc(SYS_pselect6, 70, A(0x6000), 0, 0, 0, A(0x6300)), OM_SC_EUSER);
	CHECK_EQ(uerr, 22);
	CHECK_EQ(enc(SYS_select, (uint64_t)-1, A(0x6000), 0, 0, 0, 0), OM_SC_EUSER);
	/* a huge nfds is cut like the kernel cuts it to its table */
	CHECK(enc(SYS_select, 1000000, A(0), 0, 0, 0, 0) > 0);
	CHECK_EQ(ctx.args[0], OM_SYSCALL_MAX_FDS);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.buf[0].len, OM_SYSCALL_MAX_FDS / 8);
}

static void
sockets(void)
{
	struct om_sysout o[3];
	uint8_t addr[16];
	uint32_t l16 = 16, lens[3];

	reset_mem();
	memcpy(mem + 0x1000, "hello", 5);
	memset(mem + 0x1100, 0x02, 16);
	CHECK(enc(SYS_sendto, 4, A(0x1000), 5, 0, A(0x1100), 16) > 0);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.nbuf, 2);
	CHECK_EQ(dreq.buf[0].kind, OM_K_IN);
	CHECK_EQ(dreq.buf[1].kind, OM_K_SOCKADDR_IN);
	CHECK_EQ(dreq.buf[1].len, 16);
	CHECK_EQ(enc(SYS_sendto, 4, A(0x1000), 5, 0, A(0x1100), 129), OM_SC_EUSER);
	CHECK_EQ(uerr, 22);
	CHECK_EQ(enc(SYS_connect, 4, A(0x1100), (uint32_t)-1, 0, 0, 0), OM_SC_EUSER);

	/* recvfrom with an address: capacity from *addrlen, cut to 128 */
	put32(0x1200, 200);
	CHECK(enc(SYS_recvfrom, 4, A(0x2000), 100, 0, A(0x1100), A(0x1200)) > 0);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.nbuf, 3);
	CHECK_EQ(dreq.buf[1].kind, OM_K_SOCKADDR_OUT);
	CHECK_EQ(dreq.buf[1].cap, 128);
	CHECK_EQ(dreq.buf[2].kind, OM_K_LENP);
	CHECK_EQ(dreq.buf[2].len, 4);
	CHECK_EQ(dreq.buf[2].data[0], 128);
	memset(addr, 0x07, sizeof addr);
	memset(o, 0, sizeof o);
	o[0].data = "world"; o[0].len = 5;
	o[1].data = addr; o[1].len = 16;
	o[2].data = &l16; o[2].len = 4;
	CHECK_EQ(rep(5, o), 8 + 4 + 5 + 4 + 16 + 4 + 4);
	CHECK_EQ(apply(), OM_OK);
	CHECK(memcmp(mem + 0x2000, "world", 5) == 0);
	CHECK(memcmp(mem + 0x1100, addr, 16) == 0);
	CHECK_EQ(mem[0x1200], 16);
	/* an address longer than asked for */
	lens[0] = 5; lens[1] = 129; lens[2] = 4;
	raw_reply(5, 3, lens);
	CHECK_EQ(apply(), OM_E_RANGE);
	CHECK_EQ(nwrites, 0);
	o[1].len = 129;
	CHECK_EQ(rep(5, o), OM_E_RANGE);
	/* without an address: one item */
	CHECK(enc(SYS_recvfrom, 4, A(0x2000), 100, 0, 0, 0) > 0);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.nbuf, 1);
	/* an address but no length pointer: the kernel's EFAULT */
	CHECK_EQ(enc(SYS_recvfrom, 4, A(0x2000), 100, 0, A(0x1100), 0), OM_SC_EUSER);
	CHECK_EQ(uerr, 14);
	put32(0x1200, (uint32_t)-5);
	CHECK_EQ(enc(SYS_accept4, 4, A(0x1100), A(0x1200), 0, 0, 0), OM_SC_EUSER);
	CHECK_EQ(uerr, 22);
	/* epoll_wait: a negative maxevents is EINVAL, a huge one is cut */
	CHECK_EQ(enc(SYS_epoll_wait, 5, A(0x9000), 0xffffffffu, 0, 0, 0), OM_SC_EUSER);
	CHECK_EQ(uerr, 22);
	CHECK(enc(SYS_epoll_wait, 5, A(0x9000), 1000000, 0, 0, 0) > 0);
	CHECK_EQ(ctx.args[2], OM_SYSCALL_MAX_BUF / 12);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.buf[0].cap, OM_SYSCALL_MAX_BUF / 12 * 12);
	/* getsockopt */
	put32(0x1200, 4);
	CHECK(enc(SYS_getsockopt, 4, 1, 7, A(0x1300), A(0x1200), 0) > 0);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.buf[0].kind, OM_K_OPT_OUT);
	CHECK_EQ(dreq.buf[0].cap, 4);
	/* a LENP that disagrees with its buffer's capacity */
	reqbuf[reqlen - 4] = 5;
	CHECK_EQ(dec(), OM_E_RANGE);
}

static void
wait4_pipe2(void)
{
	struct om_sysout o[2];
	uint32_t st = 0x0100, fds[2] = { 3, 4 };

	reset_mem();
	CHECK(enc(SYS_wait4, (uint64_t)-1, 0, 0, 0, 0, 0) > 0);
	CHECK_EQ(reqlen, 56);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.nbuf, 0);
	CHECK_EQ(rep(1234, NULL), 8);
	CHECK_EQ(apply(), OM_OK);
	CHECK_EQ(got_ret, 1234);
	CHECK(enc(SYS_wait4, (uint64_t)-1, A(0x100), 1, 0, 0, 0) > 0);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.nbuf, 1);
	CHECK_EQ(dreq.buf[0].cap, 4);
	memset(o, 0, sizeof o);
	o[0].data = &st; o[0].len = 4;
	CHECK_EQ(rep(1234, o), 16);
	CHECK_EQ(apply(), OM_OK);
	CHECK_EQ(mem[0x101], 1);
	CHECK(enc(SYS_pipe2, A(0x200), O_CLOEXEC, 0, 0, 0, 0) > 0);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.buf[0].kind, OM_K_OUTS);
	CHECK_EQ(dreq.buf[0].cap, 8);
	o[0].data = fds; o[0].len = 8;
	CHECK_EQ(rep(0, o), 8 + 4 + 8);
	CHECK_EQ(apply(), OM_OK);
	CHECK(memcmp(mem + 0x200, fds, 8) == 0);
}

static void
setup_msg(void)
{
	put64(0x7000, A(0x7100));  /* name */
	put32(0x7008, 16);
	put64(0x7010, A(0x2000));  /* iov */
	put64(0x7018, 3);
	put64(0x7020, A(0x7300));  /* control */
	put64(0x7028, 24);
	put32(0x7030, 0);
	memset(mem + 0x7100, 0x0a, 16);
	memset(mem + 0x7300, 0x0c, 24);
	setup_iov();
}

static void
msghdr(void)
{
	struct om_sysout o = { 0 };
	uint8_t name[16], ctl[20];
	uint64_t v;

	reset_mem();
	setup_msg();
	CHECK(enc(SYS_sendmsg, 4, A(0x7000), 0, 0, 0, 0) > 0);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.nbuf, 1);
	CHECK_EQ(dreq.buf[0].kind, OM_K_MSG_IN);
	CHECK_EQ(dreq.buf[0].name_len, 16);
	CHECK_EQ(dreq.buf[0].name[0], 0x0a);
	CHECK_EQ(dreq.buf[0].niov, 3);
	CHECK_EQ(dreq.buf[0].len, 12);
	CHECK(memcmp(dreq.buf[0].data, "abcdefghijkl", 12) == 0);
	CHECK_EQ(dreq.buf[0].ctl_len, 24);
	CHECK_EQ(dreq.buf[0].ctl[23], 0x0c);
	CHECK_EQ(rep(12, NULL), 8);

	CHECK(enc(SYS_recvmsg, 4, A(0x7000), 0, 0, 0, 0) > 0);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.buf[0].kind, OM_K_MSG_OUT);
	CHECK_EQ(dreq.buf[0].name_len, 16);
	CHECK_EQ(dreq.buf[0].cap, 12);
	CHECK_EQ(dreq.buf[0].ctl_len, 24);
	memset(name, 0x1a, sizeof name);
	memset(ctl, 0x1c, sizeof ctl);
	o.data = "0123456789";
	o.len = 10;
	o.msg_namelen = 16;
	o.name = name;
	o.name_len = 16;
	o.ctl = ctl;
	o.ctl_len = 20;
	o.msg_flags = 0x20;
	CHECK(rep(10, &o) > 0);
	CHECK_EQ(apply(), OM_OK);
	CHECK_EQ(got_ret, 10);
	CHECK(memcmp(mem + 0x3000, "0123", 4) == 0);
	CHECK(memcmp(mem + 0x3200, "789", 3) == 0);
	CHECK(memcmp(mem + 0x7100, name, 16) == 0);
	CHECK(memcmp(mem + 0x7300, ctl, 20) == 0);
	CHECK_EQ(mem[0x7300 + 20], 0x0c);
	CHECK_EQ(mem[0x7008], 16);
	memcpy(&v, mem + 0x7028, 8);
	CHECK_EQ(v, 20);
	CHECK_EQ(mem[0x7030], 0x20);
	/* control longer than the capacity, a name longer than asked */
	o.ctl_len = 25;
	CHECK_EQ(rep(10, &o), OM_E_RANGE);
	o.ctl_len = 20;
	o.name_len = 17;
	CHECK_EQ(rep(10, &o), OM_E_RANGE);
	/* msghdr limits: too many iovecs is EMSGSIZE */
	put64(0x7018, 1025);
	CHECK_EQ(enc(SYS_recvmsg, 4, A(0x7000), 0, 0, 0, 0), OM_SC_EUSER);
	CHECK_EQ(uerr, 90);
	put64(0x7018, 3);
	put64(0x7028, 70000);
	CHECK_EQ(enc(SYS_sendmsg, 4, A(0x7000), 0, 0, 0, 0), OM_SC_EUSER);
	CHECK_EQ(uerr, 105);
	/* no name: msg_namelen is left alone */
	put64(0x7000, 0);
	put32(0x7008, 99);
	put64(0x7028, 24);
	CHECK(enc(SYS_recvmsg, 4, A(0x7000), 0, 0, 0, 0) > 0);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.buf[0].name_len, 0);
	o.name_len = 0;
	o.msg_namelen = 0;
	CHECK(rep(10, &o) > 0);
	CHECK_EQ(apply(), OM_OK);
	CHECK_EQ(mem[0x7008], 99);
}

static void
not_forwardable(void)
{
	CHECK_EQ(enc(SYS_clone, 0x50f00, 0x1000, 0, 0, 0, 0), OM_E_RANGE); /* a thread */
	/* ... but a node's request for a home thread travels, its mark and
	 * nothing else; its tid is the caller's */
	CHECK(enc(SYS_clone, 0x3d0f00, 0, 0, 0, 0, OM_THREAD_CLONE_MARK) > 0);
	CHECK_EQ(dec(), OM_OK);
	CHECK(om_syscall_is_thread(dreq.nr, dreq.args));
	CHECK_EQ(dreq.tid, 4242);
	CHECK(enc(SYS_clone, 0x3d0f00, 1234, 0, 0, 0, OM_THREAD_CLONE_MARK) > 0); /* 1234 ended */
	CHECK_EQ(enc(SYS_clone, 0x3d0f00, 0x40000000, 0, 0, 0, OM_THREAD_CLONE_MARK), OM_E_RANGE);
	CHECK_EQ(enc(SYS_clone, 0x3d0f00, 0, 0x1000, 0, 0, OM_THREAD_CLONE_MARK), OM_E_RANGE);
	CHECK_EQ(enc(SYS_clone, 0x3d0f00, 0, 0, 0, 0, OM_THREAD_CLONE_MARK + 1), OM_E_RANGE);
	CHECK_EQ(enc(SYS_clone, 0x3d0f00 & ~0x10000ull, 0, 0, 0, 0, OM_THREAD_CLONE_MARK), OM_E_RANGE);
	CHECK_EQ(enc(SYS_brk, 0, 0, 0, 0, 0, 0), OM_E_RANGE);
	CHECK_EQ(enc(SYS_mmap, 0, 4096, 3, 0x22, (uint64_t)-1, 0), OM_E_RANGE);
	CHECK_EQ(enc(400, 0, 0, 0, 0, 0, 0), OM_E_RANGE);
	CHECK_EQ(enc(OM_SYSCALL_NR_MAX + 5, 0, 0, 0, 0, 0, 0), OM_E_RANGE);
	/* kill of another process travels */
	CHECK(enc(SYS_kill, 77, 15, 0, 0, 0, 0) > 0);
	CHECK_EQ(dec(), OM_OK);
	/* a request for a local or home call is refused by the deputy */
	CHECK(enc(SYS_close, 3, 0, 0, 0, 0, 0) > 0);
	reqbuf[0] = SYS_munmap;
	CHECK_EQ(dec(), OM_E_RANGE);
	reqbuf[0] = SYS_execveat & 0xff; /* it goes home, execve does not */
	reqbuf[1] = SYS_execveat >> 8;
	CHECK_EQ(dec(), OM_E_RANGE);
	reqbuf[1] = 0;
	reqbuf[0] = 0x90;
	reqbuf[1] = 0x01; /* 400 */
	CHECK_EQ(dec(), OM_E_RANGE);
}

/* execve: the path, then argv and envp as STRV (count, then strings);
 * the node's signal state in arguments 3 and 4 as they are. */
static void
execve_strv(void)
{
	uint32_t at = 0, len, i;
	const uint8_t *s;

	reset_mem();
	fill(0x1000, "/bin/sh");
	fill(0x1100, "sh");
	fill(0x1200, "-c");
	fill(0x1300, "");
	fill(0x1400, "PATH=/bin");
	put64(0x2000, A(0x1100));
	put64(0x2008, A(0x1200));
	put64(0x2010, A(0x1300));
	put64(0x2018, 0);
	put64(0x2100, A(0x1400));
	put64(0x2108, 0);
	CHECK(enc(SYS_execve, A(0x1000), A(0x2000), A(0x2100), 0x4000, 0x2, 0) > 0);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.nbuf, 3);
	CHECK_EQ(dreq.buf[1].kind, OM_K_STRV);
	CHECK_EQ(dreq.buf[1].niov, 3);
	CHECK_EQ(dreq.buf[1].len, 3 * 4 + 2 + 2 + 0);
	s = om_sysbuf_str(&dreq.buf[1], &at, &len);
	CHECK(len == 2 && memcmp(s, "sh", 2) == 0);
	s = om_sysbuf_str(&dreq.buf[1], &at, &len);
	CHECK(len == 2 && memcmp(s, "-c", 2) == 0);
	om_sysbuf_str(&dreq.buf[1], &at, &len);
	CHECK_EQ(len, 0);
	CHECK_EQ(dreq.buf[2].niov, 1);
	CHECK_EQ(dreq.args[3], 0x4000);
	CHECK_EQ(dreq.args[4], 0x2);
	CHECK_EQ(rep(-2, NULL), 8);
	CHECK_EQ(apply(), OM_OK);
	CHECK_EQ(got_ret, -2);
	/* NULL argv carries nothing (home's kernel judges it) */
	CHECK(enc(SYS_execve, A(0x1000), 0, A(0x2100), 0, 0, 0) > 0);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.nbuf, 2);
	CHECK_EQ(dreq.buf[1].arg, 2);
	/* an unreadable array or string: EFAULT, as Linux */
	CHECK_EQ(enc(SYS_execve, A(0x1000), A(MEM_SIZE - 8), 0, 0, 0, 0), OM_SC_EUSER);
	CHECK_EQ(uerr, 14);
	put64(0x2008, 0x10);
	CHECK_EQ(enc(SYS_execve, A(0x1000), A(0x2000), 0, 0, 0, 0), OM_SC_EUSER);
	CHECK_EQ(uerr, 14);
	/* a string of MAX_ARG_STRLEN - 1 bytes goes; one byte more is E2BIG */
	memset(mem + 0x100000, 'e', OM_SYSCALL_ARG_STRLEN - 1);
	mem[0x100000 + OM_SYSCALL_ARG_STRLEN - 1] = 0;
	put64(0x2008, A(0x100000));
	CHECK(enc(SYS_execve, A(0x1000), A(0x2000), 0, 0, 0, 0) > 0);
	CHECK_EQ(dec(), OM_OK);
	mem[0x100000 + OM_SYSCALL_ARG_STRLEN - 1] = 'e';
	mem[0x100000 + OM_SYSCALL_ARG_STRLEN] = 0;
	CHECK_EQ(enc(SYS_execve, A(0x1000), A(0x2000), 0, 0, 0, 0), OM_SC_EUSER);
	CHECK_EQ(uerr, 7);
	/* more than a frame holds goes home: bytes, or strings */
	mem[0x100000 + OM_SYSCALL_ARG_STRLEN - 1] = 0;
	for (i = 0; i < 9; i++)
		put64(0x2000 + 8 * i, A(0x100000));
	put64(0x2000 + 8 * 9, 0);
	CHECK_EQ(enc(SYS_execve, A(0x1000), A(0x2000), 0, 0, 0, 0), OM_E_NOSPACE);
	for (i = 0; i < OM_SYSCALL_STRV_MAX; i++)
		put64(0x200000 + 8 * i, A(0x1300));
	put64(0x200000 + 8ull * OM_SYSCALL_STRV_MAX, 0);
	CHECK(enc(SYS_execve, A(0x1000), A(0x200000), 0, 0, 0, 0) > 0);
	CHECK_EQ(dec(), OM_OK);
	CHECK_EQ(dreq.buf[1].niov, OM_SYSCALL_STRV_MAX);
	put64(0x200000 + 8ull * OM_SYSCALL_STRV_MAX, A(0x1300));
	put64(0x200000 + 8ull * OM_SYSCALL_STRV_MAX + 8, 0);
	CHECK_EQ(enc(SYS_execve, A(0x1000), A(0x200000), 0, 0, 0, 0), OM_E_NOSPACE);
	/* the decoder: a NUL inside a string, too many strings */
	put64(0x2000, A(0x1100));
	put64(0x2008, 0);
	CHECK(enc(SYS_execve, A(0x1000), A(0x2000), 0, 0, 0, 0) > 0);
	CHECK_EQ(dec(), OM_OK);
	reqbuf[reqlen - 1] = 0; /* "sh" -> "s\0" */
	CHECK_EQ(dec(), OM_E_RANGE);
	CHECK(enc(SYS_execve, A(0x1000), A(0x2000), 0, 0, 0, 0) > 0);
	{
		uint32_t many = OM_SYSCALL_STRV_MAX + 1;

		memcpy(reqbuf + reqlen - 10, &many, 4); /* argv's count */
		CHECK_EQ(dec(), OM_E_RANGE);
	}
}

/* ---- every truncation, trailing bytes */

struct sample {
	unsigned nr;
	uint64_t a[6];
};

static const struct sample samples[] = {
	{ SYS_read, { 3, A(0x1000), 100 } },
	{ SYS_write, { 1, A(0x1000), 11 } },
	{ SYS_openat, { (uint64_t)-100, A(0x8000), 0, 0 } },
	{ SYS_newfstatat, { (uint64_t)-100, A(0x8000), A(0x2000), 0 } },
	{ SYS_getdents64, { 3, A(0x1000), 4096 } },
	{ SYS_readv, { 0, A(0x2000), 3 } },
	{ SYS_writev, { 1, A(0x2000), 3 } },
	{ SYS_ioctl, { 0, TCGETS, A(0x4000) } },
	{ SYS_ioctl, { 0, TIOCSWINSZ, A(0x4000) } },
	{ SYS_fcntl, { 5, F_GETLK, A(0x4100) } },
	{ SYS_poll, { A(0x5000), 3, 1000 } },
	{ SYS_pselect6, { 70, A(0x6000), 0, A(0x6100), A(0x6200), A(0x6300) } },
	{ SYS_sendto, { 4, A(0x1000), 5, 0, A(0x1100), 16 } },
	{ SYS_recvfrom, { 4, A(0x2000), 100, 0, A(0x1100), A(0x1200) } },
	{ SYS_wait4, { (uint64_t)-1, 0, 0, 0 } },
	{ SYS_wait4, { (uint64_t)-1, A(0x100), 0, A(0x400) } },
	{ SYS_pipe2, { A(0x200), 0 } },
	{ SYS_sendmsg, { 4, A(0x7000), 0 } },
	{ SYS_recvmsg, { 4, A(0x7000), 0 } },
	{ SYS_epoll_wait, { 5, A(0x9000), 10, 100 } },
	{ SYS_getsockopt, { 4, 1, 7, A(0x1300), A(0x1200) } },
	{ SYS_semop, { 1, A(0x1000), 3 } },
	{ SYS_kill, { 77, 15 } },
	{ SYS_execve, { A(0x8000), A(0xa000), A(0xa100), 5, 7 } },
};
#define NSAMPLES (sizeof samples / sizeof samples[0])

static void
setup_samples(void)
{
	reset_mem();
	fill(0x8000, "/some/path");
	setup_msg();
	put32(0x1200, 16);
	put64(0x6300, A(0x6400));
	put64(0x6308, 8);
	put64(0xa000, A(0x8000)); /* execve's argv, envp */
	put64(0xa008, A(0xa200));
	put64(0xa010, 0);
	put64(0xa100, A(0xa300));
	put64(0xa108, 0);
	fill(0xa200, "x");
	fill(0xa300, "A=1");
}

static int
enc_sample(const struct sample *s)
{
	return enc(s->nr, s->a[0], s->a[1], s->a[2], s->a[3], s->a[4], s->a[5]);
}

static uint8_t pool[OM_SYSCALL_MAX_BUF + OM_SYSCALL_CTL_MAX];

/* A valid reply for dreq: every OUT item at a length the rules allow. */
static int
valid_reply(int64_t ret, int full)
{
	struct om_sysout o[OM_SYSCALL_MAX_BUFS];
	unsigned i;

	memset(o, 0, sizeof o);
	for (i = 0; i < dreq.nbuf; i++) {
		const struct om_sysbuf *b = &dreq.buf[i];
		uint64_t n;

		o[i].data = pool;
		switch (b->kind) {
		case OM_K_OUTS: case OM_K_INOUTS: case OM_K_INOUT: case OM_K_POLL:
		case OM_K_FDSET: case OM_K_LENP:
			o[i].len = full || (check_rand() & 1) ? b->cap : 0;
			break;
		case OM_K_OUT: case OM_K_SOCKADDR_OUT: case OM_K_OPT_OUT:
			o[i].len = full ? b->cap : (uint32_t)(check_rand() % (b->cap + 1ull));
			break;
		case OM_K_OUTRET: case OM_K_IOV_OUT: case OM_K_MSG_OUT:
			n = ret < 0 ? 0 : (uint64_t)ret;
			o[i].len = (uint32_t)(n < b->cap ? n : b->cap);
			if (b->kind == OM_K_MSG_OUT) {
				o[i].name = pool;
				o[i].name_len = full ? b->name_len :
				    (uint32_t)(check_rand() % (b->name_len + 1ull));
				o[i].msg_namelen = o[i].name_len;
				o[i].ctl = pool;
				o[i].ctl_len = full ? b->ctl_len :
				    (uint32_t)(check_rand() % (b->ctl_len + 1ull));
				o[i].msg_flags = (uint32_t)check_rand();
			}
			break;
		case OM_K_OUTRETN:
			n = ret < 0 ? 0 : (uint64_t)ret;
			if (n > b->cap / b->elem)
				n = b->cap / b->elem;
			o[i].len = (uint32_t)n * b->elem;
			break;
		}
	}
	return rep(ret, o);
}

static void
request_every_truncation(void)
{
	size_t i, len;

	for (i = 0; i < NSAMPLES; i++) {
		setup_samples();
		if (enc_sample(&samples[i]) <= 0)
			check_fail("sample %zu (nr %u) does not encode: %d", i,
			    samples[i].nr, reqlen);
		CHECK(reqlen > 0);
		CHECK_EQ(dec(), OM_OK);
		for (len = 0; len < (size_t)reqlen; len++)
			if (dec_len(len) != OM_E_TRUNC) {
				check_fail("sample %zu (nr %u) cut at %zu: %d", i,
				    samples[i].nr, len, dec_len(len));
				return;
			}
		reqbuf[reqlen] = 0;
		CHECK_EQ(dec_len((size_t)reqlen + 1), OM_E_TRAILING);
	}
}

static void
reply_every_truncation(void)
{
	size_t i, len;
	int rc;

	for (i = 0; i < NSAMPLES; i++) {
		setup_samples();
		CHECK(enc_sample(&samples[i]) > 0);
		CHECK_EQ(dec(), OM_OK);
		CHECK(valid_reply(7, 1) > 0);
		CHECK_EQ(apply(), OM_OK);
		CHECK_EQ(got_ret, 7);
		for (len = 0; len < (size_t)replen; len++) {
			rc = apply_len(len);
			if (rc != OM_E_TRUNC || nwrites != 0) {
				check_fail("sample %zu (nr %u) reply cut at %zu: %d, %d writes",
				    i, samples[i].nr, len, rc, nwrites);
				return;
			}
		}
		repbuf[replen] = 0;
		CHECK_EQ(apply_len((size_t)replen + 1), OM_E_TRAILING);
		CHECK_EQ(nwrites, 0);
	}
}

/* ---- fuzz */

static uint64_t
rand_arg(void)
{
	switch (check_rand() % 10) {
	case 0: return 0;
	case 1: return check_rand() % 8;
	case 2: return check_rand() % 200;
	case 3: return check_rand() % 70000;
	case 4: return check_rand();
	case 5: return (uint64_t)-(int64_t)(check_rand() % 5);
	case 6: return A(check_rand() % MEM_SIZE);
	case 7: return A(MEM_SIZE - check_rand() % 64);
	case 8: return A((check_rand() % 64) * 0x1000);
	default: return check_rand() % 3 ? A(check_rand() % 0x10000) : (uint64_t)TCGETS;
	}
}

/* Random calls with random arguments over random memory: whatever the
 * encoder accepts the decoder accepts, a valid reply goes through, and the
 * node writes only into the call's OUT buffers. */
static void
fuzz_encoder(void)
{
	uint32_t i, j, forwarded = 0;
	uint64_t a[6];
	unsigned nr;

	check_seed(0x5eed0001);
	for (i = 0; i < MEM_SIZE / 8; i++)
		((uint64_t *)mem)[i] = check_rand();
	for (i = 0; i < 64; i++) /* some readable iovecs and msghdrs */
		put64(0x1000 + 16 * i + 8, check_rand() % 300);
	for (i = 0; i < 20000; i++) {
		nr = (unsigned)(check_rand() % OM_SYSCALL_NR_MAX);
		for (j = 0; j < 6; j++)
			a[j] = rand_arg();
		if (check_rand() % 4 == 0)
			mem[check_rand() % MEM_SIZE] = 0; /* end some strings */
		reqlen = om_sysreq_encode(&ctx, nr, 4242, a, mem_read, NULL, reqbuf,
		    sizeof reqbuf, &uerr);
		if (reqlen == OM_SC_EUSER) {
			CHECK(uerr > 0 && uerr < 4096);
			continue;
		}
		if (reqlen == OM_E_RANGE)
			continue;
		if (reqlen <= 0)
			check_fail("nr %u: encode %d", nr, reqlen);
		CHECK(reqlen > 0 && reqlen <= (int)OM_MAX_PAYLOAD);
		forwarded++;
		if (dec() != OM_OK)
			check_fail("nr %u: decode of own encoding %d", nr, dec());
		CHECK_EQ(dreq.nbuf, ctx.nbuf);
		for (j = 0; j < dreq.nbuf; j++) {
			CHECK_EQ(dreq.buf[j].kind, ctx.buf[j].kind);
			CHECK_EQ(dreq.buf[j].arg, ctx.buf[j].arg);
		}
		if (valid_reply((int64_t)(check_rand() % 600) - 20, 0) <= 0)
			check_fail("nr %u: reply encode %d", nr, replen);
		CHECK(replen > 0);
		fence = &ctx;
		fence_broken = 0;
		j = (uint32_t)apply();
		fence = NULL;
		CHECK_EQ((int)j, OM_OK);
		if (fence_broken)
			check_fail("nr %u: a write outside the OUT buffers", nr);
		CHECK(!fence_broken);
	}
	CHECK(forwarded > 1000);
}

static void
mutate(uint8_t *buf, int *len)
{
	int k, n = 1 + (int)(check_rand() % 4);

	for (k = 0; k < n && *len > 0; k++) {
		switch (check_rand() % 6) {
		case 0:
			buf[check_rand() % (uint64_t)*len] ^= (uint8_t)(1u << (check_rand() % 8));
			break;
		case 1:
			buf[check_rand() % (uint64_t)*len] = (uint8_t)check_rand();
			break;
		case 2:
			buf[check_rand() % (uint64_t)*len] = 0xff;
			break;
		case 3:
			*len = (int)(check_rand() % (uint64_t)*len);
			break;
		case 4:
			if (*len < (int)OM_MAX_PAYLOAD - 8)
				buf[(*len)++] = (uint8_t)check_rand();
			break;
		default: /* a length field: small offsets hold most of them */
			buf[52 + check_rand() % 16 < (uint64_t)*len ?
			    52 + check_rand() % 16 : 0] = (uint8_t)check_rand();
			break;
		}
	}
}

static void
fuzz_decoders(void)
{
	uint32_t i;
	int rc, len;
	size_t s;

	check_seed(0x5eed0002);
	for (i = 0; i < 30000; i++) {
		s = check_rand() % NSAMPLES;
		setup_samples();
		CHECK(enc_sample(&samples[s]) > 0);
		/* the request, as the deputy sees it */
		len = reqlen;
		mutate(reqbuf, &len);
		rc = dec_len((size_t)len);
		CHECK(rc == OM_OK || rc == OM_E_TRUNC || rc == OM_E_TRAILING || rc == OM_E_RANGE);
		/* a reply, as the node sees it */
		CHECK(enc_sample(&samples[s]) > 0);
		CHECK_EQ(dec(), OM_OK);
		CHECK(valid_reply((int64_t)(check_rand() % 200) - 10, 0) > 0);
		len = replen;
		mutate(repbuf, &len);
		fence = &ctx;
		fence_broken = 0;
		rc = apply_len((size_t)len);
		fence = NULL;
		CHECK(rc == OM_OK || rc == OM_E_TRUNC || rc == OM_E_TRAILING || rc == OM_E_RANGE);
		if (rc != OM_OK)
			CHECK_EQ(nwrites, 0);
		CHECK(!fence_broken);
	}
}

int
main(void)
{
	RUN(golden_read);
	RUN(read_clamped);
	RUN(write_roundtrip);
	RUN(openat_strings);
	RUN(newfstatat_outs);
	RUN(getdents_outret);
	RUN(readv_writev);
	RUN(ioctl_fcntl);
	RUN(poll_select);
	RUN(sockets);
	RUN(wait4_pipe2);
	RUN(msghdr);
	RUN(not_forwardable);
	RUN(execve_strv);
	RUN(request_every_truncation);
	RUN(reply_every_truncation);
	RUN(fuzz_encoder);
	RUN(fuzz_decoders);
	free(dcopy);
	return check_exit();
}
