/* admission.c - the admission policy and the nodes waiting for it (see
 * admission.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admission.h"
#include "log.h"

static struct admit_cfg ad_cfg;
/* Fingerprints admitted by om-ctl admit, in order; never reused while
 * the agent runs (a key is made per boot, so they do not pile up fast). */
static char (*ad_keys)[NOISE_FP_LEN + 1];
static int ad_nkeys;
/* A node that stopped asking (it was switched off, or admitted another
 * way) leaves the waiting list after this long. */
#define ADMIT_WAIT_FORGET_MS 60000

static struct {
	struct om_pending p;
	uint64_t first_ms, last_ms;
} ad_wait[OM_PENDING_MAX];
static int ad_nwait;

int
admit_parse_policy(const char *s, enum admit_policy *out)
{
	if (strcmp(s, "open") == 0)
		*out = ADMIT_OPEN;
	else if (strcmp(s, "list") == 0)
		*out = ADMIT_LIST;
	else if (strcmp(s, "pairing") == 0)
		*out = ADMIT_PAIRING;
	else
		return -1;
	return 0;
}

/* The next comma-separated item of *s (spaces around it dropped) into
 * buf; 0 at the end, -1 when an item is empty or too long. */
static int
next_item(const char **s, char *buf, size_t len)
{
	const char *p = *s, *end;
	size_t n;

	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0')
		return 0;
	for (end = p; *end != ',' && *end != '\0'; end++)
		;
	*s = *end == ',' ? end + 1 : end;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	n = (size_t)(end - p);
	if (n == 0 || n >= len)
		return -1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return 1;
}

const char *
admit_parse_nets(const char *s, struct admit_cfg *cfg)
{
	char item[32], *slash, *end;
	struct in_addr a;
	unsigned long bits;
	int rc;

	cfg->nnets = 0;
	while ((rc = next_item(&s, item, sizeof item)) != 0) {
		if (rc < 0 || (slash = strchr(item, '/')) == NULL)
			return "not a list of A.B.C.D/BITS";
		*slash = '\0';
		bits = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || slash[1] == '\0' || bits > 32 || inet_pton(AF_INET, item, &a) != 1)
			return "not a list of A.B.C.D/BITS";
		if (cfg->nnets == ADMIT_NETS_MAX)
			return "more than 32 networks";
		cfg->nets[cfg->nnets].mask = bits == 0 ? 0 : 0xffffffffu << (32 - bits);
		cfg->nets[cfg->nnets].net = ntohl(a.s_addr) & cfg->nets[cfg->nnets].mask;
		cfg->nnets++;
	}
	return cfg->nnets > 0 ? NULL : "empty list";
}

const char *
admit_parse_macs(const char *s, struct admit_cfg *cfg)
{
	char item[32];
	unsigned v[6];
	int rc, i, used;

	cfg->nmacs = 0;
	while ((rc = next_item(&s, item, sizeof item)) != 0) {
		if (rc < 0 || sscanf(item, "%2x:%2x:%2x:%2x:%2x:%2x%n", &v[0], &v[1], &v[2], &v[3], &v[4],
			&v[5], &used) != 6 || used != 17 || item[17] != '\0')
			return "not a list of MAC addresses (aa:bb:cc:dd:ee:ff)";
		if (cfg->nmacs == ADMIT_MACS_MAX)
			return "more than 256 MAC addresses";
		for (i = 0; i < 6; i++)
			cfg->macs[cfg->nmacs][i] = (uint8_t)v[i];
		cfg->nmacs++;
	}
	return cfg->nmacs > 0 ? NULL : "empty list";
}

void
admit_configure(const struct admit_cfg *cfg)
{
	ad_cfg = *cfg;
}

const char *
admit_policy_name(void)
{
	return ad_cfg.policy == ADMIT_OPEN ? "open" : ad_cfg.policy == ADMIT_LIST ? "list" : "pairing";
}

static int
admit_listed(const uint8_t mac[6], const char *ip)
{
	struct in_addr a;
	uint32_t h;
	int i, ok;

	if (ad_cfg.nnets > 0) {
		if (inet_pton(AF_INET, ip, &a) != 1)
			return 0;
		h = ntohl(a.s_addr);
		for (ok = 0, i = 0; i < ad_cfg.nnets && !ok; i++)
			ok = (h & ad_cfg.nets[i].mask) == ad_cfg.nets[i].net;
		if (!ok)
			return 0;
	}
	if (ad_cfg.nmacs > 0) {
		for (ok = 0, i = 0; i < ad_cfg.nmacs && !ok; i++)
			ok = memcmp(ad_cfg.macs[i], mac, 6) == 0;
		if (!ok)
			return 0;
	}
	return 1;
}

