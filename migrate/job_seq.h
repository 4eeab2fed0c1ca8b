/* job_seq.h - the numbers on a job's frames (docs/protocol.md, "Numbering").
 *
 * A process's forwarded calls are numbered 1, 2, 3, ... over its whole
 * life, wherever it runs: an image carries the count so far (its header's
 * calls). Every job frame carries a number of that count in its header's
 * seq: a SYSCALL_REQ its own, the next one; any other frame from the node,
 * the last call the node has sent; any frame from home, the last call home
 * has received (a SYSCALL_REP: its request's). Each side checks what
 * arrives against what it knows, so that a frame lost, repeated or out of
 * order is seen where it arrives, and a call replayed from a log can be
 * matched to the one it stands for. Frames the agent makes itself carry 0. */
#ifndef OM_JOB_SEQ_H
#define OM_JOB_SEQ_H

#include <stdint.h>

struct job_seq {
	uint32_t calls; /* the last call sent (node) or received (home) */
	uint32_t stamp; /* the last number the other side's other frames carried */
};

/* A frame that is not a call: in order iff it names no call after the
 * last one and none before the previous frame's. */
static inline int job_seq_frame(struct job_seq *s, uint32_t seq)
{
	if (seq < s->stamp || seq > s->calls)
		return -1;
	s->stamp = seq;
	return 0;
}

/* A call (SYSCALL_REQ, at home): in order iff it is the next one (the
 * count does not wrap: a process's 2^32-th call ends it). */
static inline int job_seq_call(struct job_seq *s, uint32_t seq)
{
	if (s->calls == UINT32_MAX || seq != s->calls + 1)
		return -1;
	s->calls = s->stamp = seq;
	return 0;
}

#endif
