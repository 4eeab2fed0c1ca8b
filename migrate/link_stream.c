/* link_stream.c - Noise-encrypted records over a plain stream (see
 * link_stream.h). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "link_stream.h"

static long
link_die(struct link_stream *ls, const char *why)
{
	if (ls->state != LINK_DEAD) {
		snprintf(ls->why, sizeof ls->why, "%s", why);
		ls->state = LINK_DEAD;
		link_stream_wipe(ls);
	}
	return OM_STREAM_ERR;
}

static long
link_inner_died(struct link_stream *ls)
{
	const char *why = ls->inner.ops->why != NULL ? ls->inner.ops->why(ls->inner.ctx) : NULL;

	return link_die(ls, why != NULL ? why : "transport failed");
}

/* Queues one length-prefixed message (handshake) or record. */
static void
link_queue_len(struct link_stream *ls, size_t len)
{
	ls->out[0] = (uint8_t)(len >> 8);
	ls->out[1] = (uint8_t)len;
	ls->out_off = 0;
	ls->out_len = 2 + len;
}

static long
link_flush(void *ctx)
{
	struct link_stream *ls = ctx;
	long n;

	if (ls->state == LINK_DEAD)
		return OM_STREAM_ERR;
	while (ls->out_off < ls->out_len) {
		n = ls->inner.ops->send(ls->inner.ctx, ls->out + ls->out_off, ls->out_len - ls->out_off);
		if (n == OM_STREAM_AGAIN)
			return OM_STREAM_AGAIN;
		if (n < 0)
			return link_inner_died(ls);
		ls->out_off += (size_t)n;
	}
	ls->out_off = ls->out_len = 0;
	return 0;
}

int
link_stream_init(struct link_stream *ls, struct om_stream inner, int initiator,
    const uint8_t s[NOISE_KEY], const uint8_t s_pub[NOISE_KEY], const uint8_t *rs,
    const uint8_t e[NOISE_KEY])
{
	int n;

	memset(ls, 0, offsetof(struct link_stream, in));
	ls->inner = inner;
	ls->state = LINK_HANDSHAKE;
	if (noise_init(&ls->hs, initiator, s, s_pub, rs, e) != 0) {
		link_die(ls, "key refused by X25519");
		return -1;
	}
	if (initiator) {
		if ((n = noise_write(&ls->hs, ls->out + 2, sizeof ls->out - 2)) < 0) {
			link_die(ls, "cannot write the first handshake message");
			return -1;
		}
		link_queue_len(ls, (size_t)n);
	}
	return 0;
}

const uint8_t *
link_stream_peer(const struct link_stream *ls)
{
	return ls->state == LINK_OPEN ? ls->hs.rs : NULL;
}

void
link_stream_wipe(struct link_stream *ls)
{
	noise_wipe(&ls->hs.s, sizeof ls->hs.s);
	noise_wipe(&ls->hs.e, sizeof ls->hs.e);
	noise_wipe(&ls->hs.ck, sizeof ls->hs.ck);
	noise_wipe(&ls->hs.c, sizeof ls->hs.c);
	noise_wipe(&ls->tx, sizeof ls->tx);
	noise_wipe(&ls->rx, sizeof ls->rx);
	if (noise_done(&ls->hs)) /* records were opened in in[] */
		noise_wipe(ls->in, sizeof ls->in);
	ls->plain_len = ls->plain_off = 0;
	/* Never seal or open anything with the wiped keys. */
	if (ls->state != LINK_DEAD) {
		snprintf(ls->why, sizeof ls->why, "closed");
		ls->state = LINK_DEAD;
	}
}

/* One complete handshake message in ls->in: read it, answer if it is our
 * turn, and open the link after the third. */
static long
link_handshake_step(struct link_stream *ls, size_t len)
{
	int n;

	if (noise_read(&ls->hs, ls->in + 2, len) != 0)
		return link_die(ls, ls->hs.step == 0
		    ? "handshake refused: the node does not know this agent's key"
		    : ls->hs.initiator ? "handshake refused: the agent does not hold the key om.key= names"
				       : "handshake refused: the node's key proof is wrong");
	if (!noise_done(&ls->hs)) {
		if ((n = noise_write(&ls->hs, ls->out + 2, sizeof ls->out - 2)) < 0)
			return link_die(ls, "handshake refused: a key of small order");
		link_queue_len(ls, (size_t)n);
	}
	if (noise_done(&ls->hs)) {
		noise_split(&ls->hs, &ls->tx, &ls->rx);
		ls->state = LINK_OPEN;
	}
	return 0;
}

