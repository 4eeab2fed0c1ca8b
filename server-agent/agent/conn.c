/* conn.c - framed non-blocking connections (see conn.h). */
#include <sys/random.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bufmem.h"
#include "conn.h"
#include "log.h"
#include "sock.h"

enum {
	CONN_OPEN,     /* normal operation */
	CONN_CLOSING,  /* close requested; ended at the end of the loop's turn */
	CONN_FAILING,  /* as CLOSING, then linger */
	CONN_LINGER    /* detached from its owner, draining input until EOF */
};

#define CONN_LINGER_MS 1000
#define CONN_LINGER_MAX (256 * 1024)
/* An output queue that drained gives back a buffer larger than this: the
 * cap on buffer memory (bufmem.h) counts what connections hold, and one
 * image relayed must not keep megabytes counted for the connection's life. */
#define CONN_OUT_KEEP (64 * 1024)

static int conn_alive;
static int conn_closing;   /* conns in CONN_CLOSING or CONN_FAILING */
static struct conn *conn_all;

static void conn_event(struct ev_loop *ev, int fd, int mask, void *arg);
static void conn_end(struct conn *c);
static void conn_read(struct conn *c);

int
conn_count(void)
{
	return conn_alive;
}

struct conn *
conn_new(struct ev_loop *ev, int fd, const char *peer, size_t rx_cap,
    size_t out_max, const struct conn_ops *ops, void *owner)
{
	struct conn *c;
	int saved;

	if (bufmem_take(rx_cap) == -1) {
		errno = ENOBUFS;
		goto fail;
	}
	if ((c = calloc(1, sizeof *c)) == NULL)
		goto fail_conn;
	if ((c->rxbuf = malloc(rx_cap)) == NULL)
		goto fail_rxbuf;
	if (sock_set_nonblock(fd) == -1)
		goto fail_setup;
	c->fd = fd;
	c->st.ops = &sock_stream_ops;
	c->st.ctx = &c->fd;
	c->ev = ev;
	c->ops = ops;
	c->owner = owner;
	snprintf(c->peer, sizeof c->peer, "%s", peer);
	frame_rx_init(&c->rx, c->rxbuf, rx_cap);
	c->out_max = out_max;
	c->rx_base = rx_cap;
	c->out_base = out_max;
	c->state = CONN_OPEN;
	if (ev_add(ev, fd, EV_READ, conn_event, c) == -1)
		goto fail_setup;
	c->next = conn_all;
	if (conn_all != NULL)
		conn_all->prev = c;
	conn_all = c;
	conn_alive++;
	return c;

fail_setup:
	free(c->rxbuf);
fail_rxbuf:
	free(c);
fail_conn:
	bufmem_give(rx_cap);
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return NULL;
}

static void
conn_destroy(struct conn *c)
{
	ev_del(c->ev, c->fd, EV_READ | EV_WRITE);
	if (c->linger_timer > 0)
		ev_timer_del(c->ev, c->linger_timer);
	if (c->held_timer > 0)
		ev_timer_del(c->ev, c->held_timer);
	close(c->fd);
	if (c->link != NULL) {
		link_stream_wipe(c->link);
		free(c->link);
		bufmem_give(sizeof *c->link);
	}
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		conn_all = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	free(c->rxbuf);
	free(c->out);
	bufmem_give(c->rx.cap + c->out_cap);
	free(c);
	conn_alive--;
}

void
conn_reap_all(void)
{
	while (conn_all != NULL) {
		if (conn_all->state == CONN_LINGER)
			conn_destroy(conn_all);
		else if (conn_all->state == CONN_OPEN)
			conn_close(conn_all, "agent shutting down");
		else
			conn_end(conn_all); /* a close still pending: finish it */
	}
}

static long
conn_linger_expired(struct ev_loop *ev, void *arg)
{
	struct conn *c = arg;

	(void)ev;
	c->linger_timer = 0; /* this timer is deleted by our -1 */
	conn_destroy(c);
	return -1;
}

int
conn_use_link(struct conn *c, const uint8_t s[NOISE_KEY], const uint8_t s_pub[NOISE_KEY])
{
	uint8_t e[NOISE_KEY];
	struct link_stream *ls;
	int rc;

	if (getrandom(e, sizeof e, 0) != (ssize_t)sizeof e)
		return -1;
	if (bufmem_take(sizeof *ls) == -1) {
		errno = ENOBUFS;
		return -1;
	}
	if ((ls = malloc(sizeof *ls)) == NULL) {
		bufmem_give(sizeof *ls);
		return -1;
	}
	rc = link_stream_init(ls, c->st, 0, s, s_pub, NULL, e);
	noise_wipe(e, sizeof e);
	if (rc != 0) {
		free(ls);
		bufmem_give(sizeof *ls);
		errno = EINVAL;
		return -1;
	}
	c->link = ls;
	c->st.ops = &link_stream_ops;
	c->st.ctx = ls;
	return 0;
}

