/* test_image.c - tests for migrate/image.c: round trips, every truncation,
 * trailing bytes, field limits, the streaming validator (order, overlap,
 * alignment, lower half, pages outside their region, END totals) and a
 * deterministic mutation fuzz. Built with ASan/UBSan; every decode reads an
 * exact-size heap copy so a one-byte overread is caught. */
#include <stdlib.h>
#include <string.h>

#define CHECK_PREFIX "image/"
#include "check.h"
#include "image.h"
#include "proto.h"

#define PAGES_BUF (OM_IMAGE_PAGES_HDR + OM_IMAGE_PAGES_MAX * OM_PAGE_SIZE + 64)

static uint8_t buf[PAGES_BUF], buf2[PAGES_BUF];
static uint8_t pagedata[OM_IMAGE_PAGES_MAX * OM_PAGE_SIZE];
static struct om_image_hdr hdr, hdr2;

/* ---- samples */

static void
fill_hdr(struct om_image_hdr *h)
{
	int i;

	memset(h, 0, sizeof *h);
	for (i = 0; i < OM_REG_COUNT; i++)
		h->regs[i] = 0x1111111111111111ull * (uint64_t)(i + 1);
	h->xcr0 = 0x7;
	h->xsave_size = 832;
	for (i = 0; i < (int)h->xsave_size; i++)
		h->xsave[i] = (uint8_t)(i * 7 + 3);
	strcpy(h->cpu.vendor, "GenuineIntel");
	strcpy(h->cpu.model, "Some CPU @ 2.40GHz");
	h->cpu.family = 6;
	h->cpu.leaf1_ecx = 0xfffa3203;
	h->cpu.xcr0 = 7;
	h->cpu.cores = 1;
	h->start_brk = 0x555555559000ull;
	h->brk = 0x55555557a123ull;
	h->mmap_base = 0x7ffff7fff000ull;
	h->sig_blocked = 1ull << 9;
	h->sig_pending = 1ull << 1 | 1ull << 33;
	h->sigq_count = 2;
	h->sigq[0] = (struct om_siginfo){ 2, 0, 0, { 0x39, 0x05 } };
	h->sigq[1] = (struct om_siginfo){ 34, -1, 5, { 1, 2, 3, 4, 5, 6, 7, 8, 42 } };
	for (i = 0; i < OM_NSIG; i++) {
		h->sigact[i].handler = (uint64_t)i;
		h->sigact[i].flags = 0x04000000u + (uint64_t)i;
		h->sigact[i].restorer = 0x401000u + (uint64_t)i;
		h->sigact[i].mask = ~(uint64_t)i;
	}
	h->ss_sp = 0x7000;
	h->ss_flags = 2;
	h->ss_size = 8192;
	h->rseq_addr = 0x7ffff7d8a6a0ull;
	h->rseq_len = 32;
	h->rseq_sig = 0x53053053;
	h->tid_address = 0x7ffff7d8a990ull;
	h->robust_list = 0x7ffff7d8a9a0ull;
	h->robust_len = 24;
	h->pid = 1234;
	h->ppid = 1;
	h->tid = 1234;
	h->pgid = 1234;
	h->sid = 99;
	h->uid = h->euid = h->suid = 1000;
	h->gid = h->egid = h->sgid = 100;
	strcpy(h->sysname, "Linux");
	strcpy(h->nodename, "server");
	strcpy(h->release, "6.1.0-18-amd64");
	strcpy(h->version, "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)");
	strcpy(h->machine, "x86_64");
	strcpy(h->domainname, "(none)");
	h->umask = 022;
	h->clock_realtime = 1700000000123456789ull;
	h->clock_monotonic = 123456789;
	h->clock_boottime = 223456789;
	h->scratch_start = 0x7ffff7a00000ull;
	h->scratch_len = 0x201000;
	h->vdso_base = 0x7ffff7fc1000ull;
	h->usage = (struct om_usage){ 1000000, 2000000, 3, 4, 5120, 60, 7, 8, 9, 4295000000ull };
	h->memlock_max = 8u << 20;
	h->calls = 4000000123u;
	h->itimer[0] = (struct om_itimer){ 223456789, 0 };
	h->itimer[2] = (struct om_itimer){ 5000000, 1000000 };
	h->timer_next_id = 2;
	h->timer_count = 2;
	h->timers[0] = (struct om_timer){ 0, 1, 323456789, 10000000, 0, 34, 0xabcdef, 0 };
	h->timers[1] = (struct om_timer){ 1, 2, 0, 0, 1, 0, 7, 0 };
	h->region_count = 3;
}

static void
fill_region(struct om_image_region *r, uint64_t start, uint64_t npages, uint32_t kind)
{
	memset(r, 0, sizeof *r);
	r->start = start;
	r->end = start + npages * OM_PAGE_SIZE;
	r->prot = OM_PROT_R | OM_PROT_W;
	r->kind = kind;
	r->pages_sent = npages;
	r->file_offset = kind == OM_RK_FILE ? 0x3000 : 0;
	strcpy(r->name, kind == OM_RK_FILE ? "/usr/lib/x86_64-linux-gnu/libc.so.6" : "");
}

/* name(p, len, out): decodes an exact-size heap copy of p[0..len) with
 * decode, so that a read past the end is ASan's to see. */
#define EXACT_DECODER(name, type, decode) \
	static int name(const void *p, size_t len, type *out) \
	{ \
		uint8_t *c = malloc(len ? len : 1); \
		int rc; \
		memcpy(c, p, len); \
		rc = decode(c, len, out); \
		free(c); \
		return rc; \
	}

EXACT_DECODER(dec_hdr, struct om_image_hdr, om_image_hdr_decode)

EXACT_DECODER(dec_region, struct om_image_region, om_image_region_decode)

static int
dec_pages(const void *p, size_t len, struct om_image_pages *pg, uint32_t *sum)
{
	uint8_t *c = malloc(len ? len : 1);
	uint32_t s = 0;
	size_t i;
	int rc;

	memcpy(c, p, len);
	rc = om_image_pages_decode(c, len, pg);
	if (rc == OM_OK)
		for (i = 0; i < (size_t)pg->count * OM_PAGE_SIZE; i++)
			s = s * 31 + pg->data[i];
	if (sum != NULL)
		*sum = s;
	pg->data = NULL; /* points into freed memory */
	free(c);
	return rc;
}

