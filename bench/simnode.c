/* simnode.c - many simulated nodes against a real om-agent on loopback, to
 * measure the agent at scale (bench/bench.py, section "agent").
 *
 * One process, one epoll loop, the codecs of migrate/. It opens JOBS "job
 * nodes" and, for each, a control connection acting as om-run: a
 * CTL_JOB_SUBMIT for a child it forks (the agent accepts only the caller
 * or its child; the child just sleeps and is killed by pid at the end),
 * then the job node sends JOB_STARTED and the two ping-pong SYSCALL_REQ /
 * SYSCALL_REP frames of PAYLOAD bytes through the agent, one call in
 * flight per job like a real job. Each round trip (node -> agent -> home
 * -> agent -> node) is one latency sample.
 *
 * Phase "base": only the job nodes are connected. Phase "loaded": NODES
 * more nodes register (HELLO with distinct MACs) and send heartbeats at the
 * interval the agent's WELCOME asks for, while the jobs go on. Each phase
 * lasts SECONDS. Prints per phase one line of "key value" pairs:
 *
 *   phase NAME nodes N jobs J rate R trips T p50_us X p90_us X p99_us X
 *     agent_cpu_pct X seconds S heartbeats H
 *
 * and "register_s X" (time for the NODES to be welcomed). Exit 0, or 1
 * with a message on the first failure (a connection the agent closed, a
 * job not placed, a phase without a single round trip).
 *
 * Node connections are the encrypted link of a real node (migrate/
 * link_stream.h): each simulated node has a static key of its own and
 * knows the agent's (--agent-key, the 64 hex digits of om.key=); the
 * handshake, then HELLO, then every frame as one record. The control
 * connections are the agent's Unix socket, plain as for om-run.
 *
 * --rate paces each job at that many calls per second (default 1000, a
 * busy job's forwarded calls); 0 sends the next call as soon as the reply
 * is in (the agent's throughput, latency then includes queueing).
 *
 *   simnode --agent 127.0.0.1:PORT --agent-key HEX --control PATH --agent-pid PID
 *           [--nodes 1000] [--jobs 4] [--seconds 10] [--payload 256] [--rate 1000] */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "frame_rx.h"
#include "hexkey.h"
#include "job_msg.h"
#include "link_stream.h"
#include "proto.h"

#define SIM_RX_CAP (64 * 1024)
#define SIM_BATCH 64          /* connects before waiting for their WELCOMEs */
#define SIM_MAX_JOBS 64       /* simulated jobs at most */
#define SIM_FRAME_MAX (OM_HDR_SIZE + SIM_RX_CAP)

enum sim_kind { SIM_NODE, SIM_CTL };

struct sim_conn {
	int fd;
	enum sim_kind kind;
	struct om_stream st;   /* the socket, or the link over it (SIM_NODE) */
	struct link_stream *link; /* SIM_NODE: ~49 KB each, so not inline */
	int index;             /* SIM_NODE: which simulated node (its MAC) */
	int hello_sent;        /* SIM_NODE: the handshake is done, HELLO is out */
	int want_out;          /* EPOLLOUT is watched: the link holds handshake bytes */
	struct frame_rx rx;
	uint8_t *rxbuf;
	uint32_t node_id;      /* SIM_NODE: from WELCOME, 0 before */
	double hb_due;         /* SIM_NODE: next heartbeat */
	int job;               /* index into jobs[], -1 for an idle node */
};

struct sim_job {
	struct sim_conn *node, *ctl;
	pid_t child;
	uint32_t id;           /* agent's job id, 0 until placed */
	uint32_t seq;
	double sent;           /* when the pending SYSCALL_REQ left */
	double next;           /* when the next one may leave (--rate) */
	int in_flight;
	int started;           /* JOB_STARTED reached the control side */
};

static int ep;
static struct sim_conn **conns;
static int nconns, capconns;
static struct sim_job jobs[SIM_MAX_JOBS];
static int njobs;
static uint32_t heartbeat_ms = 1000;
static size_t payload = 256;
static uint8_t *pbuf;
static double *samples;
static size_t nsamples, capsamples;
static long heartbeats;
static int measuring;
static double rate = 1000; /* calls per second per job, 0 = back to back */
static uint8_t agent_key[NOISE_KEY]; /* the agent's static public key */
static uint8_t *fbuf;      /* the frame being sent, header and payload */

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void kill_children(void)
{
	for (int i = 0; i < njobs; i++)
		if (jobs[i].child > 0) {
			kill(jobs[i].child, SIGKILL);
			waitpid(jobs[i].child, NULL, 0);
			jobs[i].child = 0;
		}
}

