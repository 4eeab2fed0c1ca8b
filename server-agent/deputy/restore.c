/* restore.c - make the stopped tracee match an image (contract in
 * restore.h; mmap(2), madvise(2) MADV_DONTNEED, brk(2), rseq(2),
 * ptrace(2) PTRACE_SETREGSET NT_X86_XSTATE). */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <unistd.h>

#include "restore.h"
#include "timers.h"

#ifndef PTRACE_GET_RSEQ_CONFIGURATION
#define PTRACE_GET_RSEQ_CONFIGURATION 0x420f
#endif
#define RSEQ_FLAG_UNREGISTER 1
#define FXSAVE_SIZE 512 /* the legacy area, NT_PRFPREG */
enum { CODE_HOME = 1, CODE_FILE = 2 }; /* code_region: compared with home's, checked by file_code */

static int __attribute__((format(printf, 3, 4)))
rs_fail(struct restore *r, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, r->errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/* Injects a call and turns a failed call into an error with a message. */
static int
rs_call(struct restore *r, const char *what, long nr, uint64_t a0, uint64_t a1,
    uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, int64_t *ret)
{
	uint64_t a[6] = { a0, a1, a2, a3, a4, a5 };
	int64_t v;
	int rc;

	if ((rc = inject_syscall(r->in, nr, a, &v)) != 0)
		return rs_fail(r, rc, "%s: injection failed: %s", what, strerror(-rc));
	if (ret != NULL) {
		*ret = v;
		return 0;
	}
	if (v < 0 && v > -4096)
		return rs_fail(r, (int)v, "%s: %s", what, strerror((int)-v));
	return 0;
}

static int
protected_kind(uint32_t kind)
{
	return kind == 0 || kind == OM_RK_VDSO || kind == OM_RK_RESERVED;
}

static uint32_t
home_kind(const struct restore *r, const struct capture_map *m)
{
	return capture_map_kind(m, r->in->scratch, r->in->scratch_len);
}

/* Unmaps the unprotected parts of home mappings inside [lo, hi). */
static int
unmap_gap(struct restore *r, uint64_t lo, uint64_t hi)
{
	size_t i;
	int rc;

	for (i = 0; i < r->nhome; i++) {
		const struct capture_map *m = &r->home[i];
		uint64_t s = m->start > lo ? m->start : lo;
		uint64_t e = m->end < hi ? m->end : hi;

		if (s >= e || protected_kind(home_kind(r, m)))
			continue;
		if ((rc = rs_call(r, "munmap", SYS_munmap, s, e - s, 0, 0, 0, 0, NULL)) != 0)
			return rc;
	}
	return 0;
}

static int
prot_bits(uint32_t p)
{
	return ((p & OM_PROT_R) ? PROT_READ : 0) | ((p & OM_PROT_W) ? PROT_WRITE : 0) |
	    ((p & OM_PROT_X) ? PROT_EXEC : 0);
}

static int
same_class(const struct restore *r, const struct capture_map *m,
    const struct om_image_region *reg)
{
	if (home_kind(r, m) != reg->kind || m->shared != ((reg->flags & OM_RF_SHARED) != 0))
		return 0;
	if (reg->kind == OM_RK_FILE)
		return strcmp(m->name, reg->name) == 0 &&
		    m->offset + (reg->start - m->start) == reg->file_offset;
	return 1;
}

struct rseq_config {
	uint64_t ptr;
	uint32_t size, sig, flags, pad;
};

static void
rseq_current(struct restore *r, struct rseq_config *c)
{
	memset(c, 0, sizeof *c);
	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, r->in->pid, (void *)sizeof *c, c) <= 0)
		memset(c, 0, sizeof *c);
}

static void
rseq_unregister(struct restore *r)
{
	struct rseq_config c;
	int64_t v;

	rseq_current(r, &c);
	if (c.ptr != 0)
		(void)rs_call(r, "rseq (unregister)", SYS_rseq, c.ptr, c.size,
		    RSEQ_FLAG_UNREGISTER, c.sig, 0, 0, &v);
}

