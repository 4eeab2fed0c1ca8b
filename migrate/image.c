/* image.c - image payload codecs and the streaming validator (contract in
 * image.h and docs/migration.md). No allocation, no I/O: also built into the
 * node kernel. */
#include <string.h>

#include "image.h"
#include "proto.h"
#include "cpu_wire.h"
#include "wire.h"

enum { CK_BEGIN, CK_THREADS, CK_BODY, CK_DONE, CK_FAILED };

#define PAGE_MASK ((uint64_t)OM_PAGE_SIZE - 1)
#define XCR0_X87_SSE 3u
/* Linux's clock ids and sigev_notify values (a timer's, in the image). */
#define SC_CLOCK_REALTIME 0
#define SC_CLOCK_MONOTONIC 1
#define SC_CLOCK_PROCESS_CPUTIME_ID 2
#define SC_CLOCK_THREAD_CPUTIME_ID 3
#define SC_CLOCK_BOOTTIME 7
#define SC_SIGEV_SIGNAL 0
#define SC_SIGEV_NONE 1
#define SC_SIGEV_THREAD 2
#define SC_SIGEV_THREAD_ID 4

const char *
om_region_kind_name(uint32_t kind)
{
	switch (kind) {
	case OM_RK_ANON: return "anon";
	case OM_RK_FILE: return "file";
	case OM_RK_HEAP: return "heap";
	case OM_RK_STACK: return "stack";
	case OM_RK_VDSO: return "vdso";
	case OM_RK_RESERVED: return "reserved";
	}
	return "?";
}

/* ---- IMAGE_BEGIN */


static int
user_range_ok(uint64_t start, uint64_t len)
{
	return (start & PAGE_MASK) == 0 && (len & PAGE_MASK) == 0 &&
	    start <= OM_USER_TOP && len <= OM_USER_TOP - start;
}

static int
timer_valid(const struct om_timer *t)
{
	if (t->id < 0)
		return 0;
	switch (t->clock) {
	case SC_CLOCK_REALTIME: case SC_CLOCK_MONOTONIC: case SC_CLOCK_PROCESS_CPUTIME_ID:
	case SC_CLOCK_THREAD_CPUTIME_ID: case SC_CLOCK_BOOTTIME:
		break;
	default:
		return 0;
	}
	switch (t->notify) {
	case SC_SIGEV_NONE:
		return t->tid == 0;
	case SC_SIGEV_SIGNAL: case SC_SIGEV_THREAD:
		return t->tid == 0 && t->signo >= 1 && t->signo <= OM_NSIG;
	case SC_SIGEV_SIGNAL | SC_SIGEV_THREAD_ID:
		return t->tid >= 1 && t->tid <= OM_TID_MAX && t->signo >= 1 && t->signo <= OM_NSIG;
	}
	return 0;
}

/* Pending instances: a bounded count, each of a signal that is pending. */
static int
sigq_valid(uint32_t count, const struct om_siginfo *q, uint64_t pending)
{
	uint32_t i;

	if (count > OM_SIGQUEUE_MAX)
		return 0;
	for (i = 0; i < count; i++)
		if (q[i].signo < 1 || q[i].signo > OM_NSIG || !(pending >> (q[i].signo - 1) & 1))
			return 0;
	return 1;
}

static int
xsave_size_valid(uint32_t size)
{
	return size == 0 || (size >= OM_XSAVE_MIN && size <= OM_XSAVE_MAX);
}

