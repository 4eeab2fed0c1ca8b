/* stats.c - where each process of a job ran (stats.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stats.h"

static uint64_t mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

void stats_begin(struct proc_stats *s, pid_t pid)
{
	memset(s, 0, sizeof *s);
	s->pid = pid;
	s->since_ms = mono_ms();
}

/* Closes the stretch that ends now. */
static void stretch_end(struct proc_stats *s, uint64_t now)
{
	uint64_t ms = now - s->since_ms;
	if (s->n > 0 && s->st[s->n - 1].where == s->where) {
		s->st[s->n - 1].ms += ms;
	} else if (s->n < STATS_STRETCHES) {
		s->st[s->n].where = s->where;
		s->st[s->n++].ms = ms;
	} else {
		s->st[s->n - 1].ms += ms; /* the rest of a long story joins its end */
	}
	s->since_ms = now;
}

void stats_move(struct proc_stats *s, uint32_t where)
{
	stretch_end(s, mono_ms());
	s->where = where;
	s->migrations++;
}

void stats_born_on(struct proc_stats *s, uint32_t where)
{
	s->where = where;
	s->since_ms = mono_ms();
}

void stats_command(struct proc_stats *s, const char *cmd)
{
	snprintf(s->cmd, sizeof s->cmd, "%s", cmd);
}

uint64_t stats_home_cpu_ms(pid_t pid)
{
	char path[64], buf[1024], *rp;
	unsigned long long ut = 0, st = 0;
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (!(rp = strrchr(buf, ')')) ||
	    sscanf(rp + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return 0;
	long hz = sysconf(_SC_CLK_TCK);
	return (ut + st) * 1000 / (uint64_t)(hz > 0 ? hz : 100);
}

/* cmd as a JSON string body: it is printable ASCII (job_submit_fill's
 * rule); quotes and backslashes are escaped. */
static int json_cmd(char *out, size_t len, const char *cmd)
{
	size_t k = 0;
	for (; *cmd && k + 3 < len; cmd++) {
		if (*cmd == '"' || *cmd == '\\')
			out[k++] = '\\';
		out[k++] = *cmd >= 0x20 && *cmd <= 0x7e ? *cmd : '?';
	}
	out[k] = '\0';
	return (int)k;
}

/* Writes one line without ever blocking: the collector drains the pipe
 * as lines come, so a full pipe is a burst and waiting a little is enough;
 * a collector that stopped reading costs the line, never the deputy. */
static int line_send(int fd, const char *line, size_t len)
{
	for (int tries = 0;;) {
		ssize_t n = write(fd, line, len);
		if (n == (ssize_t)len)
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && tries++ < STATS_TRIES) {
			struct pollfd pfd = { fd, POLLOUT, 0 };
			(void)poll(&pfd, 1, STATS_WAIT_MS);
			continue;
		}
		return -1; /* a pipe write below PIPE_BUF is all or nothing */
	}
}

void stats_send(struct proc_stats *s, int fd)
{
	char line[STATS_LINE_MAX], cmd[2 * OM_CMD_MAX + 4];
	stretch_end(s, mono_ms());
	json_cmd(cmd, sizeof cmd, s->cmd);
	int k = snprintf(line, sizeof line,
			 "{\"pid\":%d,\"migrations\":%u,\"node_cpu_s\":%.3f,\"home_cpu_s\":%.3f,\"command\":\"%s\",\"ran\":[",
			 (int)s->pid, s->migrations, s->node_cpu_ns / 1e9, s->home_cpu_ms / 1e3, cmd);
	for (unsigned i = 0; i < s->n && k > 0 && (size_t)k < sizeof line - 64; i++) {
		char where[24];
		if (s->st[i].where)
			snprintf(where, sizeof where, "node %u", s->st[i].where);
		else
			snprintf(where, sizeof where, "home");
		k += snprintf(line + k, sizeof line - (size_t)k, "%s{\"where\":\"%s\",\"seconds\":%.3f}",
			      i ? "," : "", where, s->st[i].ms / 1e3);
	}
	if (k > 0 && (size_t)k < sizeof line - 4)
		k += snprintf(line + k, sizeof line - (size_t)k, "]}\n");
	if (fd >= 0 && k > 0 && (size_t)k < sizeof line && line_send(fd, line, (size_t)k) != 0)
		fprintf(stderr, "om-run: --stats: the line of pid %d is lost: %s\n", (int)s->pid, strerror(errno));
}

/* Every line from fd until the last writer is gone, then the summary to
 * f. Returns 0, or -1 with errno. */
static int summary(int fd, FILE *f)
{
	size_t cap = 1 << 16, len = 0;
	char *all = malloc(cap);
	ssize_t n;
	if (!all)
		return -1;
	for (;;) {
		if (len + STATS_LINE_MAX + 1 > cap) {
			char *more = realloc(all, cap * 2);
			if (!more) {
				free(all);
				return -1;
			}
			all = more;
			cap *= 2;
		}
		n = read(fd, all + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	all[len] = '\0';
	unsigned procs = 0, moves = 0;
	double node = 0, home = 0;
	for (char *l = all; *l; ) {
		char *end = strchr(l, '\n');
		unsigned m;
		double nc, hc;
		int pid;
		if (!end)
			break;
		if (sscanf(l, "{\"pid\":%d,\"migrations\":%u,\"node_cpu_s\":%lf,\"home_cpu_s\":%lf", &pid, &m, &nc,
			   &hc) == 4) {
			procs++;
			moves += m;
			node += nc;
			home += hc;
		}
		l = end + 1;
	}
	fprintf(f, "{\"processes\":%u,\"migrations\":%u,\"node_cpu_s\":%.3f,\"home_cpu_s\":%.3f,\"list\":[",
		procs, moves, node, home);
	int first = 1;
	for (char *l = all; *l; ) {
		char *end = strchr(l, '\n');
		if (!end)
			break;
		*end = '\0';
		if (l[0] == '{') {
			fprintf(f, "%s\n%s", first ? "" : ",", l);
			first = 0;
		}
		l = end + 1;
	}
	fprintf(f, "\n]}\n");
	free(all);
	return ferror(f) ? -1 : 0;
}

/* The collector, in its own process: it outlives what ends om-run's job
 * (Ctrl-C, a kill of the group) to write what the deputies said, and
 * holds nothing of the terminal's but stderr. */
static void __attribute__((noreturn)) collect(int fd, FILE *f, const char *path)
{
	static const int quiet[] = { SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM,
		SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE };
	for (size_t i = 0; i < sizeof quiet / sizeof quiet[0]; i++)
		signal(quiet[i], SIG_IGN);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
	}
	int flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	int rc = summary(fd, f);
	int saved = errno;
	if (fclose(f) != 0 && rc == 0) {
		rc = -1;
		saved = errno;
	}
	if (rc != 0)
		fprintf(stderr, "om-run: --stats %s: %s\n", path, strerror(saved));
	_exit(rc == 0 ? 0 : 1);
}

int stats_open(const char *path, pid_t *collector)
{
	int p[2];
	FILE *f = fopen(path, "we");
	if (!f)
		return -1;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1) {
		fclose(f);
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(p[1]);
		collect(p[0], f, path);
	}
	int saved = errno;
	close(p[0]);
	fclose(f); /* the collector's now */
	if (pid < 0) {
		close(p[1]);
		errno = saved;
		return -1;
	}
	*collector = pid;
	return p[1];
}

int stats_close(int fd, pid_t collector)
{
	int st;
	if (fd >= 0)
		close(fd);
	while (waitpid(collector, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}
