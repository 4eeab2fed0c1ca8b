/* moves.c - moves in flight (see moves.h). */
#include "job_msg.h"
#include "moves.h"

struct move {
	uint32_t uid, pid;         /* pid 0: a free slot */
	uint32_t from, to;
	uint8_t cause;
	uint64_t since;
};

static struct move moves[MOVES_MAX];

static struct move *
find(uint32_t uid, uint32_t pid)
{
	struct move *m;

	for (m = moves; m < moves + MOVES_MAX; m++)
		if (m->pid == pid && m->uid == uid && pid != 0)
			return m;
	return 0;
}

int
moves_add(uint32_t uid, uint32_t pid, uint32_t from, uint32_t to, uint8_t cause, uint64_t now)
{
	struct move *m, *slot = find(uid, pid), *free_slot = 0, *oldest = 0;
	int mine = 0;

	for (m = moves; slot == 0 && m < moves + MOVES_MAX; m++) {
		if (m->pid == 0) {
			if (free_slot == 0)
				free_slot = m;
		} else if (m->uid == uid) {
			mine++;
			if (oldest == 0 || m->since < oldest->since)
				oldest = m;
		}
	}
	if (slot == 0)
		slot = mine >= MOVES_PER_UID ? oldest : free_slot;
	if (slot == 0)
		return -1;
	*slot = (struct move){ uid, pid, from, to, cause, now };
	return 0;
}

uint8_t
moves_land(uint32_t uid, uint32_t pid, uint32_t to)
{
	struct move *m = find(uid, pid);

	if (m == 0 || m->to != to)
		return 0;
	m->pid = 0;
	return m->cause;
}

int
moves_pending(uint32_t uid, uint32_t pid)
{
	return find(uid, pid) != 0;
}

void
moves_forget(uint32_t uid, uint32_t pid)
{
	struct move *m = find(uid, pid);

	if (m != 0)
		m->pid = 0;
}

void
moves_each(uint64_t now, void (*fn)(uint32_t node, void *arg), void *arg)
{
	struct move *m;

	for (m = moves; m < moves + MOVES_MAX; m++) {
		if (m->pid == 0)
			continue;
		if (now - m->since > MOVE_KEEP_MS) {
			m->pid = 0;
			continue;
		}
		if (m->cause == OM_WHY_BALANCER && now - m->since <= MOVE_BUSY_MS) {
			fn(m->from, arg);
			fn(m->to, arg);
		}
	}
}
