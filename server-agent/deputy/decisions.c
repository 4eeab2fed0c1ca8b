/* decisions.c - what the node decides on its own for a job (a clock
 * reading, random bytes, a timer's signal: migrate/decision.h), at
 * home: logged with the job's next call, given back to a node that
 * restarts the job from a checkpoint, and checked when it makes that
 * call again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decision.h"
#include "remote.h"
#include "syscall_codec.h"

/* More than a call's decisions may be waiting for a call made again: the
 * job went another way. */
#define REPLAY_DEC_MAX CALL_LOG_DEC_MAX

void remote_decisions_reset(struct remote *r)
{
	free(r->replay_dec);
	r->replay_dec = NULL;
	r->replay_dec_len = 0;
	r->replay_dec_over = 0;
}

static void keep_for_replay(struct remote *r, const uint8_t *p, size_t len)
{
	uint8_t *d = r->replay_dec_len + len <= REPLAY_DEC_MAX ? realloc(r->replay_dec, r->replay_dec_len + len) : NULL;
	if (!d) {
		remote_decisions_reset(r);
		r->replay_dec_over = 1; /* the check fails */
		return;
	}
	memcpy(d + r->replay_dec_len, p, len);
	r->replay_dec = d;
	r->replay_dec_len += len;
}

/* Whether a node's payload holds an entry only home may send. */
static int has_until(const uint8_t *p, size_t len)
{
	struct om_decision d;
	for (size_t at = 0; at < len;)
		if (om_decision_next(p, len, &at, &d) != OM_OK || d.kind == OM_DEC_UNTIL)
			return 1;
	return 0;
}

int remote_on_decisions(struct remote *r, const struct om_hdr *h, const uint8_t *p)
{
	int replayable, rc = om_decisions_check(p, h->length, &replayable);
	if (rc == OM_OK && has_until(p, h->length))
		rc = OM_E_RANGE; /* the replay's end is home's to say */
	if (rc != OM_OK) {
		fprintf(stderr, "om-run: pid %d (%s): node %u sent malformed DECISIONS (%s)\n", (int)r->pid, r->prog,
			r->jc->placed.node, om_strerror(rc));
		return -1;
	}
	if (r->seq.calls < r->replay_last) { /* for the check at its next call */
		keep_for_replay(r, p, h->length);
		return 0;
	}
	if (!r->ck.path[0])
		return 0; /* no checkpoints, no log */
	if (!replayable || call_log_decided(&r->log, p, h->length) != 0) {
		say(r, "the node lost some of its decisions, or they are more than a node takes back: no restart "
		    "from a checkpoint before call %u unless one is taken first", r->seq.calls + 1);
		call_log_decided_lost(&r->log);
		ckpt_soon(&r->ck);
	}
	return 0;
}

int remote_send_replay_start(struct remote *r)
{
	/* Sent even with no call to make again: the node keeps its
	 * decisions for the log from the start. */
	struct om_decision until = { .kind = OM_DEC_UNTIL, .a = { r->replay_last } };
	uint8_t m[OM_DEC_HEAD];
	if (om_decision_encode(&until, m, sizeof m) != (int)sizeof m || remote_send_frame(r, OM_T_DECISIONS, m, sizeof m) != 0)
		return -1;
	return remote_send_decisions(r, r->seq.calls + 1);
}

int remote_send_decisions(struct remote *r, uint32_t seq)
{
	const struct call_log_entry *e = call_log_find(&r->log, seq);
	if (!e || !e->dec_len)
		return 0;
	/* In frames of whole entries, each at most a payload. */
	size_t from = 0, at = 0;
	struct om_decision d;
	while (at < e->dec_len) {
		size_t next = at;
		if (om_decision_next(e->dec, e->dec_len, &next, &d) != OM_OK)
			return -1; /* checked when logged: cannot be */
		if (next - from > OM_MAX_PAYLOAD) {
			if (remote_send_frame(r, OM_T_DECISIONS, e->dec + from, at - from) != 0)
				return -1;
			from = at;
		}
		at = next;
	}
	return remote_send_frame(r, OM_T_DECISIONS, e->dec + from, at - from);
}