static int
admit_known(const char *fp)
{
	int i;

	for (i = 0; i < ad_nkeys; i++)
		if (strcmp(ad_keys[i], fp) == 0)
			return 1;
	return 0;
}

static int
wait_find(const char *fp)
{
	int i;

	for (i = 0; i < ad_nwait; i++)
		if (strcmp(ad_wait[i].p.fp, fp) == 0)
			return i;
	return -1;
}

static void
wait_drop(int i)
{
	memmove(&ad_wait[i], &ad_wait[i + 1], (size_t)(ad_nwait - i - 1) * sizeof ad_wait[0]);
	ad_nwait--;
}

/* Notes a refused node; the first ask of a key is logged, not each retry. */
static void
wait_note(const char *fp, const uint8_t mac[6], const char *ip, uint64_t now)
{
	int i = wait_find(fp);

	if (i < 0) {
		if (ad_nwait == OM_PENDING_MAX)
			wait_drop(0); /* the longest waiting is forgotten first */
		i = ad_nwait++;
		memset(&ad_wait[i], 0, sizeof ad_wait[i]);
		snprintf(ad_wait[i].p.fp, sizeof ad_wait[i].p.fp, "%s", fp);
		ad_wait[i].first_ms = now;
		log_info("%s: node mac %02x:%02x:%02x:%02x:%02x:%02x key %s waits for admission "
		    "(om-ctl admit %s)", ip, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], fp, fp);
	}
	memcpy(ad_wait[i].p.mac, mac, 6);
	snprintf(ad_wait[i].p.ip, sizeof ad_wait[i].p.ip, "%s", ip);
	ad_wait[i].p.asks++;
	ad_wait[i].last_ms = now;
}

int
admit_check(const char *fp, const uint8_t mac[6], const char *ip, uint64_t now, char *why,
    size_t len)
{
	switch (ad_cfg.policy) {
	case ADMIT_OPEN:
		return 0;
	case ADMIT_LIST:
		if (admit_listed(mac, ip))
			return 0;
		snprintf(why, len, "address %s or MAC not in admit_nets/admit_macs", ip);
		log_warnx("%s: node mac %02x:%02x:%02x:%02x:%02x:%02x key %s refused: not in "
		    "admit_nets/admit_macs", ip, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], fp);
		return -1;
	case ADMIT_PAIRING:
		if (admit_known(fp)) {
			int i = wait_find(fp);

			if (i >= 0)
				wait_drop(i);
			return 0;
		}
		wait_note(fp, mac, ip, now);
		snprintf(why, len, "not admitted yet: om-ctl admit %s", fp);
		return -1;
	}
	return -1;
}

int
admit_key(const char *fp, struct om_ctl_admit_reply *r)
{
	int i = wait_find(fp);

	memset(r, 0, sizeof *r);
	if (i >= 0) {
		const uint8_t *m = ad_wait[i].p.mac;

		r->asked = 1;
		snprintf(r->mac, sizeof r->mac, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
		    m[4], m[5]);
		snprintf(r->ip, sizeof r->ip, "%s", ad_wait[i].p.ip);
	}
	if (admit_known(fp))
		return 0;
	if (ad_keys == NULL && (ad_keys = calloc(ADMIT_KEYS_MAX, sizeof *ad_keys)) == NULL)
		return -1;
	if (ad_nkeys == ADMIT_KEYS_MAX)
		return -1;
	snprintf(ad_keys[ad_nkeys++], sizeof ad_keys[0], "%s", fp);
	return 0;
}

uint32_t
admit_pending(struct om_pending *out, uint32_t max, uint64_t now)
{
	uint32_t n = 0;
	int i;

	for (i = 0; i < ad_nwait;)
		if (now - ad_wait[i].last_ms > ADMIT_WAIT_FORGET_MS)
			wait_drop(i);
		else
			i++;
	for (i = 0; i < ad_nwait && n < max; i++, n++) {
		out[n] = ad_wait[i].p;
		out[n].waited_s = (uint32_t)((now - ad_wait[i].first_ms) / 1000);
	}
	return n;
}
