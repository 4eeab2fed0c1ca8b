/* fuzz_agent.c - om-agent as a whole (server-agent/agent/), in process:
 * its epoll loop (ev.c) with the real node listener (node_conn.c, TCP on
 * 127.0.0.1) and control socket (ctl_server.c, a Unix socket in a private
 * directory), the harness on the other end of two node and two control
 * connections, the input interleaving what each of them sends.
 *
 * Node connections are encrypted (conn_use_link): the harness is the
 * node's end of the link (link_stream initiator with a fixed node key and
 * the agent key it configured, fuzz_keys.h), so the input reaches the
 * frame logic as authenticated records; a chunk may also go raw onto the
 * TCP socket of a connection that did no handshake, for the agent's link
 * responder. Control connections are plain; SO_PEERCRED is wrapped to
 * give each a fixed uid and a pid that no process has (the pids an
 * om-run submits as its own: 100000 and 100001; uid 0 and 1000).
 *
 * After each chunk the loop runs turns until the agent is idle (epoll_wait
 * wrapped to count events: two turns in a row with none; accept4 wrapped
 * to see a connection taken, and to turn Nagle off on both ends: a frame
 * held back 40 ms for a delayed ACK would arrive after the loop went
 * idle), the harness reading what the agent sent. Every frame the agent makes
 * itself must pass the receiving end's decoder (ERROR, WELCOME, JOB_FORK,
 * CTL_* replies, NODE_LOST, JOB_MOVED, ...); frames it relays are the
 * sender's. A fatal()/fatalx() of the agent's aborts (a crash here).
 *
 * Determinism: between inputs every connection is closed and ended, and
 * the tables are emptied (nodes, jobs, admission, moves: their .c files
 * are included below for their statics), so node and job ids start at 1
 * each run. Node silence limits are an hour, so no timer fires inside a
 * run but the sweep's (harmless) and a lingering close's (1 s). A run
 * that crashed leaves its socket directory (/tmp/om-fuzz-agent.PID); the
 * next run removes those of processes gone.
 *
 * Input: byte 0 bits 0-1 admission (0 open, 1 list of 127.0.0.0/8 and
 * MACs 52:54:00:12:34:5x, 2 pairing, 3 open), bit 2 node-to-node moves
 * through the agent off; then chunks: u8 tag, u16 length, the bytes. Tag
 * bits 0-1 the connection (0, 1 nodes; 2, 3 control), bits 2-3 what is
 * done: 0 send and let the agent settle, 1 send and shut the sending side,
 * 2 close the connection (the next chunk for it connects anew), 3 send
 * without settling (the next chunk's bytes arrive with these); for a node
 * connection that opens with this chunk, bit 4: raw bytes, no handshake,
 * bit 5: the other node's key (so one node may hold both connections).
 *
 * Checked at the end of each input, every job ended: no node still counts
 * a job, nor (FUZZ_STRICT=1) a wide job's cores (nodes_job_in / _out
 * balance); every connection ended: no buffer memory is still counted
 * (bufmem.h). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* The tables' statics, to empty them between inputs; fuzz.mk leaves these
 * files out of the link. */
#include "../../server-agent/agent/admission.c"
#include "../../server-agent/agent/jobs.c"
#include "../../server-agent/agent/moves.c"
#include "../../server-agent/agent/nodes.c"

#include "admit_msg.h"
#include "balancer.h"
#include "bufmem.h"
#include "conn.h"
#include "ctl_server.h"
#include "ev.h"
#include "frame_rx.h"
#include "link_stream.h"
#include "move_relay.h"
#include "node_conn.h"

#include "fuzz.h"
#include "fuzz_keys.h"

#define NCLIENTS 4
#define SETTLE_TURNS 256
#define FUZZ_PID0 100000u

/* ---- the log: formatted (the arguments are read), written only with
 * FUZZ_VERBOSE */

static void
log_fmt(const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof line, fmt, ap);
	FZ_SAY("om-agent: %s\n", line);
}