const uint8_t *
conn_peer_key(const struct conn *c)
{
	return c->link != NULL ? link_stream_peer(c->link) : NULL;
}

/* Why the stream failed: its own reason, else errno's. */
static void
conn_stream_why(struct conn *c, const char *what, char *why, size_t len)
{
	const char *s = c->st.ops->why != NULL ? c->st.ops->why(c->st.ctx) : NULL;

	if (s != NULL)
		snprintf(why, len, "%s", s);
	else
		snprintf(why, len, "%s: %s", what, strerror(errno));
}

/* Pushes what the stream itself holds (the link's sealed record or
 * handshake answer). Returns 0 (write interest on if some is left) or -1. */
static int
conn_flush_stream(struct conn *c)
{
	long n;

	if (c->st.ops->flush == NULL || (n = c->st.ops->flush(c->st.ctx)) == 0)
		return 0;
	if (n == OM_STREAM_AGAIN)
		return ev_add(c->ev, c->fd, EV_WRITE, conn_event, c) == -1 ? -1 : 1;
	return -1;
}

/* Tries to send what is queued. Returns 0 when something may still be
 * pending (write interest is on), -1 after a send error. */
static int
conn_flush(struct conn *c)
{
	long n;
	int rc;

	while (c->out_off < c->out_len) {
		n = c->st.ops->send(c->st.ctx, c->out + c->out_off, c->out_len - c->out_off);
		if (n == OM_STREAM_AGAIN) {
			if (ev_add(c->ev, c->fd, EV_WRITE, conn_event, c) == -1)
				return -1;
			return 0;
		}
		if (n < 0)
			return -1;
		c->out_off += (size_t)n;
	}
	if ((rc = conn_flush_stream(c)) != 0)
		return rc < 0 ? -1 : 0;
	c->out_off = c->out_len = 0;
	if (c->out_cap > CONN_OUT_KEEP) {
		free(c->out);
		bufmem_give(c->out_cap);
		c->out = NULL;
		c->out_cap = 0;
	}
	ev_del(c->ev, c->fd, EV_WRITE);
	if (c->state == CONN_OPEN && c->ops->drained != NULL)
		c->ops->drained(c);
	return 0;
}

/* Ends a conn whose close was requested: one last non-blocking flush (for
 * an ERROR frame), the owner is told, then free or linger. */
static void
conn_end(struct conn *c)
{
	static int ending;
	int failing = c->state == CONN_FAILING;

	/* An owner's closed() only ever asks for other closes: one ending
	 * inside another is the bug this order exists against. */
	if (ending)
		fatalx("conn: %s ended inside another connection's end", c->peer);
	conn_closing--;
	(void)conn_flush(c);
	ending = 1;
	c->ops->closed(c, c->why);
	ending = 0;
	c->ops = NULL;
	c->owner = NULL;
	if (!failing || shutdown(c->fd, SHUT_WR) == -1) {
		conn_destroy(c);
		return;
	}
	/* Closing a socket with unread input makes the kernel send a reset,
	 * which can discard our ERROR before the peer reads it. So shut the
	 * write side (FIN after the ERROR) and read until the peer closes,
	 * bounded in time and bytes. */
	c->state = CONN_LINGER;
	ev_del(c->ev, c->fd, EV_WRITE);
	/* Paused when its close was asked for (maybe resumed since, which
	 * does not watch a conn that is not open): read again. */
	if (ev_add(c->ev, c->fd, EV_READ, conn_event, c) == -1) {
		conn_destroy(c);
		return;
	}
	c->paused = 0;
	c->linger_timer = ev_timer_add(c->ev, CONN_LINGER_MS, conn_linger_expired, c);
	if (c->linger_timer < 0)
		conn_destroy(c);
}

int
conn_set_limits(struct conn *c, size_t rx_cap, size_t out_max)
{
	uint8_t *p;

	if (rx_cap > c->rx.cap) {
		if (bufmem_take(rx_cap - c->rx.cap) == -1) {
			errno = ENOBUFS;
			return -1;
		}
		/* frame_rx keeps offsets into its buffer, so a grown copy of
		 * the same bytes continues exactly where the old one was. */
		if ((p = realloc(c->rxbuf, rx_cap)) == NULL) {
			bufmem_give(rx_cap - c->rx.cap);
			return -1;
		}
		c->rxbuf = p;
		c->rx.buf = p;
		c->rx.cap = rx_cap;
	}
	c->out_max = out_max;
	c->used_ms = ev_now_ms();
	return 0;
}

void
conn_in_use(struct conn *c)
{
	c->used_ms = ev_now_ms();
}