int
om_image_hdr_valid(const struct om_image_hdr *h)
{
	uint32_t i, k;

	if (!xsave_size_valid(h->xsave_size) ||
	    (h->xsave_size != 0 && (h->xcr0 & XCR0_X87_SSE) != XCR0_X87_SSE))
		return OM_E_RANGE;
	if (h->umask > 0777 || h->cpu.cores == 0 ||
	    h->region_count > OM_IMAGE_REGIONS_MAX || h->thread_count > OM_IMAGE_THREADS_MAX)
		return OM_E_RANGE;
	if (!user_range_ok(h->scratch_start, h->scratch_len) ||
	    (h->vdso_base & PAGE_MASK) != 0 || h->vdso_base >= OM_USER_TOP)
		return OM_E_RANGE;
	if (!sigq_valid(h->sigq_count, h->sigq, h->sig_pending))
		return OM_E_RANGE;
	if (h->timer_count > OM_TIMERS_MAX || h->timer_next_id > INT32_MAX)
		return OM_E_RANGE;
	for (i = 0; i < h->timer_count; i++) {
		if (!timer_valid(&h->timers[i]))
			return OM_E_RANGE;
		for (k = 0; k < i; k++)
			if (h->timers[k].id == h->timers[i].id)
				return OM_E_RANGE;
	}
	return OM_OK;
}

static void
uts_put(struct wire_wr *w, const struct om_image_hdr *h)
{
	wire_wr_str(w, h->sysname, sizeof h->sysname);
	wire_wr_str(w, h->nodename, sizeof h->nodename);
	wire_wr_str(w, h->release, sizeof h->release);
	wire_wr_str(w, h->version, sizeof h->version);
	wire_wr_str(w, h->machine, sizeof h->machine);
	wire_wr_str(w, h->domainname, sizeof h->domainname);
}

static void
uts_get(struct wire_rd *r, struct om_image_hdr *h)
{
	wire_rd_str(r, h->sysname, OM_UTS_MAX);
	wire_rd_str(r, h->nodename, OM_UTS_MAX);
	wire_rd_str(r, h->release, OM_UTS_MAX);
	wire_rd_str(r, h->version, OM_UTS_MAX);
	wire_rd_str(r, h->machine, OM_UTS_MAX);
	wire_rd_str(r, h->domainname, OM_UTS_MAX);
}

static void
usage_put(struct wire_wr *w, const struct om_usage *u)
{
	wire_wr_u64(w, u->utime_ns);
	wire_wr_u64(w, u->stime_ns);
	wire_wr_u64(w, u->cutime_ns);
	wire_wr_u64(w, u->cstime_ns);
	wire_wr_u64(w, u->maxrss_kb);
	wire_wr_u64(w, u->minflt);
	wire_wr_u64(w, u->majflt);
	wire_wr_u64(w, u->nvcsw);
	wire_wr_u64(w, u->nivcsw);
	wire_wr_u64(w, u->ticks);
}

static void
usage_get(struct wire_rd *r, struct om_usage *u)
{
	u->utime_ns = wire_rd_u64(r);
	u->stime_ns = wire_rd_u64(r);
	u->cutime_ns = wire_rd_u64(r);
	u->cstime_ns = wire_rd_u64(r);
	u->maxrss_kb = wire_rd_u64(r);
	u->minflt = wire_rd_u64(r);
	u->majflt = wire_rd_u64(r);
	u->nvcsw = wire_rd_u64(r);
	u->nivcsw = wire_rd_u64(r);
	u->ticks = wire_rd_u64(r);
}

static void
sigq_put(struct wire_wr *w, uint32_t count, const struct om_siginfo *q)
{
	uint32_t i;

	wire_wr_u32(w, count);
	for (i = 0; i < count; i++) {
		wire_wr_u32(w, q[i].signo);
		wire_wr_u32(w, (uint32_t)q[i].code);
		wire_wr_u32(w, (uint32_t)q[i].errnum);
		wire_wr_bytes(w, q[i].fields, OM_SIGINFO_FIELDS);
	}
}

static void
sigq_get(struct wire_rd *r, uint32_t *count, struct om_siginfo *q)
{
	uint32_t i;

	*count = wire_rd_u32(r);
	/* The count is judged before it is used to read anything. */
	if (r->err == OM_OK && *count > OM_SIGQUEUE_MAX)
		wire_rd_fail(r, OM_E_RANGE);
	for (i = 0; r->err == OM_OK && i < *count; i++) {
		q[i].signo = wire_rd_u32(r);
		q[i].code = (int32_t)wire_rd_u32(r);
		q[i].errnum = (int32_t)wire_rd_u32(r);
		wire_rd_bytes(r, q[i].fields, OM_SIGINFO_FIELDS);
	}
}