EXACT_DECODER(dec_end, struct om_image_end, om_image_end_decode)

/* ---- round trips */

static void
hdr_roundtrip(void)
{
	int n, n2;

	fill_hdr(&hdr);
	n = om_image_hdr_encode(&hdr, buf, sizeof buf);
	CHECK(n > 0 && (unsigned)n <= OM_IMAGE_HDR_MAX);
	CHECK_EQ(dec_hdr(buf, (size_t)n, &hdr2), OM_OK);
	CHECK(memcmp(hdr.regs, hdr2.regs, sizeof hdr.regs) == 0);
	CHECK_EQ(hdr2.xsave_size, 832);
	CHECK(memcmp(hdr.xsave, hdr2.xsave, hdr.xsave_size) == 0);
	CHECK(memcmp(hdr.sigact, hdr2.sigact, sizeof hdr.sigact) == 0);
	CHECK(strcmp(hdr2.version, hdr.version) == 0);
	CHECK(strcmp(hdr2.cpu.model, hdr.cpu.model) == 0);
	CHECK_EQ(hdr2.cpu.cores, 1);
	CHECK_EQ(hdr2.brk, hdr.brk);
	CHECK_EQ(hdr2.rseq_sig, hdr.rseq_sig);
	CHECK_EQ(hdr2.robust_len, 24);
	CHECK_EQ(hdr2.sgid, 100);
	CHECK_EQ(hdr2.umask, 022);
	CHECK_EQ(hdr2.clock_boottime, hdr.clock_boottime);
	CHECK_EQ(hdr2.scratch_len, hdr.scratch_len);
	CHECK_EQ(hdr2.vdso_base, hdr.vdso_base);
	CHECK_EQ(hdr2.region_count, 3);
	CHECK(memcmp(&hdr2.usage, &hdr.usage, sizeof hdr.usage) == 0);
	CHECK_EQ(hdr2.sigq_count, 2);
	CHECK(memcmp(hdr2.sigq, hdr.sigq, 2 * sizeof hdr.sigq[0]) == 0);
	CHECK_EQ(hdr2.memlock_max, 8u << 20);
	CHECK_EQ(hdr2.calls, 4000000123u);
	CHECK(memcmp(hdr2.itimer, hdr.itimer, sizeof hdr.itimer) == 0);
	CHECK_EQ(hdr2.timer_next_id, 2);
	CHECK_EQ(hdr2.timer_count, 2);
	CHECK(memcmp(hdr2.timers, hdr.timers, 2 * sizeof hdr.timers[0]) == 0);
	/* canonical: re-encoding gives the same bytes */
	n2 = om_image_hdr_encode(&hdr2, buf2, sizeof buf2);
	CHECK_EQ(n2, n);
	CHECK(memcmp(buf, buf2, (size_t)n) == 0);
	/* largest XSAVE area, every timer, every pending instance */
	hdr.xsave_size = OM_XSAVE_MAX;
	hdr.sig_pending = ~0ull;
	hdr.sigq_count = OM_SIGQUEUE_MAX;
	for (n = 0; n < (int)OM_SIGQUEUE_MAX; n++)
		hdr.sigq[n] = (struct om_siginfo){ (uint32_t)n % OM_NSIG + 1, -1, 0, { 0 } };
	hdr.timer_count = OM_TIMERS_MAX;
	for (n = 0; n < (int)OM_TIMERS_MAX; n++)
		hdr.timers[n] = (struct om_timer){ n, 7, 1, 1, 4, 64, 1, 4321 };
	n = om_image_hdr_encode(&hdr, buf, sizeof buf);
	CHECK(n > 0 && (unsigned)n <= OM_IMAGE_HDR_MAX);
	CHECK_EQ(dec_hdr(buf, (size_t)n, &hdr2), OM_OK);
	CHECK(memcmp(hdr.xsave, hdr2.xsave, OM_XSAVE_MAX) == 0);
	/* no XSAVE at all */
	hdr.xsave_size = 0;
	n = om_image_hdr_encode(&hdr, buf, sizeof buf);
	CHECK(n > 0);
	CHECK_EQ(dec_hdr(buf, (size_t)n, &hdr2), OM_OK);
	CHECK_EQ(hdr2.xsave_size, 0);
}

/* ---- IMAGE_THREAD */

static struct om_image_thread thr, thr2;

static void
fill_thread(struct om_image_thread *t, uint32_t tid)
{
	int i;

	memset(t, 0, sizeof *t);
	t->tid = tid;
	for (i = 0; i < OM_REG_COUNT; i++)
		t->regs[i] = 0x0101010101010101ull * (uint64_t)(i + 3);
	t->xsave_size = 832; /* fill_hdr's */
	for (i = 0; i < (int)t->xsave_size; i++)
		t->xsave[i] = (uint8_t)(i * 7);
	t->sig_blocked = 1ull << 9;
	t->sig_pending = 1ull << 11 | 1ull << 33;
	t->sigq_count = 2;
	t->sigq[0] = (struct om_siginfo){ 12, -6, 0, { 1, 2, 3 } };
	t->sigq[1] = (struct om_siginfo){ 34, -1, 0, { 9 } };
	t->ss_sp = 0x7f0000010000ull;
	t->ss_size = 65536;
	t->rseq_addr = 0x7f0000020020ull;
	t->rseq_len = 32;
	t->rseq_sig = 0x53053053;
	t->tid_address = 0x7f00000309d0ull;
	t->robust_list = 0x7f00000309e0ull;
	t->robust_len = 24;
	t->utime_ns = 123456789;
	t->stime_ns = 42;
}

EXACT_DECODER(dec_thread, struct om_image_thread, om_image_thread_decode)