#define LOG_FN(name) \
void name(const char *fmt, ...) { va_list ap; va_start(ap, fmt); log_fmt(fmt, ap); va_end(ap); }
LOG_FN(log_info)
LOG_FN(log_debug)
LOG_FN(log_warn)
LOG_FN(log_warnx)
void log_init(const char *progname, int verbose) { (void)progname; (void)verbose; }

/* The agent gives up: a crash of this harness. */
static void __attribute__((noreturn))
die(const char *fmt, va_list ap)
{
	fprintf(stderr, "om-agent fatal: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	abort();
}
void fatal(const char *fmt, ...) { va_list ap; va_start(ap, fmt); die(fmt, ap); }
void fatalx(const char *fmt, ...) { va_list ap; va_start(ap, fmt); die(fmt, ap); }

/* ---- wrapped system calls */

static int last_events, accepted;
/* FUZZ_STRICT=1: also the checks that known, reported bugs break. */
static int strict;
static struct { uint32_t uid, pid; } next_cred;

int __real_epoll_wait(int epfd, struct epoll_event *evs, int max, int timeout);
int
__wrap_epoll_wait(int epfd, struct epoll_event *evs, int max, int timeout)
{
	return last_events = __real_epoll_wait(epfd, evs, max, timeout);
}

int __real_accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags);
int
__wrap_accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	int rc = __real_accept4(fd, sa, len, flags), one = 1;

	accepted += rc >= 0;
	/* Nagle would hold a small frame back for the peer's delayed ACK
	 * (40 ms): the agent's answers would come after the loop went idle,
	 * which is timing, not logic. Both ends send at once here. */
	if (rc >= 0 && sa != NULL && sa->sa_family == AF_INET)
		(void)setsockopt(rc, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return rc;
}

int __real_getsockopt(int fd, int level, int name, void *val, socklen_t *len);
int
__wrap_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	int rc = __real_getsockopt(fd, level, name, val, len);

	if (rc == 0 && level == SOL_SOCKET && name == SO_PEERCRED) {
		struct ucred *cr = val;

		cr->uid = next_cred.uid;
		cr->pid = (pid_t)next_cred.pid;
	}
	return rc;
}

/* ---- the loop */

static struct ev_loop *ev;
static struct sockaddr_in node_addr;
static char ctl_dir[64], ctl_sock[96];
static uint8_t agent_s[NOISE_KEY], agent_pub[NOISE_KEY];

static long
stop_turn(struct ev_loop *l, void *arg)
{
	(void)arg;
	ev_stop(l);
	return -1;
}

/* One turn of the loop: the events ready now, due timers, turn end.
 * Returns the events epoll reported. */
static int
turn(void)
{
	if (ev_timer_add(ev, 0, stop_turn, NULL) < 0)
		abort();
	last_events = -1;
	if (ev_run(ev) != 0)
		abort();
	return last_events;
}

/* ---- the harness's ends of the connections */

struct client {
	int fd;                  /* -1: not connected */
	int node;                /* a node connection (else control) */
	int raw;                 /* a node connection without the link */
	struct link_stream *ls;  /* the node's end of the link */
	int link_dead;           /* its stream died: read raw after */
	struct frame_rx rx;      /* what the agent sent, reassembled */
	uint8_t *rxbuf;
	int rx_broken;           /* frames out of step: stop checking */
};

static struct client cl[NCLIENTS];
static uint8_t node_s[2][NOISE_KEY], node_pub[2][NOISE_KEY];

static long
c_send(void *ctx, const void *buf, size_t len)
{
	struct client *c = ctx;
	ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);

	if (n > 0)
		return n;
	return n == 0 || errno == EAGAIN || errno == EWOULDBLOCK ? OM_STREAM_AGAIN : OM_STREAM_ERR;
}

static long
c_recv(void *ctx, void *buf, size_t len)
{
	struct client *c = ctx;
	ssize_t n = recv(c->fd, buf, len, 0);

	if (n >= 0)
		return n;
	return errno == EAGAIN || errno == EWOULDBLOCK ? OM_STREAM_AGAIN : OM_STREAM_ERR;
}

