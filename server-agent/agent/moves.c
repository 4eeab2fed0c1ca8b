/* moves.c - moves in flight (see moves.h). */
#include "moves.h"

struct move {
	uint32_t uid, pid;         /* pid 0: a free slot */
	uint32_t from, to;
	uint8_t cause;
	uint64_t since;
};

static struct move moves[MOVES_MAX];

void
moves_add(uint32_t uid, uint32_t pid, uint32_t from, uint32_t to, uint8_t cause, uint64_t now)
{
	struct move *m, *slot = &moves[0];

	for (m = moves; m < moves + MOVES_MAX; m++) {
		if (m->pid == pid && m->uid == uid) {
			slot = m;
			break;
		}
		if (slot->pid != 0 && (m->pid == 0 || m->since < slot->since))
			slot = m;
	}
	*slot = (struct move){ uid, pid, from, to, cause, now };
}

uint8_t
moves_land(uint32_t uid, uint32_t pid, uint32_t to)
{
	struct move *m;

	for (m = moves; m < moves + MOVES_MAX; m++)
		if (m->pid == pid && m->uid == uid && m->pid != 0) {
			if (m->to != to)
				return 0;
			m->pid = 0;
			return m->cause;
		}
	return 0;
}

void
moves_forget(uint32_t uid, uint32_t pid)
{
	struct move *m;

	for (m = moves; m < moves + MOVES_MAX; m++)
		if (m->pid == pid && m->uid == uid)
			m->pid = 0;
}

void
moves_each(uint64_t now, void (*fn)(uint32_t node, void *arg), void *arg)
{
	struct move *m;

	for (m = moves; m < moves + MOVES_MAX; m++) {
		if (m->pid == 0)
			continue;
		if (now - m->since > MOVE_TIMEOUT_MS) {
			m->pid = 0;
			continue;
		}
		fn(m->from, arg);
		fn(m->to, arg);
	}
}
