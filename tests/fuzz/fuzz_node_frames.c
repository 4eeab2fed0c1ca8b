/* fuzz_node_frames.c - the node link's frames as a byte stream: frame_rx
 * reassembly (migrate/frame_rx.c) as om-agent's conn.c drives it, then the
 * decoder of each frame type that the agent applies to a node's frames
 * (node_conn.c, relay.c, move_relay.c, drain.c) and the node applies to the
 * agent's (WELCOME, SIGNAL, JOB_FORK, JOB_ARRIVING), every one with the
 * round-trip property of fuzz.h. IMAGE_* and SYSCALL_* payloads pass the
 * agent undecoded: fuzz_image and fuzz_syscall take them.
 *
 * Input: byte 0 the receive size (0: the whole rest at once, else 1..255
 * bytes per receive, as a slow TCP peer delivers them); byte 1 bit 0 the
 * buffer (NODE_RX_CAP, or RELAY_RX_CAP as a job's relay raises it), bit 1
 * frame_rx_feed instead of frame_rx_room + frame_rx_commit; the rest is
 * the stream. */
#include "frame_rx.h"
#include "job_msg.h"
#include "jobs.h"
#include "node_conn.h"
#include "decision.h"
#include "proto.h"
#include "reattach_msg.h"

#include "fuzz.h"

FUZZ_ROUNDTRIP(om_hello, struct om_hello)
FUZZ_ROUNDTRIP(om_welcome, struct om_welcome)
FUZZ_ROUNDTRIP(om_heartbeat, struct om_heartbeat)
FUZZ_ROUNDTRIP(om_node_leaving, struct om_node_leaving)
FUZZ_ROUNDTRIP(om_error, struct om_error)
FUZZ_ROUNDTRIP(om_job_exit, struct om_job_exit)
FUZZ_ROUNDTRIP(om_job_home, struct om_job_home)
FUZZ_ROUNDTRIP(om_job_stopped, struct om_job_stopped)
FUZZ_ROUNDTRIP(om_signal_seen, struct om_signal_seen)
FUZZ_ROUNDTRIP(om_job_reattach, struct om_job_reattach)
FUZZ_ROUNDTRIP(om_checkpoint, struct om_checkpoint)
FUZZ_ROUNDTRIP(om_call_interrupt, struct om_call_interrupt)
FUZZ_ROUNDTRIP(om_job_moving, struct om_job_moving)
FUZZ_ROUNDTRIP(om_job_signal, struct om_job_signal)
FUZZ_ROUNDTRIP(om_job_fork, struct om_job_fork)

/* Every entry decoded encodes to the same bytes. */
static void
rt_decisions(const uint8_t *p, size_t len)
{
	struct om_decision d;
	uint8_t *again;
	size_t pos = 0, at;
	int n;

	if (om_decisions_check(p, len, NULL) != OM_OK)
		return;
	again = fz_dup(p, len);
	while (pos < len) {
		at = pos;
		FUZZ_ASSERT(om_decision_next(p, len, &pos, &d) == OM_OK, "a checked DECISIONS does not decode");
		n = om_decision_encode(&d, again, len);
		FUZZ_ASSERT(n == (int)(pos - at) && memcmp(again, p + at, (size_t)n) == 0,
		    "a DECISIONS entry does not encode as it came");
	}
	free(again);
}

