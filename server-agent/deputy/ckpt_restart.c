/* ckpt_restart.c - a job whose node was lost starts again from its last
 * checkpoint on another node. Home's process still holds everything of
 * the job that is not its memory (descriptors, offsets, cwd, pid): only
 * the memory and registers went with the node, and the checkpoint has
 * them as they were after call ck_calls. The calls the job made since
 * were answered and ran at home; the restarted job makes them again,
 * and the deputy answers each from its log (call_log.h) without running
 * it, checked against the number and arguments it had (run_remote.c,
 * replay): output is not written twice, input not read twice. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image.h"
#include "remote.h"

#define RESTART_START_MS 60000

int remote_restartable(const struct remote *r)
{
	return r->ck.count > 0 && r->nthreads == 0 && call_log_whole(&r->log, r->ck_calls);
}

/* The image's frames as home sends an image: what it may use is what
 * home and the nodes share (r->need), as at the start. */
static int send_image(struct remote *r, const uint8_t *img, size_t len)
{
	struct om_image_hdr *h = malloc(sizeof *h);
	uint8_t *out = malloc(OM_MAX_PAYLOAD);
	int rc = -1;
	for (size_t at = 0; h && out && at < len;) {
		struct om_hdr fh;
		if (om_frame_check(img + at, len - at, &fh) != OM_OK || fh.length > len - at - OM_HDR_SIZE)
			goto done;
		const uint8_t *p = img + at + OM_HDR_SIZE;
		at += OM_HDR_SIZE + fh.length;
		if (fh.type == OM_T_CKPT_HOME || fh.type == OM_T_CKPT_ENTRY)
			continue; /* home's own record (ckpt_file.h) */
		if (fh.type == OM_T_IMAGE_BEGIN) {
			if (om_image_hdr_decode(p, fh.length, h) != OM_OK || h->calls != r->ck_calls)
				goto done;
			h->cpu = r->need;
			int n = om_image_hdr_encode(h, out, OM_MAX_PAYLOAD);
			if (n < 0 || remote_send_frame(r, fh.type, out, (size_t)n) != 0)
				goto done;
			/* What it decided before its first call since, for the
			 * node to have before the job runs (decision.h). */
			if (remote_send_replay_start(r) != 0)
				goto done;
		} else if (!om_type_is_image(fh.type) || remote_send_frame(r, fh.type, p, fh.length) != 0) {
			goto done;
		}
		if (fh.type == OM_T_IMAGE_END) {
			rc = 0;
			break;
		}
	}
done:
	free(h);
	free(out);
	return rc;
}

int remote_restart(struct remote *r)
{
	size_t len;
	uint32_t lost = r->jc->placed.node;
	uint8_t *img = ckpt_read_file(r->ck.done, &len);
	if (!img) {
		fprintf(stderr, "om-run: %s: its checkpoint %s cannot be read: %s\n", r->prog, r->ck.done, strerror(errno));
		return SENT_NOT_STARTED;
	}
	if (remote_place(r, &r->need, 0, 0) != 0 || r->jc->placed.node == 0) {
		fprintf(stderr, "om-run: %s: no node to restart it on (%s)\n", r->prog,
			r->jc->placed.node == 0 ? r->jc->placed.reason : "the agent went away");
		free(img);
		return SENT_NOT_STARTED;
	}
	ckpt_new_node(&r->ck);
	/* Numbered on from the checkpoint: the node makes call ck_calls + 1 next. */
	r->seq = (struct job_seq){ r->ck_calls, r->ck_calls };
	r->replay_last = call_log_last(&r->log);
	call_log_decided_clear(&r->log); /* after its last call: the lost node's own, seen by nobody */
	remote_decisions_reset(r);
	int rc = send_image(r, img, len);
	free(img);
	if (rc != 0) {
		fprintf(stderr, "om-run: %s: its checkpoint %s does not make an image to send\n", r->prog, r->ck.done);
		return SENT_NOT_STARTED;
	}
	if ((rc = remote_started(r, RESTART_START_MS)) != SENT_RUNS) {
		fprintf(stderr, "om-run: %s: node %u did not take it back from its checkpoint\n", r->prog,
			r->jc->placed.node);
		remote_send_frame(r, OM_T_JOB_KILL, NULL, 0); /* the agent forgets it */
		return rc;
	}
	fprintf(stderr, "om-run: %s: node %u was lost; it starts again on node %u from its checkpoint "
		"(after call %u; the %u made since are answered from the log)\n", r->prog, lost, r->jc->placed.node,
		r->ck_calls, r->replay_last > r->ck_calls ? r->replay_last - r->ck_calls : 0);
	return SENT_RUNS;
}