static void
thread_roundtrip(void)
{
	int n, i;

	fill_thread(&thr, 4321);
	n = om_image_thread_encode(&thr, buf, sizeof buf);
	CHECK(n > 0 && (unsigned)n <= OM_IMAGE_THREAD_MAX);
	CHECK_EQ(dec_thread(buf, (size_t)n, &thr2), OM_OK);
	CHECK(memcmp(&thr, &thr2, sizeof thr) == 0); /* every field, the unused tails zero */
	for (i = 0; i < n; i++)
		if (dec_thread(buf, (size_t)i, &thr2) != OM_E_TRUNC) {
			check_fail("thread truncated at %d not OM_E_TRUNC", i);
			return;
		}
	buf[n] = 0;
	CHECK_EQ(dec_thread(buf, (size_t)n + 1, &thr2), OM_E_TRAILING);
	/* the largest: OM_IMAGE_THREAD_MAX holds it */
	thr.xsave_size = OM_XSAVE_MAX;
	thr.sig_pending = ~0ull;
	thr.sigq_count = OM_SIGQUEUE_MAX;
	for (i = 0; i < (int)OM_SIGQUEUE_MAX; i++)
		thr.sigq[i] = (struct om_siginfo){ (uint32_t)i % OM_NSIG + 1, -1, 0, { 0 } };
	n = om_image_thread_encode(&thr, buf, sizeof buf);
	CHECK(n > 0 && (unsigned)n <= OM_IMAGE_THREAD_MAX);
	CHECK_EQ(dec_thread(buf, (size_t)n, &thr2), OM_OK);
	/* what neither side accepts */
	fill_thread(&thr, 0); /* tid 0 */
	CHECK_EQ(om_image_thread_encode(&thr, buf, sizeof buf), OM_E_RANGE);
	fill_thread(&thr, 7);
	thr.xsave_size = OM_XSAVE_MIN - 1;
	CHECK_EQ(om_image_thread_encode(&thr, buf, sizeof buf), OM_E_RANGE);
	fill_thread(&thr, 7);
	thr.sigq[1].signo = 35; /* an instance of a signal not pending */
	CHECK_EQ(om_image_thread_encode(&thr, buf, sizeof buf), OM_E_RANGE);
	fill_thread(&thr, 7);
	n = om_image_thread_encode(&thr, buf, sizeof buf);
	memset(buf + 4 + OM_REG_COUNT * 8, 0xff, 4); /* xsave_size 4 GiB - 1: judged before any copy */
	CHECK_EQ(dec_thread(buf, (size_t)n, &thr2), OM_E_RANGE);
	fill_thread(&thr, 7);
	thr.sigq_count = OM_SIGQUEUE_MAX + 1;
	CHECK_EQ(om_image_thread_encode(&thr, buf, sizeof buf), OM_E_RANGE);
	/* the header's count */
	fill_hdr(&hdr);
	hdr.thread_count = OM_IMAGE_THREADS_MAX;
	n = om_image_hdr_encode(&hdr, buf, sizeof buf);
	CHECK(n > 0);
	CHECK_EQ(dec_hdr(buf, (size_t)n, &hdr2), OM_OK);
	CHECK_EQ(hdr2.thread_count, OM_IMAGE_THREADS_MAX);
	hdr.thread_count = OM_IMAGE_THREADS_MAX + 1;
	CHECK_EQ(om_image_hdr_encode(&hdr, buf, sizeof buf), OM_E_RANGE);
	memset(buf + n - 8, 0xff, 4); /* thread_count, before calls */
	CHECK_EQ(dec_hdr(buf, (size_t)n, &hdr2), OM_E_RANGE);
}

static void
region_roundtrip(void)
{
	struct om_image_region r, r2;
	uint8_t b[OM_IMAGE_REGION_MAX], b2[OM_IMAGE_REGION_MAX];
	int n;

	fill_region(&r, 0x7ffff7d00000ull, 40, OM_RK_FILE);
	r.prot = OM_PROT_R | OM_PROT_X;
	r.flags = OM_RF_SHARED;
	r.pages_sent = 30;
	r.pages_home = 10;
	n = om_image_region_encode(&r, b, sizeof b);
	CHECK(n > 0);
	CHECK_EQ(dec_region(b, (size_t)n, &r2), OM_OK);
	CHECK_EQ(r2.start, r.start);
	CHECK_EQ(r2.end, r.end);
	CHECK_EQ(r2.prot, r.prot);
	CHECK_EQ(r2.kind, OM_RK_FILE);
	CHECK_EQ(r2.flags, OM_RF_SHARED);
	CHECK_EQ(r2.pages_sent, 30);
	CHECK_EQ(r2.pages_home, 10);
	CHECK_EQ(r2.file_offset, 0x3000);
	CHECK(strcmp(r2.name, r.name) == 0);
	CHECK_EQ(om_image_region_encode(&r2, b2, sizeof b2), n);
	CHECK(memcmp(b, b2, (size_t)n) == 0);
	/* longest name fits OM_IMAGE_REGION_MAX */
	memset(r.name, 'a', OM_IMAGE_NAME_MAX);
	r.name[OM_IMAGE_NAME_MAX] = '\0';
	n = om_image_region_encode(&r, b, sizeof b);
	CHECK_EQ(n, OM_IMAGE_REGION_MAX);
	CHECK_EQ(dec_region(b, (size_t)n, &r2), OM_OK);
	/* the highest possible region */
	fill_region(&r, OM_USER_TOP - OM_PAGE_SIZE, 1, OM_RK_STACK);
	n = om_image_region_encode(&r, b, sizeof b);
	CHECK(n > 0);
	CHECK_EQ(dec_region(b, (size_t)n, &r2), OM_OK);
}

static void
pages_roundtrip(void)
{
	struct om_image_pages p;
	uint32_t sum, want = 0;
	size_t i;
	int n;

	for (i = 0; i < sizeof pagedata; i++)
		pagedata[i] = (uint8_t)(i ^ (i >> 12));
	for (i = 0; i < 3 * OM_PAGE_SIZE; i++)
		want = want * 31 + pagedata[i];
	n = om_image_pages_encode(7, 12345, 3, pagedata, buf, sizeof buf);
	CHECK_EQ(n, OM_IMAGE_PAGES_HDR + 3 * OM_PAGE_SIZE);
	CHECK_EQ(dec_pages(buf, (size_t)n, &p, &sum), OM_OK);
	CHECK_EQ(p.region, 7);
	CHECK_EQ(p.first, 12345);
	CHECK_EQ(p.count, 3);
	CHECK_EQ(sum, want);
	n = om_image_pages_encode(0, 0, OM_IMAGE_PAGES_MAX, pagedata, buf, sizeof buf);
	CHECK_EQ(n, OM_IMAGE_PAGES_HDR + OM_IMAGE_PAGES_MAX * OM_PAGE_SIZE);
	CHECK((unsigned)n <= OM_MAX_PAYLOAD);
	CHECK_EQ(dec_pages(buf, (size_t)n, &p, NULL), OM_OK);
	CHECK_EQ(om_image_pages_encode(0, 0, 0, pagedata, buf, sizeof buf), OM_E_RANGE);
	CHECK_EQ(om_image_pages_encode(0, 0, OM_IMAGE_PAGES_MAX + 1, pagedata, buf, sizeof buf),
	    OM_E_RANGE);
	CHECK_EQ(om_image_pages_encode(0, 0, 2, pagedata, buf, OM_IMAGE_PAGES_HDR + OM_PAGE_SIZE),
	    OM_E_NOSPACE);
}

