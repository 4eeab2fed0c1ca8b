/* node_conn.c - node connections and the node protocol (see node_conn.h). */
#define _GNU_SOURCE /* accept4, struct ucred */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admission.h"
#include "bufmem.h"
#include "claims.h"
#include "conn.h"
#include "drain.h"
#include "job_limits.h"
#include "jobs.h"
#include "log.h"
#include "node_conn.h"
#include "nodes.h"
#include "reattach.h"
#include "sock.h"

struct nconn {
	struct conn *c;
	struct node *node;         /* NULL until HELLO */
	long long hello_timer;     /* > 0 while waiting for HELLO */
	char ip[INET_ADDRSTRLEN];
	struct nconn *prev, *next;
};

static struct ev_loop *nc_ev;
static struct node_conn_cfg nc_cfg;
static int nc_listen_fd = -1;
static long long nc_sweep_timer, nc_accept_timer;
static struct nconn *nc_all;
static int nc_count;           /* nconns alive */

static void nc_frame(struct conn *c, const struct om_hdr *h, const uint8_t *p);
static void nc_closed(struct conn *c, const char *why);

static const struct conn_ops nc_ops = {
	.frame = nc_frame,
	.closed = nc_closed,
	.drained = jobs_drained,
};

struct conn *
node_conn_get(const struct node *n)
{
	struct nconn *nc = n != NULL ? n->link : NULL; /* NULL: a job at home */

	/* A connection whose close was asked for ends with this turn. */
	return nc != NULL && conn_is_open(nc->c) ? nc->c : NULL;
}

/* The name used in log lines: the node id once known, else the peer. */
static const char *
nc_name(const struct nconn *nc, char *buf, size_t len)
{
	if (nc->node != NULL)
		snprintf(buf, len, "node %u (%s)", nc->node->id, nc->c->peer);
	else
		snprintf(buf, len, "%s", nc->c->peer);
	return buf;
}

static void
nc_closed(struct conn *c, const char *why)
{
	struct nconn *nc = c->owner;
	char name[96];

	nc_name(nc, name, sizeof name);
	if (nc->node != NULL && !c->peer_gone) {
		/* Dropped for what it did: its jobs with it. */
		log_info("%s: %s; node down", name, why);
		jobs_node_lost(nc->node, why);
		nodes_disconnected(nc->node);
	} else if (nc->node != NULL) {
		/* Its link broke: its jobs wait for it to connect again
		 * (reattach.h), up to the grace; only moves to it give up now. */
		log_info("%s: %s; node down%s", name, why,
		    nc->node->jobs > 0 ? "; its jobs wait for it to connect again" : "");
		jobs_moves_to_lost(nc->node);
		nodes_disconnected(nc->node);
	} else
		log_info("%s: %s; connection closed", name, why);
	jobs_conn_gone(c);
	if (nc->hello_timer > 0)
		ev_timer_del(nc_ev, nc->hello_timer);
	if (nc->prev != NULL)
		nc->prev->next = nc->next;
	else
		nc_all = nc->next;
	if (nc->next != NULL)
		nc->next->prev = nc->prev;
	nc_count--;
	free(nc);
}

/* The cap a new connection from ip would exceed, or NULL. */
static const char *
nc_over_cap(const char *ip)
{
	const struct nconn *nc;
	int unreg = 0, here = 0;

	if (nc_count >= NODE_CONNS_MAX)
		return "node connections (NODE_CONNS_MAX)";
	for (nc = nc_all; nc != NULL; nc = nc->next)
		if (nc->node == NULL) {
			unreg++;
			here += strcmp(nc->ip, ip) == 0;
		}
	if (unreg >= NODE_UNREGISTERED_MAX)
		return "unregistered node connections (NODE_UNREGISTERED_MAX)";
	if (here >= NODE_UNREGISTERED_PER_ADDR)
		return "unregistered connections from one address (NODE_UNREGISTERED_PER_ADDR)";
	if (!bufmem_fits(NODE_RX_CAP + sizeof(struct link_stream)))
		return bufmem_cap_name();
	return NULL;
}

static long
nc_hello_expired(struct ev_loop *ev, void *arg)
{
	struct nconn *nc = arg;

	(void)ev;
	nc->hello_timer = 0;
	conn_fail(nc->c, OM_E_STATE, "no HELLO within %u ms", nc_cfg.down_after_ms);
	return -1;
}

