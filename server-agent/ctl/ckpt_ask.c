/* ckpt_ask.c - om-checkpoint PID FILE (see ckpt_ask.h). The agent passes
 * the request to the job's om-run, whose deputy writes the file as the
 * job's user, the way --checkpoint-every does (a new file renamed over
 * FILE once whole); this waits for FILE to be replaced. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ckpt_ask.h"
#include "ctl_client.h"
#include "job_msg.h"
#include "proto.h"

#define ASK_WAIT_MS OM_IMAGE_QUIET_MS /* an image longer in coming is lost */

static int
say_err(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "om-checkpoint: ");
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	return 1;
}

/* FILE made absolute, its directory resolved (it must exist). */
static int
absolute(const char *file, char *out, size_t len)
{
	char dirbuf[PATH_MAX], basebuf[PATH_MAX], real[PATH_MAX];

	if (strlen(file) >= sizeof dirbuf || !*file)
		return -1;
	strcpy(dirbuf, file);
	strcpy(basebuf, file);
	const char *base = basename(basebuf);
	if (!strcmp(base, ".") || !strcmp(base, "..") || !strcmp(base, "/") || !realpath(dirname(dirbuf), real))
		return -1;
	return snprintf(out, len, "%s/%s", strcmp(real, "/") ? real : "", base) < (int)len ? 0 : -1;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
ckpt_ask(const char *control, const char *pid_arg, const char *file)
{
	struct om_ctl_checkpoint m;
	struct stat before, st;
	char err[256], *end;
	uint8_t buf[8 + OM_PATH_MAX], *reply = NULL;
	size_t len;

	errno = 0;
	unsigned long pid = strtoul(pid_arg, &end, 10);
	if (*pid_arg < '1' || *pid_arg > '9' || *end || errno || pid > 0x7fffffffUL) {
		fprintf(stderr, "om-checkpoint: invalid pid '%s'\n", pid_arg);
		return 2;
	}
	memset(&m, 0, sizeof m);
	m.pid = (uint32_t)pid;
	if (absolute(file, m.path, sizeof m.path) != 0)
		return say_err("%s: not a file in a directory that exists%s", file, "");
	if (strlen(m.path) + sizeof ".XXXXXX" > PATH_MAX)
		return say_err("%s: too long a path%s", file, "");
	if (stat(m.path, &st) == 0 && !S_ISREG(st.st_mode))
		return say_err("%s: not a regular file%s", file, "");
	for (const char *c = m.path; *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			return say_err("%s: only printable ASCII in the path, for now%s", file, "");
	char dir[sizeof m.path];
	snprintf(dir, sizeof dir, "%s", m.path);
	*strrchr(dir, '/') = '\0';
	if (access(dir[0] ? dir : "/", W_OK) != 0) /* the deputy writes as the job's user: the caller's */
		return say_err("%s: %s", dir[0] ? dir : "/", strerror(errno));
	int had = stat(m.path, &before) == 0;

	const char *path = ctl_path(control);
	int fd = ctl_connect(path);
	if (fd < 0)
		return say_err("%s: %s", path, strerror(errno));
	int n = om_ctl_checkpoint_encode(&m, buf, sizeof buf);
	if (n < 0 || ctl_call(fd, OM_T_CTL_CHECKPOINT, buf, (size_t)n, OM_T_CTL_CHECKPOINT, &reply, &len, err,
			      sizeof err) < 0) {
		fprintf(stderr, "om-checkpoint: %lu: %s\n", pid, n < 0 ? om_strerror(n) : err);
		close(fd);
		return 1;
	}
	free(reply);
	close(fd);
	/* The deputy renames a whole image over FILE: a new inode. */
	for (uint64_t until = now_ms() + ASK_WAIT_MS; now_ms() < until; usleep(50 * 1000))
		if (stat(m.path, &st) == 0 && (!had || st.st_ino != before.st_ino || st.st_dev != before.st_dev)) {
			printf("om-checkpoint: job of pid %lu saved in %s (%lld bytes)\n", pid, m.path,
			       (long long)st.st_size);
			return 0;
		}
	fprintf(stderr, "om-checkpoint: %lu: no checkpoint in %s within %d s (the job ended or came home, or its "
		"om-run could not write there: it says why)\n", pid, m.path, ASK_WAIT_MS / 1000);
	return 1;
}
