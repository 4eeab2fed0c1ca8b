/* admit_ctl.c - admission requests from the tools (see admit_ctl.h). */
#include <stdlib.h>

#include "admission.h"
#include "admit_ctl.h"
#include "ev.h"
#include "log.h"

void
admit_ctl_admit(struct conn *c, uint32_t uid, const uint8_t *p, uint32_t len)
{
	struct om_ctl_admit m;
	struct om_ctl_admit_reply r;
	uint8_t buf[2 * (OM_STR_MAX + 4)];
	int rc;

	if ((rc = om_ctl_admit_decode(p, len, &m)) != OM_OK) {
		conn_fail(c, rc, "bad CTL_ADMIT: %s", om_strerror(rc));
		return;
	}
	if (uid != 0) {
		log_warnx("uid %u may not admit key %s: root only", uid, m.fp);
		conn_fail(c, OM_E_STATE, "admit %s: permission denied (root only)", m.fp);
		return;
	}
	if (admit_key(m.fp, &r) == -1) {
		conn_fail(c, OM_E_BUSY, "admit %s: %d keys admitted already", m.fp, ADMIT_KEYS_MAX);
		return;
	}
	if (r.asked)
		log_info("key %s admitted by uid 0 (node mac %s at %s waits; it joins at its next ask)",
		    m.fp, r.mac, r.ip);
	else
		log_info("key %s admitted by uid 0 (no node with it has asked yet)", m.fp);
	if ((rc = om_ctl_admit_reply_encode(&r, buf, sizeof buf)) < 0) {
		conn_fail(c, rc, "cannot encode CTL_ADMIT_REPLY: %s", om_strerror(rc));
		return;
	}
	(void)conn_send(c, OM_T_CTL_ADMIT_REPLY, 0, 0, buf, (size_t)rc);
}

void
admit_ctl_pending(struct conn *c, uint32_t len)
{
	struct om_pending *w;
	size_t cap = 4 + OM_PENDING_MAX * (size_t)(2 * (OM_STR_MAX + 2) + 6 + 8);
	uint8_t *buf;
	uint32_t n;
	int rc;

	if (len != 0) {
		conn_fail(c, OM_E_TRAILING, "bad CTL_PENDING: %s", om_strerror(OM_E_TRAILING));
		return;
	}
	w = calloc(OM_PENDING_MAX, sizeof *w);
	buf = malloc(cap);
	if (w == NULL || buf == NULL) {
		conn_fail(c, OM_E_BUSY, "out of memory");
	} else {
		n = admit_pending(w, OM_PENDING_MAX, ev_now_ms());
		if ((rc = om_pending_list_encode(w, n, buf, cap)) < 0)
			conn_fail(c, rc, "cannot encode CTL_PENDING_REPLY: %s", om_strerror(rc));
		else
			(void)conn_send(c, OM_T_CTL_PENDING_REPLY, 0, 0, buf, (size_t)rc);
	}
	free(w);
	free(buf);
}