int
restore_begin(struct restore *r, struct inject *in, const struct om_image_hdr *h,
    char *err, size_t errlen)
{
	struct inject *(*thread_in)(void *, pid_t) = r->thread_in;
	void *thread_ctx = r->thread_ctx;
	int (*file_code)(void *, uint64_t, const uint8_t *, char *, size_t) = r->file_code;
	int (*home_file)(void *, const char *, char *, size_t) = r->home_file;
	void *file_code_ctx = r->file_code_ctx;
	int64_t v;
	int rc;

	memset(r, 0, sizeof *r);
	r->thread_in = thread_in;
	r->thread_ctx = thread_ctx;
	r->file_code = file_code;
	r->home_file = home_file;
	r->file_code_ctx = file_code_ctx;
	r->in = in;
	r->err = err;
	r->errlen = errlen;
	err[0] = '\0';
	om_image_check_init(&r->check);
	if ((rc = om_image_check_begin(&r->check, h)) != OM_OK)
		return rs_fail(r, rc, "bad image: %s", r->check.why);
	if (h->thread_count && !thread_in)
		return rs_fail(r, -ENOTSUP, "the image has %u more threads: this restore takes a process with one "
		    "thread only", h->thread_count);
	if (h->tid != h->pid)
		return rs_fail(r, -ENOTSUP, "the process's first thread (%u) ended where it ran: home takes it "
		    "back only with that thread", h->pid);
	if (in->stub == 0)
		return rs_fail(r, -EINVAL, "no scratch region (inject_setup first)");
	if ((r->hdr = malloc(sizeof *r->hdr)) == NULL)
		return rs_fail(r, -ENOMEM, "out of memory");
	memcpy(r->hdr, h, sizeof *h);
	/* While memory is rebuilt the rseq area may vanish for a while, and
	 * the kernel writes it on every return to user space: unregister now
	 * (best effort), register again at the end. */
	rseq_unregister(r);
	/* brk first: the kernel keeps the heap as start_brk..brk, and only
	 * brk(2) moves mm->brk. */
	if ((rc = rs_call(r, "brk", SYS_brk, h->brk, 0, 0, 0, 0, 0, &v)) != 0)
		return rc;
	if ((uint64_t)v != h->brk)
		return rs_fail(r, -ENOMEM, "brk: cannot move the break to %#llx (it is %#llx)",
		    (unsigned long long)h->brk, (unsigned long long)v);
	if ((rc = capture_read_maps(in->pid, in->scratch, in->scratch_len, &r->home, &r->nhome)) != 0)
		return rs_fail(r, rc, "/proc/%d/maps: %s", (int)in->pid, strerror(-rc));
	return 0;
}

/* The code the image may run at home: its code regions and the vDSO. */
static int
add_code(struct restore *r, uint64_t start, uint64_t end)
{
	struct restore_code *grown = realloc(r->code, (r->ncode + 1) * sizeof *grown);

	if (grown == NULL)
		return rs_fail(r, -ENOMEM, "out of memory");
	r->code = grown;
	r->code[r->ncode].start = start;
	r->code[r->ncode++].end = end;
	return 0;
}

static int
in_code(const struct restore *r, uint64_t addr)
{
	for (size_t i = 0; i < r->ncode; i++)
		if (addr >= r->code[i].start && addr < r->code[i].end)
			return 1;
	return 0;
}

/* The home mapping at addr, or NULL. */
static const struct capture_map *
home_at(const struct restore *r, uint64_t addr)
{
	for (size_t i = 0; i < r->nhome; i++)
		if (r->home[i].start <= addr && addr < r->home[i].end)
			return &r->home[i];
	return NULL;
}

/* An executable region is the home's code, kept as it is: home mappings
 * that cover it, executable when the job left, with the same protection,
 * kind and sharing. (Not the same file name and offset: a node keeps
 * neither, and the pages themselves are checked.) Its pages are
 * compared, never written, and not discarded: a page the node does not
 * send reads as it did when the job left. Or it is a file mapping the
 * node made, which file_code checks page by page: 1 then, the region to
 * be placed as any other. */
