/* om-migrate - moves a running process: home, to a node, or where the
 * agent's balancer would put it.
 *
 *   om-migrate [--control PATH] PID home
 *   om-migrate [--control PATH] PID node N
 *   om-migrate [--control PATH] PID balance
 *
 * PID is the job's pid at home (what ps shows for the program om-run
 * started). The node sends the job's image back; home, the process goes on
 * natively, its deputy (om-run) exits when it does; for node N, om-run
 * sends it on to node N from there; balance names the node (or home) the
 * agent chose. Exit status: 0 when the request was delivered, 1 when the
 * agent refused it (no such job, not yours, node N not up or where it runs
 * already, balance finding no better place), 2 for usage errors. Manual:
 * docs/man/om-migrate.1. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_client.h"
#include "job_msg.h"
#include "proto.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: om-migrate [--control PATH] PID home\n"
		   "       om-migrate [--control PATH] PID node N\n"
		   "       om-migrate [--control PATH] PID balance\n"
		   "  Brings the process PID (its pid at home) back home, moves it to node N, or\n"
		   "  moves it where the agent's balancer would put it now.\n"
		   "  --control PATH   agent control socket (default $OM_CONTROL, else %s)\n"
		   "  -h, --help       show this help\n",
		CTL_DEFAULT_PATH);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "control", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *control = NULL;
	char err[256], *end;
	int ch;

	opterr = 0; /* our own messages: getopt's would name the full path */
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': control = optarg; break;
		case 'h': usage(stdout); return 0;
		default:
			fprintf(stderr, "om-migrate: unknown option or missing value: '%s'\n", argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	unsigned long target = 0;
	int args = argc - optind;
	if (args == 3 && strcmp(argv[optind + 1], "node") == 0) {
		errno = 0;
		target = strtoul(argv[optind + 2], &end, 10);
		if (*argv[optind + 2] < '1' || *argv[optind + 2] > '9' || *end || errno || target > 0xffffffffUL) {
			fprintf(stderr, "om-migrate: invalid node id '%s'\n", argv[optind + 2]);
			return 2;
		}
	} else if (args == 2 && strcmp(argv[optind + 1], "balance") == 0) {
		target = OM_MIGRATE_BALANCE;
	} else if (args != 2 || strcmp(argv[optind + 1], "home") != 0) {
		if (args >= 2)
			fprintf(stderr, "om-migrate: the target is 'home', 'node N' or 'balance', not '%s'\n",
			    argv[optind + 1]);
		usage(stderr);
		return 2;
	}
	errno = 0;
	unsigned long pid = strtoul(argv[optind], &end, 10);
	if (*argv[optind] < '1' || *argv[optind] > '9' || *end || errno || pid > 0x7fffffffUL) {
		fprintf(stderr, "om-migrate: invalid pid '%s'\n", argv[optind]);
		return 2;
	}
	const char *path = ctl_path(control);
	int fd = ctl_connect(path);
	if (fd < 0) {
		fprintf(stderr, "om-migrate: %s: %s\n", path, strerror(errno));
		return 1;
	}
	struct om_job_migrate m = { .pid = (uint32_t)pid, .target = (uint32_t)target };
	uint8_t buf[16], *reply = NULL;
	size_t len;
	int n = om_job_migrate_encode(&m, buf, sizeof buf);
	if (n < 0 || ctl_call(fd, OM_T_CTL_MIGRATE, buf, (size_t)n, OM_T_CTL_MIGRATE, &reply, &len, err, sizeof err) < 0) {
		fprintf(stderr, "om-migrate: %lu: %s\n", pid, n < 0 ? om_strerror(n) : err);
		close(fd);
		return 1;
	}
	/* The answer names the target (the balancer's choice for balance). */
	if (om_job_migrate_decode(reply, len, &m) != OM_OK || (target != OM_MIGRATE_BALANCE && m.target != target) ||
	    m.target == OM_MIGRATE_BALANCE) {
		fprintf(stderr, "om-migrate: %lu: the agent's answer is malformed\n", pid);
		free(reply);
		close(fd);
		return 1;
	}
	target = m.target;
	free(reply);
	close(fd);
	if (target)
		printf("om-migrate: job of pid %lu is moving to node %lu\n", pid, target);
	else
		printf("om-migrate: job of pid %lu is coming home\n", pid);
	return 0;
}
