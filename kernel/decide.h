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
 * the difference at the next call and ends the job.
 *
 * A signal one of the job's timers raised is kept where the job took
 * it: in its n-th local call since the last forwarded call (or the
 * checkpoint), a sleep it cut short; or just after the n-th, with the
 * registers it had then (a hash of them). A place in the middle of the
 * job's own code could only be found again by counting its instructions,
 * which no CPU here offers: so the signals wait for its next call there,
 * while it runs up to DECIDE_HOLD_MS more, and one that cannot wait
 * longer is lost to the log (home then takes no restart from before it).
 * While a restarted job replays (until it sends the last call home
 * logged), its timers' own signals are not raised; each logged one is
 * raised at its place instead: at that call's start, or as that call
 * returns, where its registers must be those logged. Main-loop context
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
#define DECIDE_HOLD_MS 20

struct decide {
	int on;                  /* home checkpoints the job (or restarted it): it keeps them */
	uint8_t *out;            /* entries not sent yet */
	uint32_t out_len;
	int out_lost;            /* some did not fit, or did not encode */
	int in_flight;           /* some went since home last answered a call */
	uint8_t *in;             /* home's entries to answer with, from in_at */
	uint32_t in_len, in_at;
	int32_t since;           /* local calls since the last forwarded call or checkpoint */
	int user_ran;            /* its own code ran since its last call began */
	int holding;             /* its signals wait for a call since it had run held_cpu_ns */
	uint64_t held_cpu_ns;
	uint32_t until;          /* replaying until the job has sent this call */
	int call_cut;            /* a logged signal raised in this call cuts its sleep short, */
	uint64_t rem_at;         /* ... and the time left it reports there (0: none) */
	uint8_t rem[16];
	int diverged;            /* the replay found another way: home's entries are over */
	uint64_t place_rip, place_hash; /* where the job is as it takes its signals */
};

struct job;
struct job_siginfo;
struct proc;
struct sys_call;

/* After the local call sc (answered: SYS_RETURN): when its result is a
 * decision, answered instead as home's next entry says, if it
 * matches, then kept. */
void decide_call(struct job *j, struct sys_call *sc);
/* A local call begins (before its handler): counted, and a logged
 * signal taken in it raised. */
void decide_enter(struct job *j);
/* A call goes home, or a checkpoint's image is taken (sleeping: j
 * sleeps in a local call the image makes again): the count starts anew. */
void decide_anchor(struct job *j, int sleeping);
/* Whether the process replays: its timers' own signals wait. */
int decide_replaying(const struct proc *p);
/* j is about to take its signals: where it is, before a call cut short
 * is settled (a restart or EINTR rewrites its registers). */
void decide_place(struct job *j);
/* j takes signal sig (si), in a call (at_call) or about to run on: kept
 * when one of the node's timers raised it, with the time left (rem, 16
 * bytes, written at rem_at; 0: none) it cut a sleep short with. */
void decide_taken(struct job *j, int sig, const struct job_siginfo *si, int at_call, uint64_t rem_at,
		  const void *rem);
/* The time left a sleep at rem_at reports as a signal cuts it short:
 * in a replay, the logged one. */
void decide_rem(struct job *j, uint64_t rem_at, void *rem);
/* The link dropped while the job's call was out: home's entries after
 * it go (home sends them again with the call's answer). */
void decide_unfed(struct decide *d);
/* Whether j may take its signals now: not, for a while, when its own
 * code ran since its last call (they wait for the next). */
int decide_may_deliver(struct job *j);
/* Before j takes its signals: a logged one taken where j is now is
 * raised. */
void decide_prepare(struct job *j);
/* Whether j's sleep, though its time is up, ends by a logged signal
 * that cut it short the first time. */
int decide_cuts_sleep(const struct job *j);
/* j enters ring 3: its own code runs. */
void decide_runs(struct job *j);
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
