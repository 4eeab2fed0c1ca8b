/* noise.c - Noise XK for the node-agent link (see noise.h), on BearSSL's
 * primitives: X25519 (br_ec_c25519_m31, constant time), ChaCha20-Poly1305
 * (br_poly1305_ctmul_run over br_chacha20_ct_run), SHA-256 and HMAC. The
 * state machine follows the Noise specification, revision 34. */
#include <string.h>

#include <bearssl/bearssl.h>

#include "noise.h"

static const char noise_name[] = "Noise_XK_25519_ChaChaPoly_SHA256";
#ifdef OM_BENCH_UNENCRYPTED_LINK
/* A benchmark build cannot complete a handshake with a real one. */
static const char noise_prologue[] = "om link 1, benchmark build, records in clear";
#else
static const char noise_prologue[] = "om link 1";
#endif

void
noise_wipe(void *p, size_t len)
{
	volatile uint8_t *v = p;

	while (len-- > 0)
		*v++ = 0;
}

int
noise_public(uint8_t pub[NOISE_KEY], const uint8_t priv[NOISE_KEY])
{
	return br_ec_c25519_m31.mulgen(pub, priv, NOISE_KEY, BR_EC_curve25519) == NOISE_KEY ? 0 : -1;
}

/* out = X25519(priv, pub). A result of all zeros means the peer sent a
 * point of small order, which would make the secret predictable. */
static int
noise_dh(uint8_t out[32], const uint8_t priv[NOISE_KEY], const uint8_t pub[NOISE_KEY])
{
	uint8_t acc = 0;
	int i;

	memcpy(out, pub, 32);
	out[31] &= 0x7f; /* RFC 7748: the top bit of u is ignored */
	if (br_ec_c25519_m31.mul(out, 32, priv, NOISE_KEY, BR_EC_curve25519) != 1)
		return -1;
	for (i = 0; i < 32; i++)
		acc |= out[i];
	return acc == 0 ? -1 : 0;
}

static void
noise_hmac(uint8_t out[32], const uint8_t key[32], const void *a, size_t alen,
    const void *b, size_t blen)
{
	br_hmac_key_context kc;
	br_hmac_context hc;

	br_hmac_key_init(&kc, &br_sha256_vtable, key, 32);
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, a, alen);
	br_hmac_update(&hc, b, blen);
	br_hmac_out(&hc, out);
	noise_wipe(&kc, sizeof kc);
	noise_wipe(&hc, sizeof hc);
}

/* Noise's HKDF with two outputs. */
static void
noise_hkdf(const uint8_t ck[32], const void *ikm, size_t len, uint8_t o1[32], uint8_t o2[32])
{
	static const uint8_t one = 1, two = 2;
	uint8_t t[32];

	noise_hmac(t, ck, ikm, len, "", 0);
	noise_hmac(o1, t, &one, 1, "", 0);
	noise_hmac(o2, t, o1, 32, &two, 1);
	noise_wipe(t, sizeof t);
}

static void
noise_mix_hash(struct noise_hs *hs, const void *data, size_t len)
{
	br_sha256_context sc;

	br_sha256_init(&sc);
	br_sha256_update(&sc, hs->h, 32);
	br_sha256_update(&sc, data, len);
	br_sha256_out(&sc, hs->h);
}

static void
noise_mix_key(struct noise_hs *hs, const uint8_t ikm[32])
{
	uint8_t ck[32];

	noise_hkdf(hs->ck, ikm, 32, ck, hs->c.k);
	memcpy(hs->ck, ck, 32);
	hs->c.n = 0;
	hs->c.has_k = 1;
	noise_wipe(ck, sizeof ck);
}

/* MixKey(DH(priv, pub)). */
static int
noise_mix_dh(struct noise_hs *hs, const uint8_t priv[NOISE_KEY], const uint8_t pub[NOISE_KEY])
{
	uint8_t shared[32];
	int rc = noise_dh(shared, priv, pub);

	if (rc == 0)
		noise_mix_key(hs, shared);
	noise_wipe(shared, sizeof shared);
	return rc;
}

/* The 96-bit nonce: four zero bytes, then the counter little-endian. */
static void
noise_nonce(uint8_t iv[12], uint64_t n)
{
	int i;

	memset(iv, 0, 4);
	for (i = 0; i < 8; i++)
		iv[4 + i] = (uint8_t)(n >> (8 * i));
}

/* OM_BENCH_UNENCRYPTED_LINK: a build for `make bench` only (bench/, never
 * the default build), whose records skip ChaCha20-Poly1305 after a real
 * handshake, to measure what encryption costs side by side. */
