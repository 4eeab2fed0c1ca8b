/* ctl_server.c - the control socket server (see ctl_server.h). */
#define _GNU_SOURCE /* accept4, struct ucred */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admit_ctl.h"
#include "bufmem.h"
#include "conn.h"
#include "ctl_client.h"
#include "ctl_server.h"
#include "drain.h"
#include "jobs.h"
#include "log.h"
#include "node_conn.h"
#include "nodes.h"
#include "reattach.h"

/* The largest node record has every string at its limit, except the IP,
 * which the agent itself writes as a dotted quad. The whole table must fit
 * one frame; if the record layout grows, this fails to compile. */
#define CTL_IP_MAX 15
#define CTL_RECORD_MAX (4 + 6 + 2 + CTL_IP_MAX + 2 + OM_STR_MAX + \
	2 + 12 + 2 + 48 + 8 * 4 + 8 + 2 + 4 + 8 + 8 + 4 + 4 + 1 + 1 + 4 + 4 + 4 + OM_KEY_FP_BYTES + 1)
_Static_assert(4 + (uint64_t)OM_NODES_MAX * CTL_RECORD_MAX <= OM_MAX_PAYLOAD,
    "a full node table does not fit one CTL_NODES_REPLY");

#define CTL_OUT_MAX (OM_HDR_SIZE + OM_MAX_PAYLOAD)

struct cconn {
	struct conn *c;
	struct job_home jh;        /* caller's uid/pid and the jobs it was given */
	struct cconn *prev, *next;
};

static struct ev_loop *ctl_ev;
static int ctl_fd = -1;
static char ctl_sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static ino_t ctl_ino;
static dev_t ctl_dev;
static struct cconn *ctl_all;
static struct om_policy ctl_policy_set = { 0, 0, OM_CKPT_PCT_DEFAULT }; /* CTL_POLICY_REPLY's, from agent.conf */

static void ctl_frame(struct conn *c, const struct om_hdr *h, const uint8_t *p);
static void ctl_closed(struct conn *c, const char *why);

static const struct conn_ops ctl_ops = {
	.frame = ctl_frame,
	.closed = ctl_closed,
	.drained = jobs_drained,
};

static void
ctl_closed(struct conn *c, const char *why)
{
	struct cconn *cc = c->owner;

	log_debug("control %s: %s", c->peer, why);
	reattach_home_gone(c);
	jobs_home_gone(c);
	if (cc->prev != NULL)
		cc->prev->next = cc->next;
	else
		ctl_all = cc->next;
	if (cc->next != NULL)
		cc->next->prev = cc->prev;
	free(cc);
}

static void
ctl_nodes(struct conn *c)
{
	struct om_node_info *v;
	uint8_t *buf;
	int n, len;

	if ((n = nodes_list(&v, ev_now_ms())) < 0) {
		conn_fail(c, OM_E_NOSPACE, "out of memory");
		return;
	}
	if ((buf = malloc(OM_MAX_PAYLOAD)) == NULL) {
		free(v);
		conn_fail(c, OM_E_NOSPACE, "out of memory");
		return;
	}
	len = om_node_list_encode(v, (uint32_t)n, buf, OM_MAX_PAYLOAD);
	if (len < 0)
		conn_fail(c, len, "cannot encode node list: %s", om_strerror(len));
	else
		(void)conn_send(c, OM_T_CTL_NODES_REPLY, 0, 0, buf, (size_t)len);
	free(buf);
	free(v);
}

void
ctl_set_policy(const struct om_policy *p)
{
	ctl_policy_set = *p;
}

static void
ctl_policy(struct conn *c, uint32_t len)
{
	struct om_policy pol = ctl_policy_set;
	uint8_t buf[16];
	int n;

	if (len != 0)
		conn_fail(c, OM_E_TRAILING, "bad CTL_POLICY: %s", om_strerror(OM_E_TRAILING));
	else if ((n = om_policy_encode(&pol, buf, sizeof buf)) < 0)
		conn_fail(c, n, "cannot encode CTL_POLICY_REPLY: %s", om_strerror(n));
	else
		(void)conn_send(c, OM_T_CTL_POLICY_REPLY, 0, 0, buf, (size_t)n);
}

