/* noise.h - the handshake and record cipher of the node-agent link.
 *
 * The Noise protocol framework's pattern XK with X25519, ChaCha20-Poly1305
 * and SHA-256 ("Noise_XK_25519_ChaChaPoly_SHA256", prologue "om link 1"):
 *
 *   <- s            the node knows the agent's static key (om.key=)
 *   -> e, es        node: ephemeral; only the key's holder can answer
 *   <- e, ee        agent: ephemeral; forward secrecy from here on
 *   -> s, se        node: its boot-time static key, encrypted, proven
 *
 * Then each direction has its own key and a 64-bit record counter. Pure
 * computation over buffers, no I/O and no randomness of its own: callers
 * pass the 32 random bytes of the ephemeral key. docs/security.md. */
#ifndef OM_NOISE_H
#define OM_NOISE_H

#include <stddef.h>
#include <stdint.h>

#define NOISE_KEY 32
#define NOISE_TAG 16
#define NOISE_MSG1 48   /* e, tag */
#define NOISE_MSG2 48   /* e, tag */
#define NOISE_MSG3 64   /* encrypted s, tag */
#define NOISE_MSG_MAX 64

struct noise_cipher {
	uint8_t k[NOISE_KEY];
	uint64_t n;             /* next nonce */
	int has_k;
	int is_record;          /* a record cipher (from noise_split) */
};

struct noise_hs {
	int initiator;
	int step;               /* messages written or read so far (0..3) */
	uint8_t h[32], ck[32];
	struct noise_cipher c;
	uint8_t s[NOISE_KEY], s_pub[NOISE_KEY];   /* our static key */
	uint8_t e[NOISE_KEY], e_pub[NOISE_KEY];   /* our ephemeral key */
	uint8_t rs[NOISE_KEY], re[NOISE_KEY];     /* the peer's */
};

/* pub = X25519(priv, 9). Returns 0, -1 if the curve code refuses. */
int noise_public(uint8_t pub[NOISE_KEY], const uint8_t priv[NOISE_KEY]);

/* Starts a handshake. s, s_pub: our static key pair (the public half
 * computed once by the caller: X25519 is the costly part, and a peer
 * that proves nothing must not make us do it); rs: the responder's static
 * public key (initiator only; NULL for the responder); e: 32 random bytes
 * for our ephemeral key, whose public half the responder computes only
 * once message 1 authenticated. Returns 0 or -1. */
int noise_init(struct noise_hs *hs, int initiator, const uint8_t s[NOISE_KEY],
    const uint8_t s_pub[NOISE_KEY], const uint8_t *rs, const uint8_t e[NOISE_KEY]);
/* Whether pub is a public key worth talking to: canonical (below 2^255-19,
 * so one private key has one public form and one fingerprint) and not of
 * small order (a DH with it would give a known secret). */
int noise_key_usable(const uint8_t pub[NOISE_KEY]);
/* Our next handshake message into out (cap >= NOISE_MSG_MAX). Returns its
 * length, or -1 when it is not our turn or a key is refused. */
int noise_write(struct noise_hs *hs, uint8_t *out, size_t cap);
/* The peer's next handshake message. Returns 0, or -1 when it has the
 * wrong length, is not its turn, or does not authenticate (a peer without
 * the right keys, or bytes changed in transit). */
int noise_read(struct noise_hs *hs, const uint8_t *in, size_t len);
/* Whether all three messages are done. */
int noise_done(const struct noise_hs *hs);
/* After the handshake: the two record ciphers (ours to send, the peer's to
 * receive); wipes the handshake's secrets. The peer's static key stays in
 * hs->rs. */
void noise_split(struct noise_hs *hs, struct noise_cipher *tx, struct noise_cipher *rx);

/* ChaCha20-Poly1305 on buf in place with the cipher's next nonce; ad is
 * authenticated too. seal writes the tag; open checks it (constant time)
 * and returns 0, or -1 when the record does not authenticate (buf is then
 * garbage) or the nonces are spent. */
int noise_seal(struct noise_cipher *c, const void *ad, size_t adlen, void *buf, size_t len,
    uint8_t tag[NOISE_TAG]);
int noise_open(struct noise_cipher *c, const void *ad, size_t adlen, void *buf, size_t len,
    const uint8_t tag[NOISE_TAG]);

/* The short form of a static key people compare: the first 8 bytes of its
 * SHA-256 as "xxxx-xxxx-xxxx-xxxx" (NOISE_FP_LEN chars and a NUL). */
#define NOISE_FP_LEN 19
#define NOISE_FP_BYTES 8
void noise_fingerprint(const uint8_t pub[NOISE_KEY], char out[NOISE_FP_LEN + 1]);
/* The same in two steps: the bytes (a node record carries them), then
 * their text. */
void noise_fp_bytes(const uint8_t pub[NOISE_KEY], uint8_t fp[NOISE_FP_BYTES]);
void noise_fp_format(const uint8_t fp[NOISE_FP_BYTES], char out[NOISE_FP_LEN + 1]);

/* 1 in the benchmark build whose records travel unencrypted (noise.c,
 * OM_BENCH_UNENCRYPTED_LINK), which says so loudly; 0 otherwise. */
int noise_records_in_clear(void);

/* Clears secrets where the compiler may not drop the stores. */
void noise_wipe(void *p, size_t len);

#endif