static const struct om_stream_ops c_ops = { .send = c_send, .recv = c_recv };

FUZZ_ROUNDTRIP(om_error, struct om_error)
FUZZ_ROUNDTRIP(om_welcome, struct om_welcome)
FUZZ_ROUNDTRIP(om_job_fork, struct om_job_fork)
FUZZ_ROUNDTRIP(om_job_moving, struct om_job_moving)
FUZZ_ROUNDTRIP(om_ctl_node_reply, struct om_ctl_node_reply)
FUZZ_ROUNDTRIP(om_job_placed, struct om_job_placed)
FUZZ_ROUNDTRIP(om_job_migrate, struct om_job_migrate)
FUZZ_ROUNDTRIP(om_job_moved, struct om_job_moved)
FUZZ_ROUNDTRIP(om_node_lost, struct om_node_lost)
FUZZ_ROUNDTRIP(om_ctl_admit_reply, struct om_ctl_admit_reply)
FUZZ_ROUNDTRIP(om_policy, struct om_policy)

/* A frame the agent sent: those it makes itself must decode. */
static void
agent_frame(struct client *c, const struct om_hdr *h, const uint8_t *p)
{
	int rc = OM_OK;
	uint32_t n;
	size_t pos;

	switch (h->type) {
	case OM_T_ERROR: rc = rt_om_error(p, h->length); break;
	case OM_T_WELCOME: rc = rt_om_welcome(p, h->length); break;
	case OM_T_JOB_FORK: rc = rt_om_job_fork(p, h->length); break;
	case OM_T_JOB_ARRIVING: rc = rt_om_job_moving(p, h->length); break;
	case OM_T_CTL_NODE_REPLY: rc = rt_om_ctl_node_reply(p, h->length); break;
	case OM_T_CTL_JOB_PLACED: rc = rt_om_job_placed(p, h->length); break;
	case OM_T_CTL_MIGRATE: rc = rt_om_job_migrate(p, h->length); break;
	case OM_T_JOB_MOVED: rc = rt_om_job_moved(p, h->length); break;
	case OM_T_NODE_LOST: rc = rt_om_node_lost(p, h->length); break;
	case OM_T_CTL_ADMIT_REPLY: rc = rt_om_ctl_admit_reply(p, h->length); break;
	case OM_T_CTL_POLICY_REPLY: rc = rt_om_policy(p, h->length); break;
	case OM_T_CTL_NODES_REPLY:
		if ((rc = om_node_list_count(p, h->length, &n, &pos)) == OM_OK) {
			struct om_node_info ni;

			for (uint32_t i = 0; i < n && rc == OM_OK; i++)
				rc = om_node_list_next(p, h->length, &pos, &ni);
			if (rc == OM_OK)
				rc = om_node_list_end(h->length, pos);
		}
		break;
	case OM_T_CTL_JOBS_REPLY:
		if ((rc = om_job_list_count(p, h->length, &n, &pos)) == OM_OK) {
			struct om_job_info ji;

			for (uint32_t i = 0; i < n && rc == OM_OK; i++)
				rc = om_job_list_next(p, h->length, &pos, &ji);
			if (rc == OM_OK)
				rc = om_job_list_end(h->length, pos);
		}
		break;
	case OM_T_CTL_PENDING_REPLY: {
		static struct om_pending v[OM_PENDING_MAX];

		rc = om_pending_list_decode(p, h->length, v, OM_PENDING_MAX, &n);
		break;
	}
	}
	FUZZ_ASSERT(rc == OM_OK, "the agent sent a %s (%u bytes) on %s connection %td that does not decode: %s",
	    om_type_name(h->type), h->length, c->node ? "node" : "control", c - cl, om_strerror(rc));
}

