/* test_frame_rx.c - stream reassembly tests for migrate/frame_rx.c: whole,
 * byte-by-byte and random-chunk delivery, both append APIs, capacity
 * limits, sticky errors, and a deterministic fuzz of mutated streams.
 * Built with ASan/UBSan; reassembly buffers are exact-size heap blocks. */
#include <stdlib.h>
#include <string.h>

#define CHECK_PREFIX "frame_rx/"
#include "check.h"
#include "frame_rx.h"

#define STREAM_MAX (1 << 20)

static uint8_t stream[STREAM_MAX];

struct frame {
	uint8_t type;
	uint32_t len, job, seq;
	size_t off; /* payload offset in stream */
};

#define NFRAMES_MAX 512
static struct frame frames[NFRAMES_MAX];

/* Builds n frames with payload sizes from sizes[] (cycled) into stream.
 * Payload bytes are a function of position so misplacement shows. */
static size_t
build_stream(size_t n, const uint32_t *sizes, size_t nsizes)
{
	static const uint8_t types[] = { OM_T_ECHO, OM_T_HEARTBEAT, OM_T_BYE, OM_T_ERROR };
	size_t i, k, pos = 0;

	for (i = 0; i < n; i++) {
		struct frame *f = &frames[i];

		f->type = types[i % sizeof types];
		f->len = sizes[i % nsizes];
		f->job = (uint32_t)i * 3;
		f->seq = (uint32_t)i * 7 + 1;
		om_hdr_encode(stream + pos, f->type, f->len, f->job, f->seq);
		f->off = pos + OM_HDR_SIZE;
		for (k = 0; k < f->len; k++)
			stream[f->off + k] = (uint8_t)(i * 31 + k);
		pos = f->off + f->len;
	}
	return pos;
}

/* Pops every complete frame, checking each against frames[*got]. Returns
 * 0, or -1 after recording a failure. */
static int
drain(struct frame_rx *rx, size_t *got, size_t nframes)
{
	const uint8_t *p;
	struct om_hdr h;
	int rc;

	while ((rc = frame_rx_next(rx, &h, &p)) == OM_OK) {
		const struct frame *f = &frames[*got];

		if (*got >= nframes) {
			check_fail("more frames than sent");
			return -1;
		}
		if (h.type != f->type || h.length != f->len || h.job != f->job || h.seq != f->seq ||
		    (f->len && memcmp(p, stream + f->off, f->len) != 0)) {
			check_fail("frame %zu differs", *got);
			return -1;
		}
		(*got)++;
	}
	if (rc != OM_E_SHORT) {
		check_fail("frame_rx_next: %s", om_strerror(rc));
		return -1;
	}
	return 0;
}

/* Feeds the stream in chunks (chunk 0 = random 1..max_chunk) through
 * frame_rx_feed or, alternately, frame_rx_room/commit. */
static int
deliver(size_t cap, size_t len, size_t nframes, size_t chunk, size_t max_chunk, int use_room)
{
	uint8_t *mem = malloc(cap);
	struct frame_rx rx;
	size_t pos = 0, got = 0, n, room;
	uint8_t *where;
	int rc = -1;

	frame_rx_init(&rx, mem, cap);
	while (pos < len) {
		n = chunk ? chunk : 1 + (size_t)(check_rand() % max_chunk);
		if (n > len - pos)
			n = len - pos;
		if (use_room) {
			room = frame_rx_room(&rx, &where);
			if (n > room)
				n = room;
			memcpy(where, stream + pos, n);
			frame_rx_commit(&rx, n);
		} else
			n = frame_rx_feed(&rx, stream + pos, n);
		if (n == 0) {
			check_fail("no room at stream offset %zu", pos);
			goto out;
		}
		pos += n;
		if (drain(&rx, &got, nframes) == -1)
			goto out;
	}
	if (got != nframes) {
		check_fail("got %zu of %zu frames", got, nframes);
		goto out;
	}
	if (frame_rx_pending(&rx) != 0) {
		check_fail("%zu bytes left over", frame_rx_pending(&rx));
		goto out;
	}
	rc = 0;
out:
	free(mem);
	return rc;
}

static const uint32_t mixed[] = { 0, 1, 20, 15, 16, 17, 100, 0, 1000, 3 };

static void
whole_stream(void)
{
	size_t len = build_stream(50, mixed, 10);

	CHECK(deliver(4096, len, 50, len, 0, 0) == 0);
}

