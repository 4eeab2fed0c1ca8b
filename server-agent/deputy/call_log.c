#include <stdlib.h>
#include <string.h>

#include "call_log.h"
#include "fnv.h"

uint64_t call_log_hash(const uint8_t *p, size_t len)
{
	return om_fnv1a(OM_FNV1A_INIT, p, len);
}

int call_log_add(struct call_log *l, uint32_t seq, uint32_t nr, const uint64_t args[6], uint64_t req_hash,
		 const uint8_t *reply, size_t len, uint8_t *dec, size_t dec_len)
{
	size_t cost = sizeof(struct call_log_entry) + len + dec_len;
	if (l->dec_lost || l->bytes + cost > CALL_LOG_MAX_BYTES)
		goto broken;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct call_log_entry *e = realloc(l->e, cap * sizeof *e);
		if (!e)
			goto broken;
		l->e = e;
		l->cap = cap;
	}
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		goto broken;
	memcpy(copy, reply, len);
	struct call_log_entry *e = &l->e[l->n++];
	e->seq = seq;
	e->nr = nr;
	memcpy(e->args, args, sizeof e->args);
	e->req_hash = req_hash;
	e->len = (uint32_t)len;
	e->reply = copy;
	e->dec = dec;
	e->dec_len = (uint32_t)dec_len;
	l->bytes += cost;
	return 0;
broken:
	free(dec);
	l->dec_lost = 0;
	call_log_break(l, seq);
	return -1;
}

void call_log_break(struct call_log *l, uint32_t seq)
{
	if (seq > l->broken_at)
		l->broken_at = seq;
	call_log_decided_clear(l);
}

int call_log_decided(struct call_log *l, const uint8_t *p, size_t len)
{
	uint8_t *d = l->bytes + l->dec_len + len <= CALL_LOG_MAX_BYTES && l->dec_len + len <= CALL_LOG_DEC_MAX
			     ? realloc(l->dec, l->dec_len + len)
			     : NULL;
	if (!d) {
		call_log_decided_lost(l);
		return -1;
	}
	memcpy(d + l->dec_len, p, len);
	l->dec = d;
	l->dec_len += len;
	return 0;
}

void call_log_decided_clear(struct call_log *l)
{
	free(l->dec);
	l->dec = NULL;
	l->dec_len = 0;
	l->dec_lost = 0;
}

void call_log_decided_lost(struct call_log *l)
{
	free(l->dec);
	l->dec = NULL;
	l->dec_len = 0;
	l->dec_lost = 1;
}

void call_log_decided_take(struct call_log *l, uint8_t **dec, size_t *len)
{
	*dec = l->dec;
	*len = l->dec_len;
	l->dec = NULL;
	l->dec_len = 0;
}

int call_log_whole(const struct call_log *l, uint32_t calls)
{
	return l->broken_at <= calls;
}

void call_log_cut(struct call_log *l, uint32_t calls)
{
	size_t keep = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (l->e[i].seq <= calls) {
			l->bytes -= sizeof(struct call_log_entry) + l->e[i].len + l->e[i].dec_len;
			free(l->e[i].reply);
			free(l->e[i].dec);
		} else {
			l->e[keep++] = l->e[i];
		}
	}
	l->n = keep;
	call_log_decided_clear(l);
}

const struct call_log_entry *call_log_find(const struct call_log *l, uint32_t seq)
{
	/* In order of their numbers: the first entry's tells where seq is. */
	if (!l->n || seq < l->e[0].seq || seq - l->e[0].seq >= l->n)
		return NULL;
	const struct call_log_entry *e = &l->e[seq - l->e[0].seq];
	return e->seq == seq ? e : NULL;
}

uint32_t call_log_last(const struct call_log *l)
{
	return l->n ? l->e[l->n - 1].seq : 0;
}

void call_log_free(struct call_log *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->e[i].reply);
		free(l->e[i].dec);
	}
	free(l->e);
	free(l->dec);
	memset(l, 0, sizeof *l);
}