static int
take_code(struct restore *r, const struct om_image_region *reg, const struct capture_map **kept)
{
	const struct capture_map *m = NULL, *first = NULL;
	uint64_t at;

	for (at = reg->start; at < reg->end; at = m->end) {
		m = home_at(r, at);
		if (m == NULL || m->prot != reg->prot || home_kind(r, m) != reg->kind ||
		    m->shared != ((reg->flags & OM_RF_SHARED) != 0))
			break;
		if (at == reg->start)
			first = m;
	}
	if (at < reg->end && reg->kind == OM_RK_FILE && !(reg->flags & OM_RF_SHARED) && r->file_code) {
		r->code_region = CODE_FILE;
		return add_code(r, reg->start, reg->end) == 0 ? 1 : -ENOMEM;
	}
	if (at < reg->end)
		return rs_fail(r, -EPERM, "the node sends executable memory at %#llx-%#llx%s%s%s that the job "
		    "did not have when it left: home runs no code a node made or changed",
		    (unsigned long long)reg->start, (unsigned long long)reg->end,
		    reg->name[0] ? " (" : "", reg->name, reg->name[0] ? ")" : "");
	for (at = reg->start; r->home_file && at < reg->end; at = m->end) {
		char why[160 + OM_IMAGE_NAME_MAX];
		m = home_at(r, at);
		if (m->inode != 0 && m->name[0] == '/' &&
		    r->home_file(r->file_code_ctx, m->name, why, sizeof why) != 0)
			return rs_fail(r, -EPERM, "home's code at %#llx-%#llx is refused (%s): home runs no code "
			    "a node made or changed", (unsigned long long)m->start, (unsigned long long)m->end, why);
	}
	r->code_region = CODE_HOME;
	*kept = first;
	return add_code(r, reg->start, reg->end);
}

/* Whether shared mapping m is another view of a file home runs code
 * from (a JIT's writable twin of its code, a memfd mapped twice): a page
 * written there changes the code. */
static int
aliases_code(const struct restore *r, const struct capture_map *m)
{
	for (size_t i = 0; m->inode != 0 && i < r->nhome; i++)
		if ((r->home[i].prot & OM_PROT_X) && r->home[i].inode == m->inode &&
		    strcmp(r->home[i].name, m->name) == 0)
			return 1;
	return 0;
}

/* The pages the image sends for a code region must be the home's. */
static int
compare_code(struct restore *r, uint64_t addr, const struct om_image_pages *p)
{
	size_t len = (size_t)p->count * OM_PAGE_SIZE;
	int rc;

	if (r->compare == NULL && (r->compare = malloc((size_t)OM_IMAGE_PAGES_MAX * OM_PAGE_SIZE)) == NULL)
		return rs_fail(r, -ENOMEM, "out of memory");
	if ((rc = inject_read(r->in, addr, r->compare, len)) != 0)
		return rs_fail(r, rc, "reading the home's code at %#llx: %s", (unsigned long long)addr,
		    strerror(-rc));
	for (uint32_t k = 0; k < p->count; k++)
		if (memcmp(r->compare + (size_t)k * OM_PAGE_SIZE, p->data + (size_t)k * OM_PAGE_SIZE,
		    OM_PAGE_SIZE) != 0)
			return rs_fail(r, -EPERM, "the code page at %#llx%s%s%s changed on the node: home "
			    "runs no code a node made or changed",
			    (unsigned long long)(addr + (uint64_t)k * OM_PAGE_SIZE), r->cur_name[0] ? " (" : "",
			    r->cur_name, r->cur_name[0] ? ")" : "");
	return 0;
}

/* Each page of a file region the node mapped executable must be the
 * file's (file_code). */
static int
file_code_pages(struct restore *r, uint64_t addr, const struct om_image_pages *p)
{
	char why[160 + OM_IMAGE_NAME_MAX];

	for (uint32_t k = 0; k < p->count; k++) {
		uint64_t at = addr + (uint64_t)k * OM_PAGE_SIZE;
		if (r->file_code(r->file_code_ctx, at, p->data + (size_t)k * OM_PAGE_SIZE, why, sizeof why) != 0)
			return rs_fail(r, -EPERM, "the code page at %#llx, which the node mapped from a file, is "
			    "refused (%s): home runs no code a node made or changed", (unsigned long long)at, why);
	}
	return 0;
}

/* The stack grew on the node: the part below the home's [stack] becomes a
 * MAP_GROWSDOWN mapping, so it can keep growing. */
static int
extend_stack(struct restore *r, const struct om_image_region *reg, uint64_t home_start)
{
	return rs_call(r, "mmap (stack)", SYS_mmap, reg->start, home_start - reg->start,
	    (uint64_t)prot_bits(reg->prot),
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN, (uint64_t)-1, 0, NULL);
}

/* Maps the region (or keeps and adapts the home's); *kept says which home
 * mapping stayed, if one did. */