#ifdef OM_BENCH_UNENCRYPTED_LINK
#define NOISE_RECORDS_IN_CLEAR 1
#else
#define NOISE_RECORDS_IN_CLEAR 0
#endif

int
noise_records_in_clear(void)
{
	return NOISE_RECORDS_IN_CLEAR;
}

int
noise_seal(struct noise_cipher *c, const void *ad, size_t adlen, void *buf, size_t len,
    uint8_t tag[NOISE_TAG])
{
	uint8_t iv[12];

	if (c->n == UINT64_MAX)
		return -1; /* Noise reserves the last nonce */
	if (c->is_record && NOISE_RECORDS_IN_CLEAR) {
		c->n++;
		memset(tag, 0, NOISE_TAG);
		return 0;
	}
	noise_nonce(iv, c->n++);
	br_poly1305_ctmul_run(c->k, iv, buf, len, ad, adlen, tag, br_chacha20_ct_run, 1);
	return 0;
}

int
noise_open(struct noise_cipher *c, const void *ad, size_t adlen, void *buf, size_t len,
    const uint8_t tag[NOISE_TAG])
{
	uint8_t iv[12], want[NOISE_TAG], diff = 0;
	int i;

	if (c->n == UINT64_MAX)
		return -1;
	if (c->is_record && NOISE_RECORDS_IN_CLEAR) {
		c->n++;
		return 0;
	}
	noise_nonce(iv, c->n++);
	br_poly1305_ctmul_run(c->k, iv, buf, len, ad, adlen, want, br_chacha20_ct_run, 0);
	for (i = 0; i < NOISE_TAG; i++)
		diff |= want[i] ^ tag[i];
	return diff == 0 ? 0 : -1;
}

/* EncryptAndHash: p (len bytes) becomes len + NOISE_TAG bytes at out. */
static int
noise_encrypt_hash(struct noise_hs *hs, const uint8_t *p, size_t len, uint8_t *out)
{
	if (len > 0)
		memmove(out, p, len);
	if (noise_seal(&hs->c, hs->h, 32, out, len, out + len) != 0)
		return -1;
	noise_mix_hash(hs, out, len + NOISE_TAG);
	return 0;
}

/* DecryptAndHash: ct (len + NOISE_TAG bytes) into p (len bytes). */
static int
noise_decrypt_hash(struct noise_hs *hs, const uint8_t *ct, size_t len, uint8_t *p)
{
	uint8_t h[32];

	memcpy(h, hs->h, 32);
	noise_mix_hash(hs, ct, len + NOISE_TAG);
	if (len > 0)
		memmove(p, ct, len);
	return noise_open(&hs->c, h, 32, p, len, ct + len);
}

/* Whether u, little-endian, is at least p = 2^255 - 19 or has bit 255
 * set: the forms X25519 accepts besides the canonical one. */
static int
noise_noncanonical(const uint8_t u[NOISE_KEY])
{
	int i;

	if (u[31] & 0x80)
		return 1;
	if (u[31] != 0x7f || u[0] < 0xed)
		return 0;
	for (i = 1; i < 31; i++)
		if (u[i] != 0xff)
			return 0;
	return 1;
}

int
noise_key_usable(const uint8_t pub[NOISE_KEY])
{
	static const uint8_t k[NOISE_KEY] = { 0x48, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
		16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 0x5f };
	uint8_t out[32];
	int rc;

	if (noise_noncanonical(pub))
		return 0;
	rc = noise_dh(out, k, pub); /* a small-order point gives all zeros */
	noise_wipe(out, sizeof out);
	return rc == 0;
}

int
noise_init(struct noise_hs *hs, int initiator, const uint8_t s[NOISE_KEY],
    const uint8_t s_pub[NOISE_KEY], const uint8_t *rs, const uint8_t e[NOISE_KEY])
{
	memset(hs, 0, sizeof *hs);
	hs->initiator = initiator;
	memcpy(hs->h, noise_name, 32); /* the name is exactly HASHLEN bytes */
	memcpy(hs->ck, hs->h, 32);
	noise_mix_hash(hs, noise_prologue, sizeof noise_prologue - 1);
	memcpy(hs->s, s, NOISE_KEY);
	memcpy(hs->s_pub, s_pub, NOISE_KEY);
	memcpy(hs->e, e, NOISE_KEY);
	if (initiator) {
		if (rs == NULL || noise_public(hs->e_pub, e) != 0)
			return -1;
		memcpy(hs->rs, rs, NOISE_KEY);
		noise_mix_hash(hs, rs, NOISE_KEY);
	} else
		noise_mix_hash(hs, hs->s_pub, NOISE_KEY);
	return 0;
}

int
noise_done(const struct noise_hs *hs)
{
	return hs->step == 3;
}