static void
end_roundtrip(void)
{
	struct om_image_end e = { 17, 0x123456789ull }, e2;
	uint8_t b[12];

	CHECK_EQ(om_image_end_encode(&e, b, sizeof b), 12);
	CHECK_EQ(dec_end(b, 12, &e2), OM_OK);
	CHECK_EQ(e2.regions, 17);
	CHECK_EQ(e2.pages, 0x123456789ull);
	CHECK_EQ(om_image_end_encode(&e, b, 11), OM_E_NOSPACE);
}

/* ---- truncation and trailing bytes */

static void
truncations(void)
{
	struct om_image_region r;
	struct om_image_pages p;
	struct om_image_end e = { 1, 2 };
	size_t n, i;

	fill_hdr(&hdr);
	n = (size_t)om_image_hdr_encode(&hdr, buf, sizeof buf);
	for (i = 0; i < n; i++)
		if (dec_hdr(buf, i, &hdr2) != OM_E_TRUNC) {
			check_fail("hdr truncated at %zu not OM_E_TRUNC", i);
			return;
		}
	buf[n] = 0;
	CHECK_EQ(dec_hdr(buf, n + 1, &hdr2), OM_E_TRAILING);

	fill_region(&r, 0x400000, 4, OM_RK_FILE);
	n = (size_t)om_image_region_encode(&r, buf, sizeof buf);
	for (i = 0; i < n; i++)
		CHECK_EQ(dec_region(buf, i, &r), OM_E_TRUNC);
	buf[n] = 0;
	CHECK_EQ(dec_region(buf, n + 1, &r), OM_E_TRAILING);

	n = (size_t)om_image_pages_encode(0, 0, 2, pagedata, buf, sizeof buf);
	for (i = 0; i < n; i += (i < 64 ? 1 : 509))
		CHECK_EQ(dec_pages(buf, i, &p, NULL), OM_E_TRUNC);
	CHECK_EQ(dec_pages(buf, n - 1, &p, NULL), OM_E_TRUNC);
	buf[n] = 0;
	CHECK_EQ(dec_pages(buf, n + 1, &p, NULL), OM_E_TRAILING);

	n = (size_t)om_image_end_encode(&e, buf, sizeof buf);
	for (i = 0; i < n; i++)
		CHECK_EQ(dec_end(buf, i, &e), OM_E_TRUNC);
	CHECK_EQ(dec_end(buf, n + 1, &e), OM_E_TRAILING);
}

/* ---- field limits */

static void
hdr_limits(void)
{
	int n;

	fill_hdr(&hdr);
	hdr.xsave_size = OM_XSAVE_MAX + 1;
	CHECK_EQ(om_image_hdr_encode(&hdr, buf, sizeof buf), OM_E_RANGE);
	hdr.xsave_size = OM_XSAVE_MIN - 1;
	CHECK_EQ(om_image_hdr_encode(&hdr, buf, sizeof buf), OM_E_RANGE);
	fill_hdr(&hdr);
	hdr.xcr0 = 1; /* XSAVE without SSE */
	CHECK_EQ(om_image_hdr_encode(&hdr, buf, sizeof buf), OM_E_RANGE);
	fill_hdr(&hdr);
	hdr.umask = 01000;
	CHECK_EQ(om_image_hdr_encode(&hdr, buf, sizeof buf), OM_E_RANGE);
	fill_hdr(&hdr);
	hdr.cpu.cores = 0;
	CHECK_EQ(om_image_hdr_encode(&hdr, buf, sizeof buf), OM_E_RANGE);
	fill_hdr(&hdr);
	hdr.region_count = OM_IMAGE_REGIONS_MAX + 1;
	CHECK_EQ(om_image_hdr_encode(&hdr, buf, sizeof buf), OM_E_RANGE);
	fill_hdr(&hdr);
	hdr.scratch_start = OM_USER_TOP;
	CHECK_EQ(om_image_hdr_encode(&hdr, buf, sizeof buf), OM_E_RANGE);
	fill_hdr(&hdr);
	hdr.scratch_start += 1;
	CHECK_EQ(om_image_hdr_encode(&hdr, buf, sizeof buf), OM_E_RANGE);
	fill_hdr(&hdr);
	hdr.vdso_base = 0xffffffffff600000ull;
	CHECK_EQ(om_image_hdr_encode(&hdr, buf, sizeof buf), OM_E_RANGE);
	fill_hdr(&hdr);
	strcpy(hdr.nodename, "bad\033name");
	CHECK_EQ(om_image_hdr_encode(&hdr, buf, sizeof buf), OM_E_RANGE);
	/* pending instances: count, signal numbers, each one pending */
	fill_hdr(&hdr);
	hdr.sigq_count = OM_SIGQUEUE_MAX + 1;
	CHECK_EQ(om_image_hdr_encode(&hdr, buf, sizeof buf), OM_E_RANGE);
	fill_hdr(&hdr);
	hdr.sigq[1].signo = 0;
	CHECK_EQ(om_image_hdr_encode(&hdr, buf, sizeof buf), OM_E_RANGE);
	fill_hdr(&hdr);
	hdr.sigq[1].signo = 65;
	CHECK_EQ(om_image_hdr_encode(&hdr, buf, sizeof buf), OM_E_RANGE);
	fill_hdr(&hdr);
	hdr.sigq[0].signo = 3; /* SIGQUIT is not pending */
	CHECK_EQ(om_image_hdr_encode(&hdr, buf, sizeof buf), OM_E_RANGE);
	/* timers: count, ids, clocks, notification */
	fill_hdr(&hdr);
	hdr.timer_count = OM_TIMERS_MAX + 1;
	CHECK_EQ(om_image_hdr_encode(&hdr, buf, sizeof buf), OM_E_RANGE);
	fill_hdr(&hdr);
	hdr.timers[1].id = 0; /* twice */
	CHECK_EQ(om_image_hdr_encode(&hdr, buf, sizeof buf), OM_E_RANGE);
	fill_hdr(&hdr);
	hdr.timers[0].id = -1;
	CHECK_EQ(om_image_hdr_encode(&hdr, buf, sizeof buf), OM_E_RANGE);
	fill_hdr(&hdr);
	hdr.timers[0].clock = 8; /* CLOCK_REALTIME_ALARM: home's only */
	CHECK_EQ(om_image_hdr_encode(&hdr, buf, sizeof buf), OM_E_RANGE);
	fill_hdr(&hdr);
	hdr.timers[0].notify = 3;
	CHECK_EQ(om_image_hdr_encode(&hdr, buf, sizeof buf), OM_E_RANGE);
	fill_hdr(&hdr);
	hdr.timers[0].signo = 65;
	CHECK_EQ(om_image_hdr_encode(&hdr, buf, sizeof buf), OM_E_RANGE);
	fill_hdr(&hdr);
	hdr.timers[0].notify = 4; /* SIGEV_THREAD_ID needs its thread */
	CHECK_EQ(om_image_hdr_encode(&hdr, buf, sizeof buf), OM_E_RANGE);
	hdr.timers[0].tid = 77;
	CHECK(om_image_hdr_encode(&hdr, buf, sizeof buf) > 0);
	hdr.timers[0].notify = 0; /* a thread without SIGEV_THREAD_ID */
	CHECK_EQ(om_image_hdr_encode(&hdr, buf, sizeof buf), OM_E_RANGE);
	fill_hdr(&hdr);
	hdr.timers[1].signo = 0; /* SIGEV_NONE: no signal needed */
	CHECK(om_image_hdr_encode(&hdr, buf, sizeof buf) > 0);
	fill_hdr(&hdr);
	hdr.timer_next_id = 0x80000000u;
	CHECK_EQ(om_image_hdr_encode(&hdr, buf, sizeof buf), OM_E_RANGE);

	/* a peer's XSAVE size above the limit is refused before any copy */
	fill_hdr(&hdr);
	n = om_image_hdr_encode(&hdr, buf, sizeof buf);
	CHECK(n > 0);
	/* xsave_size sits after the registers and xcr0 */
	buf[OM_REG_COUNT * 8 + 8 + 0] = 0x01;
	buf[OM_REG_COUNT * 8 + 8 + 1] = 0x40;
	buf[OM_REG_COUNT * 8 + 8 + 2] = 0x00; /* 0x4001 = 16385 */
	CHECK_EQ(dec_hdr(buf, (size_t)n, &hdr2), OM_E_RANGE);
	buf[OM_REG_COUNT * 8 + 8 + 3] = 0xff;
	CHECK_EQ(dec_hdr(buf, (size_t)n, &hdr2), OM_E_RANGE);
}

