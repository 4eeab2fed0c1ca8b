/* admit_msg.h - the control frames of node admission (docs/security.md,
 * docs/protocol.md section 4):
 *
 *   CTL_ADMIT          om-ctl -> agent: str fingerprint ("xxxx-xxxx-xxxx-xxxx")
 *   CTL_ADMIT_REPLY    agent -> om-ctl: u8 asked (a waiting node has that
 *                      key), str mac, str ip (of that node; "" if none)
 *   CTL_PENDING        tool -> agent: empty
 *   CTL_PENDING_REPLY  agent -> tool: u32 count, then per waiting node:
 *                      str fingerprint, 6 bytes mac, str ip, u32 waited_s,
 *                      u32 asks
 *
 * Encoders return the payload length or a negative enum om_err; decoders
 * OM_OK or one. */
#ifndef OM_ADMIT_MSG_H
#define OM_ADMIT_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "noise.h"
#include "proto.h"

#define OM_PENDING_MAX 256   /* nodes waiting for om-ctl admit, at most */

struct om_ctl_admit {
	char fp[NOISE_FP_LEN + 1];
};

struct om_ctl_admit_reply {
	uint8_t asked;
	char mac[OM_STR_MAX + 1];   /* "52:54:00:12:34:56" */
	char ip[OM_STR_MAX + 1];
};

struct om_pending {
	char fp[NOISE_FP_LEN + 1];
	uint8_t mac[6];
	char ip[OM_STR_MAX + 1];
	uint32_t waited_s;          /* since its first ask */
	uint32_t asks;              /* HELLOs refused for it so far */
};

/* Whether s is a fingerprint as noise_fingerprint writes it. */
int om_fp_valid(const char *s);

int om_ctl_admit_encode(const struct om_ctl_admit *m, void *out, size_t cap);
int om_ctl_admit_decode(const void *buf, size_t len, struct om_ctl_admit *m);
int om_ctl_admit_reply_encode(const struct om_ctl_admit_reply *m, void *out, size_t cap);
int om_ctl_admit_reply_decode(const void *buf, size_t len, struct om_ctl_admit_reply *m);
int om_pending_list_encode(const struct om_pending *p, uint32_t n, void *out, size_t cap);
/* Up to max entries into p, their number into *n; more than max (or than
 * OM_PENDING_MAX) is OM_E_RANGE. */
int om_pending_list_decode(const void *buf, size_t len, struct om_pending *p, uint32_t max, uint32_t *n);

#endif