/* The FPU area: its size, judged before it is used to copy anything. */
static void
xsave_get(struct wire_rd *r, uint32_t *size, uint8_t *area)
{
	*size = wire_rd_u32(r);
	if (r->err == OM_OK && *size > OM_XSAVE_MAX)
		wire_rd_fail(r, OM_E_RANGE);
	wire_rd_bytes(r, area, r->err == OM_OK ? *size : 0);
}

static void
timer_put(struct wire_wr *w, const struct om_timer *t)
{
	wire_wr_u32(w, (uint32_t)t->id);
	wire_wr_u32(w, t->clock);
	wire_wr_u64(w, t->expires);
	wire_wr_u64(w, t->interval);
	wire_wr_u32(w, t->notify);
	wire_wr_u32(w, t->signo);
	wire_wr_u64(w, t->value);
	wire_wr_u32(w, t->tid);
}

static void
timer_get(struct wire_rd *r, struct om_timer *t)
{
	t->id = (int32_t)wire_rd_u32(r);
	t->clock = wire_rd_u32(r);
	t->expires = wire_rd_u64(r);
	t->interval = wire_rd_u64(r);
	t->notify = wire_rd_u32(r);
	t->signo = wire_rd_u32(r);
	t->value = wire_rd_u64(r);
	t->tid = wire_rd_u32(r);
}

int
om_image_hdr_encode(const struct om_image_hdr *h, void *out, size_t cap)
{
	struct wire_wr w;
	int i, rc;

	if ((rc = om_image_hdr_valid(h)) != OM_OK)
		return rc;
	wire_wr_init(&w, out, cap);
	for (i = 0; i < OM_REG_COUNT; i++)
		wire_wr_u64(&w, h->regs[i]);
	wire_wr_u64(&w, h->xcr0);
	wire_wr_u32(&w, h->xsave_size);
	wire_wr_bytes(&w, h->xsave, h->xsave_size);
	om_cpu_put(&w, &h->cpu);
	wire_wr_u64(&w, h->start_brk);
	wire_wr_u64(&w, h->brk);
	wire_wr_u64(&w, h->mmap_base);
	wire_wr_u64(&w, h->sig_blocked);
	wire_wr_u64(&w, h->sig_pending);
	sigq_put(&w, h->sigq_count, h->sigq);
	for (i = 0; i < OM_NSIG; i++) {
		wire_wr_u64(&w, h->sigact[i].handler);
		wire_wr_u64(&w, h->sigact[i].flags);
		wire_wr_u64(&w, h->sigact[i].restorer);
		wire_wr_u64(&w, h->sigact[i].mask);
	}
	wire_wr_u64(&w, h->ss_sp);
	wire_wr_u32(&w, h->ss_flags);
	wire_wr_u64(&w, h->ss_size);
	wire_wr_u64(&w, h->rseq_addr);
	wire_wr_u32(&w, h->rseq_len);
	wire_wr_u32(&w, h->rseq_sig);
	wire_wr_u64(&w, h->tid_address);
	wire_wr_u64(&w, h->robust_list);
	wire_wr_u64(&w, h->robust_len);
	wire_wr_u32(&w, h->pid);
	wire_wr_u32(&w, h->ppid);
	wire_wr_u32(&w, h->tid);
	wire_wr_u32(&w, h->pgid);
	wire_wr_u32(&w, h->sid);
	wire_wr_u32(&w, h->uid);
	wire_wr_u32(&w, h->euid);
	wire_wr_u32(&w, h->suid);
	wire_wr_u32(&w, h->gid);
	wire_wr_u32(&w, h->egid);
	wire_wr_u32(&w, h->sgid);
	uts_put(&w, h);
	wire_wr_u32(&w, h->umask);
	wire_wr_u64(&w, h->clock_realtime);
	wire_wr_u64(&w, h->clock_monotonic);
	wire_wr_u64(&w, h->clock_boottime);
	wire_wr_u64(&w, h->scratch_start);
	wire_wr_u64(&w, h->scratch_len);
	wire_wr_u64(&w, h->vdso_base);
	usage_put(&w, &h->usage);
	wire_wr_u64(&w, h->memlock_max);
	for (i = 0; i < 3; i++) {
		wire_wr_u64(&w, h->itimer[i].expires);
		wire_wr_u64(&w, h->itimer[i].interval);
	}
	wire_wr_u32(&w, h->timer_next_id);
	wire_wr_u32(&w, h->timer_count);
	for (i = 0; i < (int)h->timer_count; i++)
		timer_put(&w, &h->timers[i]);
	wire_wr_u32(&w, h->region_count);
	wire_wr_u32(&w, h->thread_count);
	wire_wr_u32(&w, h->calls);
	return wire_wr_end(&w);
}

