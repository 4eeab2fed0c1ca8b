/* cmdline.c - parses om.* options from the boot command line. */
#include <stdint.h>
#include <string.h>

#include "cmdline.h"
#include "console.h"
#include "hexkey.h"

static uint32_t be32(uint32_t host)
{
	return __builtin_bswap32(host);
}

static int parse_uint(const char *s, const char *end, uint32_t max, uint32_t *out)
{
	uint32_t v = 0;
	if (s == end || end - s > 10)
		return -1;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (uint32_t)(*s - '0');
		if (v > max)
			return -1;
	}
	*out = v;
	return 0;
}

int cmdline_parse_ipv4(const char *s, const char *end, uint32_t *out)
{
	uint32_t ip = 0;
	for (int i = 0; i < 4; i++) {
		const char *dot = s;
		while (dot < end && *dot != '.')
			dot++;
		if ((i < 3) != (dot < end))
			return -1;
		uint32_t octet;
		if (parse_uint(s, dot, 255, &octet) < 0)
			return -1;
		ip = ip << 8 | octet;
		s = dot + 1;
	}
	*out = be32(ip);
	return 0;
}

static int parse_agent(const char *v, const char *end, struct net_config *cfg)
{
	const char *colon = memchr(v, ':', (size_t)(end - v));
	uint32_t ip, port = 0;
	if (cmdline_parse_ipv4(v, colon ? colon : end, &ip) < 0)
		return -1;
	if (colon && (parse_uint(colon + 1, end, 65535, &port) < 0 || port == 0))
		return -1;
	cfg->agent_ip = ip;
	cfg->agent_port = (uint16_t)port;
	return 0;
}

static int parse_ip(const char *v, const char *end, struct net_config *cfg)
{
	const char *slash = memchr(v, '/', (size_t)(end - v));
	const char *comma = memchr(v, ',', (size_t)(end - v));
	uint32_t ip, prefix, gw = 0;
	if (!slash || (comma && comma < slash))
		return -1;
	if (cmdline_parse_ipv4(v, slash, &ip) < 0)
		return -1;
	if (parse_uint(slash + 1, comma ? comma : end, 32, &prefix) < 0 || prefix == 0)
		return -1;
	if (comma && cmdline_parse_ipv4(comma + 1, end, &gw) < 0)
		return -1;
	cfg->use_dhcp = 0;
	cfg->ip = ip;
	cfg->netmask = be32(prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> prefix));
	cfg->gw = gw;
	return 0;
}

static int parse_key(const char *v, const char *end, struct net_config *cfg)
{
	if (hexkey_parse(v, (size_t)(end - v), cfg->agent_key) < 0)
		return -1;
	cfg->have_agent_key = 1;
	return 0;
}

int cmdline_parse(const char *cmdline, struct node_options *opt)
{
	struct net_config *cfg = &opt->net;
	int problems = 0;
	memset(opt, 0, sizeof *opt);
	cfg->use_dhcp = 1;

	for (const char *p = cmdline; *p;) {
		while (*p == ' ' || *p == '\t')
			p++;
		const char *w = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (w == p)
			break;
		int len = (int)(p - w);
		const char *eq = memchr(w, '=', (size_t)len);
		int rc = 0;
		if (len >= 9 && !strncmp(w, "om.agent=", 9))
			rc = parse_agent(eq + 1, p, cfg);
		else if (len >= 7 && !strncmp(w, "om.key=", 7))
			rc = parse_key(eq + 1, p, cfg);
		else if (len >= 6 && !strncmp(w, "om.ip=", 6))
			rc = parse_ip(eq + 1, p, cfg);
		else if (len == 11 && !strncmp(w, "om.selftest", 11))
			opt->selftest = 1;
		else if (len >= 9 && !strncmp(w, "om.speed=", 9))
			rc = parse_uint(eq + 1, p, 1000000, &opt->speed) < 0 || opt->speed == 0 ? -1 : 0;
		else if (len > 3 && !strncmp(w, "om.", 3)) {
			kprintf("cmdline: unknown option '%.*s' ignored\n", len, w);
			problems++;
			continue;
		} else {
			continue; /* the image name, or options meant for someone else */
		}
		if (rc < 0) {
			kprintf("cmdline: bad value in '%.*s' ignored "
				"(expected om.agent=A.B.C.D[:PORT], om.key=64 hex digits, "
				"om.ip=A.B.C.D/PREFIX[,GATEWAY] or om.speed=1..1000000)\n",
				len, w);
			problems++;
		}
	}
	return problems;
}