static void die(const char *fmt, ...)
{
	va_list ap;
	fputs("simnode: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	kill_children();
	exit(1);
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The plain stream over a non-blocking socket; ctx points at the fd. */
static long sock_send(void *ctx, const void *buf, size_t len)
{
	ssize_t n;

	do
		n = send(*(int *)ctx, buf, len, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	if (n > 0)
		return (long)n;
	return n == 0 || errno == EAGAIN || errno == EWOULDBLOCK ? OM_STREAM_AGAIN : OM_STREAM_ERR;
}

static long sock_recv(void *ctx, void *buf, size_t len)
{
	ssize_t n;

	do
		n = recv(*(int *)ctx, buf, len, 0);
	while (n == -1 && errno == EINTR);
	if (n >= 0)
		return (long)n;
	return errno == EAGAIN || errno == EWOULDBLOCK ? OM_STREAM_AGAIN : OM_STREAM_ERR;
}

static const struct om_stream_ops sock_ops = { .send = sock_send, .recv = sock_recv };

static const char *kind_name(const struct sim_conn *c)
{
	return c->kind == SIM_NODE ? "node" : "control";
}

/* Why a stream call failed: the link's own reason, else errno's. */
static const char *stream_why(const struct sim_conn *c)
{
	const char *why = c->st.ops->why != NULL ? c->st.ops->why(c->st.ctx) : NULL;

	return why != NULL ? why : strerror(errno);
}

static int link_open(const struct sim_conn *c)
{
	return c->link != NULL && link_stream_peer(c->link) != NULL;
}

/* Sends a whole frame, one record on a node's link. The sockets are
 * non-blocking, so a full socket buffer waits in poll (frames here are
 * small, this is rare); the frame has left when this returns. */
static void send_frame(struct sim_conn *c, uint8_t type, uint32_t job, uint32_t seq, const void *p,
		       size_t len)
{
	size_t off = 0, total = OM_HDR_SIZE + len;
	long n;

	if (total > SIM_FRAME_MAX)
		die("%s of %zu bytes does not fit", om_type_name(type), len);
	/* Before the handshake is done the link takes nothing: waiting here
	 * would never end. */
	if (c->kind == SIM_NODE && !link_open(c))
		die("%s before the link's handshake", om_type_name(type));
	/* One buffer, so a frame is one record rather than header and payload
	 * apart (the agent then opens one, as from a real node). */
	om_hdr_encode(fbuf, type, (uint32_t)len, job, seq);
	if (len > 0)
		memcpy(fbuf + OM_HDR_SIZE, p, len);
	while (off < total) {
		n = c->st.ops->send(c->st.ctx, fbuf + off, total - off);
		if (n == OM_STREAM_AGAIN) {
			usleep(100);
			continue;
		}
		if (n < 0)
			die("send %s: %s", om_type_name(type), stream_why(c));
		off += (size_t)n;
	}
	/* The link keeps what the socket did not take of the last record. */
	while (c->st.ops->flush != NULL && (n = c->st.ops->flush(c->st.ctx)) != 0) {
		if (n != OM_STREAM_AGAIN)
			die("send %s: %s", om_type_name(type), stream_why(c));
		usleep(100);
	}
}

static void conn_watch(struct sim_conn *c, int out)
{
	struct epoll_event e = { .events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c };

	if (c->want_out == out)
		return;
	c->want_out = out;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e) == -1)
		die("epoll_ctl: %s", strerror(errno));
}

static struct sim_conn *conn_add(int fd, enum sim_kind kind, int job)
{
	struct sim_conn *c = calloc(1, sizeof *c);
	struct epoll_event e = { .events = EPOLLIN };
	size_t cap = job >= 0 || kind == SIM_CTL ? SIM_RX_CAP : 4096;

	if (c == NULL || (c->rxbuf = malloc(cap)) == NULL)
		die("out of memory");
	c->fd = fd;
	c->kind = kind;
	c->job = job;
	c->st = (struct om_stream){ &sock_ops, &c->fd };
	frame_rx_init(&c->rx, c->rxbuf, cap);
	if (nconns == capconns) {
		capconns = capconns ? capconns * 2 : 256;
		if ((conns = realloc(conns, (size_t)capconns * sizeof *conns)) == NULL)
			die("out of memory");
	}
	conns[nconns++] = c;
	e.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) == -1)
		die("epoll_ctl: %s", strerror(errno));
	return c;
}