int
om_image_hdr_decode(const void *buf, size_t len, struct om_image_hdr *h)
{
	struct wire_rd r;
	int i, rc;

	memset(h, 0, sizeof *h);
	wire_rd_init(&r, buf, len);
	for (i = 0; i < OM_REG_COUNT; i++)
		h->regs[i] = wire_rd_u64(&r);
	h->xcr0 = wire_rd_u64(&r);
	xsave_get(&r, &h->xsave_size, h->xsave);
	om_cpu_get(&r, &h->cpu);
	h->start_brk = wire_rd_u64(&r);
	h->brk = wire_rd_u64(&r);
	h->mmap_base = wire_rd_u64(&r);
	h->sig_blocked = wire_rd_u64(&r);
	h->sig_pending = wire_rd_u64(&r);
	sigq_get(&r, &h->sigq_count, h->sigq);
	for (i = 0; i < OM_NSIG; i++) {
		h->sigact[i].handler = wire_rd_u64(&r);
		h->sigact[i].flags = wire_rd_u64(&r);
		h->sigact[i].restorer = wire_rd_u64(&r);
		h->sigact[i].mask = wire_rd_u64(&r);
	}
	h->ss_sp = wire_rd_u64(&r);
	h->ss_flags = wire_rd_u32(&r);
	h->ss_size = wire_rd_u64(&r);
	h->rseq_addr = wire_rd_u64(&r);
	h->rseq_len = wire_rd_u32(&r);
	h->rseq_sig = wire_rd_u32(&r);
	h->tid_address = wire_rd_u64(&r);
	h->robust_list = wire_rd_u64(&r);
	h->robust_len = wire_rd_u64(&r);
	h->pid = wire_rd_u32(&r);
	h->ppid = wire_rd_u32(&r);
	h->tid = wire_rd_u32(&r);
	h->pgid = wire_rd_u32(&r);
	h->sid = wire_rd_u32(&r);
	h->uid = wire_rd_u32(&r);
	h->euid = wire_rd_u32(&r);
	h->suid = wire_rd_u32(&r);
	h->gid = wire_rd_u32(&r);
	h->egid = wire_rd_u32(&r);
	h->sgid = wire_rd_u32(&r);
	uts_get(&r, h);
	h->umask = wire_rd_u32(&r);
	h->clock_realtime = wire_rd_u64(&r);
	h->clock_monotonic = wire_rd_u64(&r);
	h->clock_boottime = wire_rd_u64(&r);
	h->scratch_start = wire_rd_u64(&r);
	h->scratch_len = wire_rd_u64(&r);
	h->vdso_base = wire_rd_u64(&r);
	usage_get(&r, &h->usage);
	h->memlock_max = wire_rd_u64(&r);
	for (i = 0; i < 3; i++) {
		h->itimer[i].expires = wire_rd_u64(&r);
		h->itimer[i].interval = wire_rd_u64(&r);
	}
	h->timer_next_id = wire_rd_u32(&r);
	h->timer_count = wire_rd_u32(&r);
	/* The count is judged before it is used to read anything. */
	if (r.err == OM_OK && h->timer_count > OM_TIMERS_MAX)
		wire_rd_fail(&r, OM_E_RANGE);
	for (i = 0; r.err == OM_OK && i < (int)h->timer_count; i++)
		timer_get(&r, &h->timers[i]);
	h->region_count = wire_rd_u32(&r);
	h->thread_count = wire_rd_u32(&r);
	h->calls = wire_rd_u32(&r);
	if ((rc = wire_rd_end(&r)) != OM_OK)
		return rc;
	return om_image_hdr_valid(h);
}