static int
place_region(struct restore *r, const struct om_image_region *reg, const struct capture_map **kept)
{
	const struct capture_map *keep = NULL;
	uint64_t len = reg->end - reg->start;
	size_t i;
	int rc;

	if ((rc = om_image_check_region(&r->check, reg)) != OM_OK)
		return rs_fail(r, rc, "bad image: %s", r->check.why);
	if ((rc = unmap_gap(r, r->prev_end, reg->start)) != 0)
		return rc;
	r->prev_end = reg->end;
	r->write_pages = 0;
	r->code_region = 0;
	r->cur_start = reg->start;
	snprintf(r->cur_name, sizeof r->cur_name, "%s", reg->name);

	/* The vDSO and the scratch region stay as the home has them. */
	if (reg->kind == OM_RK_VDSO || reg->kind == OM_RK_RESERVED) {
		for (i = 0; i < r->nhome; i++)
			if (r->home[i].start == reg->start && r->home[i].end == reg->end &&
			    home_kind(r, &r->home[i]) == reg->kind)
				return reg->kind == OM_RK_VDSO ? add_code(r, reg->start, reg->end) : 0;
		return rs_fail(r, -EINVAL, "image %s region %#llx-%#llx is not the home's",
		    om_region_kind_name(reg->kind), (unsigned long long)reg->start,
		    (unsigned long long)reg->end);
	}
	for (i = 0; i < r->nhome; i++) {
		const struct capture_map *m = &r->home[i];

		if (m->end <= reg->start || m->start >= reg->end)
			continue;
		if (protected_kind(home_kind(r, m)))
			return rs_fail(r, -EINVAL, "image region %#llx-%#llx overlaps the home's %s",
			    (unsigned long long)reg->start, (unsigned long long)reg->end,
			    m->name[0] ? m->name : "scratch region");
		/* The home mapping may be larger (the kernel merged what the
		 * node kept apart): the calls below split it. */
		if (same_class(r, m, reg) &&
		    ((m->start <= reg->start && m->end >= reg->end) ||
		    (reg->kind == OM_RK_STACK && m->end == reg->end)))
			keep = m;
	}
	r->write_pages = 1;
	*kept = keep;
	if (reg->prot & OM_PROT_X) {
		if ((rc = take_code(r, reg, kept)) != 1)
			return rc;
		*kept = keep = NULL; /* a node's file code: its pages and zeros, never a file's home reads */
	} else if (keep != NULL && keep->shared && aliases_code(r, keep))
		r->code_region = CODE_HOME; /* what is written there is written into code: compared */
	if (keep == NULL) {
		/* Anything there goes; the region starts as zero pages. */
		return rs_call(r, "mmap", SYS_mmap, reg->start, len, (uint64_t)prot_bits(reg->prot),
		    (uint64_t)((reg->flags & OM_RF_SHARED) ? MAP_SHARED : MAP_PRIVATE) |
		    MAP_ANONYMOUS | MAP_FIXED, (uint64_t)-1, 0, NULL);
	}
	if (reg->kind == OM_RK_STACK && keep->start > reg->start &&
	    (rc = extend_stack(r, reg, keep->start)) != 0)
		return rc;
	/* A home stack larger than the image's was cut by unmap_gap. */
	if (keep->prot != reg->prot &&
	    (rc = rs_call(r, "mprotect", SYS_mprotect, reg->start, len,
	    (uint64_t)prot_bits(reg->prot), 0, 0, 0, NULL)) != 0)
		return rc;
	if (!keep->shared)
		return rs_call(r, "madvise", SYS_madvise, reg->start, len, MADV_DONTNEED,
		    0, 0, 0, NULL);
	return 0;
}

/* A locked region is locked at home too (and a home lock the image does
 * not have is undone). */
int
restore_region(struct restore *r, const struct om_image_region *reg)
{
	const struct capture_map *keep = NULL;
	uint64_t len = reg->end - reg->start;
	int rc = place_region(r, reg, &keep);

	if (rc != 0 || reg->kind == OM_RK_VDSO || reg->kind == OM_RK_RESERVED)
		return rc;
	if (reg->flags & OM_RF_LOCKED)
		return rs_call(r, "mlock", SYS_mlock, reg->start, len, 0, 0, 0, 0, NULL);
	if (keep != NULL && keep->locked)
		return rs_call(r, "munlock", SYS_munlock, reg->start, len, 0, 0, 0, 0, NULL);
	return 0;
}

