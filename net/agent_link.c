/* agent_link.c - the node's TCP link to om-agent over lwIP's raw API.
 *
 * States (net.h enum agent_state):
 *   WAIT_ADDR  no address yet (DHCP pending) or no agent address known
 *   CONNECTING tcp_connect issued, SYN in flight
 *   HELLO_SENT connected, HELLO queued, waiting for WELCOME
 *   REGISTERED WELCOME received; heartbeats flow
 *   BACKOFF    the last connection failed; reconnect at ag.retry_at
 * Any failure goes through agent_lost(), which releases the pcb and schedules
 * the next attempt, doubling the delay from 250 ms to 5 s; a successful
 * registration resets it.
 *
 * Bytes move only through an om_stream: the encrypted link (link_stream.c,
 * the agent authenticated by om.key=, this node by the key it made at boot)
 * over the pcb (pcb_stream.c). The handshake runs inside the stream's calls
 * and must end within the WELCOME deadline. Flow control, both ways bounded:
 *  - Receive: the stream keeps lwIP's pbufs until the 64 KiB frame_rx buffer
 *    has room, and tcp_recved()s only what it hands over, so an agent that
 *    outruns us sees the window close instead of our memory fill up.
 *  - Send: frames go whole into ag.out (our bounded queue) and from there into
 *    the stream as lwIP's send buffer allows; the tcp_sent and tcp_poll
 *    callbacks move the rest. A frame is only taken from the receive buffer
 *    when the largest immediate answer (an ECHO_REPLY, at most
 *    AGENT_ECHO_MAX) fits into ag.out, so a peer that does not read stalls
 *    itself, not us.
 *  - Job frames (IMAGE_*, SYSCALL_REP, SIGNAL, ...) go to the handler the
 *    kernel registered; its own frames go out through agent_job_send, which
 *    says "not now" rather than block when ag.out is full.
 *
 * Timers: backoff and heartbeats need ms precision and run from agent_poll()
 * (net_poll, main loop). The per-connection deadlines (WELCOME within 5 s, no
 * acknowledgement for 20 s) run from the tcp_poll callback every 500 ms. */
#include <stdio.h>
#include <string.h>

#include "lwip/ip4_addr.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"

#include "agent_link.h"
#include "cpu.h"
#include "frame_rx.h"
#include "link_stream.h"
#include "pcb_stream.h"
#include "proto.h"
#include "random.h"
#include "timer.h"

#define AGENT_BACKOFF_MIN_MS 250
#define AGENT_BACKOFF_MAX_MS 5000
#define AGENT_WELCOME_MS 5000      /* connect + HELLO + WELCOME must fit */
#define AGENT_ACK_STALL_MS 20000   /* data outstanding and nothing acked, at least */
#define AGENT_ACK_STALL_MAX_MS 3600000
#define AGENT_HB_DEFAULT_MS 1000
#define AGENT_HB_MIN_MS 100
#define AGENT_HB_MAX_MS 60000
#define AGENT_HB_SOON_MS 100 /* agent_heartbeat_soon: at most ten a second */
#define AGENT_POLL_INTERVAL 1      /* tcp_poll: units of 500 ms */
/* Job frames (process images, system call buffers) may be as large as the
 * protocol allows. */
#define AGENT_RX_SIZE (OM_HDR_SIZE + OM_MAX_PAYLOAD)
#define AGENT_OUT_SIZE (OM_HDR_SIZE + OM_MAX_PAYLOAD + 128 * 1024)
#define AGENT_ECHO_MAX (64 * 1024) /* larger ECHOs are a protocol error */
#define AGENT_MSG_MAX 1024         /* our own encoded messages (HELLO, ...) */