/* ---- IMAGE_THREAD */

int
om_image_thread_valid(const struct om_image_thread *t)
{
	if (t->tid == 0 || t->tid > OM_TID_MAX || !xsave_size_valid(t->xsave_size) ||
	    !sigq_valid(t->sigq_count, t->sigq, t->sig_pending))
		return OM_E_RANGE;
	return OM_OK;
}

int
om_image_thread_encode(const struct om_image_thread *t, void *out, size_t cap)
{
	struct wire_wr w;
	int i, rc;

	if ((rc = om_image_thread_valid(t)) != OM_OK)
		return rc;
	wire_wr_init(&w, out, cap);
	wire_wr_u32(&w, t->tid);
	for (i = 0; i < OM_REG_COUNT; i++)
		wire_wr_u64(&w, t->regs[i]);
	wire_wr_u32(&w, t->xsave_size);
	wire_wr_bytes(&w, t->xsave, t->xsave_size);
	wire_wr_u64(&w, t->sig_blocked);
	wire_wr_u64(&w, t->sig_pending);
	sigq_put(&w, t->sigq_count, t->sigq);
	wire_wr_u64(&w, t->ss_sp);
	wire_wr_u32(&w, t->ss_flags);
	wire_wr_u64(&w, t->ss_size);
	wire_wr_u64(&w, t->rseq_addr);
	wire_wr_u32(&w, t->rseq_len);
	wire_wr_u32(&w, t->rseq_sig);
	wire_wr_u64(&w, t->tid_address);
	wire_wr_u64(&w, t->robust_list);
	wire_wr_u64(&w, t->robust_len);
	wire_wr_u64(&w, t->utime_ns);
	wire_wr_u64(&w, t->stime_ns);
	return wire_wr_end(&w);
}

int
om_image_thread_decode(const void *buf, size_t len, struct om_image_thread *t)
{
	struct wire_rd r;
	int i, rc;

	memset(t, 0, sizeof *t);
	wire_rd_init(&r, buf, len);
	t->tid = wire_rd_u32(&r);
	for (i = 0; i < OM_REG_COUNT; i++)
		t->regs[i] = wire_rd_u64(&r);
	xsave_get(&r, &t->xsave_size, t->xsave);
	t->sig_blocked = wire_rd_u64(&r);
	t->sig_pending = wire_rd_u64(&r);
	sigq_get(&r, &t->sigq_count, t->sigq);
	t->ss_sp = wire_rd_u64(&r);
	t->ss_flags = wire_rd_u32(&r);
	t->ss_size = wire_rd_u64(&r);
	t->rseq_addr = wire_rd_u64(&r);
	t->rseq_len = wire_rd_u32(&r);
	t->rseq_sig = wire_rd_u32(&r);
	t->tid_address = wire_rd_u64(&r);
	t->robust_list = wire_rd_u64(&r);
	t->robust_len = wire_rd_u64(&r);
	t->utime_ns = wire_rd_u64(&r);
	t->stime_ns = wire_rd_u64(&r);
	if ((rc = wire_rd_end(&r)) != OM_OK)
		return rc;
	return om_image_thread_valid(t);
}

/* ---- IMAGE_REGION */