static void node_hello(struct sim_conn *c)
{
	struct om_hello h;
	uint8_t buf[512];
	int n, index = c->index;

	memset(&h, 0, sizeof h);
	/* Locally administered unicast MACs, one per simulated node. */
	h.mac[0] = 0x02;
	h.mac[1] = 0x53;
	h.mac[2] = 0x49;
	h.mac[3] = (uint8_t)(index >> 16);
	h.mac[4] = (uint8_t)(index >> 8);
	h.mac[5] = (uint8_t)index;
	snprintf(h.nic, sizeof h.nic, "simnode");
	snprintf(h.cpu.vendor, sizeof h.cpu.vendor, "SimNode");
	snprintf(h.cpu.model, sizeof h.cpu.model, "simulated node %d", index);
	h.cpu.cores = 1;
	h.mem_bytes = 1ull << 30;
	h.speed = 100;
	snprintf(h.version, sizeof h.version, "simnode");
	if ((n = om_hello_encode(&h, buf, sizeof buf)) < 0)
		die("HELLO does not encode: %s", om_strerror(n));
	send_frame(c, OM_T_HELLO, 0, 0, buf, (size_t)n);
	c->hello_sent = 1;
}

/* Moves a node's handshake on after its socket did something: the link's
 * pending message goes out (EPOLLOUT is watched while the socket cannot
 * take it), and once the link is open the node says HELLO. */
static void node_progress(struct sim_conn *c)
{
	long n = c->st.ops->flush(c->st.ctx);

	if (n == OM_STREAM_ERR)
		die("node %d: send: %s", c->index, stream_why(c));
	conn_watch(c, n == OM_STREAM_AGAIN);
	if (n == 0 && !c->hello_sent && link_open(c))
		node_hello(c);
}

/* Connects a node and starts its link: the first handshake message goes
 * out now, HELLO once the agent has answered (node_progress). */
static struct sim_conn *node_connect(const struct sockaddr_in *sa, int index, int job)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	uint8_t s[NOISE_KEY], s_pub[NOISE_KEY], e[NOISE_KEY];
	struct sim_conn *c;

	/* Each node from an address of its own (127.1.0.0/16 is loopback too),
	 * as in a lab: the agent caps unregistered connections per address. */
	struct sockaddr_in me = { .sin_family = AF_INET };
	me.sin_addr.s_addr = htonl(0x7f010000u | (uint32_t)(index / 250) << 8 | (uint32_t)(index % 250 + 1));
	if (fd == -1 || bind(fd, (const struct sockaddr *)&me, sizeof me) == -1 ||
	    connect(fd, (const struct sockaddr *)sa, sizeof *sa) == -1)
		die("connect to the agent (node %d): %s", index, strerror(errno));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1)
		die("fcntl: %s", strerror(errno));
	c = conn_add(fd, SIM_NODE, job);
	c->index = index;
	/* A static key of its own, as each real node makes one at boot. */
	if (getrandom(s, sizeof s, 0) != (ssize_t)sizeof s || getrandom(e, sizeof e, 0) != (ssize_t)sizeof e)
		die("getrandom: %s", strerror(errno));
	if ((c->link = malloc(sizeof *c->link)) == NULL)
		die("out of memory");
	if (noise_public(s_pub, s) != 0 || link_stream_init(c->link, c->st, 1, s, s_pub, agent_key, e) != 0)
		die("node %d: link_stream_init: %s", index, c->link->why);
	c->st = (struct om_stream){ &link_stream_ops, c->link };
	node_progress(c);
	return c;
}

static void heartbeat(struct sim_conn *c)
{
	struct om_heartbeat hb = { .uptime_ms = 1000, .load_milli = c->job >= 0 ? 1000 : 0,
				   .mem_free = 1ull << 29, .jobs = c->job >= 0 };
	uint8_t buf[64];
	int n = om_heartbeat_encode(&hb, buf, sizeof buf);
	if (n < 0)
		die("HEARTBEAT does not encode");
	send_frame(c, OM_T_HEARTBEAT, 0, 0, buf, (size_t)n);
	heartbeats++;
}

