/* decision.h - what a node decides for a job on its own: a clock it
 * reads, random bytes, the time left on a timer, a signal its timer
 * raises. Home's log of forwarded calls (call_log.h) makes a restart
 * from a checkpoint answer the calls the job made since as they were
 * answered; these decisions must come out the same way too, or the
 * restarted job goes another way before its next call.
 *
 * The node keeps the decisions it made since the job's last forwarded
 * call and sends them (DECISIONS, node -> home) just before the next
 * one, or before a checkpoint's image. Home logs them with that call.
 * When a job restarts from a checkpoint, home sends them back
 * (DECISIONS, home -> node) ahead of the call they preceded; the node
 * answers the same local calls with them, and reports what it answered
 * as ever, which home checks against its log at the call.
 *
 * A DECISIONS payload is one or more entries, each:
 *   u8  kind     OM_DEC_CALL, OM_DEC_SIGNAL, OM_DEC_LOST or OM_DEC_UNTIL
 *   u8  nout     buffers the call wrote (at most OM_DEC_OUTS)
 *   u16 nr       the call's number (OM_DEC_SIGNAL: the signal)
 *   u64 ret      its result
 *   u64 a[4]     its first four arguments (what it is matched by)
 *   nout times { u64 addr, u32 len (1..OM_DEC_OUT_MAX), len bytes }
 * A signal the node's timer raised is where the job took it: ret
 * OM_DEC_AT_CALL (in its a[0]-th local call since the last forwarded
 * call or the checkpoint, a sleep it cut short or a sigwait it ended) or
 * OM_DEC_AT_USER (after that many, about to run the instruction at a[1]
 * with registers of hash a[2]); out[0] its siginfo (addr 0). A decision
 * the node could not keep (OM_DEC_LOST) cannot be replayed: home takes no
 * restart from a checkpoint before it. OM_DEC_UNTIL (home -> node, a
 * restart's first) says the replay lasts until the job has sent call
 * a[0]: its timers' own signals wait till then. */
#ifndef OM_DECISION_H
#define OM_DECISION_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define OM_DEC_OUTS 2
#define OM_DEC_OUT_MAX 16384u
#define OM_DEC_HEAD 44 /* an entry without its buffers */

enum om_dec_kind {
	OM_DEC_CALL = 1,   /* a call the node answered */
	OM_DEC_SIGNAL = 2, /* a signal it raised itself (a timer's) */
	OM_DEC_LOST = 3,   /* decisions it could not keep */
	OM_DEC_UNTIL = 4,  /* the replay's end */
};

enum { OM_DEC_AT_USER = 0, OM_DEC_AT_CALL = 1 };

struct om_decision {
	uint8_t kind, nout;
	uint16_t nr;
	int64_t ret;
	uint64_t a[4];
	struct {
		uint64_t addr;
		uint32_t len;
		const uint8_t *bytes; /* decode: into the payload */
	} out[OM_DEC_OUTS];
};

/* One entry into out[0..cap): its length, or a negative enum om_err. */
int om_decision_encode(const struct om_decision *d, void *out, size_t cap);
/* The entry at *pos of buf[0..len): OM_OK with *pos past it, or a
 * negative enum om_err (*pos unchanged). */
int om_decision_next(const void *buf, size_t len, size_t *pos, struct om_decision *d);
/* A whole DECISIONS payload: OM_OK, or the first entry's error (an
 * empty one is OM_E_TRUNC). *replayable (may be NULL): 0 when an entry
 * is a loss. */
int om_decisions_check(const void *buf, size_t len, int *replayable);

#endif
