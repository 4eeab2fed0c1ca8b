/* conn.h - one framed, non-blocking connection on the event loop: bounded
 * input reassembly (frame_rx), a bounded output queue, and orderly teardown.
 * Node connections and control connections are both built on it.
 *
 * Teardown rules. conn_close and conn_fail may be called at any time,
 * including from inside any callback; the conn stops reading and sending
 * at once, and is ended at the end of the event loop's turn (conn_end_closed,
 * ev_set_turn_end), never inside another handler: callers never see a conn
 * vanish under them, nor an owner's ops->closed run in the middle of their
 * own work (a list they walk, a job they hold). ops->closed runs exactly
 * once, just before the owner must forget the conn. After conn_fail the socket lingers for a moment (write side
 * shut, input discarded) so the ERROR frame reaches the peer instead of
 * being destroyed by a TCP reset. */
#ifndef OM_CONN_H
#define OM_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "ev.h"
#include "frame_rx.h"
#include "link_stream.h"
#include "stream.h"

struct conn;

struct conn_ops {
	/* A complete, header-checked frame; payload holds h->length bytes and
	 * is valid only during the call. The payload is not decoded yet. */
	void (*frame)(struct conn *c, const struct om_hdr *h, const uint8_t *payload);
	/* The conn is going away for the reason 'why'; drop every pointer to it. */
	void (*closed)(struct conn *c, const char *why);
	/* Optional: the output queue just became empty (back-pressure). */
	void (*drained)(struct conn *c);
};

struct conn {
	int fd;
	struct om_stream st;       /* all I/O goes through here */
	struct link_stream *link;  /* the encryption under st, NULL: plain */
	long long held_timer;      /* > 0: reads what link holds (conn_resume) */
	struct ev_loop *ev;
	const struct conn_ops *ops;
	void *owner;               /* the owner's per-connection state */
	char peer[64];             /* for log lines: "10.0.2.15:40000" */
	struct frame_rx rx;
	uint8_t *rxbuf;
	uint8_t *out;              /* queued output is out[out_off, out_len) */
	size_t out_off, out_len, out_cap, out_max;
	size_t rx_base, out_base;  /* the limits conn_new gave, conn_relax_idle's */
	uint64_t used_ms;          /* limits raised or conn_in_use, ev_now_ms */
	int paused;                /* reading stopped by conn_pause */
	struct conn *blocked_by;   /* paused until this conn drains (relay.c) */
	int state;                 /* CONN_* in conn.c */
	char why[128];             /* close reason once closing */
	int peer_gone;             /* it closed, or its link broke (a receive or send
	                            * failed): not the agent's doing */
	long long linger_timer;
	size_t linger_bytes;       /* input discarded while lingering */
	struct conn *prev, *next;  /* every live conn, for conn_reap_all */
};

/* Takes ownership of the connected socket fd (made non-blocking here) and
 * starts reading. rx_cap bounds one incoming frame (header included);
 * out_max bounds the output queue. Returns NULL (fd closed, errno set) on
 * failure: ENOBUFS when rx_cap does not fit the cap on buffer memory
 * (bufmem.h, which counts every buffer of a conn). */
struct conn *conn_new(struct ev_loop *ev, int fd, const char *peer, size_t rx_cap,
    size_t out_max, const struct conn_ops *ops, void *owner);

/* Queues a frame and starts sending it. Returns 0, or -1 when the conn is
 * closing or the queue would exceed out_max or the cap on buffer memory
 * (then the conn is closed, the latter logged: a peer that does not read
 * its replies is dropped, never waited for). */
int conn_send(struct conn *c, uint8_t type, uint32_t job, uint32_t seq,
    const void *payload, size_t len);

/* Encrypts the conn as the agent's end of the node link (link_stream.h)
 * with the agent's static key pair s, s_pub. Right after conn_new, before
 * any byte moved. Returns 0, or -1 (errno set; ENOBUFS: the cap on buffer
 * memory) when memory or randomness is short; the caller closes the conn
 * then. */
int conn_use_link(struct conn *c, const uint8_t s[NOISE_KEY], const uint8_t s_pub[NOISE_KEY]);
/* The peer's static public key once its link handshake is done, else NULL
 * (also for a plain conn). */
const uint8_t *conn_peer_key(const struct conn *c);

/* Raises the limits of a conn: rx_cap (one incoming frame, header
 * included) only grows; out_max is replaced. Safe inside the conn's own
 * frame callback (the payload handed to it must not be used afterwards).
 * Returns 0, or -1 when memory is short (errno ENOBUFS: the cap on buffer
 * memory; limits unchanged). */
int conn_set_limits(struct conn *c, size_t rx_cap, size_t out_max);
/* c still needs the limits conn_set_limits raised (it carries a job). */
void conn_in_use(struct conn *c);
/* Every open conn whose limits were raised and that has not been in use
 * for idle_ms goes back to those conn_new gave it, its receive buffer
 * shrunk and given back under the cap on buffer memory, once no input or
 * output is pending on it: a buffer of 1 MiB must not stay counted for
 * the life of a connection that carried one job. */
void conn_relax_idle(uint64_t now, uint64_t idle_ms);
/* Bytes queued for sending. */
size_t conn_queued(const struct conn *c);
/* Stops / restarts reading from the peer (back-pressure). Frames already
 * received are still delivered. Output keeps flowing while paused. */
void conn_pause(struct conn *c);
void conn_resume(struct conn *c);

/* Whether c still reads and sends (no close asked for). */
int conn_is_open(const struct conn *c);

/* Closes without a word to the peer; why goes to ops->closed. */
void conn_close(struct conn *c, const char *why);
/* Sends ERROR {code, msg} if it can, then closes; msg is also the reason
 * given to ops->closed. */
void conn_fail(struct conn *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Ends every conn whose close was requested (ops->closed runs for each,
 * and for those its callbacks close). The event loop runs it at the end of
 * every turn: ev_set_turn_end(ev, conn_end_closed, NULL). */
void conn_end_closed(struct ev_loop *ev, void *arg);

/* Connections alive, including lingering ones (they still hold an fd). */
int conn_count(void);
/* At exit, after the owners closed theirs: frees the lingering rest. */
void conn_reap_all(void);

#endif
