/* om-mon - shows om-agent's node table and jobs: once, as JSON, or
 * refreshed.
 *
 * Exit status: 0 success, 1 the agent could not be asked or answered
 * nonsense, 2 usage error. Manual: docs/man/om-mon.1. */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl_client.h"
#include "noise.h"
#include "proto.h"

static volatile sig_atomic_t mon_stop;

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: om-mon [--control PATH] [--jobs | --json | --watch [SECS]]\n"
	    "  --control PATH   agent control socket (default $OM_CONTROL, else %s)\n"
	    "  --jobs           list the jobs you may see (root: all) instead of the nodes\n"
	    "  --json           print the nodes and jobs as one JSON document\n"
	    "  --watch [SECS]   redraw the table every SECS seconds (default 2) until Ctrl-C\n"
	    "  -h, --help       show this help\n",
	    CTL_DEFAULT_PATH);
}

static void
mon_on_sigint(int sig)
{
	(void)sig;
	mon_stop = 1;
}

static void
mac_str(const uint8_t m[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* "1d02h03m" for a day or more, else "h:mm:ss". */
static void
uptime_str(uint32_t ms, char *buf, size_t len)
{
	uint32_t s = ms / 1000;

	if (s >= 86400)
		snprintf(buf, len, "%ud%02uh%02um", s / 86400, s / 3600 % 24, s / 60 % 60);
	else
		snprintf(buf, len, "%u:%02u:%02u", s / 3600, s / 60 % 60, s % 60);
}

static const char *
state_str(uint8_t state)
{
	return state == OM_NODE_UP ? "up" : "down";
}

/* The state with what keeps jobs off the node, and whether its CPU
 * claims look false: "up", "up,draining", "up,suspect", ... */
static const char *
state_flags_str(const struct om_node_info *ni, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s", state_str(ni->state),
	    ni->flags & OM_NODE_F_BLOCKED ? ",blocked" : "",
	    ni->flags & OM_NODE_F_DRAINING ? ",draining" : "",
	    ni->flags & OM_NODE_F_LEAVING ? ",leaving" : "",
	    ni->claims != OM_CLAIMS_OK ? ",suspect" : "");
	return buf;
}

/* What the agent found of the node's CPU claims, in a word. */
static const char *
claims_str(uint8_t claims)
{
	switch (claims) {
	case OM_CLAIMS_CPU_TIME: return "cpu-time";
	case OM_CLAIMS_CORES: return "cores";
	default: return "ok";
	}
}

static void
print_table(const struct om_node_info *v, uint32_t n)
{
	char mac[18], up[24], st[48], fp[NOISE_FP_LEN + 1];
	uint32_t i;

	printf("%4s  %-17s  %-15s  %-12s  %4s  %6s  %8s  %8s  %6s  %4s  %-5s  %-8s  %s\n",
	    "ID", "MAC", "IP", "NIC", "CPUS", "SPEED", "MEM(MiB)", "FREE", "LOAD", "JOBS",
	    "STATE", "UPTIME", "KEY");
	for (i = 0; i < n; i++) {
		mac_str(v[i].mac, mac);
		uptime_str(v[i].uptime_ms, up, sizeof up);
		noise_fp_format(v[i].key_fp, fp);
		printf("%4u  %-17s  %-15.15s  %-12.12s  %4u  %6u  %8llu  %8llu  %6.2f  %4u  %-5s  %-8s  %s\n",
		    v[i].id, mac, v[i].ip, v[i].nic, v[i].cpu.cores, v[i].speed,
		    (unsigned long long)(v[i].mem_bytes >> 20),
		    (unsigned long long)(v[i].mem_free >> 20),
		    v[i].load_milli / 1000.0, v[i].jobs,
		    state_flags_str(&v[i], st, sizeof st), up, fp);
	}
}

static const char *
job_state_str(uint8_t state)
{
	switch (state) {
	case OM_JOB_RUNNING: return "running";
	case OM_JOB_HOMING: return "homing";
	case OM_JOB_STOPPED: return "stopped";
	case OM_JOB_HOME: return "home";
	case OM_JOB_MOVING: return "moving";
	default: return "placed";
	}
}

/* The user name for uid, else the number. */
static const char *
user_str(uint32_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid((uid_t)uid);

	if (pw != NULL)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "%u", uid);
	return buf;
}