static void
agent_bytes(struct client *c, const void *buf, size_t len)
{
	const uint8_t *payload;
	struct om_hdr h;
	size_t n;
	int rc;

	while (len > 0 && !c->rx_broken) {
		n = frame_rx_feed(&c->rx, buf, len);
		buf = (const uint8_t *)buf + n;
		len -= n;
		while ((rc = frame_rx_next(&c->rx, &h, &payload)) == OM_OK)
			agent_frame(c, &h, payload);
		FUZZ_ASSERT(rc == OM_E_SHORT, "the agent's stream on connection %td is out of step: %s",
		    c - cl, om_strerror(rc));
	}
}

/* Reads what the agent sent: through the link once it is open. */
static void
drain(struct client *c)
{
	uint8_t buf[LINK_PLAIN_MAX];
	long n;

	if (c->fd < 0)
		return;
	for (;;) {
		if (c->ls != NULL && !c->link_dead)
			n = link_stream_ops.recv(c->ls, buf, sizeof buf);
		else
			n = c_recv(c, buf, sizeof buf);
		if (n == OM_STREAM_ERR && c->ls != NULL && !c->link_dead) {
			/* The agent cut the link (a record cut short by its
			 * close): nothing more to check on it. */
			c->link_dead = 1;
			continue;
		}
		if (n <= 0)
			return;
		if (c->ls != NULL && !c->link_dead && link_stream_peer(c->ls) != NULL)
			agent_bytes(c, buf, (size_t)n);
		else if (c->ls == NULL && !c->raw)
			agent_bytes(c, buf, (size_t)n);
	}
}

static void
drain_all(void)
{
	for (int i = 0; i < NCLIENTS; i++)
		drain(&cl[i]);
}

/* Runs the loop until the agent is idle: two turns in a row with no
 * event, the harness reading all the while. */
static void
settle(void)
{
	int idle = 0;

	for (int i = 0; i < SETTLE_TURNS && idle < 2; i++) {
		drain_all();
		for (int k = 0; k < NCLIENTS; k++)
			if (cl[k].ls != NULL && !cl[k].link_dead)
				(void)link_stream_ops.flush(cl[k].ls);
		idle = turn() == 0 ? idle + 1 : 0;
	}
	drain_all();
}

static void
client_close(struct client *c)
{
	struct linger lg = { 1, 0 };

	if (c->fd < 0)
		return;
	/* A reset, not a FIN: no TIME_WAIT piles up over a long run. */
	(void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(c->fd);
	c->fd = -1;
	if (c->ls != NULL) {
		link_stream_wipe(c->ls);
		free(c->ls);
		c->ls = NULL;
	}
}

/* Connects client i, waits for the agent to take it; a node's link
 * handshake too unless raw. 0, or -1 (the agent refused or closed). */
static int
client_open(int i, int raw, int other_key)
{
	struct client *c = &cl[i];
	int before = accepted, k;
	uint8_t e[NOISE_KEY];

	c->node = i < 2;
	c->raw = c->node && raw;
	c->link_dead = 0;
	c->rx_broken = 0;
	frame_rx_init(&c->rx, c->rxbuf, RELAY_RX_CAP);
	if (c->node) {
		int one = 1;

		c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->fd < 0 || setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
		    (connect(c->fd, (struct sockaddr *)&node_addr, sizeof node_addr) != 0 && errno != EINPROGRESS))
			abort();
	} else {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		snprintf(sun.sun_path, sizeof sun.sun_path, "%s", ctl_sock);
		next_cred.uid = i == 2 ? 0 : 1000;
		next_cred.pid = FUZZ_PID0 + (uint32_t)(i - 2);
		c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sun, sizeof sun) != 0)
			abort();
	}
	for (k = 0; k < SETTLE_TURNS && accepted == before; k++)
		turn();
	FUZZ_ASSERT(accepted > before, "the agent did not accept connection %d", i);
	if (!c->node || c->raw)
		return 0;
	if ((c->ls = malloc(sizeof *c->ls)) == NULL)
		abort();
	fuzz_key(e, FUZZ_KEY_NODE_E);
	k = other_key ? !i : i; /* the other node's key: one node, two connections */
	if (link_stream_init(c->ls, (struct om_stream){ &c_ops, c }, 1, node_s[k], node_pub[k], agent_pub, e) != 0)
		abort();
	/* Message 1 out, 2 in, 3 out; then the agent reads 3. */
	for (k = 0; k < SETTLE_TURNS && link_stream_peer(c->ls) == NULL; k++) {
		long n = link_stream_ops.flush(c->ls);
		uint8_t none[1];

		if (n == OM_STREAM_ERR || (n = link_stream_ops.recv(c->ls, none, sizeof none)) == OM_STREAM_ERR ||
		    n == 0)
			break;
		turn();
	}
	FUZZ_ASSERT(link_stream_peer(c->ls) != NULL, "no link handshake with the agent: %s",
	    link_stream_ops.why(c->ls) ? link_stream_ops.why(c->ls) : "no answer");
	(void)link_stream_ops.flush(c->ls);
	settle();
	return 0;
}