static int
region_valid(const struct om_image_region *r)
{
	uint64_t npages;

	if ((r->start & PAGE_MASK) != 0 || (r->end & PAGE_MASK) != 0 ||
	    r->start >= r->end || r->end > OM_USER_TOP)
		return OM_E_RANGE;
	if ((r->prot & ~(OM_PROT_R | OM_PROT_W | OM_PROT_X)) != 0 ||
	    (r->flags & ~(OM_RF_SHARED | OM_RF_LOCKED | OM_RF_DELTA)) != 0 ||
	    strcmp(om_region_kind_name(r->kind), "?") == 0)
		return OM_E_RANGE;
	npages = (r->end - r->start) / OM_PAGE_SIZE;
	if (r->pages_sent > npages || r->pages_home > npages - r->pages_sent)
		return OM_E_RANGE;
	if (r->kind == OM_RK_RESERVED && (r->pages_sent != 0 || r->pages_home != 0))
		return OM_E_RANGE;
	return OM_OK;
}

int
om_image_region_encode(const struct om_image_region *r, void *out, size_t cap)
{
	struct wire_wr w;
	int rc;

	if ((rc = region_valid(r)) != OM_OK)
		return rc;
	wire_wr_init(&w, out, cap);
	wire_wr_u64(&w, r->start);
	wire_wr_u64(&w, r->end);
	wire_wr_u32(&w, r->prot);
	wire_wr_u32(&w, r->kind);
	wire_wr_u32(&w, r->flags);
	wire_wr_u64(&w, r->pages_sent);
	wire_wr_u64(&w, r->pages_home);
	wire_wr_u64(&w, r->file_offset);
	wire_wr_str(&w, r->name, sizeof r->name);
	return wire_wr_end(&w);
}

int
om_image_region_decode(const void *buf, size_t len, struct om_image_region *r)
{
	struct wire_rd rd;
	int rc;

	memset(r, 0, sizeof *r);
	wire_rd_init(&rd, buf, len);
	r->start = wire_rd_u64(&rd);
	r->end = wire_rd_u64(&rd);
	r->prot = wire_rd_u32(&rd);
	r->kind = wire_rd_u32(&rd);
	r->flags = wire_rd_u32(&rd);
	r->pages_sent = wire_rd_u64(&rd);
	r->pages_home = wire_rd_u64(&rd);
	r->file_offset = wire_rd_u64(&rd);
	wire_rd_str(&rd, r->name, OM_IMAGE_NAME_MAX);
	if ((rc = wire_rd_end(&rd)) != OM_OK)
		return rc;
	return region_valid(r);
}

/* ---- IMAGE_PAGES */

int
om_image_pages_encode_header(uint32_t region, uint64_t first, uint32_t count,
    void *out, size_t cap)
{
	struct wire_wr w;

	if (count == 0 || count > OM_IMAGE_PAGES_MAX ||
	    first > OM_USER_TOP / OM_PAGE_SIZE)
		return OM_E_RANGE;
	if (cap < OM_IMAGE_PAGES_HDR + (size_t)count * OM_PAGE_SIZE)
		return OM_E_NOSPACE;
	wire_wr_init(&w, out, OM_IMAGE_PAGES_HDR);
	wire_wr_u32(&w, region);
	wire_wr_u64(&w, first);
	wire_wr_u32(&w, count);
	if (wire_wr_end(&w) != (int)OM_IMAGE_PAGES_HDR)
		return OM_E_NOSPACE;
	return (int)(OM_IMAGE_PAGES_HDR + (size_t)count * OM_PAGE_SIZE);
}

int
om_image_pages_encode(uint32_t region, uint64_t first, uint32_t count,
    const void *data, void *out, size_t cap)
{
	int n = om_image_pages_encode_header(region, first, count, out, cap);

	if (n < 0)
		return n;
	memcpy((uint8_t *)out + OM_IMAGE_PAGES_HDR, data, (size_t)count * OM_PAGE_SIZE);
	return n;
}

