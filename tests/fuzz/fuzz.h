/* fuzz.h - what every libFuzzer harness here shares: a cursor over the
 * input that never reads past it (zeros once it is used up, so a short
 * input still drives every path), exact-size heap copies (so ASan sees a
 * decoder read one byte too far), and FUZZ_ASSERT, which aborts: a broken
 * property is a crash the fuzzer records like any other.
 *
 * Header-only; each harness is one program (tests/fuzz/fuzz.mk). */
#ifndef OM_FUZZ_H
#define OM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(c, ...) do { \
	if (!(c)) { \
		fprintf(stderr, "%s:%d: property broken: %s: ", __FILE__, __LINE__, #c); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
		abort(); \
	} \
} while (0)

/* FUZZ_VERBOSE=1 in the environment: harnesses say what their target
 * decided (why an image was refused, the agent's log), for a look at
 * what a seed or a crash file reaches. */
static inline int
fz_verbose(void)
{
	static int v = -1;

	if (v < 0)
		v = getenv("FUZZ_VERBOSE") != NULL && atoi(getenv("FUZZ_VERBOSE")) != 0;
	return v;
}

#define FZ_SAY(...) do { if (fz_verbose()) fprintf(stderr, __VA_ARGS__); } while (0)

struct fz {
	const uint8_t *p;
	size_t len, pos;
};

static inline void
fz_init(struct fz *f, const uint8_t *p, size_t len)
{
	f->p = p;
	f->len = len;
	f->pos = 0;
}

static inline size_t
fz_left(const struct fz *f)
{
	return f->len - f->pos;
}

/* n bytes, or fewer when the input ends; *got says how many. */
static inline const uint8_t *
fz_take(struct fz *f, size_t n, size_t *got)
{
	const uint8_t *q = f->p + f->pos;

	if (n > fz_left(f))
		n = fz_left(f);
	f->pos += n;
	*got = n;
	return q;
}

static inline uint64_t
fz_uint(struct fz *f, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes && f->pos < f->len; i++)
		v |= (uint64_t)f->p[f->pos++] << (8 * i);
	return v;
}

#define fz_u8(f) ((uint8_t)fz_uint((f), 1))
#define fz_u16(f) ((uint16_t)fz_uint((f), 2))
#define fz_u32(f) ((uint32_t)fz_uint((f), 4))
#define fz_u64(f) fz_uint((f), 8)

/* A heap copy of exactly len bytes (1 for 0, never read): an access past
 * the payload lands outside the allocation. Free it with free(). */
static inline uint8_t *
fz_dup(const void *p, size_t len)
{
	uint8_t *q = malloc(len ? len : 1);

	if (q == NULL)
		abort();
	if (len)
		memcpy(q, p, len);
	return q;
}

/* rt_FN(p, len): FN_decode over an exact-size copy of the payload; what
 * decodes must re-encode to the same bytes in a buffer of exactly that
 * size (the codecs are canonical, and an encoder refuses only what its
 * decoder refuses: job_msg.h, image.h). Structures go on the heap: some
 * are tens of KiB. Needs proto.h (OM_OK) included first. */
#define FUZZ_ROUNDTRIP(fn, type) \
static int \
rt_##fn(const uint8_t *p, size_t len) \
{ \
	type *m = calloc(1, sizeof(type)); \
	uint8_t *in = fz_dup(p, len), *out = fz_dup(p, len); \
	int rc, n; \
 \
	if (m == NULL) \
		abort(); \
	rc = fn##_decode(in, len, m); \
	FUZZ_ASSERT(rc <= 0, "%s_decode returned %d", #fn, rc); \
	if (rc == OM_OK) { \
		memset(out, 0xa5, len); \
		n = fn##_encode(m, out, len); \
		FUZZ_ASSERT(n == (int)len && memcmp(in, out, len) == 0, \
		    "%s: %zu decoded bytes re-encode to %d bytes%s", #fn, len, n, \
		    n == (int)len ? " that differ" : ""); \
	} \
	free(in); \
	free(out); \
	free(m); \
	return rc; \
}

#endif
