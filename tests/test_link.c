/* test_link.c - the encrypted link (migrate/noise.c, link_stream.c) between
 * two in-memory ends: X25519 against RFC 7748's vectors, the handshake and
 * records through a transport that moves as little as one byte per call,
 * the wrong agent key refused on both sides, and every kind of tampering in
 * transit (a flipped bit anywhere, a dropped, replayed or truncated record,
 * a bad length, a plaintext om frame) killing the link without delivering
 * a byte of it. Built with ASan/UBSan. */
#include <stdlib.h>
#include <string.h>

#define CHECK_PREFIX "link/"
#include "check.h"
#include "link_stream.h"
#include "proto.h"

/* ---- a pipe of bytes in memory, one per direction */

struct pipe {
	uint8_t buf[1 << 20];
	size_t head, len;
	size_t chunk;      /* the most one send or recv moves (short I/O) */
	int closed;        /* the writer is gone: recv gives 0 when empty */
};

struct end {
	struct pipe *rd, *wr;
};

static long
pipe_send(void *ctx, const void *p, size_t len)
{
	struct end *e = ctx;
	struct pipe *w = e->wr;

	if (len > w->chunk)
		len = w->chunk;
	if (len > sizeof w->buf - w->head - w->len)
		len = sizeof w->buf - w->head - w->len;
	if (len == 0)
		return OM_STREAM_AGAIN;
	memcpy(w->buf + w->head + w->len, p, len);
	w->len += len;
	return (long)len;
}

static long
pipe_recv(void *ctx, void *p, size_t len)
{
	struct end *e = ctx;
	struct pipe *r = e->rd;

	if (r->len == 0)
		return r->closed ? 0 : OM_STREAM_AGAIN;
	if (len > r->chunk)
		len = r->chunk;
	if (len > r->len)
		len = r->len;
	memcpy(p, r->buf + r->head, len);
	r->head += len;
	r->len -= len;
	if (r->len == 0)
		r->head = 0;
	return (long)len;
}

static const struct om_stream_ops pipe_ops = { .send = pipe_send, .recv = pipe_recv };

static struct pipe n2a, a2n;           /* node to agent, agent to node */
static struct end node_end = { &a2n, &n2a }, agent_end = { &n2a, &a2n };
static struct link_stream node, agent;
static uint8_t agent_s[32], agent_pub[32], node_s[32], node_pub[32], imp_pub[32];

static void
fill(uint8_t *p, size_t n, unsigned seed)
{
	uint64_t x = 0x9e3779b97f4a7c15ull * (seed + 1);
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
		p[i] = (uint8_t)(x >> 32);
	}
}

/* Fresh ends. chunk bounds every transport call. */
static int
setup(size_t chunk, const uint8_t *node_knows)
{
	uint8_t e1[32], e2[32];

	memset(&n2a, 0, sizeof n2a);
	memset(&a2n, 0, sizeof a2n);
	n2a.chunk = a2n.chunk = chunk;
	fill(agent_s, 32, 1);
	fill(node_s, 32, 2);
	fill(e1, 32, 3);
	fill(e2, 32, 4);
	if (noise_public(agent_pub, agent_s) != 0 || noise_public(node_pub, node_s) != 0)
		return -1;
	if (link_stream_init(&node, (struct om_stream){ &pipe_ops, &node_end }, 1, node_s, node_pub,
		node_knows != NULL ? node_knows : agent_pub, e1) != 0)
		return -1;
	return link_stream_init(&agent, (struct om_stream){ &pipe_ops, &agent_end }, 0, agent_s, agent_pub,
	    NULL, e2);
}

/* Moves bytes both ways until nothing moves; returns received plaintext
 * counts through *to_agent / *to_node buffers. */
static uint8_t got_a[1 << 20], got_n[1 << 20];
static size_t got_a_len, got_n_len;
static long last_a, last_n;

