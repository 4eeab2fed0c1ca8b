/* conf.c - agent.conf reader (see conf.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bufmem.h"
#include "conf.h"
#include "job_msg.h"
#include "sock.h"

#define CONF_LINE_MAX 8192 /* admit_macs may list 256 addresses */

int
conf_parse_ms(const char *s, uint32_t *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v == 0 || v > 86400000UL)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int
conf_parse_uint(const char *s, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	return s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 ? -1 : 0;
}

int
conf_parse_margin(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || !(*out >= 1.0 && *out <= 10.0) ?
	    -1 : 0;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		e--;
	*e = '\0';
	return s;
}

/* Applies one key; returns NULL or the reason it is refused. */
static const char *
conf_set(struct agent_conf *cf, const char *key, const char *val, unsigned *seen)
{
	static const char *const keys[] = {
		"listen", "control", "balance", "balance_margin", "home_cores", "home_speed",
		"heartbeat_ms", "down_after_ms", "drop_after_ms", "balance_ms", "balance_min_cpu_ms",
		"balance_min_stay_ms", "node_moves", "key_file", "admit", "admit_nets", "admit_macs",
		"confine", "jobs_per_user", "image_start_ms", "buffer_mib", "node_grace_ms",
		"checkpoint_every_ms", "checkpoint_max_pct"
	};
	struct sockaddr_in sin;
	uint32_t *ms[] = { NULL, NULL, NULL, NULL, NULL, NULL, &cf->heartbeat_ms, &cf->down_after_ms,
		&cf->drop_after_ms, &cf->balance_ms, &cf->balance_min_cpu_ms, &cf->balance_min_stay_ms, NULL, NULL, NULL, NULL, NULL, NULL,
		NULL, &cf->image_start_ms, NULL, &cf->node_grace_ms, NULL, NULL };
	unsigned long long v;
	unsigned i;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (strcmp(key, keys[i]) == 0)
			break;
	if (i == sizeof keys / sizeof keys[0])
		return "unknown key";
	if (*seen & 1u << i)
		return "key given twice";
	*seen |= 1u << i;
	if (val[0] == '\0')
		return "missing value";
	switch (i) {
	case 0:
		if (strlen(val) >= sizeof cf->listen || sock_parse_addr(val, &sin) == -1)
			return "not ADDR:PORT (IPv4)";
		strcpy(cf->listen, val);
		return NULL;
	case 1:
		if (strlen(val) >= sizeof cf->control)
			return "path too long for a Unix socket";
		strcpy(cf->control, val);
		return NULL;
	case 2:
	case 17:
		if (strcmp(val, "yes") != 0 && strcmp(val, "no") != 0)
			return "not yes or no";
		*(i == 2 ? &cf->balance : &cf->confine) = strcmp(val, "yes") == 0;
		return NULL;
	case 3:
		if (conf_parse_margin(val, &cf->balance_margin) == -1)
			return "not a number from 1.0 to 10.0";
		return NULL;
	case 4:
	case 5:
		if (conf_parse_uint(val, &v) == -1 || v > (i == 4 ? 1024ull : 1000000ull))
			return i == 4 ? "not a number of cores (0..1024)" : "not a speed (0..1000000)";
		if (i == 4)
			cf->home_cores = (int64_t)v;
		else
			cf->home_speed = (uint32_t)v;
		return NULL;
	case 12:
		if (strcmp(val, "relay") != 0 && strcmp(val, "home") != 0)
			return "not relay or home";
		cf->node_moves_relay = strcmp(val, "relay") == 0;
		return NULL;
	case 13:
		if (strlen(val) >= sizeof cf->key_file)
			return "path too long";
		strcpy(cf->key_file, val);
		return NULL;
	case 14:
		if (admit_parse_policy(val, &cf->admit.policy) == -1)
			return "not open, list or pairing";
		cf->admit_set = 1;
		return NULL;
	case 15:
		return admit_parse_nets(val, &cf->admit);
	case 16:
		return admit_parse_macs(val, &cf->admit);
	case 18:
		if (conf_parse_uint(val, &v) == -1 || v < 1 || v > OM_JOBS_MAX)
			return "not a number of jobs (1..4096)";
		cf->jobs_per_user = (uint32_t)v;
		return NULL;
	case 20:
		if (conf_parse_uint(val, &v) == -1 || v < 1 || v > BUFMEM_MAX_MIB)
			return "not a number of MiB (1..1048576)";
		cf->buffer_mib = (uint32_t)v;
		return NULL;
	case 22:
		if (conf_parse_uint(val, &v) == -1 || v < 100 || v > 86400000)
			return "not a number of milliseconds (100..86400000)";
		cf->checkpoint_every_ms = (uint32_t)v;
		return NULL;
	case 23:
		if (conf_parse_uint(val, &v) == -1 || v < 1 || v > OM_CKPT_PCT_MAX)
			return "not a percentage (1..50)";
		cf->checkpoint_max_pct = (uint32_t)v;
		return NULL;
	}
	if (conf_parse_ms(val, ms[i]) == -1)
		return "not a number of milliseconds (1..86400000)";
	return NULL;
}

int
conf_load(const char *path, int required, struct agent_conf *cf, char *err, size_t errlen)
{
	char line[CONF_LINE_MAX + 2], *s, *eq, *hash, *key, *val;
	const char *why;
	unsigned seen = 0, lineno = 0;
	FILE *f;
	int rc = 0;

	memset(cf, 0, sizeof *cf);
	cf->balance = -1;
	cf->home_cores = -1;
	cf->node_moves_relay = -1;
	cf->confine = -1;
	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT && !required)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line longer than %d bytes", path, lineno,
			    CONF_LINE_MAX);
			rc = -1;
			break;
		}
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		s = trim(line);
		if (*s == '\0')
			continue;
		if ((eq = strchr(s, '=')) == NULL) {
			snprintf(err, errlen, "%s:%u: expected \"key = value\"", path, lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		key = trim(s);
		val = trim(eq + 1);
		if ((why = conf_set(cf, key, val, &seen)) != NULL) {
			snprintf(err, errlen, "%s:%u: %s: %s", path, lineno, key, why);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	fclose(f);
	return rc;
}
