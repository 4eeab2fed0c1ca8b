/* admit_msg.c - admission control frames (see admit_msg.h). */
#include <string.h>

#include "admit_msg.h"
#include "wire.h"

int
om_fp_valid(const char *s)
{
	int i;

	for (i = 0; i < NOISE_FP_LEN; i++) {
		char c = s[i];

		if (i % 5 == 4 ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
	}
	return s[NOISE_FP_LEN] == '\0';
}

int
om_ctl_admit_encode(const struct om_ctl_admit *m, void *out, size_t cap)
{
	struct wire_wr w;

	if (!om_fp_valid(m->fp))
		return OM_E_RANGE;
	wire_wr_init(&w, out, cap);
	wire_wr_str(&w, m->fp, sizeof m->fp);
	return wire_wr_end(&w);
}

int
om_ctl_admit_decode(const void *buf, size_t len, struct om_ctl_admit *m)
{
	struct wire_rd r;

	wire_rd_init(&r, buf, len);
	wire_rd_str(&r, m->fp, sizeof m->fp - 1);
	if (r.err == OM_OK && !om_fp_valid(m->fp))
		wire_rd_fail(&r, OM_E_RANGE);
	return wire_rd_end(&r);
}

int
om_ctl_admit_reply_encode(const struct om_ctl_admit_reply *m, void *out, size_t cap)
{
	struct wire_wr w;

	wire_wr_init(&w, out, cap);
	wire_wr_u8(&w, m->asked);
	wire_wr_str(&w, m->mac, sizeof m->mac);
	wire_wr_str(&w, m->ip, sizeof m->ip);
	return wire_wr_end(&w);
}

int
om_ctl_admit_reply_decode(const void *buf, size_t len, struct om_ctl_admit_reply *m)
{
	struct wire_rd r;

	wire_rd_init(&r, buf, len);
	m->asked = wire_rd_u8(&r);
	wire_rd_str(&r, m->mac, sizeof m->mac - 1);
	wire_rd_str(&r, m->ip, sizeof m->ip - 1);
	if (r.err == OM_OK && m->asked > 1)
		wire_rd_fail(&r, OM_E_RANGE);
	return wire_rd_end(&r);
}

int
om_pending_list_encode(const struct om_pending *p, uint32_t n, void *out, size_t cap)
{
	struct wire_wr w;
	uint32_t i;

	if (n > OM_PENDING_MAX)
		return OM_E_RANGE;
	wire_wr_init(&w, out, cap);
	wire_wr_u32(&w, n);
	for (i = 0; i < n; i++) {
		if (!om_fp_valid(p[i].fp))
			return OM_E_RANGE;
		wire_wr_str(&w, p[i].fp, sizeof p[i].fp);
		wire_wr_bytes(&w, p[i].mac, 6);
		wire_wr_str(&w, p[i].ip, sizeof p[i].ip);
		wire_wr_u32(&w, p[i].waited_s);
		wire_wr_u32(&w, p[i].asks);
	}
	return wire_wr_end(&w);
}

int
om_pending_list_decode(const void *buf, size_t len, struct om_pending *p, uint32_t max, uint32_t *n)
{
	struct wire_rd r;
	uint32_t i;

	wire_rd_init(&r, buf, len);
	*n = wire_rd_u32(&r);
	if (r.err == OM_OK && (*n > max || *n > OM_PENDING_MAX))
		wire_rd_fail(&r, OM_E_RANGE);
	for (i = 0; r.err == OM_OK && i < *n; i++) {
		wire_rd_str(&r, p[i].fp, sizeof p[i].fp - 1);
		wire_rd_bytes(&r, p[i].mac, 6);
		wire_rd_str(&r, p[i].ip, sizeof p[i].ip - 1);
		p[i].waited_s = wire_rd_u32(&r);
		p[i].asks = wire_rd_u32(&r);
		if (r.err == OM_OK && !om_fp_valid(p[i].fp))
			wire_rd_fail(&r, OM_E_RANGE);
	}
	if (r.err != OM_OK)
		*n = 0;
	return wire_rd_end(&r);
}