static void call_send(struct sim_job *j)
{
	j->seq++;
	j->sent = now();
	j->next = j->sent + (rate > 0 ? 1.0 / rate : 0);
	j->in_flight = 1;
	send_frame(j->node, OM_T_SYSCALL_REQ, j->id, j->seq, pbuf, payload);
}

static void sample(double us)
{
	if (!measuring)
		return;
	if (nsamples == capsamples) {
		capsamples = capsamples ? capsamples * 2 : 65536;
		if ((samples = realloc(samples, capsamples * sizeof *samples)) == NULL)
			die("out of memory");
	}
	samples[nsamples++] = us;
}

static void on_frame(struct sim_conn *c, const struct om_hdr *h, const uint8_t *p)
{
	struct sim_job *j = c->job >= 0 ? &jobs[c->job] : NULL;

	switch (h->type) {
	case OM_T_WELCOME: {
		struct om_welcome w;
		if (c->kind != SIM_NODE || om_welcome_decode(p, h->length, &w) != OM_OK)
			die("bad WELCOME");
		c->node_id = w.node_id;
		heartbeat_ms = w.heartbeat_ms;
		return;
	}
	case OM_T_CTL_JOB_PLACED: {
		struct om_job_placed pl;
		if (c->kind != SIM_CTL || om_job_placed_decode(p, h->length, &pl) != OM_OK)
			die("bad CTL_JOB_PLACED");
		if (pl.node == 0)
			die("job not placed: %s", pl.reason);
		if (pl.node != j->node->node_id)
			die("job placed on node %u, asked for %u", pl.node, j->node->node_id);
		j->id = pl.job;
		send_frame(j->node, OM_T_JOB_STARTED, j->id, 0, NULL, 0);
		return;
	}
	case OM_T_JOB_STARTED:
		if (c->kind != SIM_CTL || h->job != j->id)
			die("JOB_STARTED for job %u on the wrong connection", h->job);
		j->started = 1;
		call_send(j);
		return;
	case OM_T_SYSCALL_REQ: /* the deputy's side: answer at once */
		if (c->kind != SIM_CTL || h->job != j->id)
			die("SYSCALL_REQ for job %u on the wrong connection", h->job);
		send_frame(c, OM_T_SYSCALL_REP, h->job, h->seq, p, h->length);
		return;
	case OM_T_SYSCALL_REP:
		if (c->kind != SIM_NODE || j == NULL || h->job != j->id || h->seq != j->seq)
			die("SYSCALL_REP out of order (job %u seq %u)", h->job, h->seq);
		sample((now() - j->sent) * 1e6);
		j->in_flight = 0;
		if (j->next <= now())
			call_send(j);
		return;
	case OM_T_ERROR: {
		struct om_error e;
		if (om_error_decode(p, h->length, &e) == OM_OK)
			die("the agent sent ERROR %d: %s", (int)e.code, e.msg);
		die("the agent sent a bad ERROR");
	}
	default:
		die("unexpected %s from the agent", om_type_name(h->type));
	}
}

/* One receive, then every complete frame in the buffer. */
static void recv_once(struct sim_conn *c)
{
	struct om_hdr h;
	const uint8_t *p;
	uint8_t *where;
	int rc;

	size_t room = frame_rx_room(&c->rx, &where);
	if (room == 0)
		die("a %s connection's receive buffer is full", kind_name(c));
	long n = c->st.ops->recv(c->st.ctx, where, room);
	if (n == OM_STREAM_AGAIN)
		return;
	if (n == 0)
		die("the agent closed a %s connection", kind_name(c));
	if (n < 0)
		die("recv on a %s connection: %s", kind_name(c), stream_why(c));
	frame_rx_commit(&c->rx, (size_t)n);
	while ((rc = frame_rx_next(&c->rx, &h, &p)) == OM_OK)
		on_frame(c, &h, p);
	if (rc != OM_E_SHORT)
		die("bad frame from the agent: %s", om_strerror(rc));
}

/* epoll is level-triggered, so what is left in the socket is reported
 * again; what the link decrypted and holds is not, so it is taken now. */
