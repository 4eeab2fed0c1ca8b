/* wire.c - bounds-checked payload readers and writers (see wire.h). */
#include <string.h>

#include "proto.h"
#include "wire.h"

void
wire_rd_init(struct wire_rd *r, const void *buf, size_t len)
{
	r->p = buf;
	r->len = len;
	r->pos = 0;
	r->err = OM_OK;
}

void
wire_rd_fail(struct wire_rd *r, int err)
{
	if (r->err == OM_OK)
		r->err = err;
}

/* Returns a pointer to the next n bytes and consumes them, or NULL (and
 * fails the reader) when fewer than n remain. pos <= len always holds, so
 * the subtraction cannot wrap. */
const uint8_t *
wire_rd_take(struct wire_rd *r, size_t n)
{
	const uint8_t *q;

	if (r->err != OM_OK)
		return NULL;
	if (n > r->len - r->pos) {
		r->err = OM_E_TRUNC;
		return NULL;
	}
	q = r->p + r->pos;
	r->pos += n;
	return q;
}

uint8_t
wire_rd_u8(struct wire_rd *r)
{
	const uint8_t *q = wire_rd_take(r, 1);

	return q ? q[0] : 0;
}

uint16_t
wire_rd_u16(struct wire_rd *r)
{
	const uint8_t *q = wire_rd_take(r, 2);

	return q ? (uint16_t)(q[0] | q[1] << 8) : 0;
}

uint32_t
wire_rd_u32(struct wire_rd *r)
{
	const uint8_t *q = wire_rd_take(r, 4);

	if (q == NULL)
		return 0;
	return (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 |
	    (uint32_t)q[3] << 24;
}

uint64_t
wire_rd_u64(struct wire_rd *r)
{
	uint64_t lo = wire_rd_u32(r);
	uint64_t hi = wire_rd_u32(r);

	return lo | hi << 32;
}

void
wire_rd_bytes(struct wire_rd *r, void *out, size_t n)
{
	const uint8_t *q = wire_rd_take(r, n);

	if (q != NULL)
		memcpy(out, q, n);
	else
		memset(out, 0, n);
}

static int
str_ok(const uint8_t *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return 1;
}

void
wire_rd_str(struct wire_rd *r, char *out, size_t max)
{
	size_t n = wire_rd_u16(r);
	const uint8_t *q;

	out[0] = '\0';
	if (r->err != OM_OK)
		return;
	/* The length is checked against the field before it is used for
	 * anything, and the bytes are validated before they are copied. */
	if (n > max) {
		r->err = OM_E_RANGE;
		return;
	}
	if ((q = wire_rd_take(r, n)) == NULL)
		return;
	if (!str_ok(q, n)) {
		r->err = OM_E_RANGE;
		return;
	}
	memcpy(out, q, n);
	out[n] = '\0';
}

int
wire_rd_end(const struct wire_rd *r)
{
	if (r->err != OM_OK)
		return r->err;
	return r->pos == r->len ? OM_OK : OM_E_TRAILING;
}

void
wire_wr_init(struct wire_wr *w, void *buf, size_t cap)
{
	w->p = buf;
	w->cap = cap;
	w->pos = 0;
	w->err = OM_OK;
}

uint8_t *
wire_wr_take(struct wire_wr *w, size_t n)
{
	uint8_t *q;

	if (w->err != OM_OK)
		return NULL;
	if (n > w->cap - w->pos) {
		w->err = OM_E_NOSPACE;
		return NULL;
	}
	q = w->p + w->pos;
	w->pos += n;
	return q;
}

void
wire_wr_u8(struct wire_wr *w, uint8_t v)
{
	uint8_t *q = wire_wr_take(w, 1);

	if (q != NULL)
		q[0] = v;
}

void
wire_wr_u16(struct wire_wr *w, uint16_t v)
{
	uint8_t *q = wire_wr_take(w, 2);

	if (q != NULL) {
		q[0] = (uint8_t)v;
		q[1] = (uint8_t)(v >> 8);
	}
}

void
wire_wr_u32(struct wire_wr *w, uint32_t v)
{
	uint8_t *q = wire_wr_take(w, 4);

	if (q != NULL) {
		q[0] = (uint8_t)v;
		q[1] = (uint8_t)(v >> 8);
		q[2] = (uint8_t)(v >> 16);
		q[3] = (uint8_t)(v >> 24);
	}
}

void
wire_wr_u64(struct wire_wr *w, uint64_t v)
{
	wire_wr_u32(w, (uint32_t)v);
	wire_wr_u32(w, (uint32_t)(v >> 32));
}

void
wire_wr_bytes(struct wire_wr *w, const void *src, size_t n)
{
	uint8_t *q = wire_wr_take(w, n);

	if (q != NULL)
		memcpy(q, src, n);
}

void
wire_wr_str(struct wire_wr *w, const char *field, size_t fieldsize)
{
	const char *nul = memchr(field, '\0', fieldsize);
	size_t n;

	if (w->err != OM_OK)
		return;
	/* An unterminated field or a string the peer's decoder would refuse
	 * is the caller's bug; refuse it here rather than on the wire. */
	if (nul == NULL || !str_ok((const uint8_t *)field, (size_t)(nul - field))) {
		w->err = OM_E_RANGE;
		return;
	}
	n = (size_t)(nul - field);
	wire_wr_u16(w, (uint16_t)n);
	wire_wr_bytes(w, field, n);
}

int
wire_wr_end(const struct wire_wr *w)
{
	return w->err != OM_OK ? w->err : (int)w->pos;
}

int
wire_list_count(const void *buf, size_t len, uint32_t max, size_t min_record, uint32_t *count,
    size_t *pos)
{
	struct wire_rd r;
	uint32_t n;

	*count = 0;
	*pos = 0;
	wire_rd_init(&r, buf, len);
	n = wire_rd_u32(&r);
	if (r.err != OM_OK)
		return r.err;
	if (n > max)
		return OM_E_RANGE;
	/* A count the remaining bytes cannot hold is a truncated list. */
	if ((uint64_t)n * min_record > len - r.pos)
		return OM_E_TRUNC;
	*count = n;
	*pos = r.pos;
	return OM_OK;
}

int
wire_list_end(size_t len, size_t pos)
{
	if (pos > len)
		return OM_E_RANGE;
	return pos == len ? OM_OK : OM_E_TRAILING;
}