int
restore_pages(struct restore *r, const struct om_image_pages *p)
{
	uint64_t addr;
	int rc;

	if ((rc = om_image_check_pages(&r->check, p)) != OM_OK)
		return rs_fail(r, rc, "bad image: %s", r->check.why);
	if (!r->write_pages)
		return 0;
	addr = r->cur_start + p->first * OM_PAGE_SIZE;
	if (r->code_region == CODE_HOME)
		return compare_code(r, addr, p);
	if (r->code_region == CODE_FILE && (rc = file_code_pages(r, addr, p)) != 0)
		return rc;
	if ((rc = inject_write(r->in, addr, p->data, (size_t)p->count * OM_PAGE_SIZE)) != 0)
		return rs_fail(r, rc, "writing %u pages at %#llx: %s", p->count,
		    (unsigned long long)addr, strerror(-rc));
	r->pages_written += p->count;
	return 0;
}

/* What one thread of the image holds: the header's (the leader), or an
 * IMAGE_THREAD's. */
struct thread_state {
	const uint64_t *regs;
	const uint8_t *xsave;
	uint32_t xsave_size;
	uint64_t sig_blocked, ss_sp, ss_size;
	uint32_t ss_flags;
	uint64_t rseq_addr;
	uint32_t rseq_len, rseq_sig;
	uint64_t tid_address, robust_list, robust_len;
};

#define STATE_OF(s, x) do { \
	(s)->regs = (x)->regs; (s)->xsave = (x)->xsave; (s)->xsave_size = (x)->xsave_size; \
	(s)->sig_blocked = (x)->sig_blocked; (s)->ss_sp = (x)->ss_sp; (s)->ss_size = (x)->ss_size; \
	(s)->ss_flags = (x)->ss_flags; (s)->rseq_addr = (x)->rseq_addr; (s)->rseq_len = (x)->rseq_len; \
	(s)->rseq_sig = (x)->rseq_sig; (s)->tid_address = (x)->tid_address; \
	(s)->robust_list = (x)->robust_list; (s)->robust_len = (x)->robust_len; \
} while (0)

static int
restore_actions(struct restore *r)
{
	const struct om_image_hdr *h = r->hdr;
	uint64_t d = r->in->data;
	int sig, rc;

	for (sig = 1; sig <= OM_NSIG; sig++) {
		if (sig == 9 || sig == 19) /* SIGKILL, SIGSTOP: fixed */
			continue;
		if ((rc = inject_write(r->in, d, &h->sigact[sig - 1], sizeof h->sigact[0])) != 0)
			return rs_fail(r, rc, "writing sigaction: %s", strerror(-rc));
		if ((rc = rs_call(r, "rt_sigaction", SYS_rt_sigaction, (uint64_t)sig, d, 0, 8,
		    0, 0, NULL)) != 0)
			return rc;
	}
	return 0;
}

/* The thread state that calls set, injected in r->in's thread. */
static int
restore_thread(struct restore *r, const struct thread_state *s)
{
	uint64_t d = r->in->data, ss[3];
	struct rseq_config cur;
	int rc;

	if ((rc = inject_write(r->in, d, &s->sig_blocked, 8)) != 0)
		return rs_fail(r, rc, "writing the signal mask: %s", strerror(-rc));
	if ((rc = rs_call(r, "rt_sigprocmask", SYS_rt_sigprocmask, 2 /* SIG_SETMASK */, d,
	    0, 8, 0, 0, NULL)) != 0)
		return rc;
	ss[0] = s->ss_sp;
	ss[1] = s->ss_flags & ~1u; /* SS_ONSTACK is reported, not set */
	ss[2] = s->ss_size;
	if (s->ss_flags & 2 /* SS_DISABLE */)
		ss[0] = ss[2] = 0;
	if ((rc = inject_write(r->in, d, ss, sizeof ss)) != 0)
		return rs_fail(r, rc, "writing stack_t: %s", strerror(-rc));
	if ((rc = rs_call(r, "sigaltstack", SYS_sigaltstack, d, 0, 0, 0, 0, 0, NULL)) != 0)
		return rc;
	rseq_current(r, &cur);
	if (cur.ptr != s->rseq_addr || cur.size != s->rseq_len || cur.sig != s->rseq_sig) {
		if (cur.ptr != 0 && (rc = rs_call(r, "rseq (unregister)", SYS_rseq, cur.ptr,
		    cur.size, RSEQ_FLAG_UNREGISTER, cur.sig, 0, 0, NULL)) != 0)
			return rc;
		if (s->rseq_addr != 0 && (rc = rs_call(r, "rseq", SYS_rseq, s->rseq_addr,
		    s->rseq_len, 0, s->rseq_sig, 0, 0, NULL)) != 0)
			return rc;
	}
	if ((rc = rs_call(r, "set_tid_address", SYS_set_tid_address, s->tid_address, 0, 0, 0,
	    0, 0, NULL)) != 0)
		return rc;
	if (s->robust_len != 0 && (rc = rs_call(r, "set_robust_list", SYS_set_robust_list,
	    s->robust_list, s->robust_len, 0, 0, 0, 0, NULL)) != 0)
		return rc;
	return 0;
}