static uint64_t
nc_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
nc_hello(struct nconn *nc, const struct om_hdr *h, const uint8_t *p)
{
	const uint8_t *key = conn_peer_key(nc->c);
	struct om_welcome w;
	struct om_hello hello;
	struct node *n;
	uint8_t buf[32];
	char mac[18], fp[NOISE_FP_LEN + 1], why[OM_STR_MAX + 1];
	int rc, isnew, same;

	if ((rc = om_hello_decode(p, h->length, &hello)) != OM_OK) {
		conn_fail(nc->c, rc, "bad HELLO: %s", om_strerror(rc));
		return;
	}
	if (h->job != 0) {
		conn_fail(nc->c, OM_E_RANGE, "HELLO with job id %u", h->job);
		return;
	}
	nodes_mac_str(hello.mac, mac);
	if (key == NULL) { /* frames only come through an open link */
		conn_fail(nc->c, OM_E_STATE, "HELLO without the link's handshake");
		return;
	}
	noise_fingerprint(key, fp);
	if (admit_check(fp, hello.mac, nc->ip, ev_now_ms(), why, sizeof why) != 0) {
		conn_fail(nc->c, OM_E_ADMIT, "%s", why);
		return;
	}
	/* A MAC is only a claim: a live node keeps its registration against
	 * anyone else saying its MAC. The same key (the node itself on a new
	 * connection) may take it over; after a reboot (a new key) the node
	 * waits until its old connection has gone silent (down_after). */
	if ((n = nodes_by_mac(hello.mac)) != NULL && node_conn_get(n) != NULL &&
	    n->state == OM_NODE_UP && memcmp(n->key, key, NOISE_KEY) != 0) {
		log_warnx("%s: HELLO with MAC %s, live node %u's (key %s), from key %s: refused",
		    nc->c->peer, mac, n->id, n->fp, fp);
		conn_fail(nc->c, OM_E_BUSY, "live node %u has this MAC; key %s refused", n->id, fp);
		return;
	}
	/* Same MAC, new connection: the node rebooted (a new key) or its
	 * old connection is half dead. The newest one wins; detach the old
	 * one first so its close does not mark the node down. After a reboot
	 * its jobs end before the HELLO replaces the node's description: they
	 * hand back the cores they took as it was (a node back with fewer
	 * cores must not keep the difference busy). With the same key it is
	 * the same boot: its jobs wait for its claims (reattach.h). */
	same = n != NULL && memcmp(n->key, key, NOISE_KEY) == 0;
	if (n != NULL && n->link != NULL) {
		struct nconn *old = n->link;

		log_info("node %u: new connection from %s replaces %s", n->id,
		    nc->c->peer, old->c->peer);
		old->node = NULL;
		n->link = NULL;
		conn_close(old->c, "replaced by a newer connection of the same node");
	}
	if (n != NULL && !same)
		jobs_node_lost(n, "the node connected again with a new key (rebooted?)");
	if ((n = nodes_hello(&hello, nc->ip, ev_now_ms(), &isnew)) == NULL) {
		conn_fail(nc->c, OM_E_BUSY, "node table full, refusing %s", mac);
		return;
	}
	n->link = nc;
	nc->node = n;
	if (same)
		reattach_node_back(n);
	else
		n->nunpaired = 0;
	claims_hello(n, memcmp(n->key, key, NOISE_KEY) == 0, nc_cfg.heartbeat_ms);
	memcpy(n->key, key, NOISE_KEY);
	noise_fingerprint(key, n->fp);
	ev_timer_del(nc_ev, nc->hello_timer);
	nc->hello_timer = 0;

	w.node_id = n->id;
	w.heartbeat_ms = nc_cfg.heartbeat_ms;
	w.time_ns = nc_realtime_ns();
	w.grace_ms = nc_cfg.grace_ms;
	if ((rc = om_welcome_encode(&w, buf, sizeof buf)) < 0) {
		conn_fail(nc->c, rc, "cannot encode WELCOME: %s", om_strerror(rc));
		return;
	}
	log_info("node %u %s mac %s key %s ip %s nic %s cpus %u mem %llu MiB speed %u version \"%s\"",
	    n->id, isnew ? "registered" : "re-registered", mac, n->fp, nc->ip, hello.nic,
	    hello.cpu.cores, (unsigned long long)(hello.mem_bytes >> 20), hello.speed,
	    hello.version);
	(void)conn_send(nc->c, OM_T_WELCOME, 0, 0, buf, (size_t)rc);
}

