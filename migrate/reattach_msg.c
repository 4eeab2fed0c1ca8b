/* reattach_msg.c - JOB_REATTACH and CTL_JOB_REATTACH on the wire. */
#include <string.h>

#include "proto.h"
#include "reattach_msg.h"
#include "wire.h"

int
om_job_reattach_encode(const struct om_job_reattach *m, void *out, size_t cap)
{
	struct wire_wr w;

	if (m->exited > 1 || m->stopped >= 65 || (m->exited && m->waiting))
		return OM_E_RANGE;
	wire_wr_init(&w, out, cap);
	wire_wr_u32(&w, m->node);
	wire_wr_u32(&w, m->pid);
	wire_wr_u32(&w, m->uid);
	wire_wr_u32(&w, m->waiting);
	wire_wr_u32(&w, m->signals_in);
	wire_wr_u32(&w, m->stopped);
	wire_wr_u32(&w, m->exited);
	return wire_wr_end(&w);
}

int
om_job_reattach_decode(const void *buf, size_t len, struct om_job_reattach *m)
{
	struct wire_rd r;

	wire_rd_init(&r, buf, len);
	m->node = wire_rd_u32(&r);
	m->pid = wire_rd_u32(&r);
	m->uid = wire_rd_u32(&r);
	m->waiting = wire_rd_u32(&r);
	m->signals_in = wire_rd_u32(&r);
	m->stopped = wire_rd_u32(&r);
	m->exited = wire_rd_u32(&r);
	if (r.err == OM_OK && (m->exited > 1 || m->stopped >= 65 || (m->exited && m->waiting)))
		wire_rd_fail(&r, OM_E_RANGE);
	return wire_rd_end(&r);
}

int
om_ctl_reattach_encode(const struct om_ctl_reattach *m, void *out, size_t cap)
{
	struct wire_wr w;
	int head, n;

	if (m->job == 0 || m->s.flags != 0 || m->s.node != 0)
		return OM_E_RANGE;
	/* The key and id, then SUBMIT's encoding as it is. */
	wire_wr_init(&w, out, cap);
	wire_wr_u32(&w, m->job);
	wire_wr_bytes(&w, m->key, OM_KEY_LEN);
	if ((head = wire_wr_end(&w)) < 0)
		return head;
	n = om_job_submit_encode(&m->s, (uint8_t *)out + head, cap - (size_t)head);
	return n < 0 ? n : n + head;
}

int
om_ctl_reattach_decode(const void *buf, size_t len, struct om_ctl_reattach *m)
{
	struct wire_rd r;
	int rc;

	memset(m, 0, sizeof *m);
	wire_rd_init(&r, buf, len < 4 + OM_KEY_LEN ? len : 4 + OM_KEY_LEN);
	m->job = wire_rd_u32(&r);
	wire_rd_bytes(&r, m->key, OM_KEY_LEN);
	if ((rc = wire_rd_end(&r)) != OM_OK)
		return rc;
	if ((rc = om_job_submit_decode((const uint8_t *)buf + 4 + OM_KEY_LEN, len - 4 - OM_KEY_LEN, &m->s)) != OM_OK)
		return rc;
	if (m->job == 0 || m->s.flags != 0 || m->s.node != 0)
		return OM_E_RANGE;
	return OM_OK;
}