static void
pump(void)
{
	int moved, i;
	long n;

	got_a_len = got_n_len = 0;
	for (i = 0; i < 1000000; i++) {
		moved = 0;
		(void)link_stream_ops.flush(&node);
		(void)link_stream_ops.flush(&agent);
		n = link_stream_ops.recv(&agent, got_a + got_a_len, sizeof got_a - got_a_len);
		last_a = n;
		if (n > 0)
			got_a_len += (size_t)n, moved = 1;
		n = link_stream_ops.recv(&node, got_n + got_n_len, sizeof got_n - got_n_len);
		last_n = n;
		if (n > 0)
			got_n_len += (size_t)n, moved = 1;
		if (!moved && n2a.len == 0 && a2n.len == 0)
			break;
	}
}

/* Sends all of p through ls, pumping the other way as it goes. */
static int
send_all(struct link_stream *ls, const uint8_t *p, size_t len, uint8_t *got, size_t *got_len)
{
	struct link_stream *peer = ls == &node ? &agent : &node;
	size_t off = 0;
	int spins = 0;
	long n;

	*got_len = 0;
	while ((off < len || link_stream_ops.flush(ls) != 0) && spins++ < 10000000) {
		if (off < len) {
			n = link_stream_ops.send(ls, p + off, len - off);
			if (n == OM_STREAM_ERR)
				return -1;
			if (n > 0)
				off += (size_t)n;
		}
		n = link_stream_ops.recv(peer, got + *got_len, (1 << 20) - *got_len);
		if (n == OM_STREAM_ERR)
			return -1;
		if (n > 0)
			*got_len += (size_t)n;
	}
	while ((n = link_stream_ops.recv(peer, got + *got_len, (1 << 20) - *got_len)) > 0)
		*got_len += (size_t)n;
	return n == OM_STREAM_ERR ? -1 : 0;
}

static int
handshake(void)
{
	pump();
	return node.state == LINK_OPEN && agent.state == LINK_OPEN ? 0 : -1;
}

/* ---- tests */

static void
x25519_rfc7748(void)
{
	/* RFC 7748 section 6.1: Alice's and Bob's keys and their secret. */
	static const uint8_t a[32] = {
		0x77, 0x07, 0x6d, 0x0a, 0x73, 0x18, 0xa5, 0x7d, 0x3c, 0x16, 0xc1, 0x72, 0x51, 0xb2, 0x66, 0x45,
		0xdf, 0x4c, 0x2f, 0x87, 0xeb, 0xc0, 0x99, 0x2a, 0xb1, 0x77, 0xfb, 0xa5, 0x1d, 0xb9, 0x2c, 0x2a };
	static const uint8_t a_pub[32] = {
		0x85, 0x20, 0xf0, 0x09, 0x89, 0x30, 0xa7, 0x54, 0x74, 0x8b, 0x7d, 0xdc, 0xb4, 0x3e, 0xf7, 0x5a,
		0x0d, 0xbf, 0x3a, 0x0d, 0x26, 0x38, 0x1a, 0xf4, 0xeb, 0xa4, 0xa9, 0x8e, 0xaa, 0x9b, 0x4e, 0x6a };
	static const uint8_t b[32] = {
		0x5d, 0xab, 0x08, 0x7e, 0x62, 0x4a, 0x8a, 0x4b, 0x79, 0xe1, 0x7f, 0x8b, 0x83, 0x80, 0x0e, 0xe6,
		0x6f, 0x3b, 0xb1, 0x29, 0x26, 0x18, 0xb6, 0xfd, 0x1c, 0x2f, 0x8b, 0x27, 0xff, 0x88, 0xe0, 0xeb };
	static const uint8_t b_pub[32] = {
		0xde, 0x9e, 0xdb, 0x7d, 0x7b, 0x7d, 0xc1, 0xb4, 0xd3, 0x5b, 0x61, 0xc2, 0xec, 0xe4, 0x35, 0x37,
		0x3f, 0x83, 0x43, 0xc8, 0x5b, 0x78, 0x67, 0x4d, 0xad, 0xfc, 0x7e, 0x14, 0x6f, 0x88, 0x2b, 0x4f };
	uint8_t pub[32];

	CHECK(noise_public(pub, a) == 0);
	CHECK(memcmp(pub, a_pub, 32) == 0);
	CHECK(noise_public(pub, b) == 0);
	CHECK(memcmp(pub, b_pub, 32) == 0);
}

