/* om-ctl - the admin's levers on nodes.
 *
 *   om-ctl [--control PATH] [--json] drain|block|unblock|expel|reboot NODE...
 *   om-ctl [--control PATH] [--json] admit KEY...
 *   om-ctl [--control PATH] [--json] pending
 *
 * admit: a node whose key has that fingerprint (shown on its screen) may
 * join under the pairing policy (agent.conf admit = pairing); pending:
 * the nodes waiting for that, anyone may list them.
 *
 * drain: the node's jobs leave (to a free core elsewhere, else home) and it
 * takes no new ones; block: no new jobs, its jobs stay; unblock: ends a
 * block or a drain; expel: its jobs go home now, no new ones; reboot: the
 * node sends its jobs away and restarts into its boot menu's default
 * entry. Root only (the agent checks). Each NODE is asked on its own
 * connection, so one refusal does not stop the others. Exit status: 0 when
 * the agent did it for every NODE, 1 when it refused one or could not be
 * asked, 2 for usage errors. Manual: docs/man/om-ctl.1. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_admit.h"
#include "ctl_client.h"
#include "proto.h"

static const char *const actions[] = {
	[OM_CTL_DRAIN] = "drain", [OM_CTL_BLOCK] = "block", [OM_CTL_UNBLOCK] = "unblock",
	[OM_CTL_EXPEL] = "expel", [OM_CTL_REBOOT] = "reboot",
};

static void usage(FILE *f)
{
	fprintf(f, "usage: om-ctl [--control PATH] [--json] drain|block|unblock|expel|reboot NODE...\n"
		   "       om-ctl [--control PATH] [--json] admit KEY... | pending\n"
		   "  drain    its jobs leave (to a free core elsewhere, else home), no new ones\n"
		   "  block    no new jobs; its jobs stay\n"
		   "  unblock  it takes jobs again (ends block and drain)\n"
		   "  expel    its jobs go home now, no new ones\n"
		   "  reboot   it sends its jobs away and restarts into its boot menu\n"
		   "  admit    the node with this key (xxxx-xxxx-xxxx-xxxx, on its screen) may join\n"
		   "  pending  list the nodes waiting to be admitted\n"
		   "  --control PATH   agent control socket (default $OM_CONTROL, else %s)\n"
		   "  --json           one JSON document on stdout\n"
		   "  -h, --help       show this help\n",
		CTL_DEFAULT_PATH);
}

/* Asks the agent for one node; 0 with *r, or -1 with the reason in err. */
static int ask(const char *path, uint8_t action, uint32_t node, struct om_ctl_node_reply *r, char *err,
	       size_t errlen)
{
	struct om_ctl_node m = { .action = action, .node = node };
	uint8_t buf[16], *reply = NULL;
	size_t len;
	int fd, rc = -1;
	int n = om_ctl_node_encode(&m, buf, sizeof buf);

	if (n < 0) {
		snprintf(err, errlen, "%s", om_strerror(n));
		return -1;
	}
	if ((fd = ctl_connect(path)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (ctl_call(fd, OM_T_CTL_NODE, buf, (size_t)n, OM_T_CTL_NODE_REPLY, &reply, &len, err, errlen) == 0) {
		if (om_ctl_node_reply_decode(reply, len, r) != OM_OK || r->node != node)
			snprintf(err, errlen, "the agent's answer is malformed");
		else
			rc = 0;
	}
	free(reply);
	close(fd);
	return rc;
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

static const char *flags_str(uint8_t flags, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s", flags ? "" : "open", flags & OM_NODE_F_BLOCKED ? " blocked" : "",
		 flags & OM_NODE_F_DRAINING ? " draining" : "", flags & OM_NODE_F_LEAVING ? " leaving" : "");
	return buf[0] == ' ' ? buf + 1 : buf;
}

/* om-ctl admit KEY...: each on its own connection. */
static int admit(const char *path, char **keys, int n, int json)
{
	int failed = 0;

	if (json)
		printf("{\"action\":\"admit\",\"keys\":[");
	for (int i = 0; i < n; i++) {
		struct om_ctl_admit_reply r;
		char err[256];
		int rc = ctl_admit(path, keys[i], &r, err, sizeof err);

		failed |= rc != 0;
		if (json) {
			printf("%s{\"key\":", i ? "," : "");
			json_str(keys[i]);
			printf(",\"ok\":%s", rc ? "false" : "true");
			if (rc) {
				printf(",\"error\":");
				json_str(err);
			} else {
				printf(",\"asked\":%s,\"mac\":", r.asked ? "true" : "false");
				json_str(r.mac);
				printf(",\"ip\":");
				json_str(r.ip);
			}
			putchar('}');
		} else if (rc)
			fprintf(stderr, "om-ctl: key %s: %s\n", keys[i], err);
		else if (r.asked)
			printf("om-ctl: key %s admitted; node %s at %s joins at its next try (within 5 s)\n", keys[i],
			       r.mac, r.ip);
		else
			printf("om-ctl: key %s admitted; no node with it has asked yet\n", keys[i]);
	}
	if (json)
		printf("]}\n");
	return failed ? 1 : 0;
}

static int pending(const char *path, int json)
{
	struct om_pending *p = calloc(OM_PENDING_MAX, sizeof *p);
	char err[256];
	uint32_t n;

	if (!p || ctl_pending(path, p, &n, err, sizeof err) != 0) {
		fprintf(stderr, "om-ctl: pending: %s\n", p ? err : "out of memory");
		free(p);
		return 1;
	}
	if (json)
		printf("{\"pending\":[");
	else
		printf("%-19s  %-17s  %-15s  %8s  %5s\n", "KEY", "MAC", "ADDRESS", "WAITING", "ASKS");
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *m = p[i].mac;
		char mac[18];

		snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
		if (json) {
			printf("%s{\"key\":\"%s\",\"mac\":\"%s\",\"ip\":", i ? "," : "", p[i].fp, mac);
			json_str(p[i].ip);
			printf(",\"waited_s\":%u,\"asks\":%u}", p[i].waited_s, p[i].asks);
		} else
			printf("%-19s  %-17s  %-15s  %7us  %5u\n", p[i].fp, mac, p[i].ip, p[i].waited_s, p[i].asks);
	}
	if (json)
		printf("]}\n");
	free(p);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "control", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *control = NULL;
	int ch, json = 0, failed = 0;
	uint8_t action = 0;

	opterr = 0; /* our own messages: getopt's would name the full path */
	while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': control = optarg; break;
		case 'j': json = 1; break;
		case 'h': usage(stdout); return 0;
		default:
			fprintf(stderr, "om-ctl: unknown option or missing value: '%s'\n", argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind == 1 && strcmp(argv[optind], "pending") == 0)
		return pending(ctl_path(control), json);
	if (argc - optind < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[optind], "admit") == 0)
		return admit(ctl_path(control), argv + optind + 1, argc - optind - 1, json);
	for (uint8_t a = OM_CTL_DRAIN; a <= OM_CTL_REBOOT; a++)
		if (strcmp(argv[optind], actions[a]) == 0)
			action = a;
	if (!action) {
		fprintf(stderr, "om-ctl: unknown action '%s' (drain, block, unblock, expel, reboot, admit or pending)\n",
			argv[optind]);
		return 2;
	}
	/* Every id is checked before the first is acted on. */
	uint32_t *ids = calloc((size_t)(argc - optind - 1), sizeof *ids);
	if (!ids) {
		fprintf(stderr, "om-ctl: out of memory\n");
		return 1;
	}
	for (int i = optind + 1; i < argc; i++) {
		char *end;
		errno = 0;
		unsigned long id = strtoul(argv[i], &end, 10);
		if (*argv[i] < '1' || *argv[i] > '9' || *end || errno || id > 0xffffffffUL) {
			fprintf(stderr, "om-ctl: invalid node id '%s'\n", argv[i]);
			free(ids);
			return 2;
		}
		ids[i - optind - 1] = (uint32_t)id;
	}
	const char *path = ctl_path(control);
	if (json)
		printf("{\"action\":\"%s\",\"nodes\":[", actions[action]);
	for (int i = 0; i < argc - optind - 1; i++) {
		struct om_ctl_node_reply r;
		char err[256], fl[40];
		int rc = ask(path, action, ids[i], &r, err, sizeof err);
		failed |= rc != 0;
		if (json) {
			printf("%s{\"node\":%u,\"ok\":%s", i ? "," : "", ids[i], rc ? "false" : "true");
			if (rc) {
				printf(",\"error\":");
				json_str(err);
			} else {
				printf(",\"blocked\":%s,\"draining\":%s,\"leaving\":%s,\"moving\":%u",
				       r.flags & OM_NODE_F_BLOCKED ? "true" : "false",
				       r.flags & OM_NODE_F_DRAINING ? "true" : "false",
				       r.flags & OM_NODE_F_LEAVING ? "true" : "false", r.moving);
			}
			putchar('}');
		} else if (rc) {
			fprintf(stderr, "om-ctl: node %u: %s\n", ids[i], err);
		} else {
			printf("om-ctl: node %u: %s: %u job(s) leaving; now %s\n", ids[i], actions[action], r.moving,
			       flags_str(r.flags, fl, sizeof fl));
		}
	}
	if (json)
		printf("]}\n");
	free(ids);
	return failed ? 1 : 0;
}