static void
ctl_frame(struct conn *c, const struct om_hdr *h, const uint8_t *p)
{
	struct cconn *cc = c->owner;

	if (h->type >= OM_T_IMAGE_BEGIN && h->type <= OM_T_JOB_LAST) {
		jobs_from_home(c, &cc->jh, h, p);
		return;
	}
	switch (h->type) {
	case OM_T_CTL_JOB_SUBMIT:
		jobs_submit(c, &cc->jh, p, h->length);
		break;
	case OM_T_CTL_JOB_REATTACH:
		reattach_from_home(c, &cc->jh, p, h->length);
		break;
	case OM_T_CTL_CHECKPOINT:
		jobs_checkpoint(c, &cc->jh, p, h->length);
		break;
	case OM_T_CTL_JOBS:
		if (h->length != 0)
			conn_fail(c, OM_E_TRAILING, "bad CTL_JOBS: %s", om_strerror(OM_E_TRAILING));
		else
			jobs_list(c, &cc->jh);
		break;
	case OM_T_CTL_MIGRATE:
		jobs_migrate(c, &cc->jh, p, h->length);
		break;
	case OM_T_CTL_NODE:
		drain_ctl(c, cc->jh.uid, p, h->length);
		break;
	case OM_T_CTL_ADMIT:
		admit_ctl_admit(c, cc->jh.uid, p, h->length);
		break;
	case OM_T_CTL_PENDING:
		admit_ctl_pending(c, h->length);
		break;
	case OM_T_CTL_POLICY:
		ctl_policy(c, h->length);
		break;
	case OM_T_CTL_NODES:
		if (h->length != 0)
			conn_fail(c, OM_E_TRAILING, "bad CTL_NODES: %s", om_strerror(OM_E_TRAILING));
		else
			ctl_nodes(c);
		break;
	case OM_T_BYE:
		conn_close(c, "said BYE");
		break;
	default:
		conn_fail(c, OM_E_STATE, "unexpected %s on the control socket",
		    om_type_name(h->type));
		break;
	}
}

/* The cap a new control connection of uid would exceed, or NULL. */
static const char *
ctl_over_cap(uint32_t uid)
{
	const struct cconn *cc;
	int all = 0, mine = 0;

	for (cc = ctl_all; cc != NULL; cc = cc->next) {
		all++;
		mine += cc->jh.uid == uid;
	}
	if (all >= CTL_CONNS_MAX)
		return "control connections (CTL_CONNS_MAX)";
	if (mine >= CTL_CONNS_PER_UID && uid != 0)
		return "one user's control connections (CTL_CONNS_PER_UID)";
	if (!bufmem_fits(CTL_RX_CAP))
		return bufmem_cap_name();
	return NULL;
}

static void
ctl_accept(struct ev_loop *ev, int fd, int mask, void *arg)
{
	struct ucred cred;
	socklen_t clen = sizeof cred;
	struct cconn *cc;
	const char *cap;
	char peer[64];
	int cfd;

	(void)mask;
	(void)arg;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("control accept");
		return;
	}
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == -1) {
		log_warn("control SO_PEERCRED");
		close(cfd);
		return;
	}
	snprintf(peer, sizeof peer, "uid %u pid %d", (unsigned)cred.uid, (int)cred.pid);
	if ((cap = ctl_over_cap(cred.uid)) != NULL) {
		log_warnx("control %s: refused: at the cap on %s", peer, cap);
		close(cfd);
		return;
	}
	if ((cc = calloc(1, sizeof *cc)) == NULL) {
		log_warn("control %s: refused", peer);
		close(cfd);
		return;
	}
	if ((cc->c = conn_new(ev, cfd, peer, CTL_RX_CAP, CTL_OUT_MAX, &ctl_ops, cc)) == NULL) {
		log_warn("control %s: refused", peer);
		free(cc);
		return;
	}
	cc->jh.uid = cred.uid;
	cc->jh.pid = (uint32_t)cred.pid;
	cc->next = ctl_all;
	if (ctl_all != NULL)
		ctl_all->prev = cc;
	ctl_all = cc;
	log_debug("control %s: connected", peer);
}