void
conn_relax_idle(uint64_t now, uint64_t idle_ms)
{
	struct conn *c;
	uint8_t *p;

	for (c = conn_all; c != NULL; c = c->next) {
		/* used_ms may be later than now (ev_now_ms reads the clock
		 * afresh): never an underflow into "idle for ages". */
		if (c->state != CONN_OPEN || c->used_ms + idle_ms > now ||
		    (c->rx.cap <= c->rx_base && c->out_max == c->out_base))
			continue;
		/* Not while a frame is on its way in (a partial one, or what the
		 * link decrypted) or out: the buffers keep their bytes. */
		if (c->paused || c->rx.err != OM_OK || frame_rx_pending(&c->rx) != 0 ||
		    (c->st.ops->held != NULL && c->st.ops->held(c->st.ctx) > 0) || conn_queued(c) != 0)
			continue;
		if (c->rx.cap > c->rx_base) {
			if ((p = realloc(c->rxbuf, c->rx_base)) == NULL)
				continue;
			bufmem_give(c->rx.cap - c->rx_base);
			c->rxbuf = p;
			frame_rx_init(&c->rx, p, c->rx_base); /* nothing pending in it */
		}
		c->out_max = c->out_base;
	}
}

size_t
conn_queued(const struct conn *c)
{
	return c->out_len - c->out_off;
}

void
conn_pause(struct conn *c)
{
	if (c->state != CONN_OPEN || c->paused)
		return;
	c->paused = 1;
	ev_del(c->ev, c->fd, EV_READ);
}

/* Input the link decrypted before a pause: the socket will not report it
 * again, so it is read from a timer, outside the caller's handler. */
static long
conn_held_read(struct ev_loop *ev, void *arg)
{
	struct conn *c = arg;

	(void)ev;
	c->held_timer = 0;
	if (c->state == CONN_OPEN && !c->paused)
		conn_read(c);
	return -1;
}

void
conn_resume(struct conn *c)
{
	if (!c->paused)
		return;
	c->paused = 0;
	c->blocked_by = NULL;
	if (c->state != CONN_OPEN)
		return;
	if (ev_add(c->ev, c->fd, EV_READ, conn_event, c) == -1) {
		conn_close(c, "cannot watch the socket");
		return;
	}
	if (c->st.ops->held != NULL && c->st.ops->held(c->st.ctx) > 0 && c->held_timer == 0 &&
	    (c->held_timer = ev_timer_add(c->ev, 0, conn_held_read, c)) < 0) {
		c->held_timer = 0;
		conn_close(c, "out of memory");
	}
}

int
conn_is_open(const struct conn *c)
{
	return c->state == CONN_OPEN;
}

void
conn_close(struct conn *c, const char *why)
{
	if (c->state != CONN_OPEN)
		return;
	snprintf(c->why, sizeof c->why, "%s", why);
	conn_pause(c); /* nothing more is read from it */
	c->state = CONN_CLOSING;
	conn_closing++;
}

void
conn_fail(struct conn *c, int code, const char *fmt, ...)
{
	struct om_error e;
	uint8_t buf[2 + 4 + OM_STR_MAX];
	va_list ap;
	size_t i;
	int n;

	if (c->state != CONN_OPEN)
		return;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof c->why, fmt, ap);
	va_end(ap);
	/* The message may quote peer data; the wire wants printable ASCII. */
	e.code = (uint32_t)code;
	for (i = 0; i < OM_STR_MAX && c->why[i] != '\0'; i++)
		e.msg[i] = c->why[i] < 0x20 || c->why[i] > 0x7e ? '?' : c->why[i];
	e.msg[i] = '\0';
	if ((n = om_error_encode(&e, buf, sizeof buf)) > 0)
		(void)conn_send(c, OM_T_ERROR, 0, 0, buf, (size_t)n);
	if (c->state != CONN_OPEN)
		return; /* the send itself failed and closed it */
	conn_pause(c);
	c->state = CONN_FAILING;
	conn_closing++;
}

void
conn_end_closed(struct ev_loop *ev, void *arg)
{
	struct conn *c;

	(void)ev;
	(void)arg;
	/* Afresh after each: an owner's closed() may close others. */
	while (conn_closing > 0) {
		for (c = conn_all; c != NULL; c = c->next)
			if (c->state == CONN_CLOSING || c->state == CONN_FAILING)
				break;
		if (c == NULL)
			break;
		conn_end(c);
	}
}