static void describe(const uint8_t *p, size_t len, size_t at, char *buf, size_t n)
{
	struct om_decision d;
	if (at >= len || om_decision_next(p, len, &at, &d) != OM_OK)
		snprintf(buf, n, "nothing more");
	else if (d.kind == OM_DEC_SIGNAL && d.ret == OM_DEC_AT_CALL)
		snprintf(buf, n, "signal %u from its timer, in its local call %llu", d.nr, (unsigned long long)d.a[0]);
	else if (d.kind == OM_DEC_SIGNAL)
		snprintf(buf, n, "signal %u from its timer, at %#llx after its local call %llu", d.nr,
			 (unsigned long long)d.a[1], (unsigned long long)d.a[0]);
	else if (d.kind == OM_DEC_LOST)
		snprintf(buf, n, "more than it could keep");
	else
		snprintf(buf, n, "%s(%#llx, %#llx, ...) = %lld", om_syscall_name(d.nr), (unsigned long long)d.a[0],
			 (unsigned long long)d.a[1], (long long)d.ret);
}

int remote_decisions_match(struct remote *r, const struct call_log_entry *e)
{
	const uint8_t *now = r->replay_dec, *then = e->dec;
	size_t now_len = r->replay_dec_len, then_len = e->dec_len, a = 0, b = 0;
	unsigned k = 0;
	if (r->replay_dec_over) {
		fprintf(stderr, "om-run: pid %d (%s): restarted from its checkpoint, it decided more on the node before "
			"call %u than home keeps: it went another way this time; the process is killed\n", (int)r->pid,
			r->prog, e->seq);
		remote_decisions_reset(r);
		return 0;
	}
	/* Entry by entry: the first that differs is said. */
	for (;; k++) {
		size_t na = a, nb = b;
		struct om_decision x, y;
		int ra = a < now_len ? om_decision_next(now, now_len, &na, &x) : OM_E_TRUNC;
		int rb = b < then_len ? om_decision_next(then, then_len, &nb, &y) : OM_E_TRUNC;
		if (ra != OM_OK && rb != OM_OK && a >= now_len && b >= then_len)
			break; /* both ended together */
		if (ra != OM_OK || rb != OM_OK || na - a != nb - b || memcmp(now + a, then + b, na - a) != 0) {
			char was[160], is[160];
			describe(now, now_len, a, is, sizeof is);
			describe(then, then_len, b, was, sizeof was);
			if (strcmp(is, was) == 0 && ra == OM_OK && rb == OM_OK &&
			    (memcmp(x.a, y.a, sizeof x.a) != 0 || x.nout != y.nout ||
			     (x.nout && x.out[0].addr != y.out[0].addr)))
				fprintf(stderr, "om-run: pid %d (%s): restarted from its checkpoint, its decision %u on "
					"the node before call %u, %s, has other arguments or came at another place than "
					"the first time: it went another way this time; the process is killed\n",
					(int)r->pid, r->prog, k + 1, e->seq, is);
			else if (strcmp(is, was) == 0) /* the same call: its bytes differ */
				fprintf(stderr, "om-run: pid %d (%s): restarted from its checkpoint, its decision %u on "
					"the node before call %u, %s, wrote other bytes than the first time: it went "
					"another way this time; the process is killed\n", (int)r->pid, r->prog, k + 1,
					e->seq, is);
			else
				fprintf(stderr, "om-run: pid %d (%s): restarted from its checkpoint, its decision %u on "
					"the node before call %u is %s, but was %s: it went another way this time; the "
					"process is killed\n", (int)r->pid, r->prog, k + 1, e->seq, is, was);
			remote_decisions_reset(r);
			return 0;
		}
		a = na;
		b = nb;
	}
	remote_decisions_reset(r);
	return 1;
}