static void
handshake_and_records(void)
{
	static uint8_t big[300000];
	size_t chunks[] = { 1, 7, 4096, 1 << 20 }, sizes[] = { 1, 16384, 16385, 300000 }, i, k, got;

	for (k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
		CHECK(setup(chunks[k], NULL) == 0);
		CHECK(link_stream_peer(&agent) == NULL);
		CHECK(link_stream_ops.send(&node, "x", 1) == OM_STREAM_AGAIN); /* not open yet */
		CHECK(handshake() == 0);
		CHECK(memcmp(link_stream_peer(&agent), node_pub, 32) == 0);
		CHECK(memcmp(link_stream_peer(&node), agent_pub, 32) == 0);
		for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
			if (chunks[k] == 1 && sizes[i] > 16385)
				continue; /* a byte per call: slow, and no news */
			fill(big, sizes[i], (unsigned)(i + k));
			CHECK(send_all(&node, big, sizes[i], got_a, &got) == 0);
			CHECK_EQ(got, sizes[i]);
			CHECK(memcmp(got_a, big, got) == 0);
			CHECK(send_all(&agent, big, sizes[i], got_n, &got) == 0);
			CHECK_EQ(got, sizes[i]);
			CHECK(memcmp(got_n, big, got) == 0);
		}
		/* An orderly end between records reads as one. */
		n2a.closed = 1;
		CHECK_EQ(link_stream_ops.recv(&agent, got_a, 10), 0);
	}
}

static void
ciphertext_is_not_plaintext(void)
{
	static const char secret[] = "the job's secret memory";
	size_t i, n = sizeof secret - 1;

	CHECK(setup(1 << 20, NULL) == 0);
	CHECK(handshake() == 0);
	CHECK_EQ(link_stream_ops.send(&node, secret, n), (long)n);
	CHECK_EQ(n2a.len, 2 + n + NOISE_TAG);
	for (i = 0; i + 6 <= n2a.len; i++)
		CHECK(memcmp(n2a.buf + n2a.head + i, "secret", 6) != 0);
}

static void
wrong_agent_key_refused(void)
{
	uint8_t other[32], other_s[32];

	fill(other_s, 32, 99);
	CHECK(noise_public(other, other_s) == 0);
	CHECK(setup(1 << 20, other) == 0);
	pump();
	CHECK(agent.state == LINK_DEAD);
	CHECK(strstr(link_stream_ops.why(&agent), "does not know this agent's key") != NULL);
	/* The agent closes; the node learns of it as a refusal. */
	a2n.closed = 1;
	pump();
	CHECK(node.state == LINK_DEAD);
	CHECK(strstr(link_stream_ops.why(&node), "during the handshake") != NULL);
	CHECK(link_stream_peer(&agent) == NULL);
}

/* An impostor agent with its own key answering a node that names the real
 * one: the impostor cannot compute es, so it cannot even read message 1;
 * a relay that forwards message 1 and answers with its own message 2 fails
 * the node's check of message 2. */
static void
impostor_agent_refused(void)
{
	struct link_stream impostor;
	uint8_t imp_s[32], e[32];

	CHECK(setup(1 << 20, NULL) == 0);
	fill(imp_s, 32, 5);
	fill(e, 32, 6);
	CHECK(noise_public(imp_pub, imp_s) == 0);
	CHECK(link_stream_init(&impostor, (struct om_stream){ &pipe_ops, &agent_end }, 0, imp_s, imp_pub, NULL,
	    e) == 0);
	CHECK(link_stream_ops.flush(&node) == 0);
	CHECK(link_stream_ops.recv(&impostor, got_a, 10) == OM_STREAM_ERR);
	/* Message 2 forged from the real first message's ephemeral: the
	 * impostor's handshake state answers as if message 1 had passed. */
	CHECK(setup(1 << 20, NULL) == 0);
	CHECK(link_stream_ops.flush(&node) == 0);
	impostor.hs.step = 1;
	memcpy(impostor.hs.re, n2a.buf + 2, 32);
	impostor.state = LINK_HANDSHAKE;
	impostor.inner = (struct om_stream){ &pipe_ops, &agent_end };
	CHECK(noise_write(&impostor.hs, a2n.buf + 2, sizeof a2n.buf - 2) == NOISE_MSG2);
	a2n.buf[0] = 0;
	a2n.buf[1] = NOISE_MSG2;
	a2n.len = 2 + NOISE_MSG2;
	CHECK(link_stream_ops.recv(&node, got_n, 10) == OM_STREAM_ERR);
	CHECK(strstr(link_stream_ops.why(&node), "does not hold the key") != NULL);
}