static void on_readable(struct sim_conn *c)
{
	do
		recv_once(c);
	while (c->st.ops->held != NULL && c->st.ops->held(c->st.ctx) > 0);
	if (c->kind == SIM_NODE)
		node_progress(c); /* a handshake answer, then HELLO */
}

/* Sends the heartbeats that are due; node i's first one is staggered by
 * i/N of the interval so they spread evenly, as real nodes' do. */
static void heartbeats_due(double t)
{
	for (int i = 0; i < nconns; i++) {
		struct sim_conn *c = conns[i];
		if (c->kind != SIM_NODE || c->node_id == 0)
			continue;
		if (c->hb_due == 0)
			c->hb_due = t + heartbeat_ms / 1000.0 * i / nconns;
		if (c->hb_due <= t) {
			heartbeat(c);
			c->hb_due += heartbeat_ms / 1000.0;
			if (c->hb_due < t)
				c->hb_due = t + heartbeat_ms / 1000.0;
		}
	}
}

/* Runs the loop until t_end, or until done() is true when given. */
static void loop(double t_end, int (*done)(void))
{
	struct epoll_event ev[256];
	double next_hb = 0;

	for (;;) {
		double t = now();
		if (t >= t_end)
			return;
		if (done != NULL && done())
			return;
		/* A scan of the table every 5 ms: cheap next to the agent's work. */
		if (t >= next_hb) {
			heartbeats_due(t);
			next_hb = t + 0.005;
		}
		int n = epoll_wait(ep, ev, 256, rate > 0 ? 1 : 5);
		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++) {
			struct sim_conn *c = ev[i].data.ptr;
			if (ev[i].events & EPOLLOUT)
				node_progress(c);
			if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				on_readable(c);
		}
		/* Paced calls whose time has come. */
		t = now();
		for (int i = 0; i < njobs; i++)
			if (jobs[i].started && !jobs[i].in_flight && jobs[i].next <= t)
				call_send(&jobs[i]);
	}
}

static int welcome_pending_from;
static int all_welcomed(void)
{
	for (int i = welcome_pending_from; i < nconns; i++)
		if (conns[i]->kind == SIM_NODE && conns[i]->node_id == 0)
			return 0;
	return 1;
}

static int all_placed(void)
{
	for (int i = 0; i < njobs; i++)
		if (!jobs[i].started)
			return 0;
	return 1;
}