/* Sends bytes on client i: records through the link, else as they are.
 * The agent reads meanwhile; a peer it stopped reading from (back-pressure,
 * or closed) gets the rest dropped. */
static void
client_send(int i, const uint8_t *p, size_t len)
{
	struct client *c = &cl[i];
	int stuck = 0;
	long n;

	while (len > 0 && stuck < 64) {
		if (c->ls != NULL)
			n = c->link_dead ? OM_STREAM_ERR : link_stream_ops.send(c->ls, p, len);
		else
			n = c_send(c, p, len);
		if (n == OM_STREAM_ERR) {
			FZ_SAY("harness: connection %d: cannot send: %s\n", i,
			    c->ls && link_stream_ops.why(c->ls) ? link_stream_ops.why(c->ls) : strerror(errno));
			return;
		}
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			stuck = 0;
			continue;
		}
		stuck++;
		drain_all();
		turn();
	}
	if (c->ls != NULL && !c->link_dead)
		(void)link_stream_ops.flush(c->ls);
}

/* ---- setup once, and the emptying between inputs */

static void
cleanup(void)
{
	ctl_stop();
	rmdir(ctl_dir);
}

/* A run that crashed (or was killed) left its socket directory: those of
 * processes gone are removed as the next run starts. */
static void
clear_stale(void)
{
	static const char prefix[] = "om-fuzz-agent.";
	struct dirent *d;
	char path[300];
	DIR *dir;
	int pid;

	if ((dir = opendir("/tmp")) == NULL)
		return;
	while ((d = readdir(dir)) != NULL) {
		if (strncmp(d->d_name, prefix, sizeof prefix - 1) != 0 ||
		    (pid = atoi(d->d_name + sizeof prefix - 1)) <= 0 || kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof path, "/tmp/%s/agent.sock", d->d_name);
		unlink(path);
		snprintf(path, sizeof path, "/tmp/%s", d->d_name);
		rmdir(path);
	}
	closedir(dir);
}

static void
setup(void)
{
	struct node_conn_cfg cfg = { 0 };
	struct balancer_cfg bal = { 0 };

	signal(SIGPIPE, SIG_IGN);
	strict = getenv("FUZZ_STRICT") != NULL && atoi(getenv("FUZZ_STRICT")) != 0;
	clear_stale();
	fuzz_key(agent_s, FUZZ_KEY_AGENT);
	fuzz_key(node_s[0], FUZZ_KEY_NODE);
	fuzz_key(node_s[1], FUZZ_KEY_NODE2);
	if (noise_public(agent_pub, agent_s) != 0 || noise_public(node_pub[0], node_s[0]) != 0 ||
	    noise_public(node_pub[1], node_s[1]) != 0)
		abort();
	if ((ev = ev_create(4096)) == NULL)
		abort();
	ev_set_turn_end(ev, conn_end_closed, NULL);
	snprintf(ctl_dir, sizeof ctl_dir, "/tmp/om-fuzz-agent.%d", (int)getpid());
	snprintf(ctl_sock, sizeof ctl_sock, "%s/agent.sock", ctl_dir);
	if (ctl_start(ev, ctl_sock) != 0)
		abort();
	atexit(cleanup);
	cfg.heartbeat_ms = 1000;
	cfg.down_after_ms = 3600 * 1000;
	cfg.drop_after_ms = 2 * 3600 * 1000;
	memcpy(cfg.key, agent_s, NOISE_KEY);
	memcpy(cfg.pub, agent_pub, NOISE_KEY);
	node_addr.sin_family = AF_INET;
	node_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (node_conn_start(ev, &node_addr, &cfg) != 0)
		abort();
	bal.off = 1; /* no rounds: om-migrate's "balance" target still asks it */
	bal.every_ms = BALANCE_EVERY_MS;
	bal.margin = BALANCE_MARGIN;
	bal.min_cpu_ms = BALANCE_MIN_CPU_MS;
	bal.min_stay_ms = BALANCE_MIN_STAY_MS;
	if (balancer_start(ev, &bal) != 0)
		abort();
	for (int i = 0; i < NCLIENTS; i++) {
		cl[i].fd = -1;
		if ((cl[i].rxbuf = malloc(RELAY_RX_CAP)) == NULL)
			abort();
	}
}

