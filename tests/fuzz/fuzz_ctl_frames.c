/* fuzz_ctl_frames.c - the control socket's frames (tools <-> om-agent) as
 * a byte stream: frame_rx reassembly with the agent's CTL_RX_CAP, then
 * each payload's decoder, whichever end reads it: CTL_NODE, CTL_JOB_SUBMIT,
 * CTL_MIGRATE, CTL_ADMIT at the agent (ctl_server.c, jobs.c, drain.c,
 * admit_ctl.c); the replies (CTL_NODES_REPLY, CTL_NODE_REPLY,
 * CTL_JOB_PLACED, CTL_JOBS_REPLY, CTL_ADMIT_REPLY, CTL_PENDING_REPLY,
 * CTL_POLICY_REPLY) and
 * the agent's own job frames to om-run (JOB_MOVED, NODE_LOST, ERROR) at the
 * tools. Each with the round-trip property of fuzz.h; the record lists
 * (node list, job list, pending list) decoded record by record as their
 * readers do, then re-encoded whole.
 *
 * Input: byte 0 the receive size (0: all at once), byte 1 bit 0 the
 * buffer: CTL_RX_CAP (requests at the agent) or a whole frame (replies at
 * a tool, and an om-run connection after its job's relay raised it); the
 * rest is the stream. */
#include "admit_msg.h"
#include "ctl_server.h"
#include "frame_rx.h"
#include "job_msg.h"
#include "proto.h"
#include "reattach_msg.h"
#include "ckpt_file.h"

#include "fuzz.h"

FUZZ_ROUNDTRIP(om_ctl_node, struct om_ctl_node)
FUZZ_ROUNDTRIP(om_ctl_node_reply, struct om_ctl_node_reply)
FUZZ_ROUNDTRIP(om_job_submit, struct om_job_submit)
FUZZ_ROUNDTRIP(om_job_placed, struct om_job_placed)
FUZZ_ROUNDTRIP(om_job_migrate, struct om_job_migrate)
FUZZ_ROUNDTRIP(om_job_moved, struct om_job_moved)
FUZZ_ROUNDTRIP(om_node_lost, struct om_node_lost)
FUZZ_ROUNDTRIP(om_ctl_admit, struct om_ctl_admit)
FUZZ_ROUNDTRIP(om_ctl_admit_reply, struct om_ctl_admit_reply)
FUZZ_ROUNDTRIP(om_error, struct om_error)
FUZZ_ROUNDTRIP(om_policy, struct om_policy)
FUZZ_ROUNDTRIP(om_ctl_reattach, struct om_ctl_reattach)
FUZZ_ROUNDTRIP(om_ctl_checkpoint, struct om_ctl_checkpoint)
FUZZ_ROUNDTRIP(om_ckpt_home, struct om_ckpt_home) /* a checkpoint file's (ckpt_file.h) */
FUZZ_ROUNDTRIP(om_ckpt_entry, struct om_ckpt_entry)

#define BIG (OM_HDR_SIZE + OM_MAX_PAYLOAD)

/* A record list read as om-mon reads it: count, next until count, end;
 * what reads whole re-encodes to the same bytes. */