int
conn_send(struct conn *c, uint8_t type, uint32_t job, uint32_t seq,
    const void *payload, size_t len)
{
	size_t queued = c->out_len - c->out_off, need = OM_HDR_SIZE + len, cap;
	uint8_t *p;

	if (c->state != CONN_OPEN)
		return -1;
	if (len > OM_MAX_PAYLOAD || need > c->out_max - queued) {
		conn_close(c, "output queue full (peer is not reading)");
		return -1;
	}
	if (c->out_off > 0) {
		memmove(c->out, c->out + c->out_off, queued);
		c->out_off = 0;
		c->out_len = queued;
	}
	if (c->out_len + need > c->out_cap) {
		for (cap = c->out_cap ? c->out_cap : 4096; cap < c->out_len + need; cap *= 2)
			;
		if (bufmem_take(cap - c->out_cap) == -1) {
			char why[96];

			snprintf(why, sizeof why, "at the cap on %s", bufmem_cap_name());
			log_warnx("%s: %s: %zu bytes counted, its output queue would take %zu more",
			    c->peer, why, bufmem_used(), cap - c->out_cap);
			conn_close(c, why);
			return -1;
		}
		if ((p = realloc(c->out, cap)) == NULL) {
			bufmem_give(cap - c->out_cap);
			conn_close(c, "out of memory");
			return -1;
		}
		c->out = p;
		c->out_cap = cap;
	}
	om_hdr_encode(c->out + c->out_len, type, (uint32_t)len, job, seq);
	if (len > 0)
		memcpy(c->out + c->out_len + OM_HDR_SIZE, payload, len);
	c->out_len += need;
	if (conn_flush(c) == -1) {
		char why[96];

		conn_stream_why(c, "send", why, sizeof why);
		c->peer_gone = 1;
		conn_close(c, why);
		return -1;
	}
	return 0;
}

/* One receive, then every complete frame in the buffer. One receive per
 * event keeps a fast peer from starving the others (epoll is
 * level-triggered, so leftover input is reported again); what the link
 * decrypted and holds is not reported again, so conn_read takes it too. */
static void
conn_read_once(struct conn *c)
{
	const uint8_t *payload;
	struct om_hdr h;
	uint8_t *where;
	size_t room;
	long n;
	int rc;

	room = frame_rx_room(&c->rx, &where);
	if (room == 0) {
		conn_fail(c, OM_E_TOOBIG, "receive buffer full");
		return;
	}
	n = c->st.ops->recv(c->st.ctx, where, room);
	if (n == OM_STREAM_AGAIN)
		return;
	if (n == 0) {
		size_t left = frame_rx_pending(&c->rx);
		char why[96];

		c->peer_gone = 1;
		if (left == 0)
			conn_close(c, "connection closed by peer");
		else {
			snprintf(why, sizeof why, "connection closed by peer inside a frame "
			    "(%zu bytes discarded)", left);
			conn_close(c, why);
		}
		return;
	}
	if (n < 0) {
		char why[96];

		conn_stream_why(c, "recv", why, sizeof why);
		c->peer_gone = 1;
		conn_close(c, why);
		return;
	}
	frame_rx_commit(&c->rx, (size_t)n);
	while (c->state == CONN_OPEN) {
		rc = frame_rx_next(&c->rx, &h, &payload);
		if (rc == OM_E_SHORT)
			break;
		if (rc != OM_OK) {
			conn_fail(c, rc, "bad frame: %s", om_strerror(rc));
			break;
		}
		c->ops->frame(c, &h, payload);
	}
}

static void
conn_read(struct conn *c)
{
	char why[96];

	do {
		conn_read_once(c);
		/* A handshake answer the link could not send at once. */
		if (c->state == CONN_OPEN && conn_flush_stream(c) < 0) {
			conn_stream_why(c, "send", why, sizeof why);
			c->peer_gone = 1;
			conn_close(c, why);
		}
	} while (c->state == CONN_OPEN && !c->paused && c->st.ops->held != NULL &&
	    c->st.ops->held(c->st.ctx) > 0);
}

static void
conn_linger_read(struct conn *c)
{
	char scratch[4096];
	long n;

	n = c->st.ops->recv(c->st.ctx, scratch, sizeof scratch);
	if (n == OM_STREAM_AGAIN)
		return;
	if (n > 0 && (c->linger_bytes += (size_t)n) <= CONN_LINGER_MAX)
		return;
	conn_destroy(c);
}

static void
conn_event(struct ev_loop *ev, int fd, int mask, void *arg)
{
	struct conn *c = arg;
	char why[96];

	(void)ev;
	(void)fd;
	if (c->state == CONN_LINGER) {
		if (mask & EV_READ)
			conn_linger_read(c);
		return;
	}
	if (c->state != CONN_OPEN)
		return; /* closing: ended at the end of this turn */
	if ((mask & EV_WRITE) && conn_flush(c) == -1) {
		conn_stream_why(c, "send", why, sizeof why);
		c->peer_gone = 1;
		conn_close(c, why);
	}
	if ((mask & EV_READ) && c->state == CONN_OPEN)
		conn_read(c);
}