/* Why a process is where it is, in a word. */
static const char *
job_why_str(uint8_t why)
{
	switch (why) {
	case OM_WHY_PLACED: return "placed";
	case OM_WHY_ASKED: return "--node";
	case OM_WHY_MIGRATE: return "migrate";
	case OM_WHY_BALANCER: return "balancer";
	case OM_WHY_HOME: return "home";
	case OM_WHY_FORK: return "fork";
	default: return "-";
	}
}

#define TREE_INDENT_MAX 8 /* deeper processes are shown at this depth */

static void
print_job(const struct om_job_info *j, int depth)
{
	char up[24], user[64], node[12];

	uptime_str(j->runtime_ms > UINT32_MAX ? UINT32_MAX : (uint32_t)j->runtime_ms, up, sizeof up);
	if (j->node)
		snprintf(node, sizeof node, "%u", j->node);
	else
		snprintf(node, sizeof node, "home");
	if (depth > TREE_INDENT_MAX)
		depth = TREE_INDENT_MAX;
	printf("%6u  %4s  %-10.10s  %7u  %-8s  %-7s  %-8s  %*s%s%s\n", j->job, node,
	    user_str(j->uid, user, sizeof user), j->pid, up, job_state_str(j->state),
	    job_why_str(j->why), 2 * (depth > 0 ? depth - 1 : 0), "", depth > 0 ? "\\_ " : "", j->cmd);
}

/* Prints v[i] and, below it, the processes whose parent it is. Iterative
 * (a deep tree must not overflow the stack); 'shown' guards against a
 * parent chain that loops, which a broken agent could send. */
static void
print_subtree(const struct om_job_info *v, uint32_t n, uint32_t i, uint8_t *shown, uint32_t *stack)
{
	uint32_t top = 0, k;

	shown[i] = 1;
	print_job(&v[i], 0);
	stack[top++] = i;
	while (top > 0) {
		uint32_t p = stack[top - 1];

		for (k = 0; k < n; k++)
			if (!shown[k] && v[k].ppid == v[p].pid && v[k].pid != v[p].pid)
				break;
		if (k == n) {
			top--;
			continue;
		}
		shown[k] = 1;
		print_job(&v[k], (int)top);
		stack[top++] = k;
	}
}

/* The jobs as process trees: each under its parent when that is listed. */
static void
print_jobs(const struct om_job_info *v, uint32_t n)
{
	uint8_t *shown = calloc(n ? n : 1, 1);
	uint32_t *stack = calloc(n ? n : 1, sizeof *stack);
	uint32_t i, k;

	printf("%6s  %4s  %-10s  %7s  %-8s  %-7s  %-8s  %s\n", "JOB", "NODE", "USER", "PID",
	    "RUNTIME", "STATE", "WHY", "COMMAND");
	if (shown == NULL || stack == NULL) {
		for (i = 0; i < n; i++)
			print_job(&v[i], 0);
	} else {
		for (i = 0; i < n; i++) {
			for (k = 0; k < n; k++)
				if (v[k].pid == v[i].ppid && v[i].ppid != 0 && k != i)
					break;
			if (k == n && !shown[i])
				print_subtree(v, n, i, shown, stack);
		}
		for (i = 0; i < n; i++) /* parent chains that loop */
			if (!shown[i])
				print_subtree(v, n, i, shown, stack);
	}
	free(shown);
	free(stack);
}

/* A JSON string (RFC 8259 section 7). The decoder already admits only
 * printable ASCII; escaping everything else anyway keeps this function
 * correct on its own. */
