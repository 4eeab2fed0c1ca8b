/* conf.c - agent.conf reader (see conf.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "sock.h"

#define CONF_LINE_MAX 1024

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
		"listen", "control", "heartbeat_ms", "down_after_ms", "drop_after_ms"
	};
	struct sockaddr_in sin;
	uint32_t *ms[] = { NULL, NULL, &cf->heartbeat_ms, &cf->down_after_ms, &cf->drop_after_ms };
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
