/* checkpoint.h - a job's checkpoints, taken on its node, kept at home.
 *
 * Every so often (om-run --checkpoint-every) the deputy asks the node
 * for the job's image as it stands (CHECKPOINT); the node answers
 * CHECKPOINT_TAKEN (yes, or not now and why), then streams the image
 * while the job waits, then lets it go on. The frames are written as
 * they come to a new file of a name of its own (PATH.XXXXXX, mkstemp:
 * mode 0600, never one someone else made) which replaces PATH once the
 * image is whole (fsync, rename, fsync of the directory): PATH always
 * holds the last whole checkpoint, a file of frames as om-checkpoint
 * --info reads it: the home record (ckpt_file.h), then the image. Until the image is in, the deputy holds
 * what it would send the node (ckpt_busy). */
#ifndef OM_CHECKPOINT_H
#define OM_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "ckpt_merge.h"
#include "proto.h"

#define CKPT_RETRY_MS 500 /* after a "not now" */
/* The job waits on its node while its image is sent: the next one comes
 * no sooner than that wait times 100 / CKPT_MAX_PCT, so that checkpoints
 * take at most this share of its time (and of its node's link). */
#define CKPT_MAX_PCT 5 /* unless agent.conf says (checkpoint_max_pct) */
/* After this many checkpoints of what changed, a whole one: a page one
 * of them missed would otherwise stay wrong in every later file. */
#define CKPT_DELTAS_MAX 16

enum { CKPT_IDLE, CKPT_ASKED, CKPT_IMAGE };

struct ckpt {
	char path[4096];  /* "": no checkpoints */
	char target[4096]; /* where the image coming in goes (path when it began) */
	char done[4096];  /* the last whole image's file, which a restart reads */
	int asked_now;    /* ckpt_request: one is due whatever every_ms says */
	char tmp[4096 + 8]; /* PATH.XXXXXX while an image comes in */
	uint32_t every_ms;
	uint32_t max_pct; /* CKPT_MAX_PCT, or agent.conf's */
	int state;
	int fd;           /* PATH.tmp while CKPT_IMAGE */
	uint64_t next_ms; /* when to ask next (CKPT_IDLE) */
	uint64_t earliest_ms; /* ... and the soonest the cost allows */
	uint64_t taken_ms; /* the node's yes */
	uint64_t bytes;
	unsigned count;   /* whole checkpoints written */
	uint64_t last_bytes, last_ms; /* the last one's size and pause */
	int last_delta;   /* it came as what changed since the one before */
	/* The node's count of the images it sent (since the job was placed
	 * there), and whether the last is the whole file home holds: then
	 * the next may carry only what changed (ckpt_merge.h). */
	uint32_t node_seq, asked_base;
	int base_ok;
	struct ckpt_file_id done_id; /* done as it was written */
	unsigned deltas;  /* checkpoints of what changed since the last whole one */
	struct ckpt_merge merge; /* while an image comes in */
};

/* The directory path's file is in ("." for a bare name). */
void ckpt_dir(const char *path, char *dir, size_t len);
/* A checkpoint file, whole, in memory (malloc'd; it may be replaced
 * meanwhile): NULL with errno when it cannot be read. */
uint8_t *ckpt_read_file(const char *path, size_t *len);
/* Monotonic milliseconds. */
uint64_t ckpt_now_ms(void);
/* Checkpoints every every_ms into path, the first every_ms from now,
 * taking at most max_pct % of the job's time (0: CKPT_MAX_PCT). */
void ckpt_init(struct ckpt *c, const char *path, uint32_t every_ms, uint32_t max_pct);
/* om-checkpoint PID FILE: path (absolute) is the job's checkpoint file
 * from now on, and one is due now (an image already coming in goes where
 * it was going). Without --checkpoint-every no more are taken unless
 * asked; one that fails is not asked for again. */
void ckpt_request(struct ckpt *c, const char *path);
/* The last checkpoint can no longer restart the job (its log broke):
 * with --checkpoint-every, the next comes as soon as its cost allows
 * (checkpoint_max_pct), not at the end of the period. */
void ckpt_soon(struct ckpt *c);
/* Milliseconds until the next is due (0: now), -1: none. */
int ckpt_wait_ms(const struct ckpt *c);
/* CHECKPOINT's base: the node's count of the image home holds whole
 * (0: none; then the node sends everything). */
uint32_t ckpt_base(const struct ckpt *c);
/* CHECKPOINT sent, with ckpt_base. */
void ckpt_asked(struct ckpt *c);
/* The job is on a node anew (placed, restarted, moved): it counts its
 * images from 0, and the next is whole. */
void ckpt_new_node(struct ckpt *c);
/* Whether a checkpoint is asked for or coming in. */
int ckpt_busy(const struct ckpt *c);
/* CHECKPOINT_TAKEN's payload: 0 when the image follows, 1 for a "not
 * now" (asked again soon) or an image the node could not finish, -1
 * with err for one unasked or malformed. With 0 or 1, a non-empty err
 * is a failure to say (the file: the image is dropped, the job goes on). */
int ckpt_taken(struct ckpt *c, const uint8_t *p, size_t len, char *err, size_t errlen);
/* The file an image coming in goes to (-1: none, or not now): its home
 * record goes first (ckpt_home.h). */
int ckpt_file(const struct ckpt *c);
/* The home record could not be written: the image is dropped. */
void ckpt_file_failed(struct ckpt *c);
/* One image frame: 0 taken (written, or dropped with err said), 1 the
 * image is whole and PATH replaced, -1 with err for a frame unasked. */
int ckpt_frame(struct ckpt *c, const struct om_hdr *h, const uint8_t *p, char *err, size_t errlen);
/* The image will not come (the job left, ended, or the deputy gives
 * up): PATH.tmp goes, PATH stays as it was. */
void ckpt_abort(struct ckpt *c);

#endif
