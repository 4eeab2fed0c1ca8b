/* fuzz_image.c - the image codec and its streaming validator
 * (migrate/image.c) as both ends use them: the node takes an image from
 * home (kernel/job_image.c), home one from a node (deputy/restore.c), an
 * agent relays them, and a checkpoint file is the same frames
 * concatenated. Every IMAGE_BEGIN / THREAD / REGION / PAGES / END payload
 * is decoded from an exact-size copy and must re-encode to the same bytes;
 * the decoded frames go through om_image_check in order, and what it
 * accepts must hold what its users rely on: regions page aligned,
 * ascending, below OM_USER_TOP; pages inside the current region; thread
 * tids ascending; an accepted END only with the totals it saw.
 *
 * Input: om frames back to back (a checkpoint file). A frame type that is
 * not an image type stands for the image type (type mod 5), so the fuzzer
 * need not find the five numbers first. */
#include "image.h"
#include "proto.h"

#include "fuzz.h"

FUZZ_ROUNDTRIP(om_image_hdr, struct om_image_hdr)
FUZZ_ROUNDTRIP(om_image_thread, struct om_image_thread)
FUZZ_ROUNDTRIP(om_image_region, struct om_image_region)
FUZZ_ROUNDTRIP(om_image_end, struct om_image_end)

static const uint8_t image_types[5] = {
	OM_T_IMAGE_BEGIN, OM_T_IMAGE_THREAD, OM_T_IMAGE_REGION, OM_T_IMAGE_PAGES, OM_T_IMAGE_END
};

/* What the validator accepted so far, to hold it to its contract. */
struct seen {
	int begun, ended;
	uint32_t regions, threads, last_tid;
	uint64_t pages, region_start, region_end, prev_end;
};

static void
pages_frame(struct om_image_check *c, struct seen *s, const uint8_t *p, size_t len)
{
	struct om_image_pages pg;
	uint8_t *in = fz_dup(p, len), *out;
	int rc, n;

	rc = om_image_pages_decode(in, len, &pg);
	if (rc == OM_OK) {
		FUZZ_ASSERT(pg.count >= 1 && pg.count <= OM_IMAGE_PAGES_MAX &&
		    len == OM_IMAGE_PAGES_HDR + (size_t)pg.count * OM_PAGE_SIZE &&
		    pg.data == in + OM_IMAGE_PAGES_HDR, "PAGES decoded %u pages from %zu bytes", pg.count, len);
		out = fz_dup(p, len);
		n = om_image_pages_encode(pg.region, pg.first, pg.count, pg.data, out, len);
		FUZZ_ASSERT(n == (int)len && memcmp(in, out, len) == 0, "PAGES re-encode to %d", n);
		free(out);
		if (om_image_check_pages(c, &pg) == OM_OK) {
			FUZZ_ASSERT(s->regions > 0 && pg.region == s->regions - 1 &&
			    s->region_start + (pg.first + pg.count) * OM_PAGE_SIZE <= s->region_end,
			    "pages %llu+%u of region %u accepted outside %#llx-%#llx",
			    (unsigned long long)pg.first, pg.count, pg.region,
			    (unsigned long long)s->region_start, (unsigned long long)s->region_end);
			s->pages += pg.count;
		}
	}
	free(in);
}

static void
image_frame(struct om_image_check *c, struct seen *s, int type, const uint8_t *p, size_t len)
{
	union {
		struct om_image_hdr h;
		struct om_image_thread t;
		struct om_image_region r;
		struct om_image_end e;
	} *u;

	if (type == OM_T_IMAGE_PAGES) {
		pages_frame(c, s, p, len);
		return;
	}
	if ((u = calloc(1, sizeof *u)) == NULL)
		abort();
	switch (type) {
	case OM_T_IMAGE_BEGIN:
		if (rt_om_image_hdr(p, len) == OM_OK && om_image_hdr_decode(p, len, &u->h) == OM_OK) {
			FUZZ_ASSERT(om_image_hdr_valid(&u->h) == OM_OK, "decoded header is not valid");
			if (om_image_check_begin(c, &u->h) == OM_OK) {
				FUZZ_ASSERT(!s->begun, "a second IMAGE_BEGIN accepted");
				s->begun = 1;
				s->last_tid = 0;
			}
		}
		break;
	case OM_T_IMAGE_THREAD:
		if (rt_om_image_thread(p, len) == OM_OK && om_image_thread_decode(p, len, &u->t) == OM_OK &&
		    om_image_check_thread(c, &u->t) == OM_OK) {
			FUZZ_ASSERT(s->begun && s->regions == 0 && u->t.tid > s->last_tid &&
			    u->t.tid <= OM_TID_MAX, "thread %u accepted after %u", u->t.tid, s->last_tid);
			s->last_tid = u->t.tid;
			s->threads++;
		}
		break;
	case OM_T_IMAGE_REGION:
		if (rt_om_image_region(p, len) == OM_OK && om_image_region_decode(p, len, &u->r) == OM_OK &&
		    om_image_check_region(c, &u->r) == OM_OK) {
			const struct om_image_region *r = &u->r;

			FUZZ_ASSERT(s->begun && r->start < r->end && r->end <= OM_USER_TOP &&
			    r->start % OM_PAGE_SIZE == 0 && r->end % OM_PAGE_SIZE == 0 &&
			    r->start >= s->prev_end, "region %#llx-%#llx accepted after %#llx",
			    (unsigned long long)r->start, (unsigned long long)r->end,
			    (unsigned long long)s->prev_end);
			s->prev_end = s->region_end = r->end;
			s->region_start = r->start;
			s->regions++;
		}
		break;
	case OM_T_IMAGE_END:
		if (rt_om_image_end(p, len) == OM_OK && om_image_end_decode(p, len, &u->e) == OM_OK &&
		    om_image_check_end(c, &u->e) == OM_OK) {
			FUZZ_ASSERT(s->begun && u->e.regions == s->regions && u->e.pages == s->pages &&
			    om_image_check_done(c), "END accepted: %u regions %llu pages, saw %u and %llu",
			    u->e.regions, (unsigned long long)u->e.pages, s->regions,
			    (unsigned long long)s->pages);
			s->ended = 1;
		}
		break;
	}
	free(u);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct om_image_check c;
	struct seen s = { 0 };
	struct om_hdr h;
	size_t pos = 0;
	int rc, was_failed = 0;

	om_image_check_init(&c);
	while (pos < size) {
		rc = om_frame_check(data + pos, size - pos, &h);
		if (rc != OM_OK || h.length > size - pos - OM_HDR_SIZE)
			break;
		image_frame(&c, &s, om_type_is_image(h.type) ? h.type : image_types[h.type % 5],
		    data + pos + OM_HDR_SIZE, h.length);
		/* A failure is final: the validator says so for every later frame. */
		FUZZ_ASSERT(!was_failed || c.err != OM_OK, "validator recovered from a failure");
		was_failed = c.err != OM_OK;
		FUZZ_ASSERT(c.err == OM_OK || (c.why != NULL && c.why[0] != '\0'), "failure without a reason");
		pos += OM_HDR_SIZE + h.length;
	}
	FUZZ_ASSERT(!s.ended || om_image_check_done(&c), "done lost");
	return 0;
}
