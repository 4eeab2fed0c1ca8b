/* cmdline.h - the node's kernel command line.
 *
 *   om.agent=A.B.C.D[:PORT]   agent address (default: the DHCP server, 7707)
 *   om.key=HEX                the agent's public key, 64 hex digits (`om-agent
 *                             --pubkey`); without it the node joins no agent
 *   om.ip=A.B.C.D/PREFIX[,GW] static address, skips DHCP
 *   om.selftest               run the built-in ring-3 check instead of jobs
 *   om.speed=N                report speed N (1..1000000) instead of the
 *                             boot-time measurement (an admin's correction,
 *                             or equal speeds for a test)
 *
 * The first word may be the image name (iPXE and QEMU put it there). Unknown
 * om.* options and malformed values are reported on the console and ignored;
 * the node then falls back to DHCP and the DHCP server's address. */
#ifndef OM_CMDLINE_H
#define OM_CMDLINE_H

#include "net.h"

struct node_options {
	struct net_config net;
	int selftest;
	uint32_t speed;            /* 0: measure */
};

/* Fills opt from the command line; returns the number of problems reported. */
int cmdline_parse(const char *cmdline, struct node_options *opt);
/* Parses "A.B.C.D" into network byte order; 0 on success, -1 if malformed. */
int cmdline_parse_ipv4(const char *s, const char *end, uint32_t *out);

#endif