/* Whose turn it is: the initiator writes messages 1 and 3. */
static int
noise_our_turn(const struct noise_hs *hs)
{
	return hs->step < 3 && (hs->step % 2 == 0) == (hs->initiator != 0);
}

int
noise_write(struct noise_hs *hs, uint8_t *out, size_t cap)
{
	int len;

	if (!noise_our_turn(hs) || cap < NOISE_MSG_MAX)
		return -1;
	switch (hs->step) {
	case 0: /* -> e, es */
	case 1: /* <- e, ee */
		if (hs->step == 1 && noise_public(hs->e_pub, hs->e) != 0)
			return -1;
		memcpy(out, hs->e_pub, NOISE_KEY);
		noise_mix_hash(hs, hs->e_pub, NOISE_KEY);
		if (noise_mix_dh(hs, hs->e, hs->step == 0 ? hs->rs : hs->re) != 0 ||
		    noise_encrypt_hash(hs, NULL, 0, out + NOISE_KEY) != 0)
			return -1;
		len = NOISE_MSG1;
		break;
	default: /* -> s, se */
		if (noise_encrypt_hash(hs, hs->s_pub, NOISE_KEY, out) != 0 ||
		    noise_mix_dh(hs, hs->s, hs->re) != 0 ||
		    noise_encrypt_hash(hs, NULL, 0, out + NOISE_KEY + NOISE_TAG) != 0)
			return -1;
		len = NOISE_MSG3;
		break;
	}
	hs->step++;
	return len;
}

int
noise_read(struct noise_hs *hs, const uint8_t *in, size_t len)
{
	if (noise_our_turn(hs) || hs->step >= 3)
		return -1;
	switch (hs->step) {
	case 0: /* -> e, es (we are the responder) */
	case 1: /* <- e, ee (we are the initiator) */
		if (len != NOISE_MSG1 || noise_noncanonical(in))
			return -1;
		memcpy(hs->re, in, NOISE_KEY);
		noise_mix_hash(hs, hs->re, NOISE_KEY);
		if (noise_mix_dh(hs, hs->step == 0 ? hs->s : hs->e, hs->re) != 0 ||
		    noise_decrypt_hash(hs, in + NOISE_KEY, 0, NULL) != 0)
			return -1;
		break;
	default: /* -> s, se */
		if (len != NOISE_MSG3 ||
		    noise_decrypt_hash(hs, in, NOISE_KEY, hs->rs) != 0 || noise_noncanonical(hs->rs) ||
		    noise_mix_dh(hs, hs->e, hs->rs) != 0 ||
		    noise_decrypt_hash(hs, in + NOISE_KEY + NOISE_TAG, 0, NULL) != 0)
			return -1;
		break;
	}
	hs->step++;
	return 0;
}

void
noise_split(struct noise_hs *hs, struct noise_cipher *tx, struct noise_cipher *rx)
{
	uint8_t k1[32], k2[32];

	noise_hkdf(hs->ck, "", 0, k1, k2);
	memset(tx, 0, sizeof *tx);
	memset(rx, 0, sizeof *rx);
	memcpy(tx->k, hs->initiator ? k1 : k2, 32);
	memcpy(rx->k, hs->initiator ? k2 : k1, 32);
	tx->has_k = rx->has_k = 1;
	tx->is_record = rx->is_record = 1;
	noise_wipe(k1, sizeof k1);
	noise_wipe(k2, sizeof k2);
	noise_wipe(hs->s, sizeof hs->s);
	noise_wipe(hs->e, sizeof hs->e);
	noise_wipe(hs->ck, sizeof hs->ck);
	noise_wipe(&hs->c, sizeof hs->c);
}

void
noise_fp_bytes(const uint8_t pub[NOISE_KEY], uint8_t fp[NOISE_FP_BYTES])
{
	br_sha256_context sc;
	uint8_t d[32];

	br_sha256_init(&sc);
	br_sha256_update(&sc, pub, NOISE_KEY);
	br_sha256_out(&sc, d);
	memcpy(fp, d, NOISE_FP_BYTES);
}

void
noise_fp_format(const uint8_t fp[NOISE_FP_BYTES], char out[NOISE_FP_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	int i, o = 0;

	for (i = 0; i < NOISE_FP_BYTES; i++) {
		if (i > 0 && i % 2 == 0)
			out[o++] = '-';
		out[o++] = hex[fp[i] >> 4];
		out[o++] = hex[fp[i] & 15];
	}
	out[o] = '\0';
}

void
noise_fingerprint(const uint8_t pub[NOISE_KEY], char out[NOISE_FP_LEN + 1])
{
	uint8_t fp[NOISE_FP_BYTES];

	noise_fp_bytes(pub, fp);
	noise_fp_format(fp, out);
}