/* A home CPU without XSAVE takes the legacy area only (NT_PRFPREG); an
 * image's XSAVE header leaving x87 or SSE out means their initial state
 * (SDM vol. 1, 13.6), which FXRSTOR has no bit for. */
static int
restore_fxsave(struct restore *r, const struct thread_state *s)
{
	uint8_t fx[FXSAVE_SIZE];
	struct iovec iov = { fx, sizeof fx };
	uint64_t bv;

	memcpy(fx, s->xsave, sizeof fx);
	memcpy(&bv, s->xsave + FXSAVE_SIZE, sizeof bv);
	if (!(bv & 1)) {
		memset(fx, 0, 24);          /* FCW .. FDP */
		fx[0] = 0x7f, fx[1] = 0x03; /* FCW 0x37f */
		memset(fx + 32, 0, 128);    /* ST0-7 */
	}
	if (!(bv & 2))
		memset(fx + 160, 0, 256);   /* XMM0-15 */
	if (ptrace(PTRACE_SETREGSET, r->in->pid, (void *)NT_PRFPREG, &iov) == -1)
		return rs_fail(r, -errno, "PTRACE_SETREGSET NT_PRFPREG: %s", strerror(errno));
	return 0;
}

/* The XSAVE area and registers of r->in's thread. */
static int
restore_regs(struct restore *r, const struct thread_state *s)
{
	const uint64_t *g = s->regs;
	struct user_regs_struct regs;
	struct iovec iov;
	uint8_t *cur;
	uint64_t xcr0;
	int rc;

	if (s->xsave_size != 0 && capture_xsave_size(&xcr0) == 0) {
		if ((rc = restore_fxsave(r, s)) != 0)
			return rc;
	} else if (s->xsave_size != 0) {
		/* The kernel takes a whole area of its own size only. A node
		 * with fewer state components sends a smaller one: the standard
		 * format puts every component at the same offset everywhere, so
		 * it overlays the start of ours, and XSTATE_BV (which it sets)
		 * leaves the components it lacks in their initial state. */
		if ((cur = malloc(OM_XSAVE_MAX)) == NULL)
			return rs_fail(r, -ENOMEM, "out of memory");
		iov.iov_base = cur;
		iov.iov_len = OM_XSAVE_MAX;
		if (ptrace(PTRACE_GETREGSET, r->in->pid, (void *)NT_X86_XSTATE, &iov) == -1 ||
		    iov.iov_len < s->xsave_size) {
			free(cur);
			return rs_fail(r, -EINVAL, "XSAVE area: the image has %u bytes, home %zu",
			    s->xsave_size, iov.iov_len);
		}
		memcpy(cur, s->xsave, s->xsave_size);
		if (ptrace(PTRACE_SETREGSET, r->in->pid, (void *)NT_X86_XSTATE, &iov) == -1) {
			free(cur);
			return rs_fail(r, -errno, "PTRACE_SETREGSET NT_X86_XSTATE: %s",
			    strerror(errno));
		}
		free(cur);
	}
	if (ptrace(PTRACE_GETREGS, r->in->pid, NULL, &regs) == -1)
		return rs_fail(r, -errno, "PTRACE_GETREGS: %s", strerror(errno));
	regs.rax = g[OM_REG_RAX];
	regs.rbx = g[OM_REG_RBX];
	regs.rcx = g[OM_REG_RCX];
	regs.rdx = g[OM_REG_RDX];
	regs.rsi = g[OM_REG_RSI];
	regs.rdi = g[OM_REG_RDI];
	regs.rbp = g[OM_REG_RBP];
	regs.rsp = g[OM_REG_RSP];
	regs.r8 = g[OM_REG_R8];
	regs.r9 = g[OM_REG_R9];
	regs.r10 = g[OM_REG_R10];
	regs.r11 = g[OM_REG_R11];
	regs.r12 = g[OM_REG_R12];
	regs.r13 = g[OM_REG_R13];
	regs.r14 = g[OM_REG_R14];
	regs.r15 = g[OM_REG_R15];
	regs.rip = g[OM_REG_RIP];
	regs.eflags = g[OM_REG_RFLAGS];
	/* Not the image's: with rax an -ERESTART* code, the kernel would make
	 * the call orig_rax names on resuming, a call nobody checked. A
	 * pending call is made again from rip - 2 (return_calls.h). */
	regs.orig_rax = (uint64_t)-1;
	regs.fs_base = g[OM_REG_FS_BASE];
	regs.gs_base = g[OM_REG_GS_BASE];
	if (ptrace(PTRACE_SETREGS, r->in->pid, NULL, &regs) == -1)
		return rs_fail(r, -errno, "PTRACE_SETREGS: %s", strerror(errno));
	return 0;
}