static void
nc_frame(struct conn *c, const struct om_hdr *h, const uint8_t *p)
{
	struct nconn *nc = c->owner;
	struct om_heartbeat hb;
	struct om_error e;
	char name[96];
	int rc;

	if (nc->node == NULL) {
		if (h->type == OM_T_HELLO)
			nc_hello(nc, h, p);
		else
			conn_fail(c, OM_E_STATE, "expected HELLO, got %s", om_type_name(h->type));
		return;
	}
	switch (h->type) {
	case OM_T_HEARTBEAT:
		if ((rc = om_heartbeat_decode(p, h->length, &hb)) != OM_OK)
			conn_fail(c, rc, "bad HEARTBEAT: %s", om_strerror(rc));
		else if (h->job != 0)
			conn_fail(c, OM_E_RANGE, "HEARTBEAT with job id %u", h->job);
		else {
			claims_heartbeat(nc->node, &hb, ev_now_ms());
			nodes_heartbeat(nc->node, &hb, ev_now_ms());
		}
		break;
	case OM_T_NODE_LEAVING:
		drain_node_leaving(nc->node, c, p, h->length, h->job);
		break;
	case OM_T_ECHO:
		nodes_seen(nc->node, ev_now_ms());
		(void)conn_send(c, OM_T_ECHO_REPLY, h->job, h->seq, p, h->length);
		break;
	case OM_T_BYE:
		if (h->length != 0)
			conn_fail(c, OM_E_TRAILING, "bad BYE: %s", om_strerror(OM_E_TRAILING));
		else
			conn_close(c, "said BYE");
		break;
	case OM_T_ERROR:
		/* The peer is closing; report its reason and close our side. */
		if ((rc = om_error_decode(p, h->length, &e)) != OM_OK)
			conn_close(c, "sent a malformed ERROR");
		else {
			log_warnx("%s reports error %d: %s", nc_name(nc, name, sizeof name),
			    (int)e.code, e.msg);
			conn_close(c, "closed after its ERROR");
		}
		break;
	default:
		if (h->type == OM_T_JOB_REATTACH) {
			nodes_seen(nc->node, ev_now_ms());
			reattach_from_node(nc->node, c, h, p);
		} else if (h->type >= OM_T_IMAGE_BEGIN && h->type <= OM_T_JOB_LAST) {
			nodes_seen(nc->node, ev_now_ms());
			jobs_from_node(nc->node, c, h, p);
		} else
			conn_fail(c, OM_E_STATE, "unexpected %s from a node", om_type_name(h->type));
		break;
	}
}

static long
nc_accept_resume(struct ev_loop *ev, void *arg);

static void
nc_accept(struct ev_loop *ev, int fd, int mask, void *arg)
{
	struct sockaddr_in sin;
	socklen_t slen;
	struct nconn *nc;
	char peer[64], ip[INET_ADDRSTRLEN];
	const char *cap;
	int cfd, i;

	(void)mask;
	(void)arg;
	for (i = 0; i < 16; i++) {
		slen = sizeof sin;
		cfd = accept4(fd, (struct sockaddr *)&sin, &slen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* Out of descriptors (or worse): pause accepting for a
			 * second instead of spinning on a readable listener. */
			log_warn("accept");
			ev_del(ev, fd, EV_READ);
			nc_accept_timer = ev_timer_add(ev, 1000, nc_accept_resume, NULL);
			return;
		}
		sock_addr_str(&sin, peer, sizeof peer);
		inet_ntop(AF_INET, &sin.sin_addr, ip, sizeof ip);
		if ((cap = nc_over_cap(ip)) != NULL) {
			log_warnx("%s: refused: at the cap on %s", peer, cap);
			close(cfd);
			continue;
		}
		if ((nc = calloc(1, sizeof *nc)) == NULL) {
			log_warn("%s: refused", peer);
			close(cfd);
			continue;
		}
		snprintf(nc->ip, sizeof nc->ip, "%s", ip);
		if ((nc->c = conn_new(ev, cfd, peer, NODE_RX_CAP, NODE_OUT_MAX, &nc_ops, nc)) == NULL) {
			log_warn("%s: refused", peer);
			free(nc);
			continue;
		}
		/* Listed first: its close unlinks it. */
		nc->next = nc_all;
		if (nc_all != NULL)
			nc_all->prev = nc;
		nc_all = nc;
		nc_count++;
		if (conn_use_link(nc->c, nc_cfg.key, nc_cfg.pub) == -1) {
			conn_close(nc->c, "cannot set up the encrypted link");
			continue;
		}
		nc->hello_timer = ev_timer_add(ev, nc_cfg.down_after_ms, nc_hello_expired, nc);
		if (nc->hello_timer < 0) {
			nc->hello_timer = 0;
			conn_close(nc->c, "out of memory");
			continue;
		}
		log_debug("%s: connected", peer);
	}
}