static void
admission(int policy)
{
	struct admit_cfg a = { 0 };

	if (policy == 1) {
		a.policy = ADMIT_LIST;
		if (admit_parse_nets("127.0.0.0/8", &a) != NULL ||
		    admit_parse_macs("52:54:00:12:34:56, 52:54:00:12:34:57, 52:54:00:12:34:58", &a) != NULL)
			abort();
	} else
		a.policy = policy == 2 ? ADMIT_PAIRING : ADMIT_OPEN;
	admit_configure(&a);
}

/* Every connection closed and ended, every table empty. */
static void
reset(void)
{
	for (int i = 0; i < NCLIENTS; i++)
		client_close(&cl[i]);
	settle();
	conn_reap_all();
	jobs_free_all();
	/* With no job left, no node may count one: a count that stays makes
	 * placement see busy cores that are free, for the agent's lifetime.
	 * The extra cores of wide jobs are known to leak (reported:
	 * tests/fuzz/crashes/README), so checked with FUZZ_STRICT only. */
	for (int i = 0; i < nodes_n; i++) {
		const struct node *n = nodes_tab[i];

		FUZZ_ASSERT(n->jobs == 0 && (!strict || n->wide == 0),
		    "node %u counts %u jobs and %u more cores with no job left", n->id, n->jobs, n->wide);
		free(nodes_tab[i]);
	}
	nodes_n = 0;
	nodes_next_id = 1;
	jobs_next_id = 1;
	free(ad_keys);
	ad_keys = NULL;
	ad_nkeys = 0;
	ad_nwait = 0;
	memset(moves, 0, sizeof moves);
	FUZZ_ASSERT(conn_count() == 0 && jobs_all == NULL && jobs_live == 0, "left over: %d conns, %d jobs",
	    conn_count(), jobs_live);
	/* Every buffer byte counted against the cap was given back. */
	FUZZ_ASSERT(bufmem_used() == 0, "%zu bytes of buffers still counted", bufmem_used());
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f;
	int flags;

	if (ev == NULL)
		setup();
	fz_init(&f, data, size);
	flags = fz_u8(&f);
	admission(flags & 3);
	move_relay_enable(!(flags & 4));
	while (fz_left(&f) >= 3) {
		int tag = fz_u8(&f), i = tag & 3, op = (tag >> 2) & 3;
		size_t len = fz_u16(&f), got;
		const uint8_t *p = fz_take(&f, len, &got);
		struct client *c = &cl[i];

		if (op == 2) {
			client_close(c);
			settle();
			continue;
		}
		if (c->fd < 0 && client_open(i, (tag >> 4) & 1, (tag >> 5) & 1) != 0)
			continue;
		FZ_SAY("harness: chunk for connection %d, %zu bytes, op %d\n", i, got, op);
		client_send(i, p, got);
		if (op == 1)
			(void)shutdown(c->fd, SHUT_WR);
		if (op != 3)
			settle();
	}
	settle();
	reset();
	return 0;
}