/* Each other thread's state, in its home thread (the injections there run
 * as r->in's would: the same scratch region). */
static int
restore_threads(struct restore *r)
{
	struct inject *leader = r->in;
	int rc = 0;

	for (uint32_t i = 0; i < r->nthreads && rc == 0; i++) {
		const struct om_image_thread *t = r->threads[i];
		struct thread_state s;

		STATE_OF(&s, t);
		if ((r->in = r->thread_in(r->thread_ctx, (pid_t)t->tid)) == NULL) {
			r->in = leader;
			return rs_fail(r, -ESRCH, "the image has thread %u, which home does not have", t->tid);
		}
		if ((rc = restore_thread(r, &s)) == 0)
			rc = restore_regs(r, &s);
		if (r->in->nsigs) /* a signal for the process that its injections caught */
			for (unsigned k = 0; k < r->in->nsigs && leader->nsigs < INJECT_SIGS_MAX; k++)
				leader->sigs[leader->nsigs++] = r->in->sigs[k];
		r->in->nsigs = 0;
	}
	r->in = leader;
	return rc;
}

/* Every thread goes on in the code the job left with (or the vDSO). */
static int
check_rips(struct restore *r)
{
	uint64_t rip = r->hdr->regs[OM_REG_RIP];
	uint32_t tid = r->hdr->tid;

	for (uint32_t i = 0; i <= r->nthreads; i++) {
		if (i > 0) {
			rip = r->threads[i - 1]->regs[OM_REG_RIP];
			tid = r->threads[i - 1]->tid;
		}
		if (!in_code(r, rip))
			return rs_fail(r, -EPERM, "thread %u would go on at %#llx, outside the job's code: home "
			    "runs only the code the job left with", tid, (unsigned long long)rip);
	}
	return 0;
}

int
restore_end(struct restore *r, const struct om_image_end *e)
{
	int rc;

	if ((rc = om_image_check_end(&r->check, e)) != OM_OK)
		return rs_fail(r, rc, "bad image: %s", r->check.why);
	if ((rc = check_rips(r)) != 0)
		return rc;
	struct thread_state s;

	STATE_OF(&s, r->hdr);
	if ((rc = unmap_gap(r, r->prev_end, OM_USER_TOP)) != 0 || (rc = restore_actions(r)) != 0 ||
	    (rc = restore_thread(r, &s)) != 0 ||
	    (rc = rs_call(r, "umask", SYS_umask, r->hdr->umask, 0, 0, 0, 0, 0, NULL)) != 0 ||
	    (rc = restore_threads(r)) != 0 ||
	    (rc = timers_restore(r->in, r->hdr, r->err, r->errlen)) != 0 || (rc = restore_regs(r, &s)) != 0)
		return rc;
	r->pending = r->hdr->sig_pending;
	r->nsigq = r->hdr->sigq_count;
	memcpy(r->sigq, r->hdr->sigq, r->nsigq * sizeof r->sigq[0]);
	return 0;
}