static void
json_str(const char *s)
{
	const unsigned char *p;

	putchar('"');
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p > 0x7e)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static void
json_job(const struct om_job_info *j)
{
	char user[64];

	printf("{\"id\":%u,\"node\":%u,\"uid\":%u,\"user\":", j->job, j->node, j->uid);
	json_str(user_str(j->uid, user, sizeof user));
	printf(",\"pid\":%u,\"ppid\":%u,\"why\":\"%s\",\"command\":", j->pid, j->ppid,
	    job_why_str(j->why));
	json_str(j->cmd);
	printf(",\"runtime_ms\":%llu,\"state\":\"%s\"}", (unsigned long long)j->runtime_ms,
	    job_state_str(j->state));
}

/* Jobs on node id, as a JSON array. */
static void
json_node_jobs(uint32_t id, const struct om_job_info *jobs, uint32_t njobs)
{
	uint32_t k;
	int first = 1;

	putchar('[');
	for (k = 0; k < njobs; k++) {
		if (jobs[k].node != id)
			continue;
		if (!first)
			putchar(',');
		first = 0;
		json_job(&jobs[k]);
	}
	putchar(']');
}

static void
print_json(const struct om_node_info *v, uint32_t n, const struct om_job_info *jobs,
    uint32_t njobs)
{
	const struct om_node_info *ni;
	char mac[18], fp[NOISE_FP_LEN + 1];
	uint32_t i;

	printf("{\"nodes\":[");
	for (i = 0; i < n; i++) {
		ni = &v[i];
		mac_str(ni->mac, mac);
		printf("%s{\"id\":%u,\"mac\":\"%s\",\"ip\":", i ? "," : "", ni->id, mac);
		json_str(ni->ip);
		printf(",\"nic\":");
		json_str(ni->nic);
		printf(",\"cpus\":%u,\"cpu_vendor\":", ni->cpu.cores);
		json_str(ni->cpu.vendor);
		printf(",\"cpu_model\":");
		json_str(ni->cpu.model);
		printf(",\"cpu_family\":%u,\"cpu_model_id\":%u,\"cpu_stepping\":%u",
		    ni->cpu.family, ni->cpu.model_id, ni->cpu.stepping);
		printf(",\"speed\":%u,\"mem_bytes\":%llu,\"mem_free\":%llu,\"load\":%u.%03u,"
		    "\"jobs\":%u,\"state\":\"%s\",\"uptime_ms\":%u,\"registered_s\":%u,"
		    "\"last_seen_ms\":%u",
		    ni->speed, (unsigned long long)ni->mem_bytes,
		    (unsigned long long)ni->mem_free, ni->load_milli / 1000,
		    ni->load_milli % 1000, ni->jobs, state_str(ni->state), ni->uptime_ms,
		    ni->registered_s, ni->last_seen_ms);
		printf(",\"blocked\":%s,\"draining\":%s,\"leaving\":%s",
		    ni->flags & OM_NODE_F_BLOCKED ? "true" : "false",
		    ni->flags & OM_NODE_F_DRAINING ? "true" : "false",
		    ni->flags & OM_NODE_F_LEAVING ? "true" : "false");
		noise_fp_format(ni->key_fp, fp);
		printf(",\"key\":\"%s\",\"claims\":\"%s\"", fp, claims_str(ni->claims));
		printf(",\"features\":{\"leaf1_ecx\":%u,\"leaf1_edx\":%u,\"leaf7_ebx\":%u,"
		    "\"leaf7_ecx\":%u,\"leaf7_edx\":%u,\"xcr0\":%llu}",
		    ni->cpu.leaf1_ecx, ni->cpu.leaf1_edx, ni->cpu.leaf7_ebx,
		    ni->cpu.leaf7_ecx, ni->cpu.leaf7_edx, (unsigned long long)ni->cpu.xcr0);
		/* "jobs" already holds the count; the records are "job_list". */
		printf(",\"job_list\":");
		json_node_jobs(ni->id, jobs, njobs);
		putchar('}');
	}
	printf("],\"jobs\":[");
	for (i = 0; i < njobs; i++) {
		if (i)
			putchar(',');
		json_job(&jobs[i]);
	}
	printf("]}\n");
}

/* One round trip. Returns 0, or -1 with the message in err. *fd is opened
 * on demand and closed on failure, so --watch reconnects by itself. */