/* One 40-byte record, tampered by fn, must kill the agent's end without a
 * byte delivered. */
static const char *
tampered(void (*fn)(struct pipe *p, size_t arg), size_t arg)
{
	static const char msg[40] = "forty bytes of a forwarded call's reply";
	long n;

	if (setup(1 << 20, NULL) != 0 || handshake() != 0)
		return "setup";
	if (link_stream_ops.send(&node, msg, sizeof msg) != (long)sizeof msg)
		return "send";
	fn(&n2a, arg);
	n = link_stream_ops.recv(&agent, got_a, sizeof got_a);
	if (n != OM_STREAM_ERR && !(n == OM_STREAM_AGAIN && agent.state == LINK_HANDSHAKE)) {
		if (n > 0)
			return "tampered record delivered";
		/* A short record waits for more: then the end comes. */
		n2a.closed = 1;
		n = link_stream_ops.recv(&agent, got_a, sizeof got_a);
		if (n != OM_STREAM_ERR)
			return "tampered record not refused";
	}
	return link_stream_ops.why(&agent);
}

static void
flip(struct pipe *p, size_t bit)
{
	p->buf[p->head + bit / 8] ^= (uint8_t)(1u << (bit % 8));
}

static void
truncate_by(struct pipe *p, size_t n)
{
	p->len -= n;
}

static void
drop_first(struct pipe *p, size_t n)
{
	(void)n;
	p->head += 2 + 40 + NOISE_TAG; /* the record just sent is gone; a second follows */
	p->len -= 2 + 40 + NOISE_TAG;
	if (link_stream_ops.send(&node, "a second one", 12) != 12)
		p->len = 0;
}

static void
replay(struct pipe *p, size_t n)
{
	(void)n;
	memcpy(p->buf + p->head + p->len, p->buf + p->head, p->len);
	p->len *= 2;
}

static void
every_tampering_kills_the_link(void)
{
	const char *why;
	size_t bit, total = (2 + 40 + NOISE_TAG) * 8;
	long n;

	for (bit = 0; bit < total; bit++) {
		why = tampered(flip, bit);
		CHECK(why != NULL);
		if (strstr(why, "integrity") == NULL && strstr(why, "length") == NULL &&
		    strstr(why, "inside a record") == NULL) {
			check_fail("bit %zu: %s", bit, why);
			return;
		}
	}
	CHECK(strstr(tampered(truncate_by, 1), "inside a record") != NULL);
	CHECK(strstr(tampered(drop_first, 0), "integrity") != NULL);
	/* A replayed record: the first copy is good, the second is refused. */
	CHECK(setup(1 << 20, NULL) == 0 && handshake() == 0);
	CHECK_EQ(link_stream_ops.send(&node, "once", 4), 4);
	replay(&n2a, 0);
	n = link_stream_ops.recv(&agent, got_a, sizeof got_a);
	CHECK_EQ(n, 4);
	CHECK_EQ(link_stream_ops.recv(&agent, got_a, sizeof got_a), OM_STREAM_ERR);
	CHECK(strstr(link_stream_ops.why(&agent), "integrity") != NULL);
}

