/* decide.h - what the node decides for a job on its own, kept for home
 * (migrate/decision.h): the results of the local calls that read a
 * clock, random bytes or a timer, and the signals its timers raise.
 *
 * Only a job home takes checkpoints of (it asked for one, or restarted
 * the job from one) has its decisions kept: nothing else could use
 * them. The decisions made since the job's last forwarded call wait in its
 * process (decide_record, decide_signal) until the link sends them,
 * just before the next call or checkpoint (decide_take). A job that
 * restarts from a checkpoint gets the decisions it made the first time
 * back from home (decide_feed): each local call that matches the next
 * one (number and first four arguments) runs as ever, for what it does
 * (a timer armed), then returns what it returned then and writes what
 * it wrote. The first that does not match ends the replay; home sees
 * the difference at the next call and ends the job. Main-loop context
 * (the kernel lock) only. */
#ifndef OM_DECIDE_H
#define OM_DECIDE_H

#include <stddef.h>
#include <stdint.h>

/* Held to these: past DECIDE_OUT_CAP the rest are lost (said to home,
 * which then takes no restart from before them); past DECIDE_IN_CAP
 * home's are dropped. Half full, the link sends them without waiting
 * for a call. */
#define DECIDE_OUT_CAP (256u << 10)
#define DECIDE_IN_CAP (4u << 20)

struct decide {
	int on;                  /* home checkpoints the job (or restarted it): it keeps them */
	uint8_t *out;            /* entries not sent yet */
	uint32_t out_len;
	int out_lost;            /* some did not fit, or did not encode */
	int in_flight;           /* some went since home last answered a call */
	uint8_t *in;             /* home's entries to answer with, from in_at */
	uint32_t in_len, in_at;
};

struct job;
struct proc;
struct sys_call;

/* Whether a local call nr's result is a decision. */
int decide_is(uint64_t nr);
/* After the local call sc (a decision, answered: SYS_RETURN): answered
 * instead as home's next entry says, if it matches, then kept. */
void decide_call(struct job *j, struct sys_call *sc);
/* A signal the node's timer raised for the process. */
void decide_signal(struct proc *p, int sig);
/* Bytes waiting to go home (a lost mark counts as an entry). */
size_t decide_pending(const struct proc *p);
/* Moves what waits into buf[0..cap) (cap >= DECIDE_OUT_CAP +
 * OM_DEC_HEAD): the payload's length (0: nothing waits). */
size_t decide_take(struct proc *p, uint8_t *buf, size_t cap);
/* What waits is dropped: the job leaves the node (home or elsewhere). */
void decide_drop(struct proc *p);
/* Home's entries (a checked DECISIONS payload) to answer with. */
void decide_feed(struct decide *d, const uint8_t *buf, size_t len);
/* Frees both sides. */
void decide_free(struct decide *d);

#endif
