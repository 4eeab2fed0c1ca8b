/* link_stream.h - the encrypted, authenticated node-agent link as an
 * om_stream (stream.h) over a plain one.
 *
 * The Noise XK handshake (noise.h) runs first, driven by the stream's own
 * calls; then every byte travels in records:
 *
 *   u16 length L (big-endian, 17..LINK_REC_MAX), L bytes: ChaCha20-Poly1305
 *   of 1..LINK_PLAIN_MAX plaintext bytes, tag last, the two length bytes
 *   authenticated with it.
 *
 * Handshake messages use the same length prefix. Any record that does not
 * authenticate, and any malformed length, kills the stream (OM_STREAM_ERR,
 * link_stream_why says why): a changed, dropped, replayed or reordered
 * record is never delivered. send returns OM_STREAM_AGAIN until the
 * handshake is done; flush and held (stream.h) must be used. */
#ifndef OM_LINK_STREAM_H
#define OM_LINK_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "noise.h"
#include "stream.h"

#define LINK_PLAIN_MAX 16384
#define LINK_REC_MAX (LINK_PLAIN_MAX + NOISE_TAG)

enum link_state { LINK_HANDSHAKE, LINK_OPEN, LINK_DEAD };

struct link_stream {
	struct om_stream inner;
	enum link_state state;
	struct noise_hs hs;
	struct noise_cipher tx, rx;
	size_t in_len;                      /* bytes of in[] received */
	/* The last record, opened in place in in[]: its plaintext at
	 * in + 2 + plain_off, plain_len bytes not yet handed over. The next
	 * record is read only once this one is all taken. */
	size_t plain_off, plain_len;
	size_t out_off, out_len;            /* out[] not yet sent */
	char why[96];
	/* The buffers last: link_stream_init leaves them untouched, so an
	 * idle connection costs its pages only once bytes come. */
	uint8_t in[2 + LINK_REC_MAX];       /* the record being received */
	uint8_t out[2 + LINK_REC_MAX];      /* sealed */
};

extern const struct om_stream_ops link_stream_ops;

/* Starts the link over inner. s, s_pub: our static key pair; rs: the
 * agent's static public key (initiator, the node) or NULL (responder, the
 * agent); e: 32 fresh random bytes. The initiator's first message is
 * queued at once (flush sends it). Returns 0, or -1 if a key is refused. */
int link_stream_init(struct link_stream *ls, struct om_stream inner, int initiator,
    const uint8_t s[NOISE_KEY], const uint8_t s_pub[NOISE_KEY], const uint8_t *rs,
    const uint8_t e[NOISE_KEY]);
/* The peer's static public key once the handshake is done, else NULL. */
const uint8_t *link_stream_peer(const struct link_stream *ls);
/* Wipes the keys (before the memory is freed or reused). */
void link_stream_wipe(struct link_stream *ls);

#endif