static void
region_limits(void)
{
	struct om_image_region r;
	uint8_t b[OM_IMAGE_REGION_MAX];

	fill_region(&r, 0x400000, 4, OM_RK_ANON);
	r.start += 1;
	CHECK_EQ(om_image_region_encode(&r, b, sizeof b), OM_E_RANGE);
	fill_region(&r, 0x400000, 4, OM_RK_ANON);
	r.end -= 8;
	CHECK_EQ(om_image_region_encode(&r, b, sizeof b), OM_E_RANGE);
	fill_region(&r, 0x400000, 4, OM_RK_ANON);
	r.end = r.start;
	CHECK_EQ(om_image_region_encode(&r, b, sizeof b), OM_E_RANGE);
	fill_region(&r, OM_USER_TOP, 1, OM_RK_ANON); /* upper half */
	CHECK_EQ(om_image_region_encode(&r, b, sizeof b), OM_E_RANGE);
	fill_region(&r, OM_USER_TOP - OM_PAGE_SIZE, 2, OM_RK_ANON); /* straddles */
	CHECK_EQ(om_image_region_encode(&r, b, sizeof b), OM_E_RANGE);
	fill_region(&r, 0xffffffffff600000ull, 1, OM_RK_ANON); /* vsyscall */
	CHECK_EQ(om_image_region_encode(&r, b, sizeof b), OM_E_RANGE);
	fill_region(&r, 0x400000, 4, OM_RK_ANON);
	r.prot = 8;
	CHECK_EQ(om_image_region_encode(&r, b, sizeof b), OM_E_RANGE);
	fill_region(&r, 0x400000, 4, 0);
	CHECK_EQ(om_image_region_encode(&r, b, sizeof b), OM_E_RANGE);
	fill_region(&r, 0x400000, 4, 7);
	CHECK_EQ(om_image_region_encode(&r, b, sizeof b), OM_E_RANGE);
	fill_region(&r, 0x400000, 4, OM_RK_ANON);
	r.flags = OM_RF_SHARED | OM_RF_LOCKED;
	CHECK(om_image_region_encode(&r, b, sizeof b) > 0);
	r.flags = OM_RF_SHARED | OM_RF_LOCKED | OM_RF_DELTA;
	CHECK(om_image_region_encode(&r, b, sizeof b) > 0);
	r.flags = 8;
	CHECK_EQ(om_image_region_encode(&r, b, sizeof b), OM_E_RANGE);
	fill_region(&r, 0x400000, 4, OM_RK_ANON);
	r.pages_sent = 5;
	CHECK_EQ(om_image_region_encode(&r, b, sizeof b), OM_E_RANGE);
	fill_region(&r, 0x400000, 4, OM_RK_ANON);
	r.pages_sent = 3;
	r.pages_home = 2;
	CHECK_EQ(om_image_region_encode(&r, b, sizeof b), OM_E_RANGE);
	fill_region(&r, 0x400000, 4, OM_RK_RESERVED);
	CHECK_EQ(om_image_region_encode(&r, b, sizeof b), OM_E_RANGE);
	r.pages_sent = 0;
	CHECK(om_image_region_encode(&r, b, sizeof b) > 0);
	fill_region(&r, 0x400000, 4, OM_RK_FILE);
	r.name[3] = '\n';
	CHECK_EQ(om_image_region_encode(&r, b, sizeof b), OM_E_RANGE);
}

