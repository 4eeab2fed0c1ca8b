/* job_image.h - a job to and from the image frames of migrate/image.h.
 *
 * In: the frames of an image from home build a job (address space, pages,
 * registers, signal state, identity, clocks), checked as they stream by the
 * shared validator; nothing of a rejected image survives. Out: a job becomes
 * the frames that take it home. Main-loop context. */
#ifndef OM_JOB_IMAGE_H
#define OM_JOB_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "image.h"
#include "job.h"

struct image_in {
	struct om_image_check chk;
	struct om_image_hdr *hdr;    /* heap: about 19 KiB */
	struct job *job;             /* being built; NULL when idle */
	struct om_image_region cur;  /* the region PAGES now belong to */
	uint32_t cur_index;
	int threads_ok;              /* the caller can run more threads of it */
	char why[OM_STR_MAX + 1];    /* the reason after a failure */
};

/* Each returns 0, or -1 with in->why set and everything built so far freed.
 * image_in_end returns the finished job (the caller owns it) or NULL: the
 * header's thread, its process's other threads (IMAGE_THREAD, taken only
 * with threads_ok set) in its list, every one to be started. */
int image_in_begin(struct image_in *in, uint32_t job_id, const void *p, size_t len);
int image_in_thread(struct image_in *in, const void *p, size_t len);
int image_in_region(struct image_in *in, const void *p, size_t len);
int image_in_pages(struct image_in *in, const void *p, size_t len);
struct job *image_in_end(struct image_in *in, const void *p, size_t len);
void image_in_abort(struct image_in *in);
int image_in_busy(const struct image_in *in);

struct image_out {
	struct job *job;             /* owned: destroyed when the image is out, */
	int keep;                    /* ... unless this is set (a move that may fail) */
	int checkpoint;              /* the job goes on after (keep too): a thread asleep
				      * in a call is imaged as making it again; its pages
				      * are marked when the image is out (uvm_ck_mark) */
	int delta;                   /* a checkpoint after the last marked one, which home
				      * holds: regions carry what was written since */
	int phase;                   /* private */
	int64_t last_tid;            /* the last thread sent */
	uint32_t region;             /* index of the region being sent */
	int region_delta;            /* it goes as a delta */
	uint64_t page;               /* next page offset in it */
	uint32_t regions_sent;
	uint64_t pages_sent;
};

/* Takes ownership of j's process, every thread of it off the run list
 * (keep is cleared). The header holds j, or while j (the leader) has
 * ended, the live thread of the lowest tid; each other live thread goes in
 * an IMAGE_THREAD. */
void image_out_start(struct image_out *o, struct job *j);
/* The thread an image of j's process holds in its header (above). */
struct job *job_image_header(struct job *j);
/* Encodes the next frame into buf[cap] (cap >= OM_MAX_PAYLOAD): returns the
 * payload length and sets *type, or 0 when the image is complete (the job
 * has then been destroyed, unless o->keep), or a negative enum om_err. */
int image_out_next(struct image_out *o, uint8_t *type, uint8_t *buf, size_t cap);

#endif