static double agent_cpu_s(pid_t pid)
{
	char path[64], buf[1024], *rp;
	unsigned long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		die("%s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields 14 and 15 (utime, stime), counted after the ')' of comm. */
	if ((rp = strrchr(buf, ')')) == NULL ||
	    sscanf(rp + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		die("%s: unreadable", path);
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double q)
{
	size_t i = (size_t)(q * (double)(nsamples - 1) + 0.5);
	return samples[i];
}

static void phase(const char *name, double seconds, pid_t agent, int nodes)
{
	nsamples = 0;
	heartbeats = 0;
	double c0 = agent_cpu_s(agent), t0 = now();
	measuring = 1;
	loop(t0 + seconds, NULL);
	measuring = 0;
	double wall = now() - t0, cpu = agent_cpu_s(agent) - c0;
	if (nsamples == 0)
		die("phase %s: no round trip completed", name);
	qsort(samples, nsamples, sizeof *samples, cmp_double);
	printf("phase %s nodes %d jobs %d rate %.0f trips %zu p50_us %.1f p90_us %.1f p99_us %.1f "
	       "agent_cpu_pct %.1f seconds %.2f heartbeats %ld\n",
	       name, nodes, njobs, rate, nsamples, pct(0.50), pct(0.90), pct(0.99), 100.0 * cpu / wall, wall,
	       heartbeats);
	fflush(stdout);
}

static void usage(void)
{
	fprintf(stderr, "usage: simnode --agent ADDR:PORT --agent-key HEX --control PATH --agent-pid PID\n"
			"               [--nodes N] [--jobs J] [--seconds S] [--payload BYTES] [--rate N]\n"
			"  --agent-key: the agent's public key, 64 hex digits (om.key=)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "agent", required_argument, NULL, 'a' }, { "control", required_argument, NULL, 'c' },
		{ "agent-pid", required_argument, NULL, 'p' }, { "nodes", required_argument, NULL, 'n' },
		{ "jobs", required_argument, NULL, 'j' }, { "seconds", required_argument, NULL, 's' },
		{ "payload", required_argument, NULL, 'b' }, { "rate", required_argument, NULL, 'r' },
		{ "agent-key", required_argument, NULL, 'k' }, { NULL, 0, NULL, 0 }
	};
	const char *agent = NULL, *control = NULL;
	int nodes = 1000, ch, have_key = 0;
	double seconds = 10;
	pid_t agent_pid = 0;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'a': agent = optarg; break;
		case 'c': control = optarg; break;
		case 'p': agent_pid = atoi(optarg); break;
		case 'n': nodes = atoi(optarg); break;
		case 'j': njobs = atoi(optarg); break;
		case 's': seconds = atof(optarg); break;
		case 'b': payload = (size_t)atol(optarg); break;
		case 'r': rate = atof(optarg); break;
		case 'k': have_key = hexkey_parse(optarg, strlen(optarg), agent_key) == 0; break;
		default: usage();
		}
	}
	if (njobs == 0)
		njobs = 4;
	if (!agent || !have_key || !control || agent_pid <= 0 || nodes < 0 || njobs < 1 || njobs > SIM_MAX_JOBS ||
	    seconds <= 0 || rate < 0 || payload > SIM_RX_CAP - OM_HDR_SIZE)
		usage();

	struct sockaddr_in sa = { .sin_family = AF_INET };
	char host[64];
	const char *colon = strrchr(agent, ':');
	if (colon == NULL || (size_t)(colon - agent) >= sizeof host)
		usage();
	memcpy(host, agent, (size_t)(colon - agent));
	host[colon - agent] = '\0';
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		usage();

	/* One descriptor per connection plus a margin. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)nodes + njobs * 2 + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1 || (pbuf = malloc(payload + 1)) == NULL ||
	    (fbuf = malloc(SIM_FRAME_MAX)) == NULL)
		die("setup: %s", strerror(errno));
	memset(pbuf, 'p', payload);

	/* The job nodes, then their om-run stand-ins. */
	for (int i = 0; i < njobs; i++)
		jobs[i].node = node_connect(&sa, i, i);
	loop(now() + 10, all_welcomed);
	if (!all_welcomed())
		die("the job nodes were not welcomed within 10 s");
	for (int i = 0; i < njobs; i++) {
		struct sim_job *j = &jobs[i];
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		struct om_job_submit s;
		uint8_t buf[OM_JOB_SUBMIT_MAX];
		int fd, n;

		if ((j->child = fork()) == -1)
			die("fork: %s", strerror(errno));
		if (j->child == 0) {
			alarm((unsigned)(seconds * 2 + 120)); /* outlives nothing if we die */
			for (;;)
				pause();
		}
		snprintf(sun.sun_path, sizeof sun.sun_path, "%s", control);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
		    connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1)
			die("%s: %s", control, strerror(errno));
		j->ctl = conn_add(fd, SIM_CTL, i);
		fcntl(fd, F_SETFL, O_NONBLOCK);
		memset(&s, 0, sizeof s);
		s.pid = (uint32_t)j->child;
		snprintf(s.cmd, sizeof s.cmd, "simnode job %d", i);
		s.cpu.cores = 1;
		s.node = j->node->node_id;
		if ((n = om_job_submit_encode(&s, buf, sizeof buf)) < 0)
			die("CTL_JOB_SUBMIT does not encode: %s", om_strerror(n));
		send_frame(j->ctl, OM_T_CTL_JOB_SUBMIT, 0, 0, buf, (size_t)n);
	}
	loop(now() + 10, all_placed);
	if (!all_placed())
		die("the jobs did not start within 10 s");

	phase("base", seconds, agent_pid, njobs);

	double t0 = now();
	for (int i = 0; i < nodes; i += SIM_BATCH) {
		welcome_pending_from = nconns;
		for (int k = i; k < nodes && k < i + SIM_BATCH; k++)
			node_connect(&sa, njobs + k, -1);
		loop(now() + 10, all_welcomed);
		if (!all_welcomed())
			die("nodes %d.. were not welcomed within 10 s", i);
	}
	printf("register_s %.3f nodes %d\n", now() - t0, nodes);
	phase("loaded", seconds, agent_pid, nodes + njobs);

	kill_children();
	return 0;
}