static void
byte_by_byte(void)
{
	size_t len = build_stream(50, mixed, 10);

	CHECK(deliver(1024 + OM_HDR_SIZE, len, 50, 1, 0, 0) == 0);
	CHECK(deliver(1024 + OM_HDR_SIZE, len, 50, 1, 0, 1) == 0);
}

static void
random_chunks(void)
{
	size_t len = build_stream(NFRAMES_MAX, mixed, 10);
	int round;

	check_seed(7);
	for (round = 0; round < 200; round++) {
		/* cap exactly the largest frame: the tightest legal buffer */
		CHECK(deliver(1000 + OM_HDR_SIZE, len, NFRAMES_MAX, 0, 1 + (size_t)round * 13,
		    round % 2) == 0);
	}
}

static void
frame_fills_buffer(void)
{
	static const uint32_t sz[] = { 48 };
	size_t len = build_stream(3, sz, 1);

	CHECK(deliver(64, len, 3, 1, 0, 0) == 0);
	CHECK(deliver(64, len, 3, 0, 200, 1) == 0);
}

static void
too_big_for_buffer(void)
{
	static const uint32_t sz[] = { 10, 49 };
	uint8_t mem[64];
	struct frame_rx rx;
	const uint8_t *p;
	struct om_hdr h;
	size_t len = build_stream(2, sz, 2), n;

	frame_rx_init(&rx, mem, sizeof mem);
	n = frame_rx_feed(&rx, stream, len);
	CHECK(n == sizeof mem);
	CHECK_EQ(frame_rx_next(&rx, &h, &p), OM_OK);
	CHECK_EQ(h.length, 10);
	/* the second frame needs 65 bytes: refused on its header alone */
	CHECK_EQ(frame_rx_next(&rx, &h, &p), OM_E_TOOBIG);
	CHECK(p == NULL);
	/* sticky */
	CHECK_EQ(frame_rx_next(&rx, &h, &p), OM_E_TOOBIG);
	CHECK_EQ(frame_rx_feed(&rx, stream, 1), 0);
	{
		uint8_t *w;

		CHECK_EQ(frame_rx_room(&rx, &w), 0);
		CHECK(w == NULL);
	}
}

static void
too_big_for_protocol(void)
{
	uint8_t *mem = malloc(OM_MAX_PAYLOAD + 2 * OM_HDR_SIZE);
	struct frame_rx rx;
	const uint8_t *p;
	struct om_hdr h;

	frame_rx_init(&rx, mem, OM_MAX_PAYLOAD + 2 * OM_HDR_SIZE);
	om_hdr_encode(stream, OM_T_ECHO, OM_MAX_PAYLOAD + 1, 0, 0);
	frame_rx_feed(&rx, stream, OM_HDR_SIZE);
	CHECK_EQ(frame_rx_next(&rx, &h, &p), OM_E_TOOBIG);
	free(mem);
}

static void
bad_frame_after_good(void)
{
	static const uint32_t sz[] = { 5 };
	static const struct { size_t off; uint8_t val; int err; } cases[] = {
		{ 0, 0x00, OM_E_MAGIC }, { 2, OM_PROTO_VERSION + 1, OM_E_VERSION }, { 3, 0, OM_E_TYPE },
		{ 3, 200, OM_E_TYPE }, { 7, 0x10, OM_E_TOOBIG },
	};
	uint8_t mem[256];
	struct frame_rx rx;
	const uint8_t *p;
	struct om_hdr h;
	size_t len, i, one = OM_HDR_SIZE + 5;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		len = build_stream(3, sz, 1);
		stream[one + cases[i].off] = cases[i].val; /* corrupt frame 2's header */
		frame_rx_init(&rx, mem, sizeof mem);
		CHECK_EQ(frame_rx_feed(&rx, stream, len), len);
		CHECK_EQ(frame_rx_next(&rx, &h, &p), OM_OK);
		CHECK_EQ(frame_rx_next(&rx, &h, &p), cases[i].err);
		CHECK_EQ(frame_rx_next(&rx, &h, &p), cases[i].err);
	}
}

