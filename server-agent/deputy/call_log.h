/* call_log.h - what home answered a job's forwarded calls since its last
 * checkpoint, so that a restart from that checkpoint gets the same answers
 * without running the calls again (exactly once: output is not written
 * twice, input not read twice).
 *
 * An entry is the call's number, its number and arguments as the node
 * sent them, the SYSCALL_REP payload home sent back (its result and
 * the bytes copied into the job), and what the node decided on its own
 * since the call before (migrate/decision.h: DECISIONS payloads, which
 * wait in the log until the call they precede is logged). A checkpoint that says the process had
 * made C calls cuts every entry up to C. A call that cannot be answered
 * twice this way (a fork, an execve, a thread's clone: they make
 * something at home) or a log past CALL_LOG_MAX_BYTES marks the log
 * broken until the next checkpoint: no restart from the one before. */
#ifndef OM_CALL_LOG_H
#define OM_CALL_LOG_H

#include <stddef.h>
#include <stdint.h>

#define CALL_LOG_MAX_BYTES (64u << 20)
/* The decisions before one call a node takes back (its DECIDE_IN_CAP). */
#define CALL_LOG_DEC_MAX (4u << 20)

struct call_log_entry {
	uint32_t seq, nr;
	uint64_t args[6];
	uint64_t req_hash;  /* of the whole request: its buffers (a path, the bytes written) too */
	uint32_t len;
	uint8_t *reply;
	uint32_t dec_len;
	uint8_t *dec;      /* the node's decisions before it (NULL: none) */
};

struct call_log {
	struct call_log_entry *e;
	size_t n, cap, bytes;
	uint32_t broken_at; /* the last call that broke it (0: whole) */
	uint8_t *dec;       /* decisions since the last call logged */
	size_t dec_len;
	int dec_lost;       /* some since then are lost: the next call logged breaks it */
};

/* FNV-1a of a request's payload, for call_log_add and the replay's check. */
uint64_t call_log_hash(const uint8_t *p, size_t len);
/* Call seq (nr, args, its request hashed) was answered with reply (len
 * bytes), the node having decided dec (dec_len bytes, taken with
 * call_log_decided_take; the entry owns it) before it; 0, or -1 when it
 * cannot be kept (the log is broken at seq then). */
int call_log_add(struct call_log *l, uint32_t seq, uint32_t nr, const uint64_t args[6], uint64_t req_hash,
		 const uint8_t *reply, size_t len, uint8_t *dec, size_t dec_len);
/* Call seq made something at home: no restart from before it. The
 * decisions waiting for it go. */
void call_log_break(struct call_log *l, uint32_t seq);
/* The node decided these (a checked DECISIONS payload) before its next
 * call: kept for that call's entry; 0, or -1 when the log would pass
 * CALL_LOG_MAX_BYTES or one call's decisions CALL_LOG_DEC_MAX (then as
 * call_log_decided_lost). */
int call_log_decided(struct call_log *l, const uint8_t *p, size_t len);
/* Some of the node's decisions since the last call logged are lost (or
 * counted from a place no checkpoint kept): the next call logged breaks
 * the log, unless a checkpoint comes first (call_log_cut). */
void call_log_decided_lost(struct call_log *l);
/* The decisions waiting, for the call about to be logged: *dec (NULL:
 * none) and its length; the log waits for the next ones. */
void call_log_decided_take(struct call_log *l, uint8_t **dec, size_t *len);
/* The decisions waiting are dropped: a checkpoint has them in its image. */
void call_log_decided_clear(struct call_log *l);
/* Whether a restart from a checkpoint of calls calls can replay the rest. */
int call_log_whole(const struct call_log *l, uint32_t calls);
/* A checkpoint of a process that had made calls calls: the entries up to
 * it go, and the decisions waiting. */
void call_log_cut(struct call_log *l, uint32_t calls);
/* The entry of call seq, or NULL. */
const struct call_log_entry *call_log_find(const struct call_log *l, uint32_t seq);
/* The last call logged (0: none). */
uint32_t call_log_last(const struct call_log *l);
void call_log_free(struct call_log *l);

#endif