/* ---- the validator, over a small image built as a frame list */

#define FR_MAX 16

struct frame {
	int type;
	struct om_image_thread t;
	struct om_image_region r;
	struct om_image_pages p;
	struct om_image_end e;
};

static struct frame fr[FR_MAX];
static int nfr;

/* BEGIN, [file 0x400000 x4: pages 0-1, 2-3], [heap 0x600000 x8: pages 1, 5-6],
 * [vdso x2: both], END. */
static void
build_image(void)
{
	fill_hdr(&hdr);
	hdr.region_count = 3;
	hdr.vdso_base = 0x7ffff7fc1000ull;
	nfr = 0;
	fr[nfr++].type = OM_T_IMAGE_BEGIN;
	fr[nfr].type = OM_T_IMAGE_REGION;
	fill_region(&fr[nfr++].r, 0x400000, 4, OM_RK_FILE);
	fr[nfr].type = OM_T_IMAGE_PAGES;
	fr[nfr++].p = (struct om_image_pages){ 0, 0, 2, pagedata };
	fr[nfr].type = OM_T_IMAGE_PAGES;
	fr[nfr++].p = (struct om_image_pages){ 0, 2, 2, pagedata };
	fr[nfr].type = OM_T_IMAGE_REGION;
	fill_region(&fr[nfr].r, 0x600000, 8, OM_RK_HEAP);
	fr[nfr++].r.pages_sent = 3;
	fr[nfr].type = OM_T_IMAGE_PAGES;
	fr[nfr++].p = (struct om_image_pages){ 1, 1, 1, pagedata };
	fr[nfr].type = OM_T_IMAGE_PAGES;
	fr[nfr++].p = (struct om_image_pages){ 1, 5, 2, pagedata };
	fr[nfr].type = OM_T_IMAGE_REGION;
	fill_region(&fr[nfr++].r, hdr.vdso_base, 2, OM_RK_VDSO);
	fr[nfr].type = OM_T_IMAGE_PAGES;
	fr[nfr++].p = (struct om_image_pages){ 2, 0, 2, pagedata };
	fr[nfr].type = OM_T_IMAGE_END;
	fr[nfr++].e = (struct om_image_end){ 3, 9 };
}

/* Runs the frames through the validator; returns the first error, or OM_OK
 * when the image is complete. *at is the failing frame's index. */
static int
validate(int *at, const char **why)
{
	struct om_image_check c;
	int i, rc = OM_OK;

	om_image_check_init(&c);
	for (i = 0; i < nfr && rc == OM_OK; i++) {
		switch (fr[i].type) {
		case OM_T_IMAGE_BEGIN: rc = om_image_check_begin(&c, &hdr); break;
		case OM_T_IMAGE_THREAD: rc = om_image_check_thread(&c, &fr[i].t); break;
		case OM_T_IMAGE_REGION: rc = om_image_check_region(&c, &fr[i].r); break;
		case OM_T_IMAGE_PAGES: rc = om_image_check_pages(&c, &fr[i].p); break;
		case OM_T_IMAGE_END: rc = om_image_check_end(&c, &fr[i].e); break;
		}
		*at = i;
	}
	*why = c.why;
	if (rc == OM_OK && !om_image_check_done(&c))
		return OM_E_SHORT;
	return rc;
}

#define EXPECT_INVALID(err, frame) do { \
	int at_; const char *why_; \
	CHECK_EQ(validate(&at_, &why_), (err)); \
	CHECK_EQ(at_, (frame)); \
	CHECK(why_[0] != '\0'); \
} while (0)

static void
check_valid(void)
{
	int at;
	const char *why;

	build_image();
	CHECK_EQ(validate(&at, &why), OM_OK);
	CHECK_EQ(at, nfr - 1);
	/* no regions at all */
	hdr.region_count = 0;
	hdr.vdso_base = 0;
	nfr = 2;
	fr[1].type = OM_T_IMAGE_END;
	fr[1].e = (struct om_image_end){ 0, 0 };
	CHECK_EQ(validate(&at, &why), OM_OK);
	/* incomplete stream */
	build_image();
	nfr--;
	CHECK_EQ(validate(&at, &why), OM_E_SHORT);
}

static void
check_order(void)
{
	build_image();
	fr[0].type = OM_T_IMAGE_REGION; /* no BEGIN */
	fr[0].r = fr[1].r;
	EXPECT_INVALID(OM_E_STATE, 0);
	build_image();
	fr[1].type = OM_T_IMAGE_BEGIN; /* second BEGIN */
	EXPECT_INVALID(OM_E_STATE, 1);
	build_image();
	fr[1] = fr[2]; /* PAGES before any REGION */
	EXPECT_INVALID(OM_E_STATE, 1);
	build_image();
	fr[nfr].type = OM_T_IMAGE_PAGES; /* anything after END */
	fr[nfr++].p = fr[2].p;
	EXPECT_INVALID(OM_E_STATE, nfr - 1);
	build_image();
	fr[nfr++].type = OM_T_IMAGE_BEGIN;
	EXPECT_INVALID(OM_E_STATE, nfr - 1);
}

/* build_image with two threads after BEGIN (frames 1 and 2). */
static void
build_threaded(void)
{
	build_image();
	memmove(&fr[3], &fr[1], (size_t)(nfr - 1) * sizeof fr[0]);
	nfr += 2;
	hdr.thread_count = 2;
	hdr.tid = 100;
	fr[1].type = fr[2].type = OM_T_IMAGE_THREAD;
	fill_thread(&fr[1].t, 101);
	fill_thread(&fr[2].t, 105);
}

