/* deputy_call.c - one forwarded call, executed where its descriptors, cwd
 * and credentials are: in the original process. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "deputy_call.h"

#define MSGHDR_SIZE 56 /* struct msghdr on x86-64 */

struct area {
	struct inject *in;
	uint64_t next, end; /* free space in the scratch data area */
};

/* Reserves n bytes (16-byte aligned) in the scratch area. */
static int area_take(struct area *a, uint64_t n, uint64_t *addr)
{
	uint64_t at = (a->next + 15) & ~15ULL;
	if (n > a->end - at || at > a->end)
		return -E2BIG;
	*addr = at;
	a->next = at + n;
	return 0;
}

static int area_put(struct area *a, const void *data, uint64_t n, uint64_t *addr)
{
	int rc = area_take(a, n ? n : 1, addr);
	if (rc == 0 && n)
		rc = inject_write(a->in, *addr, data, n);
	return rc;
}

/* An iovec array of b's lengths over one contiguous data block at base. */
static int area_iov(struct area *a, const struct om_sysbuf *b, uint64_t base, uint64_t *iov_addr)
{
	uint64_t iov[2 * 64];
	uint64_t off = 0;
	int rc = area_take(a, (uint64_t)b->niov * 16, iov_addr);
	for (uint32_t i = 0; rc == 0 && i < b->niov; i += 64) {
		uint32_t k = b->niov - i < 64 ? b->niov - i : 64;
		for (uint32_t j = 0; j < k; j++) {
			uint32_t len = om_sysbuf_iov_len(b, i + j);
			iov[2 * j] = base + off;
			iov[2 * j + 1] = len;
			off += len;
		}
		rc = inject_write(a->in, *iov_addr + (uint64_t)i * 16, iov, (size_t)k * 16);
	}
	return rc;
}

/* A STRV: its strings one after the other, each with its NUL, then the
 * NULL-ended array of pointers to them (at addr, for the call). */
static int area_strv(struct area *a, const struct om_sysbuf *b, uint64_t *addr)
{
	uint64_t strs, size = (uint64_t)b->len - 3ull * b->niov; /* a u32 length becomes a NUL */
	uint64_t *ptrs = malloc(((size_t)b->niov + 1) * 8);
	uint8_t *bytes = malloc(size ? size : 1), *q = bytes;
	int rc = ptrs && bytes ? area_take(a, size ? size : 1, &strs) : -ENOMEM;
	uint32_t at = 0, len;
	for (uint32_t i = 0; rc == 0 && i < b->niov; i++) {
		const uint8_t *s = om_sysbuf_str(b, &at, &len);
		ptrs[i] = strs + (uint64_t)(q - bytes);
		memcpy(q, s, len);
		q += len;
		*q++ = 0;
	}
	if (rc == 0) {
		ptrs[b->niov] = 0;
		rc = inject_write(a->in, strs, bytes, size);
	}
	if (rc == 0)
		rc = area_put(a, ptrs, ((uint64_t)b->niov + 1) * 8, addr);
	free(ptrs);
	free(bytes);
	return rc;
}

/* Where each buffer went, for reading back. */
struct placed {
	uint64_t addr;      /* the buffer (or msghdr) */
	uint64_t data;      /* IOV_*, MSG_*: the data block */
	uint64_t name, ctl; /* MSG_*: name and control */
};

static int place_msg(struct area *a, const struct om_sysbuf *b, struct placed *p)
{
	uint64_t iov, hdr[7] = { 0 };
	int rc = 0;
	int in = b->kind == OM_K_MSG_IN;
	if (in)
		rc = area_put(a, b->data, b->len, &p->data);
	else
		rc = area_take(a, b->iov_total ? b->iov_total : 1, &p->data);
	if (rc == 0)
		rc = area_iov(a, b, p->data, &iov);
	if (rc == 0 && b->name_len)
		rc = in ? area_put(a, b->name, b->name_len, &p->name) : area_take(a, b->name_len, &p->name);
	if (rc == 0 && b->ctl_len)
		rc = in ? area_put(a, b->ctl, b->ctl_len, &p->ctl) : area_take(a, b->ctl_len, &p->ctl);
	if (rc)
		return rc;
	/* struct msghdr: name, namelen, iov, iovlen, control, controllen, flags */
	hdr[0] = b->name_len ? p->name : 0;
	hdr[1] = b->name_len;
	hdr[2] = iov;
	hdr[3] = b->niov;
	hdr[4] = b->ctl_len ? p->ctl : 0;
	hdr[5] = b->ctl_len;
	hdr[6] = b->msg_flags;
	return area_put(a, hdr, MSGHDR_SIZE, &p->addr);
}