/* One complete record in ls->in: authenticated and decrypted in place. */
static long
link_open_record(struct link_stream *ls, size_t len)
{
	size_t n = len - NOISE_TAG;

	if (noise_open(&ls->rx, ls->in, 2, ls->in + 2, n, ls->in + 2 + n) != 0)
		return link_die(ls, "a record failed its integrity check (changed in transit?)");
	ls->plain_off = 0;
	ls->plain_len = n;
	return 0;
}

/* Reads toward the next whole message: exactly the bytes it still lacks,
 * so nothing of the one after is taken early. Returns 1 when one is
 * complete and handled, OM_STREAM_AGAIN, 0 at an orderly end between
 * records, or OM_STREAM_ERR. */
static long
link_read_one(struct link_stream *ls)
{
	size_t want, len;
	long n, rc;

	for (;;) {
		want = 2;
		if (ls->in_len >= 2) {
			len = (size_t)ls->in[0] << 8 | ls->in[1];
			if (ls->state == LINK_HANDSHAKE ? len != (ls->hs.step == 2 ? NOISE_MSG3 : NOISE_MSG1)
							: len <= NOISE_TAG || len > LINK_REC_MAX) {
				char why[96];

				snprintf(why, sizeof why, "%s length %zu is not the link's (not an om link "
				    "peer, or an old one?)", ls->state == LINK_HANDSHAKE ? "handshake" : "record", len);
				return link_die(ls, why);
			}
			want = 2 + len;
			if (ls->in_len == want) {
				ls->in_len = 0;
				rc = ls->state == LINK_HANDSHAKE ? link_handshake_step(ls, len)
								  : link_open_record(ls, len);
				return rc < 0 ? rc : 1;
			}
		}
		n = ls->inner.ops->recv(ls->inner.ctx, ls->in + ls->in_len, want - ls->in_len);
		if (n == OM_STREAM_AGAIN)
			return OM_STREAM_AGAIN;
		if (n < 0)
			return link_inner_died(ls);
		if (n == 0) {
			if (ls->state == LINK_OPEN && ls->in_len == 0)
				return 0;
			return link_die(ls, ls->state == LINK_HANDSHAKE
			    ? "closed during the handshake (the peer refused our key?)"
			    : "closed inside a record");
		}
		ls->in_len += (size_t)n;
	}
}

static long
link_recv(void *ctx, void *buf, size_t len)
{
	struct link_stream *ls = ctx;
	long rc;

	while (ls->plain_len == 0) {
		if (ls->state == LINK_DEAD)
			return OM_STREAM_ERR;
		if ((rc = link_read_one(ls)) <= 0)
			return rc;
		/* A handshake answer goes out now; a transport that cannot take
		 * it yet gets it from the caller's next flush. */
		if (ls->out_len > 0 && link_flush(ls) == OM_STREAM_ERR)
			return OM_STREAM_ERR;
	}
	if (len > ls->plain_len)
		len = ls->plain_len;
	memcpy(buf, ls->in + 2 + ls->plain_off, len);
	ls->plain_off += len;
	ls->plain_len -= len;
	return (long)len;
}

static long
link_send(void *ctx, const void *buf, size_t len)
{
	struct link_stream *ls = ctx;
	long rc;

	if ((rc = link_flush(ls)) != 0)
		return rc;
	if (ls->state != LINK_OPEN)
		return OM_STREAM_AGAIN; /* the handshake's answer is awaited */
	if (len == 0)
		return 0;
	if (len > LINK_PLAIN_MAX)
		len = LINK_PLAIN_MAX;
	link_queue_len(ls, len + NOISE_TAG);
	memcpy(ls->out + 2, buf, len);
	if (noise_seal(&ls->tx, ls->out, 2, ls->out + 2, len, ls->out + 2 + len) != 0)
		return link_die(ls, "2^64 records sent: the link must be made anew");
	/* The record is ours now; what the transport does not take yet goes
	 * out with the next call or flush. */
	if (link_flush(ls) == OM_STREAM_ERR)
		return OM_STREAM_ERR;
	return (long)len;
}

static size_t
link_held(void *ctx)
{
	const struct link_stream *ls = ctx;

	return ls->plain_len;
}

static const char *
link_why(void *ctx)
{
	const struct link_stream *ls = ctx;

	return ls->state == LINK_DEAD ? ls->why : NULL;
}

const struct om_stream_ops link_stream_ops = {
	.send = link_send,
	.recv = link_recv,
	.flush = link_flush,
	.held = link_held,
	.why = link_why,
};