static void
check_threads(void)
{
	int at;
	const char *why;

	build_threaded();
	CHECK_EQ(validate(&at, &why), OM_OK);
	fr[1].t.tid = 99; /* below the header's tid is fine: only their order counts */
	CHECK_EQ(validate(&at, &why), OM_OK);
	build_threaded();
	fr[2].t.tid = 101; /* the same tid twice */
	EXPECT_INVALID(OM_E_RANGE, 2);
	build_threaded();
	fr[2].t.tid = 100; /* the header's */
	EXPECT_INVALID(OM_E_RANGE, 2);
	build_threaded();
	fr[2].t.tid = 50; /* not ascending */
	EXPECT_INVALID(OM_E_RANGE, 2);
	build_threaded();
	hdr.pid = 105; /* the header (tid 100) says the leader has ended: 105 cannot be a thread */
	EXPECT_INVALID(OM_E_RANGE, 2);
	build_threaded();
	fr[2].t.tid = OM_TID_MAX + 1;
	EXPECT_INVALID(OM_E_RANGE, 2);
	build_threaded();
	fr[2].t.xsave_size = 1024; /* another FPU area size than the header's */
	EXPECT_INVALID(OM_E_RANGE, 2);
	build_threaded();
	hdr.thread_count = 1; /* more threads than announced */
	EXPECT_INVALID(OM_E_STATE, 2);
	build_threaded();
	hdr.thread_count = 3; /* fewer: the first REGION comes too early */
	EXPECT_INVALID(OM_E_STATE, 3);
	build_threaded();
	fr[nfr] = fr[nfr - 1]; /* a thread after the regions */
	fr[nfr - 1] = fr[1];
	fr[nfr - 1].t.tid = 200;
	nfr++;
	EXPECT_INVALID(OM_E_STATE, nfr - 2);
	build_image();
	fr[1].type = OM_T_IMAGE_THREAD; /* none announced */
	fill_thread(&fr[1].t, 7);
	EXPECT_INVALID(OM_E_STATE, 1);
	build_threaded();
	fr[0].type = OM_T_IMAGE_THREAD; /* before BEGIN */
	fr[0].t = fr[1].t;
	EXPECT_INVALID(OM_E_STATE, 0);
}

static void
check_regions(void)
{
	build_image();
	fr[4].r.start = 0x402000; /* overlaps the file region */
	EXPECT_INVALID(OM_E_RANGE, 4);
	build_image();
	fr[4].r.start = 0x300000; /* below the previous one */
	EXPECT_INVALID(OM_E_RANGE, 4);
	build_image();
	fr[4].r.start = 0x404000; /* touching is fine */
	fr[4].r.end = 0x404000 + 8 * OM_PAGE_SIZE;
	{
		int at;
		const char *why;

		CHECK_EQ(validate(&at, &why), OM_OK);
	}
	build_image();
	fr[4].r.flags = OM_RF_DELTA; /* a checkpoint's delta is never a whole image */
	EXPECT_INVALID(OM_E_RANGE, 4);
	build_image();
	fr[4].r.start = 0x600010; /* unaligned */
	EXPECT_INVALID(OM_E_RANGE, 4);
	build_image();
	fr[4].r.end = 0x600fff;
	EXPECT_INVALID(OM_E_RANGE, 4);
	build_image();
	fr[7].r.start = OM_USER_TOP; /* upper half */
	fr[7].r.end = OM_USER_TOP + 2 * OM_PAGE_SIZE;
	EXPECT_INVALID(OM_E_RANGE, 7);
	build_image();
	fr[7].r.start = 0xffffffffff600000ull; /* vsyscall */
	fr[7].r.end = fr[7].r.start + 2 * OM_PAGE_SIZE;
	EXPECT_INVALID(OM_E_RANGE, 7);
	build_image();
	fr[7].r.start += OM_PAGE_SIZE; /* vdso region elsewhere than vdso_base */
	fr[7].r.end += OM_PAGE_SIZE;
	EXPECT_INVALID(OM_E_RANGE, 7);
	build_image();
	fr[7].r.kind = OM_RK_ANON; /* vdso_base but no vdso region */
	EXPECT_INVALID(OM_E_RANGE, 9);
	build_image();
	hdr.region_count = 2; /* more regions than announced */
	EXPECT_INVALID(OM_E_RANGE, 7);
	build_image();
	hdr.region_count = 4; /* fewer */
	EXPECT_INVALID(OM_E_RANGE, 9);
}

static void
check_pages(void)
{
	build_image();
	fr[6].p.first = 7; /* 7 + 2 > 8 pages: outside the heap region */
	EXPECT_INVALID(OM_E_RANGE, 6);
	build_image();
	fr[6].p.first = 0xffffffffffffffffull; /* offset overflow */
	EXPECT_INVALID(OM_E_RANGE, 6);
	build_image();
	fr[3].p.first = 1; /* overlaps the previous PAGES */
	EXPECT_INVALID(OM_E_RANGE, 3);
	build_image();
	fr[5].p.region = 0; /* not the current region */
	EXPECT_INVALID(OM_E_RANGE, 5);
	build_image();
	fr[5].p.region = 1000;
	EXPECT_INVALID(OM_E_RANGE, 5);
	build_image();
	fr[5].p.count = 0;
	EXPECT_INVALID(OM_E_RANGE, 5);
	build_image();
	fr[4].r.pages_sent = 2; /* more pages than announced */
	EXPECT_INVALID(OM_E_RANGE, 6);
	build_image();
	fr[4].r.pages_sent = 4; /* fewer: found at the next REGION */
	EXPECT_INVALID(OM_E_RANGE, 7);
	build_image();
	fr[8].p.count = 1; /* fewer in the last region: found at END */
	fr[9].e.pages = 8;
	EXPECT_INVALID(OM_E_RANGE, 9);
	build_image();
	fr[4].r.kind = OM_RK_RESERVED; /* pages into a reserved region */
	EXPECT_INVALID(OM_E_RANGE, 4);
}

static void
check_end_totals(void)
{
	build_image();
	fr[9].e.pages = 10;
	EXPECT_INVALID(OM_E_RANGE, 9);
	build_image();
	fr[9].e.regions = 2;
	EXPECT_INVALID(OM_E_RANGE, 9);
	/* sticky: after a failure everything fails the same way */
	{
		struct om_image_check c;
		struct om_image_end e = { 0, 0 };

		om_image_check_init(&c);
		CHECK_EQ(om_image_check_end(&c, &e), OM_E_STATE);
		CHECK_EQ(om_image_check_begin(&c, &hdr), OM_E_STATE);
		CHECK(!om_image_check_done(&c));
	}
}

/* ---- fuzz: mutate valid payloads; a decoder must never crash or overread,
 * and whatever it accepts must re-encode to the same bytes. */