static void
bad_lengths_refused(void)
{
	uint8_t hdr[OM_HDR_SIZE];

	/* A plaintext om frame (an old node, or no handshake at all). */
	CHECK(setup(1 << 20, NULL) == 0);
	om_hdr_encode(hdr, OM_T_HELLO, 100, 0, 0);
	memcpy(n2a.buf, hdr, sizeof hdr);
	n2a.len = sizeof hdr;
	CHECK_EQ(link_stream_ops.recv(&agent, got_a, 10), OM_STREAM_ERR);
	CHECK(strstr(link_stream_ops.why(&agent), "not an om link peer") != NULL);
	/* Record lengths 0..16 and above the maximum, after a good handshake. */
	static const size_t bad[] = { 0, 1, NOISE_TAG, LINK_REC_MAX + 1, 65535 };
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK(setup(1 << 20, NULL) == 0 && handshake() == 0);
		n2a.buf[0] = (uint8_t)(bad[i] >> 8);
		n2a.buf[1] = (uint8_t)bad[i];
		n2a.len = 2;
		CHECK_EQ(link_stream_ops.recv(&agent, got_a, 10), OM_STREAM_ERR);
		CHECK(strstr(link_stream_ops.why(&agent), "record length") != NULL);
	}
	/* A handshake message of the wrong size. */
	CHECK(setup(1 << 20, NULL) == 0);
	n2a.buf[0] = 0;
	n2a.buf[1] = NOISE_MSG1 + 1;
	n2a.len = 2;
	CHECK_EQ(link_stream_ops.recv(&agent, got_a, 10), OM_STREAM_ERR);
	CHECK(strstr(link_stream_ops.why(&agent), "handshake length") != NULL);
}

/* A small-order point as the node's ephemeral must not give a predictable
 * key: refused. */
static void
small_order_point_refused(void)
{
	CHECK(setup(1 << 20, NULL) == 0);
	CHECK(link_stream_ops.flush(&node) == 0);
	memset(n2a.buf + 2, 0, 32); /* u = 0 */
	CHECK_EQ(link_stream_ops.recv(&agent, got_a, 10), OM_STREAM_ERR);
	CHECK(agent.state == LINK_DEAD);
}

/* One private key, one public form: a node sending its key with bit 255
 * set (which X25519 ignores) would register under another fingerprint. */
static void
noncanonical_keys_refused(void)
{
	static const uint8_t p[32] = {
		0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f };
	uint8_t k[32] = { 0 }, e[32];

	CHECK(setup(1 << 20, NULL) == 0);
	CHECK(noise_key_usable(agent_pub) && noise_key_usable(node_pub));
	CHECK(!noise_key_usable(k));         /* u = 0 */
	k[0] = 1;
	CHECK(!noise_key_usable(k));         /* u = 1: small order */
	CHECK(!noise_key_usable(p));         /* u = p */
	memcpy(k, agent_pub, 32);
	k[31] |= 0x80;
	CHECK(!noise_key_usable(k));         /* bit 255 set */
	/* The node's static key sent with bit 255 set: message 3 refused. */
	memcpy(k, node_pub, 32);
	k[31] |= 0x80;
	fill(e, 32, 11);
	CHECK(link_stream_init(&node, (struct om_stream){ &pipe_ops, &node_end }, 1, node_s, k, agent_pub,
	    e) == 0);
	pump();
	CHECK(agent.state == LINK_DEAD);
	CHECK(strstr(link_stream_ops.why(&agent), "key proof") != NULL);
}

static void
fingerprint_format(void)
{
	char fp[NOISE_FP_LEN + 1];
	size_t i;

	fill(node_s, 32, 7);
	CHECK(noise_public(node_pub, node_s) == 0);
	noise_fingerprint(node_pub, fp);
	CHECK_EQ(strlen(fp), NOISE_FP_LEN);
	for (i = 0; i < NOISE_FP_LEN; i++)
		CHECK(i % 5 == 4 ? fp[i] == '-' : strchr("0123456789abcdef", fp[i]) != NULL);
}

int
main(void)
{
	RUN(x25519_rfc7748);
	RUN(handshake_and_records);
	RUN(ciphertext_is_not_plaintext);
	RUN(wrong_agent_key_refused);
	RUN(impostor_agent_refused);
	RUN(every_tampering_kills_the_link);
	RUN(bad_lengths_refused);
	RUN(small_order_point_refused);
	RUN(noncanonical_keys_refused);
	RUN(fingerprint_format);
	return check_exit();
}
