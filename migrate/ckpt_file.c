/* ckpt_file.c - a checkpoint file's home record (contract in ckpt_file.h). */
#include <string.h>

#include "ckpt_file.h"
#include "image.h"
#include "proto.h"
#include "wire.h"

static int path_ok(const char *p)
{
	size_t n = strlen(p);
	return n >= 1 && n <= OM_CKPT_PATH_MAX;
}

static void wr_path(struct wire_wr *w, const char *p)
{
	size_t n = strlen(p);
	wire_wr_u16(w, (uint16_t)n);
	wire_wr_bytes(w, p, n);
}

static void rd_path(struct wire_rd *r, char *out)
{
	uint16_t n = wire_rd_u16(r);
	out[0] = '\0';
	if (n == 0 || n > OM_CKPT_PATH_MAX) {
		wire_rd_fail(r, OM_E_RANGE);
		return;
	}
	const uint8_t *p = wire_rd_take(r, n);
	if (p == NULL)
		return;
	if (memchr(p, '\0', n) != NULL) {
		wire_rd_fail(r, OM_E_RANGE);
		return;
	}
	memcpy(out, p, n);
	out[n] = '\0';
}

static int user_range(uint64_t a, uint64_t b)
{
	return a <= b && b <= OM_USER_TOP;
}

static int home_ok(const struct om_ckpt_home *h)
{
	return path_ok(h->exe) && h->exe[0] == '/' && h->entries <= OM_CKPT_ENTRIES_MAX &&
	       user_range(h->start_code, h->end_code) && user_range(h->start_data, h->end_data) &&
	       user_range(h->start_brk, h->start_brk) && user_range(h->start_stack, h->start_stack) &&
	       user_range(h->arg_start, h->arg_end) && user_range(h->env_start, h->env_end);
}

int om_ckpt_home_encode(const struct om_ckpt_home *h, void *out, size_t cap)
{
	struct wire_wr w;
	if (!home_ok(h))
		return OM_E_RANGE;
	wire_wr_init(&w, out, cap);
	wire_wr_u32(&w, h->uid);
	wire_wr_u32(&w, h->calls);
	wire_wr_u32(&w, h->entries);
	wire_wr_u64(&w, (uint64_t)h->since_ns);
	const uint64_t v[] = { h->start_code, h->end_code, h->start_data, h->end_data, h->start_brk,
			       h->start_stack, h->arg_start, h->arg_end, h->env_start, h->env_end };
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		wire_wr_u64(&w, v[i]);
	wr_path(&w, h->exe);
	return wire_wr_end(&w);
}

int om_ckpt_home_decode(const void *buf, size_t len, struct om_ckpt_home *h)
{
	struct wire_rd r;
	memset(h, 0, sizeof *h);
	wire_rd_init(&r, buf, len);
	h->uid = wire_rd_u32(&r);
	h->calls = wire_rd_u32(&r);
	h->entries = wire_rd_u32(&r);
	h->since_ns = (int64_t)wire_rd_u64(&r);
	uint64_t *v[] = { &h->start_code, &h->end_code, &h->start_data, &h->end_data, &h->start_brk,
			  &h->start_stack, &h->arg_start, &h->arg_end, &h->env_start, &h->env_end };
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		*v[i] = wire_rd_u64(&r);
	rd_path(&r, h->exe);
	if (r.err == OM_OK && !home_ok(h))
		wire_rd_fail(&r, OM_E_RANGE);
	return wire_rd_end(&r);
}

static int range_ok(const struct om_ckpt_entry *e)
{
	return e->len > 0 && e->addr % OM_PAGE_SIZE == 0 && e->len % OM_PAGE_SIZE == 0 &&
	       e->addr < OM_USER_TOP && e->len <= OM_USER_TOP - e->addr;
}

static int entry_ok(const struct om_ckpt_entry *e)
{
	if (!path_ok(e->path))
		return 0;
	switch (e->kind) {
	case OM_CKPT_CWD:
		return e->path[0] == '/' && e->what == 0 && e->fd == -1;
	case OM_CKPT_FD:
		if (e->fd < 0 || e->what < 1 || e->what > OM_CKPT_WHAT_MAX)
			return 0;
		if (e->what == OM_CKPT_STREAM)
			return e->fd <= 2;
		if (e->what == OM_CKPT_DUP)
			return e->pos < (uint64_t)e->fd;
		return e->what == OM_CKPT_OTHER || e->path[0] == '/';
	case OM_CKPT_CODE:
	case OM_CKPT_READ:
		return e->path[0] == '/' && e->what == 0 && e->fd == -1 && range_ok(e) &&
		       e->pos % OM_PAGE_SIZE == 0 && (e->kind == OM_CKPT_READ || e->flags <= 7);
	case OM_CKPT_SPECIAL:
		return e->path[0] == '[' && e->path[strlen(e->path) - 1] == ']' && e->what == 0 &&
		       e->fd == -1 && range_ok(e);
	}
	return 0;
}

int om_ckpt_entry_encode(const struct om_ckpt_entry *e, void *out, size_t cap)
{
	struct wire_wr w;
	if (!entry_ok(e))
		return OM_E_RANGE;
	wire_wr_init(&w, out, cap);
	wire_wr_u32(&w, e->kind);
	wire_wr_u32(&w, e->what);
	wire_wr_u32(&w, (uint32_t)e->fd);
	wire_wr_u32(&w, e->flags);
	const uint64_t v[] = { e->pos, e->addr, e->len, e->dev, e->ino, e->size, (uint64_t)e->mtime_ns,
			       (uint64_t)e->ctime_ns };
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		wire_wr_u64(&w, v[i]);
	wr_path(&w, e->path);
	return wire_wr_end(&w);
}

int om_ckpt_entry_decode(const void *buf, size_t len, struct om_ckpt_entry *e)
{
	struct wire_rd r;
	memset(e, 0, sizeof *e);
	wire_rd_init(&r, buf, len);
	e->kind = wire_rd_u32(&r);
	e->what = wire_rd_u32(&r);
	e->fd = (int32_t)wire_rd_u32(&r);
	e->flags = wire_rd_u32(&r);
	uint64_t *v[] = { &e->pos, &e->addr, &e->len, &e->dev, &e->ino, &e->size, (uint64_t *)&e->mtime_ns,
			  (uint64_t *)&e->ctime_ns };
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		*v[i] = wire_rd_u64(&r);
	rd_path(&r, e->path);
	if (r.err == OM_OK && !entry_ok(e))
		wire_rd_fail(&r, OM_E_RANGE);
	return wire_rd_end(&r);
}

const char *om_ckpt_kind_name(uint32_t kind)
{
	static const char *names[] = { "?", "cwd", "fd", "code", "read", "special" };
	return kind <= OM_CKPT_KIND_MAX ? names[kind] : "?";
}