static void
mutate(uint8_t *b, size_t *len, size_t cap)
{
	int k = (int)(check_rand() % 4);
	size_t i;

	switch (k) {
	case 0: /* flip bytes */
		for (i = 0; i < 1 + check_rand() % 4 && *len > 0; i++)
			b[check_rand() % *len] ^= (uint8_t)(1u << (check_rand() % 8));
		break;
	case 1: /* truncate */
		if (*len > 0)
			*len = (size_t)(check_rand() % *len);
		break;
	case 2: /* extend with random bytes */
		for (i = 0; i < 1 + check_rand() % 8 && *len < cap; i++)
			b[(*len)++] = (uint8_t)check_rand();
		break;
	case 3: /* overwrite a 32-bit field with an extreme value */
		if (*len >= 4) {
			size_t at = (size_t)(check_rand() % (*len - 3));
			uint32_t v = check_rand() % 2 ? 0xffffffffu : 0x80000000u;

			memcpy(b + at, &v, 4);
		}
		break;
	}
}

static void
fuzz_decoders(void)
{
	struct om_image_region r;
	struct om_image_pages p;
	struct om_image_end e;
	size_t len;
	int i, rc, n;

	check_seed(0xfeedface12345678ull);
	for (i = 0; i < 50000; i++) {
		int which = i % 5;

		switch (which) {
		case 0:
			fill_hdr(&hdr);
			hdr.xsave_size = 576 + (uint32_t)(check_rand() % 64) * 64;
			n = om_image_hdr_encode(&hdr, buf, sizeof buf);
			break;
		case 1:
			fill_region(&r, 0x400000 + (check_rand() % 64) * OM_PAGE_SIZE, 1 + check_rand() % 8,
			    OM_RK_FILE);
			n = om_image_region_encode(&r, buf, sizeof buf);
			break;
		case 2:
			n = om_image_pages_encode((uint32_t)check_rand(), check_rand() % 1000,
			    1 + (uint32_t)(check_rand() % 3), pagedata, buf, sizeof buf);
			break;
		case 3:
			fill_thread(&thr, 1 + (uint32_t)(check_rand() % 100000));
			thr.sigq_count = (uint32_t)(check_rand() % 3);
			n = om_image_thread_encode(&thr, buf, sizeof buf);
			break;
		default:
			e.regions = (uint32_t)check_rand();
			e.pages = check_rand();
			n = om_image_end_encode(&e, buf, sizeof buf);
			break;
		}
		CHECK(n > 0);
		len = (size_t)n;
		mutate(buf, &len, sizeof buf);
		switch (which) {
		case 0:
			rc = dec_hdr(buf, len, &hdr2);
			if (rc == OM_OK) {
				CHECK_EQ(om_image_hdr_encode(&hdr2, buf2, sizeof buf2), (int)len);
				CHECK(memcmp(buf, buf2, len) == 0);
			}
			break;
		case 1:
			rc = dec_region(buf, len, &r);
			if (rc == OM_OK) {
				CHECK_EQ(om_image_region_encode(&r, buf2, sizeof buf2), (int)len);
				CHECK(memcmp(buf, buf2, len) == 0);
			}
			break;
		case 2:
			rc = dec_pages(buf, len, &p, NULL);
			if (rc == OM_OK)
				CHECK_EQ((size_t)p.count * OM_PAGE_SIZE + OM_IMAGE_PAGES_HDR, len);
			break;
		case 3:
			rc = dec_thread(buf, len, &thr2);
			if (rc == OM_OK) {
				CHECK_EQ(om_image_thread_encode(&thr2, buf2, sizeof buf2), (int)len);
				CHECK(memcmp(buf, buf2, len) == 0);
			}
			break;
		default:
			rc = dec_end(buf, len, &e);
			if (rc == OM_OK)
				CHECK_EQ(len, 12);
			break;
		}
		CHECK(rc == OM_OK || rc == OM_E_TRUNC || rc == OM_E_TRAILING || rc == OM_E_RANGE);
	}
}

/* Random frame sequences: the validator never crashes, and anything it
 * accepts satisfies the invariants the node relies on. */
static void
fuzz_validator(void)
{
	struct om_image_check c;
	int i, j, rc;

	check_seed(7);
	for (i = 0; i < 50000; i++) {
		uint64_t last_end = 0;

		build_image();
		for (j = 0; j < 2; j++) {
			struct frame *f = &fr[check_rand() % (uint64_t)nfr];

			switch (check_rand() % 6) {
			case 0: f->r.start += (check_rand() % 3) * OM_PAGE_SIZE; break;
			case 1: f->r.end -= (check_rand() % 3) * OM_PAGE_SIZE; break;
			case 2: f->p.first = check_rand() % 10; break;
			case 3: f->p.count = (uint32_t)(check_rand() % 4); break;
			case 4: f->type = OM_T_IMAGE_BEGIN + (int)(check_rand() % 4); break;
			case 5: f->e.pages = check_rand() % 12; break;
			}
		}
		om_image_check_init(&c);
		rc = OM_OK;
		for (j = 0; j < nfr && rc == OM_OK; j++) {
			switch (fr[j].type) {
			case OM_T_IMAGE_BEGIN: rc = om_image_check_begin(&c, &hdr); break;
			case OM_T_IMAGE_REGION:
				rc = om_image_check_region(&c, &fr[j].r);
				if (rc == OM_OK) {
					CHECK(fr[j].r.start >= last_end);
					CHECK(fr[j].r.end <= OM_USER_TOP);
					last_end = fr[j].r.end;
				}
				break;
			case OM_T_IMAGE_PAGES:
				rc = om_image_check_pages(&c, &fr[j].p);
				if (rc == OM_OK)
					CHECK(fr[j].p.first + fr[j].p.count <= c.cur_pages);
				break;
			case OM_T_IMAGE_END: rc = om_image_check_end(&c, &fr[j].e); break;
			}
		}
		CHECK(rc == OM_OK || rc == OM_E_RANGE || rc == OM_E_STATE);
		if (rc != OM_OK)
			CHECK(c.why[0] != '\0');
	}
}

int
main(void)
{
	RUN(hdr_roundtrip);
	RUN(thread_roundtrip);
	RUN(region_roundtrip);
	RUN(pages_roundtrip);
	RUN(end_roundtrip);
	RUN(truncations);
	RUN(hdr_limits);
	RUN(region_limits);
	RUN(check_valid);
	RUN(check_order);
	RUN(check_threads);
	RUN(check_regions);
	RUN(check_pages);
	RUN(check_end_totals);
	RUN(fuzz_decoders);
	RUN(fuzz_validator);
	return check_exit();
}
