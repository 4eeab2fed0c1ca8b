/* om-migrate - asks for a running job to come home.
 *
 *   om-migrate [--control PATH] PID home
 *
 * PID is the job's pid at home (what ps shows for the program om-run
 * started). The node sends the job's image back; the process then goes on
 * natively, its deputy (om-run) exits when it does. Exit status: 0 when the
 * request was delivered, 1 when the agent refused it (no such job, not
 * yours), 2 for usage errors. Manual: docs/man/om-migrate.1. */
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
		   "  Brings the job whose program has PID at home back home.\n"
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
	if (argc - optind != 2 || strcmp(argv[optind + 1], "home") != 0) {
		if (argc - optind == 2)
			fprintf(stderr, "om-migrate: only 'home' is a target for now, not '%s'\n", argv[optind + 1]);
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
	struct om_job_migrate m = { .pid = (uint32_t)pid, .target = 0 };
	uint8_t buf[16], *reply = NULL;
	size_t len;
	int n = om_job_migrate_encode(&m, buf, sizeof buf);
	if (n < 0 || ctl_call(fd, OM_T_CTL_MIGRATE, buf, (size_t)n, OM_T_CTL_MIGRATE, &reply, &len, err, sizeof err) < 0) {
		fprintf(stderr, "om-migrate: %lu: %s\n", pid, n < 0 ? om_strerror(n) : err);
		close(fd);
		return 1;
	}
	free(reply);
	close(fd);
	printf("om-migrate: job of pid %lu is coming home\n", pid);
	return 0;
}