#define LIST_ROUNDTRIP(name, type, max) \
static void \
rt_##name(const uint8_t *p, size_t len) \
{ \
	uint8_t *in = fz_dup(p, len), *out; \
	type *v; \
	uint32_t count, i; \
	size_t pos; \
	int rc, n; \
 \
	if ((rc = om_##name##_count(in, len, &count, &pos)) != OM_OK) { \
		free(in); \
		return; \
	} \
	FUZZ_ASSERT(count <= (max) && pos <= len, #name ": count %u, pos %zu", count, pos); \
	if ((v = calloc(count ? count : 1, sizeof *v)) == NULL) \
		abort(); \
	for (i = 0; i < count && rc == OM_OK; i++) { \
		size_t before = pos; \
		rc = om_##name##_next(in, len, &pos, &v[i]); \
		FUZZ_ASSERT(rc <= 0 && pos <= len && (rc != OM_OK || pos > before), \
		    #name ": next gave %d, pos %zu -> %zu of %zu", rc, before, pos, len); \
	} \
	if (rc == OM_OK && om_##name##_end(len, pos) == OM_OK) { \
		out = fz_dup(p, len); \
		n = om_##name##_encode(v, count, out, len); \
		FUZZ_ASSERT(n == (int)len && memcmp(in, out, len) == 0, \
		    #name ": %u records of %zu bytes re-encode to %d", count, len, n); \
		free(out); \
	} \
	free(v); \
	free(in); \
}

LIST_ROUNDTRIP(node_list, struct om_node_info, OM_NODES_MAX)
LIST_ROUNDTRIP(job_list, struct om_job_info, OM_JOBS_MAX)

static void
rt_pending(const uint8_t *p, size_t len)
{
	static struct om_pending v[OM_PENDING_MAX];
	uint8_t *in = fz_dup(p, len), *out;
	uint32_t n, max = len > 0 ? p[0] % (OM_PENDING_MAX + 2) : 0;
	int rc, k;

	/* om-ctl passes its own max: any, including fewer than are sent. */
	rc = om_pending_list_decode(in, len, v, max, &n);
	FUZZ_ASSERT(rc <= 0 && n <= max, "pending: %d, %u of max %u", rc, n, max);
	if (rc == OM_OK) {
		out = fz_dup(p, len);
		k = om_pending_list_encode(v, n, out, len);
		FUZZ_ASSERT(k == (int)len && memcmp(in, out, len) == 0,
		    "pending: %u records of %zu bytes re-encode to %d", n, len, k);
		free(out);
	}
	free(in);
}

static void
frame(const struct om_hdr *h, const uint8_t *p)
{
	switch (h->type) {
	case OM_T_CTL_NODE: rt_om_ctl_node(p, h->length); break;
	case OM_T_CTL_NODE_REPLY: rt_om_ctl_node_reply(p, h->length); break;
	case OM_T_CTL_NODES_REPLY: rt_node_list(p, h->length); break;
	case OM_T_CTL_JOB_SUBMIT: rt_om_job_submit(p, h->length); break;
	case OM_T_CTL_JOB_PLACED: rt_om_job_placed(p, h->length); break;
	case OM_T_CTL_JOBS_REPLY: rt_job_list(p, h->length); break;
	case OM_T_CTL_MIGRATE: rt_om_job_migrate(p, h->length); break;
	case OM_T_CTL_ADMIT: rt_om_ctl_admit(p, h->length); break;
	case OM_T_CTL_ADMIT_REPLY: rt_om_ctl_admit_reply(p, h->length); break;
	case OM_T_CTL_PENDING_REPLY: rt_pending(p, h->length); break;
	case OM_T_CTL_POLICY_REPLY: rt_om_policy(p, h->length); break;
	case OM_T_CTL_JOB_REATTACH: rt_om_ctl_reattach(p, h->length); break;
	case OM_T_CTL_CHECKPOINT: rt_om_ctl_checkpoint(p, h->length); break;
	case OM_T_CKPT_HOME: rt_om_ckpt_home(p, h->length); break;
	case OM_T_CKPT_ENTRY: rt_om_ckpt_entry(p, h->length); break;
	case OM_T_JOB_MOVED: rt_om_job_moved(p, h->length); break;
	case OM_T_NODE_LOST: rt_om_node_lost(p, h->length); break;
	case OM_T_ERROR:
	case OM_T_JOB_ERROR: rt_om_error(p, h->length); break;
	default:
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *big;
	static uint8_t small[CTL_RX_CAP];
	struct frame_rx rx;
	struct om_hdr h;
	const uint8_t *payload, *chunk;
	struct fz f;
	size_t step, got, n;
	int rc;

	if (big == NULL && (big = malloc(BIG)) == NULL)
		abort();
	fz_init(&f, data, size);
	step = fz_u8(&f);
	if (fz_u8(&f) & 1)
		frame_rx_init(&rx, big, BIG);
	else
		frame_rx_init(&rx, small, sizeof small);
	while (fz_left(&f) > 0) {
		chunk = fz_take(&f, step ? step : fz_left(&f), &got);
		while (got > 0) {
			n = frame_rx_feed(&rx, chunk, got);
			chunk += n;
			got -= n;
			while ((rc = frame_rx_next(&rx, &h, &payload)) == OM_OK)
				frame(&h, payload);
			if (rc != OM_E_SHORT)
				return 0; /* the connection closes */
			FUZZ_ASSERT(n > 0 || got == 0, "no room and no error (frame_rx.h)");
		}
	}
	return 0;
}