static void
frame(const struct om_hdr *h, const uint8_t *p)
{
	FUZZ_ASSERT(h->length <= OM_MAX_PAYLOAD, "frame_rx let a %u-byte payload through", h->length);
	(void)om_type_name(h->type);
	switch (h->type) {
	case OM_T_HELLO: rt_om_hello(p, h->length); break;
	case OM_T_WELCOME: rt_om_welcome(p, h->length); break;
	case OM_T_HEARTBEAT: rt_om_heartbeat(p, h->length); break;
	case OM_T_NODE_LEAVING: rt_om_node_leaving(p, h->length); break;
	case OM_T_ERROR:
	case OM_T_JOB_ERROR:
	case OM_T_JOB_MOVE_REFUSED:
	case OM_T_CHECKPOINT_TAKEN: rt_om_error(p, h->length); break;
	case OM_T_JOB_EXIT: rt_om_job_exit(p, h->length); break;
	case OM_T_JOB_HOME: rt_om_job_home(p, h->length); break;
	case OM_T_JOB_STOPPED: rt_om_job_stopped(p, h->length); break;
	case OM_T_SIGNAL_SEEN: rt_om_signal_seen(p, h->length); break;
	case OM_T_CALL_INTERRUPT: rt_om_call_interrupt(p, h->length); break;
	case OM_T_JOB_MOVING:
	case OM_T_JOB_ARRIVING: rt_om_job_moving(p, h->length); break;
	case OM_T_SIGNAL: rt_om_job_signal(p, h->length); break;
	case OM_T_JOB_FORK: rt_om_job_fork(p, h->length); break;
	case OM_T_JOB_REATTACH: rt_om_job_reattach(p, h->length); break;
	case OM_T_CHECKPOINT: rt_om_checkpoint(p, h->length); break;
	case OM_T_DECISIONS: rt_decisions(p, h->length); break;
	default:
		/* ECHO's payload is opaque; the rest are empty or relayed as
		 * they are. Touch it all: ASan checks it lies in the buffer. */
		if (h->length > 0)
			free(fz_dup(p, h->length));
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *buf;
	struct frame_rx rx;
	struct fz f;
	struct om_hdr h;
	const uint8_t *payload, *chunk;
	size_t step, cap, got;
	int flags, rc, use_feed;

	if (buf == NULL && (buf = malloc(RELAY_RX_CAP)) == NULL)
		abort();
	fz_init(&f, data, size);
	step = fz_u8(&f);
	flags = fz_u8(&f);
	cap = (flags & 1) ? RELAY_RX_CAP : NODE_RX_CAP;
	use_feed = flags & 2;
	/* The buffer's tail is unused when cap is smaller: frame_rx must not
	 * touch it, and a fresh malloc of exactly cap each run would cost
	 * 1 MiB of memset under ASan; a poisoned tail would be best, a
	 * separate exact allocation is the simple equivalent. */
	uint8_t *rxbuf = cap == RELAY_RX_CAP ? buf : malloc(cap);
	if (rxbuf == NULL)
		abort();
	frame_rx_init(&rx, rxbuf, cap);
	while (fz_left(&f) > 0) {
		chunk = fz_take(&f, step ? step : fz_left(&f), &got);
		while (got > 0) {
			size_t n;

			if (use_feed) {
				n = frame_rx_feed(&rx, chunk, got);
			} else {
				uint8_t *where;
				size_t room = frame_rx_room(&rx, &where);

				n = got < room ? got : room;
				if (n > 0) {
					FUZZ_ASSERT(where >= rxbuf && where + n <= rxbuf + cap, "room outside the buffer");
					memcpy(where, chunk, n);
					frame_rx_commit(&rx, n);
				}
			}
			chunk += n;
			got -= n;
			/* Every complete frame now, as conn_read_once does. */
			while ((rc = frame_rx_next(&rx, &h, &payload)) == OM_OK) {
				FUZZ_ASSERT(payload >= rxbuf && payload + h.length <= rxbuf + cap,
				    "payload outside the buffer");
				frame(&h, payload);
			}
			FUZZ_ASSERT(rc < 0, "frame_rx_next returned %d", rc);
			if (rc != OM_E_SHORT) {
				/* Sticky: the conn closes here. */
				FUZZ_ASSERT(frame_rx_next(&rx, &h, &payload) == rc, "error not sticky");
				goto out;
			}
			/* Room is always there for the frame being assembled. */
			FUZZ_ASSERT(n > 0 || got == 0, "no room and no error (frame_rx.h)");
		}
	}
out:
	if (rxbuf != buf)
		free(rxbuf);
	return 0;
}
