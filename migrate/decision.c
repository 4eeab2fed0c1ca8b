/* decision.c - DECISIONS entries on the wire (decision.h). */
#include "decision.h"
#include "wire.h"

static int valid(const struct om_decision *d)
{
	if (d->kind < OM_DEC_CALL || d->kind > OM_DEC_UNTIL || d->nout > OM_DEC_OUTS)
		return 0;
	if ((d->kind == OM_DEC_LOST || d->kind == OM_DEC_UNTIL) && d->nout)
		return 0;
	/* A signal: its siginfo, and the time left in a sleep it cut short. */
	if (d->kind == OM_DEC_SIGNAL &&
	    (d->nout < 1 || d->out[0].addr || (d->nout == 2 && (!d->out[1].addr || d->ret != OM_DEC_AT_CALL)) ||
	     (uint64_t)d->ret > OM_DEC_AT_CALL || d->nr < 1 || d->nr > 64))
		return 0;
	for (int i = 0; i < d->nout; i++)
		if (d->out[i].len == 0 || d->out[i].len > OM_DEC_OUT_MAX)
			return 0;
	return 1;
}

int om_decision_encode(const struct om_decision *d, void *out, size_t cap)
{
	struct wire_wr w;
	if (!valid(d))
		return OM_E_RANGE;
	wire_wr_init(&w, out, cap);
	wire_wr_u8(&w, d->kind);
	wire_wr_u8(&w, d->nout);
	wire_wr_u16(&w, d->nr);
	wire_wr_u64(&w, (uint64_t)d->ret);
	for (int i = 0; i < 4; i++)
		wire_wr_u64(&w, d->a[i]);
	for (int i = 0; i < d->nout; i++) {
		wire_wr_u64(&w, d->out[i].addr);
		wire_wr_u32(&w, d->out[i].len);
		wire_wr_bytes(&w, d->out[i].bytes, d->out[i].len);
	}
	return wire_wr_end(&w);
}

int om_decision_next(const void *buf, size_t len, size_t *pos, struct om_decision *d)
{
	struct wire_rd r;
	if (*pos > len)
		return OM_E_RANGE;
	wire_rd_init(&r, (const uint8_t *)buf + *pos, len - *pos);
	d->kind = wire_rd_u8(&r);
	d->nout = wire_rd_u8(&r);
	d->nr = wire_rd_u16(&r);
	d->ret = (int64_t)wire_rd_u64(&r);
	for (int i = 0; i < 4; i++)
		d->a[i] = wire_rd_u64(&r);
	if (r.err == 0 && d->nout > OM_DEC_OUTS)
		wire_rd_fail(&r, OM_E_RANGE);
	for (int i = 0; i < d->nout && r.err == 0; i++) {
		d->out[i].addr = wire_rd_u64(&r);
		d->out[i].len = wire_rd_u32(&r);
		if (r.err == 0 && (d->out[i].len == 0 || d->out[i].len > OM_DEC_OUT_MAX))
			wire_rd_fail(&r, OM_E_RANGE);
		d->out[i].bytes = wire_rd_take(&r, d->out[i].len);
	}
	if (r.err == 0 && !valid(d))
		wire_rd_fail(&r, OM_E_RANGE);
	if (r.err)
		return r.err;
	*pos += r.pos;
	return OM_OK;
}

int om_decisions_check(const void *buf, size_t len, int *replayable)
{
	struct om_decision d;
	size_t pos = 0;
	int rc, ok = 1;
	if (len == 0)
		return OM_E_TRUNC;
	while (pos < len) {
		if ((rc = om_decision_next(buf, len, &pos, &d)) != OM_OK)
			return rc;
		ok &= d.kind != OM_DEC_LOST;
	}
	if (replayable)
		*replayable = ok;
	return OM_OK;
}
