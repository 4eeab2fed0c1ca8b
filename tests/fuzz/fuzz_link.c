/* fuzz_link.c - the encrypted node link (migrate/link_stream.c over
 * migrate/noise.c) fed arbitrary bytes from its peer, either end.
 *
 * Responder (the agent's end of every node connection): the input is what
 * a node sends. Initiator (the node's end): its first message goes out,
 * the input is what the agent answers. The transport under the link hands
 * the bytes over in pieces of the input's choosing, sometimes none
 * (OM_STREAM_AGAIN), and takes the link's output in pieces too. The link
 * must never crash, never hand over a byte before its handshake completed
 * with a usable peer key, never hand over more than one record at a time,
 * and once it reports the stream dead it stays dead.
 *
 * Keys and ephemerals are fixed (fuzz_keys.h), so the seeds (real
 * sessions, gen_seeds.c) replay and the fuzzer mutates authenticated
 * records too; what it changes there must fail the integrity check.
 *
 * Input: byte 0 bit 0 the end (0 responder, 1 initiator), bits 1-4 the
 * largest piece the transport delivers (0: no limit), bits 5-7 how often
 * it has nothing (every n-th call, 0: never); the rest is the peer's
 * bytes. Whatever plaintext comes through is sent back (the send path
 * and its nonces run too). */
#include "link_stream.h"

#include "fuzz.h"
#include "fuzz_keys.h"

struct wire {
	struct fz in;
	size_t piece;       /* largest piece recv delivers, 0: any */
	unsigned again_every, calls;
	size_t sent;        /* bytes the link sent (dropped) */
};

static long
w_recv(void *ctx, void *buf, size_t len)
{
	struct wire *w = ctx;
	const uint8_t *p;
	size_t got;

	if (w->again_every && ++w->calls % w->again_every == 0)
		return OM_STREAM_AGAIN;
	if (fz_left(&w->in) == 0)
		return 0; /* the peer closed */
	if (w->piece && len > w->piece)
		len = w->piece;
	p = fz_take(&w->in, len, &got);
	memcpy(buf, p, got);
	return (long)got;
}

static long
w_send(void *ctx, const void *buf, size_t len)
{
	struct wire *w = ctx;

	if (w->again_every && ++w->calls % w->again_every == 0)
		return OM_STREAM_AGAIN;
	free(fz_dup(buf, len)); /* ASan: the whole range is the link's */
	if (w->piece && len > w->piece)
		len = w->piece;
	w->sent += len;
	return (long)len;
}

static const struct om_stream_ops wire_ops = { .send = w_send, .recv = w_recv };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t s_agent[NOISE_KEY], p_agent[NOISE_KEY], s_node[NOISE_KEY], p_node[NOISE_KEY];
	static int keys;
	static struct link_stream ls;
	uint8_t e[NOISE_KEY], plain[LINK_PLAIN_MAX + 1];
	struct wire w = { 0 };
	int initiator, rounds;
	long n;

	if (!keys) {
		fuzz_key(s_agent, FUZZ_KEY_AGENT);
		fuzz_key(s_node, FUZZ_KEY_NODE);
		if (noise_public(p_agent, s_agent) != 0 || noise_public(p_node, s_node) != 0)
			abort();
		keys = 1;
	}
	if (size == 0)
		return 0;
	initiator = data[0] & 1;
	w.piece = (data[0] >> 1) & 15;
	w.again_every = data[0] >> 5;
	fz_init(&w.in, data + 1, size - 1);
	fuzz_key(e, initiator ? FUZZ_KEY_NODE_E : FUZZ_KEY_AGENT_E);
	if (link_stream_init(&ls, (struct om_stream){ &wire_ops, &w }, initiator,
	    initiator ? s_node : s_agent, initiator ? p_node : p_agent,
	    initiator ? p_agent : NULL, e) != 0)
		abort(); /* fixed, good keys */
	/* Bounded: every round either moves input, or ends. */
	for (rounds = 0; rounds < 4 * (int)size + 64; rounds++) {
		n = link_stream_ops.flush(&ls);
		FUZZ_ASSERT(n == 0 || n == OM_STREAM_AGAIN || n == OM_STREAM_ERR, "flush gave %ld", n);
		n = link_stream_ops.recv(&ls, plain, sizeof plain);
		FUZZ_ASSERT(n <= LINK_PLAIN_MAX, "recv handed over %ld bytes", n);
		if (n == OM_STREAM_ERR) {
			const char *why = link_stream_ops.why(&ls);

			FUZZ_ASSERT(why != NULL && why[0] != '\0', "died without a reason");
			FUZZ_ASSERT(link_stream_ops.recv(&ls, plain, sizeof plain) == OM_STREAM_ERR &&
			    link_stream_ops.send(&ls, "x", 1) == OM_STREAM_ERR, "a dead link came back");
			break;
		}
		if (n > 0) {
			const uint8_t *peer = link_stream_peer(&ls);

			FUZZ_ASSERT(peer != NULL && noise_key_usable(peer),
			    "%ld bytes of plaintext before the handshake completed", n);
			FUZZ_ASSERT(!initiator || memcmp(peer, p_agent, NOISE_KEY) == 0,
			    "the node's link opened with an agent key it was not given");
			FUZZ_ASSERT(link_stream_ops.held(&ls) <= LINK_PLAIN_MAX, "held %zu",
			    link_stream_ops.held(&ls));
			/* Echo it: the send path seals with its own nonces. */
			n = link_stream_ops.send(&ls, plain, (size_t)n);
			FUZZ_ASSERT(n >= 0 || n == OM_STREAM_AGAIN || n == OM_STREAM_ERR, "send gave %ld", n);
			continue;
		}
		if (n == 0 && fz_left(&w.in) == 0)
			break; /* orderly end between records */
		if (n == OM_STREAM_AGAIN && fz_left(&w.in) == 0 && !w.again_every)
			break;
	}
	link_stream_wipe(&ls);
	return 0;
}
