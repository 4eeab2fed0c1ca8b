/* codec_check.h - the properties every message codec must have, checked
 * over a table of codecs with one sample message each: a sample round-trips
 * to the same bytes; every truncation is OM_E_TRUNC; trailing bytes are
 * OM_E_TRAILING; encoding into any smaller buffer is OM_E_NOSPACE and
 * writes nothing past it. Decoders read exact-size heap copies and encoders
 * write exact-size buffers, so ASan sees any access out of bounds.
 * Header-only; include after check.h. */
#ifndef OM_CODEC_CHECK_H
#define OM_CODEC_CHECK_H

#include <stdlib.h>
#include <string.h>

#include "proto.h"

struct codec {
	const char *name;
	int (*enc)(const void *m, void *out, size_t cap);
	int (*dec)(const void *buf, size_t len, void *m);
};

/* e_TAG and d_TAG: FN_encode and FN_decode with the untyped signatures of
 * struct codec. */
#define CODEC_ADAPTERS(tag, fn) \
	static int e_##tag(const void *m, void *o, size_t c) { return fn##_encode(m, o, c); } \
	static int d_##tag(const void *b, size_t l, void *m) { return fn##_decode(b, l, m); }

struct codec_suite {
	const struct codec *codecs;
	size_t n;
	const void *(*sample)(size_t i); /* a message for codecs[i] */
	void *(*scratch)(void);          /* room for any decoded message */
	uint8_t *buf, *buf2;             /* two byte buffers of cap bytes */
	size_t cap;
};

static int
codec_dec_exact(const struct codec *c, const uint8_t *b, size_t len, void *m)
{
	uint8_t *p = malloc(len ? len : 1);
	int rc;

	memcpy(p, b, len);
	rc = c->dec(p, len, m);
	free(p);
	return rc;
}

static void
codec_roundtrip(const struct codec_suite *s)
{
	size_t i;
	int n, m;

	for (i = 0; i < s->n; i++) {
		n = s->codecs[i].enc(s->sample(i), s->buf, s->cap);
		if (n <= 0) {
			check_fail("%s: encode %d", s->codecs[i].name, n);
			return;
		}
		CHECK_EQ(codec_dec_exact(&s->codecs[i], s->buf, (size_t)n, s->scratch()), OM_OK);
		m = s->codecs[i].enc(s->scratch(), s->buf2, s->cap);
		CHECK_EQ(m, n);
		CHECK(memcmp(s->buf, s->buf2, (size_t)n) == 0);
	}
}

static void
codec_truncated(const struct codec_suite *s)
{
	size_t i, len;
	int n, rc;

	for (i = 0; i < s->n; i++) {
		n = s->codecs[i].enc(s->sample(i), s->buf, s->cap);
		CHECK(n > 0);
		for (len = 0; len < (size_t)n; len++) {
			rc = codec_dec_exact(&s->codecs[i], s->buf, len, s->scratch());
			if (rc != OM_E_TRUNC) {
				check_fail("%s cut to %zu of %d bytes: %s", s->codecs[i].name, len, n,
				    om_strerror(rc));
				return;
			}
		}
	}
}

static void
codec_trailing(const struct codec_suite *s)
{
	size_t i, extra;
	int n;

	for (i = 0; i < s->n; i++) {
		n = s->codecs[i].enc(s->sample(i), s->buf, s->cap);
		CHECK(n > 0);
		for (extra = 1; extra <= 3; extra++) {
			memset(s->buf + n, 0, extra);
			CHECK_EQ(codec_dec_exact(&s->codecs[i], s->buf, (size_t)n + extra, s->scratch()),
			    OM_E_TRAILING);
		}
	}
}

static void
codec_nospace(const struct codec_suite *s)
{
	size_t i, cap;
	int n, rc;

	for (i = 0; i < s->n; i++) {
		n = s->codecs[i].enc(s->sample(i), s->buf, s->cap);
		CHECK(n > 0);
		for (cap = 0; cap <= (size_t)n; cap++) {
			uint8_t *p = malloc(cap ? cap : 1);

			rc = s->codecs[i].enc(s->sample(i), p, cap);
			free(p);
			CHECK_EQ(rc, cap < (size_t)n ? OM_E_NOSPACE : n);
		}
	}
}

#endif