static struct {
	enum agent_state state;
	struct tcp_pcb *pcb;
	const struct nic *nic;
	struct om_hello hello;      /* template from node_identity */
	ip4_addr_t peer;            /* 0: unknown */
	uint16_t port;
	uint32_t node_id, heartbeat_ms;
	uint32_t backoff_ms;        /* delay before the next attempt */
	uint32_t retry_at;          /* BACKOFF: when to connect */
	uint32_t deadline;          /* CONNECTING/HELLO_SENT: WELCOME due */
	uint32_t next_hb;           /* REGISTERED: next heartbeat */
	uint32_t last_hb;           /* ... and the last one */
	uint32_t ack_at;            /* last time the agent acked our data */
	uint32_t attempts, reconnects;
	uint64_t welcome_time_ns;   /* home's clock in the last WELCOME */
	uint32_t welcome_at_ms;
	uint32_t stall_ms;          /* unacked this long: the agent is gone */
	struct pcb_stream ps;       /* the transport under ag.link */
	struct link_stream link;    /* the encryption under ag.stream */
	struct om_stream stream;
	uint8_t key[NOISE_KEY];     /* this boot's static key (private) */
	uint8_t key_pub[NOISE_KEY];
	char key_fp[NOISE_FP_LEN + 1];
	uint8_t agent_key[NOISE_KEY];
	int have_agent_key, key_refused;
	int not_admitted;           /* the agent's last word: not admitted (yet) */
	struct frame_rx rx;
	uint8_t rx_buf[AGENT_RX_SIZE];
	uint8_t out[AGENT_OUT_SIZE];
	size_t out_head, out_len;   /* queued bytes: out[out_head, +out_len) */
	uint8_t msg[AGENT_MSG_MAX];
	agent_job_rx_fn job_rx;     /* the kernel's handler for job frames */
	void (*status)(struct om_heartbeat *hb); /* the kernel's heartbeat values */
	void (*job_lost)(void);
	void (*job_back)(void);
	uint32_t grace_ms;          /* the last WELCOME's */
	void (*restart)(void);      /* the kernel's handler for NODE_RESTART */
} ag;

static void agent_ntoa(const ip4_addr_t *a, char *buf, int len)
{
	ip4addr_ntoa_r(a, buf, len);
}

/* ------------------------------------------------------------ send queue */

static size_t agent_out_free(void)
{
	return sizeof(ag.out) - ag.out_len;
}

/* Appends one whole frame to the queue or nothing. Returns 0, or -1 when it
 * does not fit now (the caller decides whether that is fatal). */
static int agent_queue(uint8_t type, uint32_t job, uint32_t seq, const void *payload, size_t len)
{
	if (OM_HDR_SIZE + len > agent_out_free())
		return -1;
	if (ag.out_head + ag.out_len + OM_HDR_SIZE + len > sizeof(ag.out)) {
		memmove(ag.out, ag.out + ag.out_head, ag.out_len);
		ag.out_head = 0;
	}
	om_hdr_encode(ag.out + ag.out_head + ag.out_len, type, (uint32_t)len, job, seq);
	ag.out_len += OM_HDR_SIZE;
	memcpy(ag.out + ag.out_head + ag.out_len, payload, len);
	ag.out_len += len;
	return 0;
}

/* Moves queued bytes into the stream as far as it takes them. Returns 0
 * (maybe with bytes left for the sent/poll callbacks) or -1 when the stream
 * is dead. */
static int agent_flush(void)
{
	while (ag.out_len > 0) {
		long n;

		if (tcp_sndbuf(ag.pcb) == TCP_SND_BUF)
			ag.ack_at = timer_ms(); /* nothing was in flight: the stall clock starts now */
		n = ag.stream.ops->send(ag.stream.ctx, ag.out + ag.out_head, ag.out_len);
		if (n == OM_STREAM_AGAIN)
			break;
		if (n < 0)
			return -1;
		ag.out_head += (size_t)n;
		ag.out_len -= (size_t)n;
	}
	if (ag.out_len == 0)
		ag.out_head = 0;
	/* The link's last sealed record (or handshake message) may be
	 * waiting for room in lwIP even when our queue is empty. */
	return ag.stream.ops->flush(ag.stream.ctx) == OM_STREAM_ERR ? -1 : 0;
}

/* ------------------------------------------------------------ teardown */

static void agent_reset_buffers(void)
{
	frame_rx_init(&ag.rx, ag.rx_buf, sizeof(ag.rx_buf));
	ag.out_head = ag.out_len = 0;
}

/* Whether tcp_close will leave the pcb allocated for now. In SYN_SENT it
 * frees the pcb at once, and with unread data it sends RST and frees it too,
 * yet returns ERR_OK either way, so a callback could not tell that the pcb
 * it runs on is gone. We abort instead in those cases (a RST either way). */
static int agent_close_is_orderly(const struct tcp_pcb *pcb)
{
	return (pcb->state == ESTABLISHED || pcb->state == CLOSE_WAIT) && pcb->refused_data == NULL &&
	       pcb->rcv_wnd == TCP_WND_MAX(pcb);
}

