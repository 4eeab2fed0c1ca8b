/* moves.h - moves the agent asked for and has not seen land.
 *
 * A move (om-migrate or the balancer) takes a few seconds: the image comes
 * home, then goes out to its target with a SUBMIT naming that node. The
 * table remembers why, so that the SUBMIT that names the target is known
 * as the move's, not as the user's --node choice, and shows where it
 * lands (om-mon's WHY; a place om-migrate chose holds against the
 * balancer, one the balancer chose does not).
 *
 * For MOVE_BUSY_MS a balancer's move keeps both its places out of the
 * balancer's rounds (their loads show the move only when it lands); a
 * user's move does not, so no user can stall the balancer for others.
 * A process with a move in the table is not a balancer candidate; one
 * whose move did not land within MOVE_BUSY_MS stays out of the rounds
 * until the entry is forgotten, MOVE_KEEP_MS after it was made (a
 * deputy that ignores moves must not be chosen again and again). An entry
 * is also forgotten when the move lands or its process ends. Each uid
 * has at most MOVES_PER_UID entries: its oldest goes first, never
 * another user's. */
#ifndef OM_MOVES_H
#define OM_MOVES_H

#include <stdint.h>

#define MOVES_MAX 1024
#define MOVES_PER_UID 16
#define MOVE_BUSY_MS 15000
#define MOVE_KEEP_MS 120000

/* Records that pid (of uid) goes from node 'from' to node 'to' (0: home)
 * for cause (enum om_job_why); a newer move of the same pid replaces the
 * older one. Returns 0, or -1 when the table is full of other users'
 * moves (the move happens, unrecorded). */
int moves_add(uint32_t uid, uint32_t pid, uint32_t from, uint32_t to, uint8_t cause, uint64_t now);
/* The cause of the move of pid (of uid) to node 'to', which is forgotten
 * (it lands now); 0 when there is none. */
uint8_t moves_land(uint32_t uid, uint32_t pid, uint32_t to);
/* Whether pid (of uid) has a move in the table. */
int moves_pending(uint32_t uid, uint32_t pid);
/* Forgets the move of a process that ended. */
void moves_forget(uint32_t uid, uint32_t pid);
/* Drops entries older than MOVE_KEEP_MS, then calls fn for both places of
 * each balancer move younger than MOVE_BUSY_MS. */
void moves_each(uint64_t now, void (*fn)(uint32_t node, void *arg), void *arg);

#endif