int
om_image_pages_decode(const void *buf, size_t len, struct om_image_pages *p)
{
	struct wire_rd r;

	memset(p, 0, sizeof *p);
	wire_rd_init(&r, buf, len);
	p->region = wire_rd_u32(&r);
	p->first = wire_rd_u64(&r);
	p->count = wire_rd_u32(&r);
	if (r.err != OM_OK)
		return r.err;
	if (p->count == 0 || p->count > OM_IMAGE_PAGES_MAX ||
	    p->first > OM_USER_TOP / OM_PAGE_SIZE)
		return OM_E_RANGE;
	if ((size_t)p->count * OM_PAGE_SIZE > len - r.pos)
		return OM_E_TRUNC;
	if ((size_t)p->count * OM_PAGE_SIZE < len - r.pos)
		return OM_E_TRAILING;
	p->data = (const uint8_t *)buf + r.pos;
	return OM_OK;
}

/* ---- IMAGE_END */

int
om_image_end_encode(const struct om_image_end *e, void *out, size_t cap)
{
	struct wire_wr w;

	wire_wr_init(&w, out, cap);
	wire_wr_u32(&w, e->regions);
	wire_wr_u64(&w, e->pages);
	return wire_wr_end(&w);
}

int
om_image_end_decode(const void *buf, size_t len, struct om_image_end *e)
{
	struct wire_rd r;

	wire_rd_init(&r, buf, len);
	e->regions = wire_rd_u32(&r);
	e->pages = wire_rd_u64(&r);
	return wire_rd_end(&r);
}

/* ---- the streaming validator */

static int
ck_fail(struct om_image_check *c, int err, const char *why)
{
	if (c->state != CK_FAILED) {
		c->state = CK_FAILED;
		c->err = err;
		c->why = why;
	}
	return c->err;
}

/* The current region, if any, must have received all the pages it announced
 * before the next REGION or the END. */
static int
ck_close_region(struct om_image_check *c)
{
	if (c->regions > 0 && c->cur_sent != c->cur_expected)
		return ck_fail(c, OM_E_RANGE, "a region got fewer pages than it announced");
	return OM_OK;
}

/* Why a frame of the body cannot come now. */
static const char *
outside(const struct om_image_check *c, const char *why)
{
	return c->state == CK_THREADS ? "fewer threads than the header announced" : why;
}

void
om_image_check_init(struct om_image_check *c)
{
	memset(c, 0, sizeof *c);
	c->state = CK_BEGIN;
	c->err = OM_OK;
	c->why = "";
}

int
om_image_check_begin(struct om_image_check *c, const struct om_image_hdr *h)
{
	if (c->state == CK_FAILED)
		return c->err;
	if (c->state != CK_BEGIN)
		return ck_fail(c, OM_E_STATE, "a second IMAGE_BEGIN");
	if (om_image_hdr_valid(h) != OM_OK)
		return ck_fail(c, OM_E_RANGE, "invalid image header");
	c->regions_expected = h->region_count;
	c->vdso_base = h->vdso_base;
	c->threads_expected = h->thread_count;
	c->hdr_tid = c->last_tid = h->tid;
	c->hdr_pid = h->pid;
	c->xsave_size = h->xsave_size;
	c->state = h->thread_count ? CK_THREADS : CK_BODY;
	return OM_OK;
}

int
om_image_check_thread(struct om_image_check *c, const struct om_image_thread *t)
{
	if (c->state == CK_FAILED)
		return c->err;
	if (c->state != CK_THREADS)
		return ck_fail(c, OM_E_STATE, c->state == CK_BODY ? "more threads than the header announced, "
		    "or a thread after the regions" : "IMAGE_THREAD outside an image");
	if (om_image_thread_valid(t) != OM_OK)
		return ck_fail(c, OM_E_RANGE, "invalid thread");
	if (t->tid == c->hdr_tid || (c->threads > 0 && t->tid <= c->last_tid))
		return ck_fail(c, OM_E_RANGE, "thread ids not ascending, or the header's again");
	if (t->tid == c->hdr_pid)
		return ck_fail(c, OM_E_RANGE, "a thread with the leader's tid, which the header says has ended");
	if (t->xsave_size != c->xsave_size)
		return ck_fail(c, OM_E_RANGE, "a thread's FPU area differs from the header's in size");
	c->last_tid = t->tid;
	if (++c->threads == c->threads_expected)
		c->state = CK_BODY;
	return OM_OK;
}

