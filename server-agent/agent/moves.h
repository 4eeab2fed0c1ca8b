/* moves.h - moves the agent asked for and has not seen land.
 *
 * A move (om-migrate or the balancer) takes a few seconds: the image comes
 * home, then goes out to its target with a SUBMIT naming that node. Until
 * it lands the balancer leaves both places alone, and the SUBMIT that
 * names the target is the move's, not the user's --node choice: the
 * process it places is pinned there only if om-migrate chose the place. A move is forgotten when it
 * lands, when its process ends, or after MOVE_TIMEOUT_MS. */
#ifndef OM_MOVES_H
#define OM_MOVES_H

#include <stdint.h>

#define MOVES_MAX 64
#define MOVE_TIMEOUT_MS 15000

/* Records that pid (of uid) goes from node 'from' to node 'to' (0: home)
 * for cause (enum om_job_why). A newer move of the same pid replaces the
 * older one; when the table is full the oldest is forgotten. */
void moves_add(uint32_t uid, uint32_t pid, uint32_t from, uint32_t to, uint8_t cause,
    uint64_t now);
/* The cause of the move of pid (of uid) to node 'to' in flight, which is
 * forgotten (it lands now); 0 when there is none. */
uint8_t moves_land(uint32_t uid, uint32_t pid, uint32_t to);
/* Forgets the moves of a process that ended. */
void moves_forget(uint32_t uid, uint32_t pid);
/* Drops moves older than MOVE_TIMEOUT_MS, then calls fn for each live
 * move's two places. */
void moves_each(uint64_t now, void (*fn)(uint32_t node, void *arg), void *arg);

#endif