/* Drops the connection for 'reason' and schedules the next attempt.
 * graceful: tcp_close (what we queued still goes out, then FIN), falling back
 * to tcp_abort when that cannot be orderly or lwIP lacks memory to close;
 * otherwise tcp_abort (RST, pcb freed at once). Returns ERR_ABRT if the pcb
 * was aborted, which a raw-API callback running on that pcb must pass back
 * to lwIP. */
static err_t agent_lost(const char *reason, int graceful)
{
	struct tcp_pcb *pcb = ag.pcb;
	err_t ret = ERR_OK;
	uint32_t delay = ag.backoff_ms;

	ag.pcb = NULL;
	if (pcb != NULL) {
		tcp_arg(pcb, NULL);
		tcp_recv(pcb, NULL);
		tcp_sent(pcb, NULL);
		tcp_err(pcb, NULL);
		tcp_poll(pcb, NULL, 0);
		pcb_stream_detach(&ag.ps); /* recveds unread data: see above */
		if (!graceful || !agent_close_is_orderly(pcb) || tcp_close(pcb) != ERR_OK) {
			tcp_abort(pcb);
			ret = ERR_ABRT;
		}
	}
	pcb_stream_detach(&ag.ps); /* also after tcp_err: pbufs are ours to free */
	link_stream_wipe(&ag.link);
	agent_reset_buffers();
	if (ag.job_lost != NULL && ag.state == AGENT_REGISTERED)
		ag.job_lost(); /* the jobs wait for the next link, or go */
	ag.node_id = 0;
	ag.backoff_ms = delay * 2 > AGENT_BACKOFF_MAX_MS ? AGENT_BACKOFF_MAX_MS : delay * 2;
	ag.retry_at = timer_ms() + delay;
	ag.state = AGENT_BACKOFF;
	printf("agent: connection lost (%s), retrying in %u ms\n", reason, (unsigned)delay);
	return ret;
}

/* A protocol violation by the agent: tell it why, then close. */
static err_t agent_bad_frame(int code, const char *what)
{
	struct om_error e;
	char reason[96];
	int n;

	memset(&e, 0, sizeof(e));
	e.code = (uint32_t)code;
	snprintf(e.msg, sizeof(e.msg), "node: %s", what);
	n = om_error_encode(&e, ag.msg, sizeof(ag.msg));
	if (n >= 0 && agent_queue(OM_T_ERROR, 0, 0, ag.msg, (size_t)n) == 0)
		agent_flush();
	snprintf(reason, sizeof(reason), "bad frame: %s", what);
	return agent_lost(reason, 1);
}

/* ------------------------------------------------------------ messages */

static err_t agent_send_hello(void)
{
	struct om_hello h = ag.hello;
	int n;

	memcpy(h.mac, ag.nic->mac, sizeof(h.mac));
	snprintf(h.nic, sizeof(h.nic), "%s", ag.nic->name ? ag.nic->name : "?");
	h.boot_ms = timer_ms();
	n = om_hello_encode(&h, ag.msg, sizeof(ag.msg));
	if (n < 0) {
		printf("agent: cannot encode HELLO: %s\n", om_strerror(n));
		return agent_lost("HELLO does not encode", 0);
	}
	if (agent_queue(OM_T_HELLO, 0, 0, ag.msg, (size_t)n) != 0)
		return agent_lost("HELLO does not fit the send queue", 0);
	ag.state = AGENT_HELLO_SENT;
	if (agent_flush() != 0)
		return agent_lost("send failed", 0);
	return ERR_OK;
}

static void agent_send_heartbeat(void)
{
	struct om_heartbeat hb;
	int n;

	memset(&hb, 0, sizeof(hb));
	if (ag.status)
		ag.status(&hb);
	n = om_heartbeat_encode(&hb, ag.msg, sizeof(ag.msg));
	/* A heartbeat that does not fit is skipped, not queued up: the next one
	 * carries fresher values, and a peer that stopped reading is caught by
	 * the acknowledgement stall check. */
	if (n < 0 || agent_queue(OM_T_HEARTBEAT, 0, 0, ag.msg, (size_t)n) != 0)
		return;
	if (agent_flush() != 0)
		agent_lost("send failed", 0);
}