static int place(struct area *a, const struct om_sysbuf *b, struct placed *p)
{
	switch (b->kind) {
	case OM_K_OUT: case OM_K_OUTRET: case OM_K_OUTRETN: case OM_K_OUTS:
	case OM_K_SOCKADDR_OUT: case OM_K_OPT_OUT:
		return area_take(a, b->cap ? b->cap : 1, &p->addr);
	case OM_K_STR: {
		int rc = area_take(a, (uint64_t)b->len + 1, &p->addr);
		uint8_t nul = 0;
		if (rc == 0 && b->len)
			rc = inject_write(a->in, p->addr, b->data, b->len);
		return rc ? rc : inject_write(a->in, p->addr + b->len, &nul, 1);
	}
	case OM_K_IOV_IN: {
		int rc = area_put(a, b->data, b->len, &p->data);
		return rc ? rc : area_iov(a, b, p->data, &p->addr);
	}
	case OM_K_IOV_OUT: {
		int rc = area_take(a, b->iov_total ? b->iov_total : 1, &p->data);
		return rc ? rc : area_iov(a, b, p->data, &p->addr);
	}
	case OM_K_SIGSET6: { /* pselect6's {sigset pointer, size} pair */
		uint64_t pair[2] = { 0, 8 };
		int rc = b->len ? area_put(a, b->data, 8, &pair[0]) : 0;
		return rc ? rc : area_put(a, pair, sizeof pair, &p->addr);
	}
	case OM_K_MSG_IN:
	case OM_K_MSG_OUT:
		return place_msg(a, b, p);
	case OM_K_STRV:
		return area_strv(a, b, &p->addr);
	default: /* IN, INN, INS, SOCKADDR_IN, INOUT, INOUTS, POLL, FDSET, LENP */
		return area_put(a, b->data, b->len, &p->addr);
	}
}

/* How much of an OUT-capable buffer the reply carries (syscall_codec.h). */
static uint32_t out_len(const struct om_sysbuf *b, int64_t ret)
{
	switch (b->kind) {
	case OM_K_OUTRET:
	case OM_K_IOV_OUT:
		return ret < 0 ? 0 : (uint64_t)ret < b->cap ? (uint32_t)ret : b->cap;
	case OM_K_OUTRETN: {
		uint32_t n = b->elem ? b->cap / b->elem : 0;
		return ret < 0 ? 0 : ((uint64_t)ret < n ? (uint32_t)ret : n) * b->elem;
	}
	case OM_K_OUT: case OM_K_OUTS: case OM_K_SOCKADDR_OUT: case OM_K_OPT_OUT:
		return ret < 0 ? 0 : b->cap;
	default: /* INOUT-like: all or nothing */
		return ret < 0 ? 0 : b->len;
	}
}

static int read_back(struct inject *in, const struct om_sysbuf *b, const struct placed *p, int64_t ret,
		     struct om_sysout *o, uint8_t **mem)
{
	int rc = 0;
	memset(o, 0, sizeof *o);
	if (b->kind == OM_K_MSG_OUT) {
		uint64_t hdr[7];
		if ((rc = inject_read(in, p->addr, hdr, MSGHDR_SIZE)) != 0)
			return rc;
		o->msg_namelen = (uint32_t)hdr[1];
		o->msg_flags = (uint32_t)hdr[6];
		o->ctl_len = ret < 0 ? 0 : (uint32_t)(hdr[5] < b->ctl_len ? hdr[5] : b->ctl_len);
		o->name_len = ret < 0 ? 0 : (o->msg_namelen < b->name_len ? o->msg_namelen : b->name_len);
		o->len = ret < 0 ? 0 : ((uint64_t)ret < b->iov_total ? (uint32_t)ret : b->iov_total);
		uint8_t *m = *mem;
		if (o->len && (rc = inject_read(in, p->data, m, o->len)) == 0)
			o->data = m, m += o->len;
		if (!rc && o->name_len && (rc = inject_read(in, p->name, m, o->name_len)) == 0)
			o->name = m, m += o->name_len;
		if (!rc && o->ctl_len && (rc = inject_read(in, p->ctl, m, o->ctl_len)) == 0)
			o->ctl = m, m += o->ctl_len;
		*mem = m;
		return rc;
	}
	o->len = out_len(b, ret);
	if (o->len) {
		uint64_t from = (b->kind == OM_K_IOV_OUT) ? p->data : p->addr;
		if ((rc = inject_read(in, from, *mem, o->len)) != 0)
			return rc;
		o->data = *mem;
		*mem += o->len;
	}
	return 0;
}

static int has_out(int kind)
{
	switch (kind) {
	case OM_K_OUT: case OM_K_INOUT: case OM_K_OUTRET: case OM_K_OUTRETN: case OM_K_OUTS:
	case OM_K_INOUTS: case OM_K_IOV_OUT: case OM_K_SOCKADDR_OUT: case OM_K_OPT_OUT:
	case OM_K_LENP: case OM_K_POLL: case OM_K_FDSET: case OM_K_MSG_OUT:
		return 1;
	default:
		return 0;
	}
}

int deputy_call(struct inject *in, const struct om_sysreq *req, int64_t *ret, struct deputy_out *out)
{
	struct area a = { in, in->data, in->data + INJECT_DATA_SIZE };
	struct placed p[OM_SYSCALL_MAX_BUFS];
	uint64_t args[6];
	int rc;

	memcpy(args, req->args, sizeof args);
	memset(p, 0, sizeof p);
	for (unsigned i = 0; i < req->nbuf; i++) {
		if ((rc = place(&a, &req->buf[i], &p[i])) != 0)
			return rc;
		args[req->buf[i].arg] = p[i].addr;
	}
	if ((rc = inject_syscall(in, req->nr, args, ret)) != 0)
		return rc; /* INJECT_EXECED too: nothing to read back */
	uint8_t *mem = out->mem;
	for (unsigned i = 0; i < req->nbuf; i++) {
		if (!has_out(req->buf[i].kind)) {
			memset(&out->outs[i], 0, sizeof out->outs[i]);
			continue;
		}
		if ((rc = read_back(in, &req->buf[i], &p[i], *ret, &out->outs[i], &mem)) != 0)
			return rc;
	}
	return 0;
}
