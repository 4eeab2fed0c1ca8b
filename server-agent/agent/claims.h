/* claims.h - the CPU figures a node reports, checked against what its
 * jobs get (docs/security.md, "Checking what nodes claim").
 *
 * A node says in HELLO how many cores it has; every HEARTBEAT lists its
 * jobs with the CPU time each has used there this stay, and whether each
 * wants a core now. Two rules hold for any node that tells the truth:
 *
 *   CPU time: all its jobs together cannot have used more CPU time than
 *   its cores give. Every stay on this connection began after the HELLO,
 *   so the sum of the CPU time it has reported (the stays that ended, at
 *   their last listing, and those going on) is at most cores x the time
 *   since then, as the agent's clock measures it (the node's own timing
 *   plays no part). Flagged beyond CLAIMS_SLACK_PCT of that plus
 *   CLAIMS_GRACE_MS per core (the clocks of a PC or a VM drift).
 *
 *   Cores: a job that wants a core gets one. The node runs nothing but
 *   its jobs, so between two heartbeats that both list a job as runnable
 *   it runs about all the time, as long as the runnable ones are no more
 *   than its cores. Over each window in which they could have had
 *   CLAIMS_EVIDENCE_MS of core time (min(runnable, cores) x the time
 *   between heartbeats, the shorter of the agent's and the node's
 *   measure, so that heartbeats delayed on the way never add time), less
 *   than CLAIMS_SHORT_PCT of it is flagged: the node has fewer cores than
 *   it says, or something else runs on them. A window counts only if its
 *   heartbeat came on time: a node sends one CLAIMS_HB_SOON_MS after the
 *   last when the number of its threads that want a core changes
 *   (net/agent_link.c), so an early one says a job blocked (a call sent
 *   home, a sleep) or woke in between, runnable at both ends or not, and
 *   the window proves nothing of the cores (with a heartbeat period too
 *   short to tell early from on time, the rule is off).
 *
 * What this cannot prove: the node reports the CPU time too, so a node
 * that lies about its cores and about the time its jobs get, in step,
 * passes; speed is not checked (CPU time says how much CPU a job got, not
 * how fast it is). It catches the node that claims more than it has but
 * counts honestly, and one whose counts are impossible.
 *
 * The flag is logged once when raised (with the figures), shown by
 * om-mon, and kept while the node keeps its key (a reconnect does not
 * clear it; a reboot makes a new key and new claims). It changes nothing
 * else: om-ctl block keeps jobs off such a node. */
#ifndef OM_CLAIMS_H
#define OM_CLAIMS_H

#include <stdint.h>

#define CLAIMS_SLACK_PCT 125
#define CLAIMS_GRACE_MS 1000
#define CLAIMS_EVIDENCE_MS 30000
#define CLAIMS_SHORT_PCT 50
/* The node's side of the heartbeat (net/agent_link.c): the period it
 * takes from WELCOME is clamped to CLAIMS_HB_MIN_MS..CLAIMS_HB_MAX_MS; a
 * change in what wants a core brings the next one CLAIMS_HB_SOON_MS after
 * the last. One within CLAIMS_HB_LATE_PCT of the period is on time. */
#define CLAIMS_HB_MIN_MS 100
#define CLAIMS_HB_MAX_MS 60000
#define CLAIMS_HB_SOON_MS 100
#define CLAIMS_HB_LATE_PCT 75

struct node;
struct om_heartbeat;

/* The evidence so far, one per node (struct node). */
struct node_claims {
	uint8_t flag;              /* enum om_claims, once raised */
	uint64_t hb_ms;            /* when the previous HEARTBEAT came, 0: none on this connection */
	uint64_t ended_ns;         /* CPU time of stays that ended, at their last listing */
	uint64_t want_ns;          /* this window: core time the runnable jobs could have had */
	uint64_t got_ns;           /* ... and the CPU time they reported */
	uint32_t on_time_ms;       /* a heartbeat this long after the last came on time, 0: never */
};

/* n registered (HELLO) on a new connection; same_key: with the key it had
 * (a reconnect, which keeps the flag); heartbeat_ms: the period WELCOME
 * gives it. The node's entry is up to date. */
void claims_hello(struct node *n, int same_key, uint32_t heartbeat_ms);
/* A HEARTBEAT hb came from n at now; n->hb is still the previous one. */
void claims_heartbeat(struct node *n, const struct om_heartbeat *hb, uint64_t now);

#endif