static err_t agent_on_welcome(const uint8_t *p, size_t len)
{
	struct om_welcome w;
	char ip[16];
	int rc;

	if (ag.state != AGENT_HELLO_SENT)
		return agent_bad_frame(OM_E_RANGE, "unexpected WELCOME");
	rc = om_welcome_decode(p, len, &w);
	if (rc != OM_OK)
		return agent_bad_frame(rc, "WELCOME does not decode");
	ag.node_id = w.node_id;
	ag.welcome_time_ns = w.time_ns;
	ag.welcome_at_ms = timer_ms();
	/* The agent keeps our jobs through a silence of grace_ms: so long
	 * we keep them through its silence too (a cable pulled out). */
	ag.stall_ms = w.grace_ms < AGENT_ACK_STALL_MS ? AGENT_ACK_STALL_MS :
	    w.grace_ms > AGENT_ACK_STALL_MAX_MS ? AGENT_ACK_STALL_MAX_MS : w.grace_ms;
	ag.heartbeat_ms = w.heartbeat_ms == 0 ? AGENT_HB_DEFAULT_MS : w.heartbeat_ms;
	if (ag.heartbeat_ms < AGENT_HB_MIN_MS)
		ag.heartbeat_ms = AGENT_HB_MIN_MS;
	if (ag.heartbeat_ms > AGENT_HB_MAX_MS)
		ag.heartbeat_ms = AGENT_HB_MAX_MS;
	ag.next_hb = timer_ms() + ag.heartbeat_ms;
	ag.backoff_ms = AGENT_BACKOFF_MIN_MS;
	ag.key_refused = 0;
	ag.not_admitted = 0;
	ag.grace_ms = w.grace_ms;
	ag.state = AGENT_REGISTERED;
	agent_ntoa(&ag.peer, ip, sizeof(ip));
	printf("agent: registered with %s:%u as node %u\n", ip, ag.port, (unsigned)ag.node_id);
	if (ag.job_back != NULL)
		ag.job_back();
	return ERR_OK;
}

static err_t agent_on_error(const uint8_t *p, size_t len)
{
	struct om_error e;
	int rc = om_error_decode(p, len, &e);

	if (rc != OM_OK)
		return agent_bad_frame(rc, "ERROR does not decode");
	printf("agent: error from agent: %s (code %d)\n", e.msg, (int)e.code);
	if ((int32_t)e.code == OM_E_ADMIT)
		ag.not_admitted = 1; /* the panel asks for the admin until a WELCOME */
	return ERR_OK;
}

/* Handles one complete frame. Returns ERR_OK to go on, or what agent_lost
 * returned once the connection is gone. */
static err_t agent_on_frame(const struct om_hdr *h, const uint8_t *p)
{
	char what[48];

	switch (h->type) {
	case OM_T_WELCOME:
		return agent_on_welcome(p, h->length);
	case OM_T_ERROR:
		return agent_on_error(p, h->length);
	case OM_T_ECHO:
		/* The caller made sure the reply fits (agent_rx_process). */
		if (h->length > AGENT_ECHO_MAX)
			return agent_bad_frame(OM_E_TOOBIG, "ECHO larger than 64 KiB");
		if (agent_queue(OM_T_ECHO_REPLY, h->job, h->seq, p, h->length) != 0)
			return agent_lost("send queue overflow", 0);
		return ERR_OK;
	case OM_T_ECHO_REPLY:
		return ERR_OK; /* we send no ECHO yet; harmless */
	case OM_T_BYE:
		return agent_lost("agent said goodbye", 1);
	case OM_T_NODE_RESTART:
		if (ag.state != AGENT_REGISTERED)
			return agent_bad_frame(OM_E_STATE, "NODE_RESTART before registration");
		if (h->length != 0 || h->job != 0)
			return agent_bad_frame(OM_E_TRAILING, "NODE_RESTART with a payload or job id");
		if (ag.restart != NULL)
			ag.restart();
		return ERR_OK;
	case OM_T_IMAGE_BEGIN:
	case OM_T_IMAGE_THREAD:
	case OM_T_IMAGE_REGION:
	case OM_T_IMAGE_PAGES:
	case OM_T_IMAGE_END:
	case OM_T_SYSCALL_REP:
	case OM_T_SIGNAL:
	case OM_T_MIGRATE_HOME:
	case OM_T_JOB_KILL:
	case OM_T_JOB_CONTINUE:
	case OM_T_JOB_FORK:
	case OM_T_JOB_MOVE:
	case OM_T_JOB_RESUME:
	case OM_T_JOB_ARRIVING:
	case OM_T_CHECKPOINT:
	case OM_T_JOB_REATTACHED:
	case OM_T_DECISIONS:
		if (ag.state == AGENT_REGISTERED && ag.job_rx != NULL) {
			ag.job_rx(h, p);
			return ERR_OK;
		}
		return agent_bad_frame(OM_E_STATE, "job frame before registration");
	default:
		snprintf(what, sizeof(what), "unexpected %s frame", om_type_name(h->type));
		return agent_bad_frame(OM_E_TYPE, what);
	}
}