static int
fetch(const char *path, int *fd, struct om_node_info **v, uint32_t *n, char *err, size_t errlen)
{
	if (*fd == -1 && (*fd = ctl_connect(path)) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (ctl_get_nodes(*fd, v, n, err, errlen) == -1) {
		close(*fd);
		*fd = -1;
		return -1;
	}
	return 0;
}

static int
watch(const char *path, double secs)
{
	struct om_node_info *v;
	struct timespec ts;
	char err[256], when[32];
	uint32_t n;
	time_t now;
	int fd = -1;

	signal(SIGINT, mon_on_sigint);
	signal(SIGTERM, mon_on_sigint);
	while (!mon_stop) {
		now = time(NULL);
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&now));
		printf("\033[H\033[2J"); /* cursor home, clear screen (ECMA-48) */
		if (fetch(path, &fd, &v, &n, err, sizeof err) == -1)
			printf("om-mon  %s  %s\n\n%s: %s\n", when, path, path, err);
		else {
			printf("om-mon  %s  %s  %u node%s\n\n", when, path, n, n == 1 ? "" : "s");
			print_table(v, n);
			free(v);
		}
		fflush(stdout);
		ts.tv_sec = (time_t)secs;
		ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
		while (!mon_stop && nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
	}
	if (fd != -1)
		close(fd);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "control", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "jobs", no_argument, NULL, 'J' },
		{ "watch", optional_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *control = NULL, *path, *secs_arg = NULL;
	struct om_node_info *v;
	struct om_job_info *jobs = NULL;
	double secs = 2;
	char err[256], *end;
	int ch, json = 0, watching = 0, list_jobs = 0, fd = -1;
	uint32_t n, njobs = 0;

	opterr = 0; /* our own messages: getopt's would name the full path */
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': control = optarg; break;
		case 'j': json = 1; break;
		case 'J': list_jobs = 1; break;
		case 'w':
			watching = 1;
			secs_arg = optarg;
			/* "--watch 5" as well as "--watch=5". */
			if (secs_arg == NULL && optind < argc && argv[optind][0] >= '0' &&
			    argv[optind][0] <= '9')
				secs_arg = argv[optind++];
			break;
		case 'h': usage(stdout); return 0;
		default:
			fprintf(stderr, "om-mon: unknown option or missing value: '%s'\n", argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "om-mon: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (json + watching + list_jobs > 1) {
		fprintf(stderr, "om-mon: --jobs, --json and --watch cannot be combined\n");
		usage(stderr);
		return 2;
	}
	if (secs_arg != NULL) {
		errno = 0;
		secs = strtod(secs_arg, &end);
		if (errno != 0 || *end != '\0' || end == secs_arg || !(secs >= 0.1 && secs <= 3600)) {
			fprintf(stderr, "om-mon: --watch: invalid interval '%s' (0.1..3600 s)\n", secs_arg);
			return 2;
		}
	}
	path = ctl_path(control);
	if (watching)
		return watch(path, secs);
	if (list_jobs) {
		if ((fd = ctl_connect(path)) == -1) {
			fprintf(stderr, "om-mon: %s: %s\n", path, strerror(errno));
			return 1;
		}
		if (ctl_get_jobs(fd, &jobs, &njobs, err, sizeof err) == -1) {
			fprintf(stderr, "om-mon: %s: %s\n", path, err);
			close(fd);
			return 1;
		}
		close(fd);
		print_jobs(jobs, njobs);
		free(jobs);
		goto out;
	}
	if (fetch(path, &fd, &v, &n, err, sizeof err) == -1) {
		fprintf(stderr, "om-mon: %s: %s\n", path, err);
		return 1;
	}
	if (json && ctl_get_jobs(fd, &jobs, &njobs, err, sizeof err) == -1) {
		fprintf(stderr, "om-mon: %s: %s\n", path, err);
		close(fd);
		free(v);
		return 1;
	}
	close(fd);
	if (json)
		print_json(v, n, jobs, njobs);
	else
		print_table(v, n);
	free(jobs);
	free(v);
out:
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "om-mon: stdout: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