int
om_image_check_region(struct om_image_check *c, const struct om_image_region *r)
{
	if (c->state == CK_FAILED)
		return c->err;
	if (c->state != CK_BODY)
		return ck_fail(c, OM_E_STATE, outside(c, "IMAGE_REGION outside an image"));
	if (ck_close_region(c) != OM_OK)
		return c->err;
	if (c->regions >= c->regions_expected)
		return ck_fail(c, OM_E_RANGE, "more regions than the header announced");
	if (region_valid(r) != OM_OK)
		return ck_fail(c, OM_E_RANGE,
		    "region not page aligned, empty, above the lower half or with bad fields");
	if (r->start < c->prev_end)
		return ck_fail(c, OM_E_RANGE, "region overlaps or precedes the previous one");
	if (r->flags & OM_RF_DELTA) /* only the checkpoint merge takes one (ckpt_merge.h) */
		return ck_fail(c, OM_E_RANGE, "a region of what changed since a checkpoint: not a whole image");
	if (r->kind == OM_RK_VDSO) {
		if (r->start != c->vdso_base || c->vdso_seen)
			return ck_fail(c, OM_E_RANGE, "vdso region does not match vdso_base");
		c->vdso_seen = 1;
	}
	c->prev_end = r->end;
	c->cur_pages = (r->end - r->start) / OM_PAGE_SIZE;
	c->cur_sent = 0;
	c->cur_expected = r->pages_sent;
	c->cur_next = 0;
	c->cur_kind = r->kind;
	c->regions++;
	return OM_OK;
}

int
om_image_check_pages(struct om_image_check *c, const struct om_image_pages *p)
{
	if (c->state == CK_FAILED)
		return c->err;
	if (c->state != CK_BODY || c->regions == 0)
		return ck_fail(c, OM_E_STATE, outside(c, "IMAGE_PAGES before any IMAGE_REGION"));
	if (p->region != c->regions - 1)
		return ck_fail(c, OM_E_RANGE, "IMAGE_PAGES for a region other than the current one");
	if (p->count == 0 || p->count > OM_IMAGE_PAGES_MAX)
		return ck_fail(c, OM_E_RANGE, "bad page count");
	if (p->first < c->cur_next)
		return ck_fail(c, OM_E_RANGE, "IMAGE_PAGES overlap or go backwards");
	if (p->first > c->cur_pages || p->count > c->cur_pages - p->first)
		return ck_fail(c, OM_E_RANGE, "IMAGE_PAGES outside their region");
	if (p->count > c->cur_expected - c->cur_sent)
		return ck_fail(c, OM_E_RANGE, "more pages than the region announced");
	c->cur_next = p->first + p->count;
	c->cur_sent += p->count;
	c->pages += p->count;
	return OM_OK;
}

int
om_image_check_end(struct om_image_check *c, const struct om_image_end *e)
{
	if (c->state == CK_FAILED)
		return c->err;
	if (c->state != CK_BODY)
		return ck_fail(c, OM_E_STATE, outside(c, "IMAGE_END outside an image"));
	if (ck_close_region(c) != OM_OK)
		return c->err;
	if (c->regions != c->regions_expected)
		return ck_fail(c, OM_E_RANGE, "fewer regions than the header announced");
	if (e->regions != c->regions || e->pages != c->pages)
		return ck_fail(c, OM_E_RANGE, "IMAGE_END totals do not match the image");
	if (c->vdso_base != 0 && !c->vdso_seen)
		return ck_fail(c, OM_E_RANGE, "vdso_base set but no vdso region");
	c->state = CK_DONE;
	return OM_OK;
}

int
om_image_check_done(const struct om_image_check *c)
{
	return c->state == CK_DONE;
}