static void
tiny_buffer(void)
{
	uint8_t mem[OM_HDR_SIZE];
	struct frame_rx rx;
	const uint8_t *p;
	struct om_hdr h;

	frame_rx_init(&rx, mem, OM_HDR_SIZE - 1);
	CHECK_EQ(frame_rx_next(&rx, &h, &p), OM_E_NOSPACE);
	CHECK_EQ(frame_rx_feed(&rx, "x", 1), 0);
	/* a header-only buffer carries empty frames */
	frame_rx_init(&rx, mem, OM_HDR_SIZE);
	om_hdr_encode(stream, OM_T_BYE, 0, 0, 0);
	CHECK_EQ(frame_rx_feed(&rx, stream, OM_HDR_SIZE), OM_HDR_SIZE);
	CHECK_EQ(frame_rx_next(&rx, &h, &p), OM_OK);
	CHECK_EQ(h.type, OM_T_BYE);
	CHECK_EQ(frame_rx_feed(&rx, stream, OM_HDR_SIZE), OM_HDR_SIZE);
	CHECK_EQ(frame_rx_next(&rx, &h, &p), OM_OK);
	CHECK_EQ(frame_rx_next(&rx, &h, &p), OM_E_SHORT);
}

static void
feed_is_bounded(void)
{
	static const uint32_t sz[] = { 30 };
	uint8_t *mem = malloc(40);
	struct frame_rx rx;
	const uint8_t *p;
	struct om_hdr h;
	size_t len = build_stream(4, sz, 1);

	frame_rx_init(&rx, mem, 40);
	/* never more than the capacity, however much is offered */
	CHECK_EQ(frame_rx_feed(&rx, stream, len), 40);
	CHECK_EQ(frame_rx_pending(&rx), 40);
	CHECK_EQ(frame_rx_next(&rx, &h, &p), OM_E_TOOBIG); /* 46 > 40 */
	free(mem);
	mem = malloc(46);
	frame_rx_init(&rx, mem, 46);
	CHECK_EQ(frame_rx_feed(&rx, stream, len), 46);
	CHECK_EQ(frame_rx_feed(&rx, stream, len), 0); /* full until popped */
	CHECK_EQ(frame_rx_next(&rx, &h, &p), OM_OK);
	CHECK_EQ(frame_rx_pending(&rx), 0);
	CHECK_EQ(frame_rx_feed(&rx, stream + 46, len - 46), 46);
	free(mem);
}

/* Mutated streams in random chunks: no crash, no overread, frames handed
 * out always lie inside the buffer, and the first error sticks. */
static void
fuzz_stream(void)
{
	static const uint32_t sz[] = { 0, 3, 40, 7 };
	size_t len, pos, n, cap;
	const uint8_t *p;
	struct om_hdr h;
	struct frame_rx rx;
	uint8_t *mem;
	int iter, rc, err;

	check_seed(0xfeedface);
	for (iter = 0; iter < 20000; iter++) {
		len = build_stream(8, sz, 4);
		for (n = 1 + check_rand() % 3; n > 0; n--)
			stream[check_rand() % len] ^= (uint8_t)(1u << (check_rand() % 8));
		if (check_rand() % 4 == 0)
			stream[check_rand() % len] = (uint8_t)check_rand();
		cap = OM_HDR_SIZE + (size_t)(check_rand() % 64);
		mem = malloc(cap);
		frame_rx_init(&rx, mem, cap);
		err = OM_OK;
		for (pos = 0; pos < len;) {
			n = 1 + (size_t)(check_rand() % 24);
			if (n > len - pos)
				n = len - pos;
			n = frame_rx_feed(&rx, stream + pos, n);
			if (n == 0)
				break; /* error set, or the buffer holds a stuck frame */
			pos += n;
			while ((rc = frame_rx_next(&rx, &h, &p)) == OM_OK) {
				if (p < mem || p + h.length > mem + cap) {
					free(mem);
					check_fail("iteration %d: payload outside the buffer", iter);
					return;
				}
				if (h.length > 0)
					(void)((volatile const uint8_t *)p)[h.length - 1];
			}
			if (rc != OM_E_SHORT) {
				if (err != OM_OK && rc != err) {
					free(mem);
					check_fail("iteration %d: error changed %d -> %d", iter, err, rc);
					return;
				}
				err = rc;
			}
		}
		if (err == OM_OK && pos < len) {
			free(mem);
			check_fail("iteration %d: stalled with no error at %zu of %zu", iter, pos, len);
			return;
		}
		free(mem);
	}
}

int
main(void)
{
	RUN(whole_stream);
	RUN(byte_by_byte);
	RUN(random_chunks);
	RUN(frame_fills_buffer);
	RUN(too_big_for_buffer);
	RUN(too_big_for_protocol);
	RUN(bad_frame_after_good);
	RUN(tiny_buffer);
	RUN(feed_is_bounded);
	RUN(fuzz_stream);
	return check_exit();
}