int
restore_frame(struct restore *r, struct inject *in, int type, const void *payload,
    size_t len, char *err, size_t errlen)
{
	union {
		struct om_image_region reg;
		struct om_image_pages pg;
		struct om_image_end end;
	} u;
	struct om_image_hdr *h;
	int rc;

	switch (type) {
	case OM_T_IMAGE_BEGIN:
		if (r->hdr != NULL) {
			snprintf(err, errlen, "bad image: a second IMAGE_BEGIN");
			return OM_E_STATE;
		}
		if ((h = malloc(sizeof *h)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		if ((rc = om_image_hdr_decode(payload, len, h)) != OM_OK) {
			snprintf(err, errlen, "bad IMAGE_BEGIN: %s", om_strerror(rc));
			free(h);
			return rc;
		}
		rc = restore_begin(r, in, h, err, errlen);
		free(h);
		return rc;
	case OM_T_IMAGE_THREAD:
	case OM_T_IMAGE_REGION:
	case OM_T_IMAGE_PAGES:
	case OM_T_IMAGE_END:
		if (r->hdr == NULL) {
			snprintf(err, errlen, "bad image: %s before IMAGE_BEGIN", om_type_name(type));
			return OM_E_STATE;
		}
		break;
	default:
		snprintf(err, errlen, "not an image frame: %s", om_type_name(type));
		return OM_E_TYPE;
	}
	if (type == OM_T_IMAGE_THREAD) { /* kept for restore_end, where its memory is whole */
		struct om_image_thread *t = malloc(sizeof *t), **grown;
		if (t == NULL)
			return rs_fail(r, -ENOMEM, "out of memory");
		rc = om_image_thread_decode(payload, len, t);
		if (rc == OM_OK)
			rc = om_image_check_thread(&r->check, t);
		if (rc != OM_OK) {
			free(t);
			return rs_fail(r, rc, "bad IMAGE_THREAD: %s", r->check.err ? r->check.why : om_strerror(rc));
		}
		if (!r->thread_in(r->thread_ctx, (pid_t)t->tid)) {
			uint32_t tid = t->tid;
			free(t);
			return rs_fail(r, -ESRCH, "the image has thread %u, which home does not have", tid);
		}
		if (!(grown = realloc(r->threads, (r->nthreads + 1) * sizeof *grown))) {
			free(t);
			return rs_fail(r, -ENOMEM, "out of memory");
		}
		r->threads = grown;
		r->threads[r->nthreads++] = t;
		return 0;
	}
	if (type == OM_T_IMAGE_REGION) {
		if ((rc = om_image_region_decode(payload, len, &u.reg)) != OM_OK)
			return rs_fail(r, rc, "bad IMAGE_REGION: %s", om_strerror(rc));
		return restore_region(r, &u.reg);
	}
	if (type == OM_T_IMAGE_PAGES) {
		if ((rc = om_image_pages_decode(payload, len, &u.pg)) != OM_OK)
			return rs_fail(r, rc, "bad IMAGE_PAGES: %s", om_strerror(rc));
		return restore_pages(r, &u.pg);
	}
	if ((rc = om_image_end_decode(payload, len, &u.end)) != OM_OK)
		return rs_fail(r, rc, "bad IMAGE_END: %s", om_strerror(rc));
	return restore_end(r, &u.end);
}

void
restore_free(struct restore *r)
{
	for (uint32_t i = 0; i < r->nthreads; i++)
		free(r->threads[i]);
	free(r->threads);
	free(r->hdr);
	free(r->home);
	free(r->code);
	free(r->compare);
	r->code = NULL;
	r->ncode = 0;
	r->compare = NULL;
	r->threads = NULL;
	r->nthreads = 0;
	r->hdr = NULL;
	r->home = NULL;
}

void
restore_raise_pending(const struct restore *r, pid_t pid)
{
	uint64_t left = r->pending;
	uint32_t i;

	for (i = 0; i < r->nsigq; i++) {
		const struct om_siginfo *s = &r->sigq[i];
		struct inject_sig is = { .sig = (int)s->signo };
		uint64_t bit = 1ULL << (s->signo - 1);

		memcpy(is.info, &s->signo, 4);
		memcpy(is.info + 4, &s->errnum, 4);
		memcpy(is.info + 8, &s->code, 4);
		memcpy(is.info + 16, s->fields, OM_SIGINFO_FIELDS);
		/* An instance stands for its signal's pending bit; a second one
		 * of a signal below the real-time ones would merge anyway. */
		if (s->signo >= 32 || (left & bit))
			inject_raise(pid, &is);
		left &= ~bit;
	}
	for (int sig = 1; sig <= OM_NSIG; sig++)
		if (left & (1ULL << (sig - 1)))
			kill(pid, sig);
	/* Those sent to one thread go to that thread (as tgkill sends them:
	 * their siginfo stays behind). */
	for (i = 0; i < r->nthreads; i++)
		for (int sig = 1; sig <= OM_NSIG; sig++)
			if (r->threads[i]->sig_pending & (1ULL << (sig - 1)))
				syscall(SYS_tgkill, pid, (pid_t)r->threads[i]->tid, sig);
}