/* ------------------------------------------------------------ receive */

/* Handles every complete frame in the receive buffer whose reply fits into
 * the send queue, then flushes. Returns ERR_OK or agent_lost's result. */
static err_t agent_rx_process(void)
{
	struct om_hdr h;
	const uint8_t *payload;
	err_t err;
	int rc;

	while (ag.pcb != NULL) {
		/* Worst case reply: as long as the frame itself. Wait for the queue
		 * to drain (tcp_sent calls us again) rather than drop an answer. */
		if (agent_out_free() < OM_HDR_SIZE + AGENT_ECHO_MAX)
			break;
		rc = frame_rx_next(&ag.rx, &h, &payload);
		if (rc == OM_E_SHORT)
			break;
		if (rc != OM_OK)
			return agent_bad_frame(rc, om_strerror(rc));
		err = agent_on_frame(&h, payload);
		if (err != ERR_OK || ag.pcb == NULL)
			return err;
	}
	if (ag.pcb != NULL && agent_flush() != 0)
		return agent_lost("send failed", 0);
	return ERR_OK;
}

/* Pulls bytes from the stream into the frame buffer as room allows and
 * handles the frames, until the stream has nothing more for us. An orderly
 * end of stream is acted on only after the frames before it (an agent may
 * send ERROR and close). */
static err_t agent_rx_pump(void)
{
	for (;;) {
		uint8_t *where;
		size_t room;
		long n;
		err_t err = agent_rx_process();

		if (err != ERR_OK || ag.pcb == NULL)
			return err;
		room = frame_rx_room(&ag.rx, &where);
		if (room == 0)
			return ERR_OK; /* full of frames waiting for send-queue room */
		n = ag.stream.ops->recv(ag.stream.ctx, where, room);
		if (n == OM_STREAM_AGAIN) /* the handshake may just have ended: HELLO goes */
			return agent_flush() == 0 ? ERR_OK : agent_lost("send failed", 0);
		if (n == 0)
			return agent_lost("closed by agent", 1);
		if (n < 0) {
			const char *why = ag.stream.ops->why(ag.stream.ctx);

			/* Refused in the handshake: the agent does not hold the key
			 * om.key= names, or does not know that key as its own. */
			ag.key_refused = ag.link.hs.step == 1;
			return agent_lost(why != NULL ? why : "receive failed", 0);
		}
		frame_rx_commit(&ag.rx, (size_t)n);
	}
}

/* ------------------------------------------------------------ lwIP callbacks */

static err_t agent_tcp_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	(void)arg;
	if (pcb != ag.pcb) { /* a stale pcb we let go of: refuse politely */
		if (p != NULL)
			pbuf_free(p);
		return ERR_OK;
	}
	if (err != ERR_OK) { /* lwIP 2.1 never passes one; be safe anyway */
		if (p != NULL)
			pbuf_free(p);
		return agent_lost("receive error", 0);
	}
	pcb_stream_input(&ag.ps, p);
	return agent_rx_pump();
}

static err_t agent_tcp_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	(void)arg;
	(void)len;
	if (pcb != ag.pcb)
		return ERR_OK;
	ag.ack_at = timer_ms();
	/* Room in the queue may unblock frames waiting for their reply. */
	if (agent_flush() != 0)
		return agent_lost("send failed", 0);
	return agent_rx_pump();
}

static err_t agent_tcp_poll(void *arg, struct tcp_pcb *pcb)
{
	uint32_t now = timer_ms();

	(void)arg;
	if (pcb != ag.pcb)
		return ERR_OK;
	if ((ag.state == AGENT_CONNECTING || ag.state == AGENT_HELLO_SENT) &&
	    (int32_t)(now - ag.deadline) >= 0)
		return agent_lost(ag.state == AGENT_CONNECTING ? "connect timed out"
							       : "no WELCOME within 5 s", 0);
	if (ag.state != AGENT_CONNECTING && tcp_sndbuf(pcb) < TCP_SND_BUF &&
	    now - ag.ack_at > (ag.stall_ms ? ag.stall_ms : AGENT_ACK_STALL_MS))
		return agent_lost("agent stopped acknowledging", 0);
	if (agent_flush() != 0)
		return agent_lost("send failed", 0);
	return agent_rx_pump();
}