static long
nc_accept_resume(struct ev_loop *ev, void *arg)
{
	(void)arg;
	nc_accept_timer = 0;
	if (ev_add(ev, nc_listen_fd, EV_READ, nc_accept, NULL) == -1)
		fatal("cannot watch the node listener");
	return -1;
}

static void
nc_unlink(struct node *n)
{
	struct nconn *nc = n->link;

	nc->node = NULL;
	n->link = NULL;
	conn_close(nc->c, "dropped: silent too long");
}

/* Its jobs wait for it (grace): it may only be paused or cut off. */
static void
nc_down(struct node *n, const char *why)
{
	(void)why;
	if (n->jobs > 0)
		log_info("node %u: its %u job(s) wait up to %u ms for it", n->id, n->jobs, nc_cfg.grace_ms);
}

static void
nc_lost(struct node *n, const char *why)
{
	jobs_node_lost(n, why);
}

static long
nc_sweep(struct ev_loop *ev, void *arg)
{
	uint32_t tick = nc_cfg.down_after_ms < nc_cfg.drop_after_ms ?
	    nc_cfg.down_after_ms : nc_cfg.drop_after_ms;

	uint64_t now = ev_now_ms();
	struct nconn *nc;

	(void)ev;
	(void)arg;
	/* A node we stopped reading (back-pressure) is silent by our doing. */
	for (nc = nc_all; nc != NULL; nc = nc->next)
		if (nc->node != NULL && nc->c->paused && conn_is_open(nc->c))
			nodes_seen(nc->node, now);
	struct nodes_timeouts t = { nc_cfg.down_after_ms, nc_cfg.grace_ms, nc_cfg.drop_after_ms };
	nodes_sweep(now, &t, nc_unlink, nc_down, nc_lost);
	jobs_moves_sweep(now);
	reattach_sweep(now);
	job_limits_sweep(now);
	jobs_relax_sweep(now);
	/* A quarter of the shortest timeout keeps state changes within 25%
	 * of their deadline without waking an idle agent too often. */
	tick /= 4;
	return tick < 10 ? 10 : tick > 1000 ? 1000 : (long)tick;
}

int
node_conn_start(struct ev_loop *ev, struct sockaddr_in *sin, const struct node_conn_cfg *cfg)
{
	int saved;

	nc_ev = ev;
	nc_cfg = *cfg;
	if ((nc_listen_fd = sock_listen_tcp(sin)) == -1)
		return -1;
	if (ev_add(ev, nc_listen_fd, EV_READ, nc_accept, NULL) == -1 ||
	    (nc_sweep_timer = ev_timer_add(ev, 10, nc_sweep, NULL)) < 0)
		goto fail;
	return 0;

fail:
	saved = errno;
	ev_del(ev, nc_listen_fd, EV_READ);
	close(nc_listen_fd);
	nc_listen_fd = -1;
	errno = saved;
	return -1;
}

void
node_conn_stop(void)
{
	struct nconn *nc;

	if (nc_listen_fd == -1)
		return;
	while ((nc = nc_all) != NULL) {
		/* The loop has stopped: each close is ended at once (which
		 * frees nc and unlinks it); a failed send has closed it too. */
		if (nc->node == NULL || conn_send(nc->c, OM_T_BYE, 0, 0, NULL, 0) == 0)
			conn_close(nc->c, "agent shutting down");
		conn_end_closed(NULL, NULL);
	}
	if (nc_accept_timer > 0)
		ev_timer_del(nc_ev, nc_accept_timer);
	ev_timer_del(nc_ev, nc_sweep_timer);
	ev_del(nc_ev, nc_listen_fd, EV_READ);
	close(nc_listen_fd);
	nc_listen_fd = -1;
}