/* mkdir -p for the directory part of path. */
static int
ctl_mkdirs(const char *path)
{
	char dir[sizeof ctl_sock_path];
	char *s;

	snprintf(dir, sizeof dir, "%s", path);
	if ((s = strrchr(dir, '/')) == NULL || s == dir)
		return 0;
	*s = '\0';
	for (s = dir + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(dir, 0755) == -1 && errno != EEXIST)
				return -1;
			if ((*s = c) == '\0')
				return 0;
		}
	}
}

/* A socket file left by an agent that died. Only a socket nobody answers
 * on is removed: never a live agent's, never a regular file. */
static int
ctl_clear_stale(const char *path)
{
	struct stat st;
	int fd;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("%s: exists and is not a socket; not replacing it", path);
		return -1;
	}
	if ((fd = ctl_connect(path)) != -1) {
		close(fd);
		log_warnx("%s: another agent is listening there", path);
		return -1;
	}
	if (errno != ECONNREFUSED) {
		log_warn("%s", path);
		return -1;
	}
	log_info("%s: removing stale socket", path);
	if (unlink(path) == -1 && errno != ENOENT) {
		log_warn("unlink %s", path);
		return -1;
	}
	return 0;
}

int
ctl_start(struct ev_loop *ev, const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;

	ctl_ev = ev;
	if (strlen(path) >= sizeof sun.sun_path) {
		log_warnx("%s: control socket path too long", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if (ctl_mkdirs(path) == -1) {
		log_warn("%s: cannot create its directory", path);
		return -1;
	}
	if (ctl_clear_stale(path) == -1)
		return -1;
	if ((ctl_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("control socket");
		return -1;
	}
	if (bind(ctl_fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		log_warn("bind %s", path);
		goto fail;
	}
	snprintf(ctl_sock_path, sizeof ctl_sock_path, "%s", path);
	/* Every local user may connect: what each one may see or do is
	 * decided per request from SO_PEERCRED, not by file permissions. */
	if (chmod(path, 0666) == -1 || lstat(path, &st) == -1 || listen(ctl_fd, 64) == -1 ||
	    ev_add(ev, ctl_fd, EV_READ, ctl_accept, NULL) == -1) {
		log_warn("%s", path);
		unlink(path);
		ctl_sock_path[0] = '\0';
		goto fail;
	}
	ctl_dev = st.st_dev;
	ctl_ino = st.st_ino;
	return 0;

fail:
	close(ctl_fd);
	ctl_fd = -1;
	return -1;
}

void
ctl_stop(void)
{
	struct stat st;

	/* The listener first: an om-run that connects again at once (it
	 * follows its job to the next agent) must not reach this one. */
	if (ctl_fd != -1) {
		ev_del(ctl_ev, ctl_fd, EV_READ);
		close(ctl_fd);
		ctl_fd = -1;
	}
	while (ctl_all != NULL) {
		conn_close(ctl_all->c, "agent shutting down");
		conn_end_closed(NULL, NULL); /* the loop has stopped: end it now */
	}
	/* Someone may have started another agent on the same path since. */
	if (ctl_sock_path[0] != '\0' && lstat(ctl_sock_path, &st) == 0 &&
	    st.st_dev == ctl_dev && st.st_ino == ctl_ino)
		unlink(ctl_sock_path);
	ctl_sock_path[0] = '\0';
}