/* tcp_err: lwIP has already freed the pcb; only forget it. */
static void agent_tcp_err(void *arg, err_t err)
{
	const char *reason;

	(void)arg;
	if (ag.pcb == NULL)
		return;
	switch (err) {
	case ERR_RST:
		reason = ag.state == AGENT_CONNECTING ? "connection refused" : "reset by agent";
		break;
	case ERR_ABRT:
		reason = "aborted (timeout or address change)";
		break;
	case ERR_CLSD:
		reason = "connection closed";
		break;
	default:
		reason = "connection error";
		break;
	}
	ag.pcb = NULL;
	ag.ps.pcb = NULL; /* freed: its pending pbufs are only freed, not recved */
	agent_lost(reason, 0);
}

static err_t agent_tcp_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	if (pcb != ag.pcb)
		return ERR_OK;
	if (err != ERR_OK)
		return agent_lost("connect failed", 0);
	/* Small frames (heartbeats, later syscall requests) must not wait for
	 * the ACK of the previous one. */
	tcp_nagle_disable(pcb);
	ag.ack_at = timer_ms();
	return agent_send_hello();
}

/* ------------------------------------------------------------ public */

static void agent_connect(void)
{
	struct tcp_pcb *pcb;
	char ip[16];
	err_t err;

	if (ag.attempts++ > 0)
		ag.reconnects++;
	agent_reset_buffers();
	pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
	if (pcb == NULL) {
		agent_lost("out of TCP pcbs", 0);
		return;
	}
	ag.pcb = pcb;
	pcb_stream_init(&ag.ps, pcb);
	/* A fresh ephemeral key each connection; the moment of the attempt
	 * adds to the generator's state first. */
	uint64_t t = rdtsc();
	uint8_t e[NOISE_KEY];
	random_add(&t, sizeof t);
	random_bytes(e, sizeof e);
	int rc = link_stream_init(&ag.link, (struct om_stream){ &pcb_stream_ops, &ag.ps }, 1, ag.key,
				  ag.key_pub, ag.agent_key, e);
	noise_wipe(e, sizeof e);
	if (rc != 0) {
		agent_lost("om.key= is not an X25519 key", 0);
		return;
	}
	ag.state = AGENT_CONNECTING;
	ag.deadline = timer_ms() + AGENT_WELCOME_MS;
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, agent_tcp_recv);
	tcp_sent(pcb, agent_tcp_sent);
	tcp_err(pcb, agent_tcp_err);
	tcp_poll(pcb, agent_tcp_poll, AGENT_POLL_INTERVAL);
	err = tcp_connect(pcb, &ag.peer, ag.port, agent_tcp_connected);
	if (err != ERR_OK) {
		agent_lost("cannot connect (no route?)", 0);
		return;
	}
	if (ag.attempts == 1) {
		agent_ntoa(&ag.peer, ip, sizeof(ip));
		printf("agent: connecting to %s:%u\n", ip, ag.port);
	}
}

void agent_init(const struct node_identity *id, const struct nic *nic, const uint8_t *agent_key)
{
	memset(&ag, 0, sizeof(ag));
	ag.hello = id->hello;
	ag.status = id->status;
	ag.nic = nic;
	ag.backoff_ms = AGENT_BACKOFF_MIN_MS;
	ag.state = AGENT_WAIT_ADDR;
	ag.stream.ops = &link_stream_ops;
	ag.stream.ctx = &ag.link;
	random_add(nic->mac, sizeof nic->mac);
	/* A canonical public key (noise_key_usable): the agent refuses others. */
	do
		random_bytes(ag.key, sizeof ag.key);
	while (noise_public(ag.key_pub, ag.key) != 0 || !noise_key_usable(ag.key_pub));
	noise_fingerprint(ag.key_pub, ag.key_fp);
	printf("link: this node's key is %s (made at boot)\n", ag.key_fp);
	if (noise_records_in_clear())
		printf("link: THIS IS A BENCHMARK BUILD: records travel UNENCRYPTED\n");
	if (agent_key != NULL && noise_key_usable(agent_key)) {
		memcpy(ag.agent_key, agent_key, sizeof ag.agent_key);
		ag.have_agent_key = 1;
	} else if (agent_key != NULL)
		printf("link: om.key= is not a usable X25519 public key (not canonical, or of small order), "
		       "so no agent is joined\n");
	else
		printf("link: no om.key= on the command line: no agent can be authenticated, "
		       "so none is joined\n");
	frame_rx_init(&ag.rx, ag.rx_buf, sizeof(ag.rx_buf));
}

