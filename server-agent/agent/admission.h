/* admission.h - which nodes may join (agent.conf's admit, docs/security.md).
 *
 *   open     any node whose link authenticated the agent (a closed lab
 *            network)
 *   list     a node whose address is in admit_nets and whose MAC is in
 *            admit_macs (each checked when given; at least one is)
 *   pairing  a node whose key the admin admitted: it shows its key's
 *            fingerprint on its screen and asks again every few seconds
 *            until `om-ctl admit FINGERPRINT`; node keys are made at each
 *            boot, so a node is admitted for that boot
 *
 * Nodes waiting for admission are remembered (at most OM_PENDING_MAX, the
 * longest-waiting forgotten first) for om-ctl pending and the log. */
#ifndef OM_ADMISSION_H
#define OM_ADMISSION_H

#include <stddef.h>
#include <stdint.h>

#include "admit_msg.h"
#include "noise.h"

#define ADMIT_NETS_MAX 32
#define ADMIT_MACS_MAX 256
#define ADMIT_KEYS_MAX 4096    /* keys admitted by om-ctl admit */

enum admit_policy { ADMIT_OPEN, ADMIT_LIST, ADMIT_PAIRING };

struct admit_cfg {
	enum admit_policy policy;
	struct { uint32_t net, mask; } nets[ADMIT_NETS_MAX]; /* host byte order */
	int nnets;
	uint8_t macs[ADMIT_MACS_MAX][6];
	int nmacs;
};

/* Parses "open", "list" or "pairing"; 0 or -1. */
int admit_parse_policy(const char *s, enum admit_policy *out);
/* Parses "A.B.C.D/N, ..." into cfg->nets: NULL, or the reason it is refused. */
const char *admit_parse_nets(const char *s, struct admit_cfg *cfg);
/* Parses "aa:bb:cc:dd:ee:ff, ..." into cfg->macs: NULL, or the reason. */
const char *admit_parse_macs(const char *s, struct admit_cfg *cfg);

void admit_configure(const struct admit_cfg *cfg);
const char *admit_policy_name(void);
/* A HELLO from key (fingerprint fp) with this mac from ip: 0 admitted, or
 * -1 with the reason for the node (ERROR OM_E_ADMIT) in why. now: ms. */
int admit_check(const char *fp, const uint8_t mac[6], const char *ip, uint64_t now, char *why,
    size_t len);
/* om-ctl admit: admits fp for this agent's lifetime; *r says whether a
 * waiting node had it. 0, or -1 when the admitted table is full. */
int admit_key(const char *fp, struct om_ctl_admit_reply *r);
/* The waiting nodes, longest waiting first; returns their number. */
uint32_t admit_pending(struct om_pending *out, uint32_t max, uint64_t now);

#endif