void agent_set_peer(uint32_t ip, uint16_t port)
{
	if (ip4_addr_get_u32(&ag.peer) == ip && ag.port == port && ag.state != AGENT_WAIT_ADDR)
		return;
	if (ag.pcb != NULL)
		agent_lost("agent address changed", 1);
	ip4_addr_set_u32(&ag.peer, ip);
	ag.port = port;
	ag.backoff_ms = AGENT_BACKOFF_MIN_MS;
	if (!ag.have_agent_key) {
		ag.state = AGENT_NO_KEY;
		return;
	}
	if (ip == 0) {
		ag.state = AGENT_WAIT_ADDR;
		return;
	}
	ag.state = AGENT_BACKOFF;
	ag.retry_at = timer_ms(); /* connect on the next poll */
}

void agent_poll(void)
{
	uint32_t now = timer_ms();

	switch (ag.state) {
	case AGENT_BACKOFF:
		if ((int32_t)(now - ag.retry_at) >= 0 && ip4_addr_get_u32(&ag.peer) != 0)
			agent_connect();
		break;
	case AGENT_REGISTERED:
		if ((int32_t)(now - ag.next_hb) >= 0) {
			ag.next_hb = now + ag.heartbeat_ms;
			ag.last_hb = now;
			agent_send_heartbeat();
		}
		break;
	default:
		break;
	}
}

void agent_get_status(struct net_status *st)
{
	st->agent_ip = ip4_addr_get_u32(&ag.peer);
	st->agent_port = ag.port;
	st->agent = ag.state;
	st->node_id = ag.state == AGENT_REGISTERED ? ag.node_id : 0;
	st->reconnects = ag.reconnects;
	st->welcome_time_ns = ag.welcome_time_ns;
	st->welcome_at_ms = ag.welcome_at_ms;
	snprintf(st->key_fp, sizeof st->key_fp, "%s", ag.key_fp);
	st->key_refused = ag.key_refused && ag.state != AGENT_REGISTERED;
	st->not_admitted = ag.not_admitted && ag.state != AGENT_REGISTERED;
}

/* ------------------------------------------------------------ jobs */

void agent_heartbeat_soon(void)
{
	uint32_t soon = ag.last_hb + AGENT_HB_SOON_MS, now = timer_ms();
	if ((int32_t)(soon - now) < 0)
		soon = now;
	if (ag.state == AGENT_REGISTERED && (int32_t)(soon - ag.next_hb) < 0)
		ag.next_hb = soon;
}

void agent_set_restart_handler(void (*fn)(void))
{
	ag.restart = fn;
}

void agent_set_job_handlers(agent_job_rx_fn rx, void (*lost)(void), void (*back)(void))
{
	ag.job_rx = rx;
	ag.job_lost = lost;
	ag.job_back = back;
}

uint32_t agent_grace_ms(void)
{
	return ag.grace_ms;
}

size_t agent_job_room(void)
{
	if (ag.pcb == NULL || ag.state != AGENT_REGISTERED)
		return 0;
	size_t free = agent_out_free();
	/* Keep room for the answers agent_rx_process promises (ECHO_REPLY). */
	size_t keep = OM_HDR_SIZE + AGENT_ECHO_MAX + OM_HDR_SIZE;
	return free > keep ? free - keep : 0;
}

int agent_job_send(uint8_t type, uint32_t job, uint32_t seq, const void *payload, size_t len)
{
	if (ag.pcb == NULL || ag.state != AGENT_REGISTERED)
		return -2;
	if (len > agent_job_room())
		return -1;
	if (agent_queue(type, job, seq, payload, len) != 0)
		return -1;
	/* A failed flush is not acted on here: this may run inside lwIP's
	 * receive callback, where only agent_rx_process may drop the pcb. The
	 * frame is queued; the next flush (sent/poll callbacks) finds the
	 * stream dead and closes the link properly. */
	(void)agent_flush();
	return 0;
}
