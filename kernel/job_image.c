/* job_image.c - building a job from image frames, and the way back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "cpuinfo.h"
#include "fpu.h"
#include "job_image.h"
#include "job_thread.h"
#include "linux_abi.h"
#include "mm.h"
#include "net.h"
#include "sched.h"
#include "signal.h"
#include "syscall.h"
#include "timer.h"

#define STACK_RLIMIT (8UL << 20) /* the usual RLIMIT_STACK: how far the stack may grow */
#define OUT_RUN_PAGES 64         /* pages per IMAGE_PAGES frame going home */
/* CPUID bits that describe the OS or the machine, not the instruction set. */
#define LEAF1_ECX_NOT_ISA ((1u << 27) | (1u << 31)) /* OSXSAVE, hypervisor */
#define LEAF7_ECX_NOT_ISA (1u << 4)                  /* OSPKE */

enum { OUT_HDR, OUT_THREADS, OUT_REGION, OUT_PAGES, OUT_END, OUT_DONE };

static int fail(struct image_in *in, const char *fmt, const char *detail)
{
	snprintf(in->why, sizeof in->why, fmt, detail);
	image_in_abort(in);
	return -1;
}

void image_in_abort(struct image_in *in)
{
	job_destroy_process(in->job);
	in->job = NULL;
}

int image_in_busy(const struct image_in *in) { return in->job != NULL; }

/* Every feature the image may use must be here (the agent checked too). */
static const char *missing_feature(const struct om_cpu *need)
{
	const struct om_cpu *have = cpuinfo_node();
	if (need->leaf1_ecx & ~LEAF1_ECX_NOT_ISA & ~have->leaf1_ecx)
		return "CPUID.1:ECX";
	if (need->leaf1_edx & ~have->leaf1_edx)
		return "CPUID.1:EDX";
	if (need->leaf7_ebx & ~have->leaf7_ebx)
		return "CPUID.7:EBX";
	if (need->leaf7_ecx & ~LEAF7_ECX_NOT_ISA & ~have->leaf7_ecx)
		return "CPUID.7:ECX";
	if (need->leaf7_edx & ~have->leaf7_edx)
		return "CPUID.7:EDX";
	if (need->xcr0 & ~have->xcr0)
		return "XCR0 state components";
	return NULL;
}

static uint32_t uvm_kind_of(const struct om_image_region *r)
{
	switch (r->kind) {
	case OM_RK_ANON: return (r->flags & OM_RF_SHARED) ? UVM_SHARED_ANON : UVM_ANON;
	case OM_RK_FILE: return UVM_FILE;
	case OM_RK_HEAP: return UVM_HEAP;
	case OM_RK_STACK: return UVM_STACK;
	case OM_RK_VDSO: return UVM_VDSO;
	default: return UVM_RESERVED;
	}
}

static void regs_from_image(struct job *j, const uint64_t *g)
{
	struct trap_frame *r = &j->regs;
	r->rax = g[OM_REG_RAX], r->rbx = g[OM_REG_RBX], r->rcx = g[OM_REG_RCX];
	r->rdx = g[OM_REG_RDX], r->rsi = g[OM_REG_RSI], r->rdi = g[OM_REG_RDI];
	r->rbp = g[OM_REG_RBP], r->rsp = g[OM_REG_RSP], r->r8 = g[OM_REG_R8];
	r->r9 = g[OM_REG_R9], r->r10 = g[OM_REG_R10], r->r11 = g[OM_REG_R11];
	r->r12 = g[OM_REG_R12], r->r13 = g[OM_REG_R13], r->r14 = g[OM_REG_R14];
	r->r15 = g[OM_REG_R15], r->rip = g[OM_REG_RIP], r->rflags = g[OM_REG_RFLAGS];
	j->fs_base = g[OM_REG_FS_BASE];
	j->gs_base = g[OM_REG_GS_BASE];
}

/* The job's clocks run on from the home's values at capture: the agent's
 * WELCOME tells how the home's CLOCK_REALTIME relates to ours. */
static void clocks_from_image(struct job *j, const struct om_image_hdr *h)
{
	struct net_status st;
	net_get_status(&st);
	j->p->node_ns_base = timer_ns();
	int64_t realtime = (int64_t)h->clock_realtime;
	if (st.welcome_time_ns)
		realtime = (int64_t)st.welcome_time_ns + (int64_t)(j->p->node_ns_base / 1000000 - st.welcome_at_ms) * 1000000;
	if (realtime < (int64_t)h->clock_realtime)
		realtime = (int64_t)h->clock_realtime; /* never before the capture */
	int64_t since_capture = realtime - (int64_t)h->clock_realtime;
	j->p->home_realtime_ns = realtime;
	j->p->home_monotonic_ns = (int64_t)h->clock_monotonic + since_capture;
	j->p->home_boottime_ns = (int64_t)h->clock_boottime + since_capture;
}

static void usage_from_image(struct job *j, const struct om_image_hdr *h)
{
	const struct om_usage *u = &h->usage;
	j->p->home_usage = (struct job_usage){ u->utime_ns, u->stime_ns, u->cutime_ns, u->cstime_ns, u->maxrss_kb,
					    u->minflt,   u->majflt,   u->nvcsw,     u->nivcsw,    u->ticks };
	j->p->memlock_max = h->memlock_max;
}

static void usage_to_image(const struct job *j, struct om_image_hdr *h)
{
	const struct job_usage *u = &j->p->home_usage;
	uint64_t rss_kb = j->p->uvm.pages * (PAGE_SIZE / 1024);
	h->usage = (struct om_usage){
		.utime_ns = u->utime_ns + job_ran_ns(j->p), .stime_ns = u->stime_ns,
		.cutime_ns = u->cutime_ns, .cstime_ns = u->cstime_ns,
		.maxrss_kb = rss_kb > u->maxrss_kb ? rss_kb : u->maxrss_kb,
		.minflt = u->minflt + j->faults, .majflt = u->majflt,
		.nvcsw = u->nvcsw + j->syscalls_forwarded, .nivcsw = u->nivcsw,
		.ticks = u->ticks + (timer_ns() - j->p->node_ns_base) / 10000000u, /* USER_HZ */
	};
	h->memlock_max = j->p->memlock_max;
}

/* Timers keep their absolute times: the job's clocks go on from the
 * image's (clocks_from_image, job_cpu_ns). */
static void timers_from_image(struct job *j, const struct om_image_hdr *h)
{
	for (int i = 0; i < 3; i++) {
		j->p->itimer[i].expires = h->itimer[i].expires;
		j->p->itimer[i].interval = h->itimer[i].interval;
	}
	j->p->timer_next_id = h->timer_next_id;
	for (uint32_t i = 0; i < h->timer_count; i++) {
		const struct om_timer *t = &h->timers[i];
		j->p->timer[i] = (struct job_timer){ .used = 1, .id = t->id, .clock = (int)t->clock,
						  .expires = t->expires, .interval = t->interval,
						  .notify = (int)(t->notify & ~LX_SIGEV_THREAD_ID), .signo = (int)t->signo,
						  .value = t->value, .tid = (int32_t)t->tid };
	}
}

_Static_assert(JOB_TIMERS_MAX <= OM_TIMERS_MAX, "every timer fits in an image");

static void timers_to_image(const struct job *j, struct om_image_hdr *h)
{
	for (int i = 0; i < 3; i++)
		h->itimer[i] = (struct om_itimer){ j->p->itimer[i].expires, j->p->itimer[i].interval };
	h->timer_next_id = j->p->timer_next_id;
	for (int i = 0; i < JOB_TIMERS_MAX; i++) {
		const struct job_timer *t = &j->p->timer[i];
		if (t->used)
			h->timers[h->timer_count++] = (struct om_timer){
				.id = t->id, .clock = (uint32_t)t->clock, .expires = t->expires,
				.interval = t->interval,
				.notify = (uint32_t)t->notify | (t->tid ? LX_SIGEV_THREAD_ID : 0),
				.signo = (uint32_t)t->signo, .value = t->value, .tid = (uint32_t)t->tid };
	}
}

/* Pending instances keep their siginfo: a signal below SIGRTMIN has one
 * (the first), the others queue; a timer's marks its timer busy until it is
 * delivered. */
static void sigq_from_image(struct job *j, uint32_t count, const struct om_siginfo *q, uint64_t pending)
{
	uint64_t queued = 0, kept = 0;
	j->own.pending = pending;
	for (int i = 0; i < JOB_NSIG; i++)
		j->own.info[i] = (struct job_siginfo){ .code = LX_SI_USER };
	for (uint32_t i = 0; i < count; i++) {
		const struct om_siginfo *s = &q[i];
		uint64_t bit = 1ULL << (s->signo - 1);
		struct job_siginfo info = { .code = s->code, .errnum = s->errnum };
		memcpy(info.fields, s->fields, sizeof info.fields);
		/* A timer's own signal: SI_TIMER naming a timer not yet busy. */
		struct job_timer *t = NULL;
		int32_t id;
		memcpy(&id, info.fields, sizeof id);
		for (int k = 0; s->code == LX_SI_TIMER && k < JOB_TIMERS_MAX && !t; k++)
			if (j->p->timer[k].used && j->p->timer[k].id == id && !j->p->timer[k].queued)
				t = &j->p->timer[k];
		if (t || ((int)s->signo >= LX_SIGRTMIN && j->own.nsigq < JOB_SIGQUEUE_MAX)) {
			info.timer = t != NULL;
			if (t)
				t->queued = 1;
			j->own.sigq[j->own.nsigq].sig = (int)s->signo;
			j->own.sigq[j->own.nsigq++].info = info;
			queued |= bit;
		} else if (!(kept & bit)) {
			j->own.info[s->signo - 1] = info;
			kept |= bit;
		}
	}
	/* Pending without an instance of its own: as from kill(). */
	j->own.info_pending = kept | (pending & ~queued);
}

static void sigq_to_image(const struct job *j, uint32_t *count, struct om_siginfo *out)
{
	for (int sig = 1; sig <= JOB_NSIG && *count < OM_SIGQUEUE_MAX; sig++) {
		const struct job_siginfo *in = &j->own.info[sig - 1];
		if (!(j->own.info_pending & (1ULL << (sig - 1))))
			continue;
		struct om_siginfo *s = &out[(*count)++];
		*s = (struct om_siginfo){ .signo = (uint32_t)sig, .code = in->code, .errnum = in->errnum };
		memcpy(s->fields, in->fields, sizeof s->fields);
	}
	for (uint32_t k = 0; k < j->own.nsigq && *count < OM_SIGQUEUE_MAX; k++) {
		const struct job_sigqueued *q = &j->own.sigq[k];
		struct om_siginfo *s = &out[(*count)++];
		*s = (struct om_siginfo){ .signo = (uint32_t)q->sig, .code = q->info.code, .errnum = q->info.errnum };
		memcpy(s->fields, q->info.fields, sizeof s->fields);
	}
}

/* A thread's own state, the same in the header and in IMAGE_THREAD. */
static void altstack_from_image(struct job *j, uint64_t sp, uint64_t size, uint32_t flags)
{
	j->altstack_sp = sp;
	j->altstack_size = size;
	j->altstack_flags = flags & ~(uint32_t)(LX_SS_ONSTACK | LX_SS_DISABLE);
	if (flags & LX_SS_DISABLE)
		j->altstack_sp = j->altstack_size = 0;
}

static uint64_t blocked_from_image(uint64_t mask)
{
	return mask & ~((1ULL << (LX_SIGKILL - 1)) | (1ULL << (LX_SIGSTOP - 1)));
}

static void state_from_image(struct job *j, const struct om_image_hdr *h)
{
	regs_from_image(j, h->regs);
	j->p->home_xsave_size = h->xsave_size;
	j->p->home_xcr0 = h->xcr0;
	j->p->start_brk = h->start_brk;
	j->p->brk = h->brk;
	j->p->mmap_base = h->mmap_base;
	j->blocked = blocked_from_image(h->sig_blocked);
	for (int i = 0; i < JOB_NSIG; i++)
		j->p->act[i] = (struct job_sigaction){ h->sigact[i].handler, h->sigact[i].flags,
						    h->sigact[i].restorer, h->sigact[i].mask };
	altstack_from_image(j, h->ss_sp, h->ss_size, h->ss_flags);
	j->rseq = h->rseq_addr;
	j->rseq_len = h->rseq_len;
	j->rseq_sig = h->rseq_sig;
	j->clear_child_tid = h->tid_address;
	j->robust_list = h->robust_list;
	j->robust_len = h->robust_len;
	struct job_identity *id = &j->p->ident;
	id->pid = h->pid, id->ppid = h->ppid, id->tid = j->tid = h->tid, id->pgid = h->pgid, id->sid = h->sid;
	id->uid = h->uid, id->euid = h->euid, id->suid = h->suid;
	id->gid = h->gid, id->egid = h->egid, id->sgid = h->sgid;
	id->umask = h->umask;
	const char *uts[6] = { h->sysname, h->nodename, h->release, h->version, h->machine, h->domainname };
	for (int i = 0; i < 6; i++)
		strncpy(id->uts[i], uts[i], sizeof id->uts[i] - 1);
	clocks_from_image(j, h);
	usage_from_image(j, h);
	timers_from_image(j, h);
	j->p->seq = j->p->sent = h->calls; /* its calls are numbered on from there */
	sigq_from_image(j, h->sigq_count, h->sigq, h->sig_pending);
}

int image_in_begin(struct image_in *in, uint32_t job_id, const void *p, size_t len)
{
	int rc;
	if (in->job)
		return fail(in, "%s", "an image is already arriving");
	if (!in->hdr && !(in->hdr = malloc(sizeof *in->hdr)))
		return fail(in, "%s", "out of memory");
	om_image_check_init(&in->chk);
	if ((rc = om_image_hdr_decode(p, len, in->hdr)) != OM_OK)
		return fail(in, "bad IMAGE_BEGIN: %s", om_strerror(rc));
	if (om_image_check_begin(&in->chk, in->hdr) != OM_OK)
		return fail(in, "bad IMAGE_BEGIN: %s", in->chk.why);
	if (in->hdr->thread_count && !in->threads_ok)
		return fail(in, "%s", "the image has more threads: a node takes a process with one thread only, yet");
	if (in->hdr->thread_count >= (uint32_t)(SCHED_THREADS_MAX - sched_count()))
		return fail(in, "%s", "the node has no room for that many threads");
	const char *missing = missing_feature(&in->hdr->cpu);
	if (missing)
		return fail(in, "the image needs CPU features this node lacks (%s)", missing);
	const uint64_t *g = in->hdr->regs;
	if (g[OM_REG_RIP] >= OM_USER_TOP || g[OM_REG_FS_BASE] >= OM_USER_TOP || g[OM_REG_GS_BASE] >= OM_USER_TOP)
		return fail(in, "%s", "bad IMAGE_BEGIN: rip or a segment base outside user space");
	if (!(in->job = job_create(job_id)))
		return fail(in, "%s", "out of memory for a job");
	const char *why;
	if (fpu_from_image(in->job->xsave, in->hdr->xsave, in->hdr->xsave_size, &why) < 0)
		return fail(in, "bad IMAGE_BEGIN: %s", why);
	state_from_image(in->job, in->hdr);
	in->cur_index = UINT32_MAX;
	return 0;
}

int image_in_thread(struct image_in *in, const void *p, size_t len)
{
	struct om_image_thread *t;
	int rc;
	if (!in->job)
		return fail(in, "%s", "IMAGE_THREAD without IMAGE_BEGIN");
	if (!(t = malloc(sizeof *t)))
		return fail(in, "%s", "out of memory");
	rc = om_image_thread_decode(p, len, t);
	if (rc == OM_OK && om_image_check_thread(&in->chk, t) != OM_OK)
		rc = OM_E_RANGE;
	if (rc == OM_OK && (t->regs[OM_REG_RIP] >= OM_USER_TOP || t->regs[OM_REG_FS_BASE] >= OM_USER_TOP ||
			    t->regs[OM_REG_GS_BASE] >= OM_USER_TOP)) {
		free(t);
		return fail(in, "%s", "bad IMAGE_THREAD: rip or a segment base outside user space");
	}
	if (rc != OM_OK) {
		free(t);
		return fail(in, "bad IMAGE_THREAD: %s", in->chk.err ? in->chk.why : om_strerror(rc));
	}
	struct job *j = job_create_thread(in->job->p, in->job->id);
	const char *why = "out of memory for a thread";
	if (!j || fpu_from_image(j->xsave, t->xsave, t->xsave_size, &why) < 0) {
		free(t);
		return fail(in, "bad IMAGE_THREAD: %s", why);
	}
	regs_from_image(j, t->regs);
	j->tid = t->tid;
	j->state = JOB_RUNNABLE;
	j->blocked = blocked_from_image(t->sig_blocked);
	sigq_from_image(j, t->sigq_count, t->sigq, t->sig_pending);
	altstack_from_image(j, t->ss_sp, t->ss_size, t->ss_flags);
	j->rseq = t->rseq_addr, j->rseq_len = t->rseq_len, j->rseq_sig = t->rseq_sig;
	j->clear_child_tid = t->tid_address;
	j->robust_list = t->robust_list, j->robust_len = t->robust_len;
	j->came_ns = t->utime_ns + t->stime_ns;
	free(t);
	return 0;
}

int image_in_region(struct image_in *in, const void *p, size_t len)
{
	struct om_image_region r;
	int rc;
	if (!in->job)
		return fail(in, "%s", "IMAGE_REGION without IMAGE_BEGIN");
	if ((rc = om_image_region_decode(p, len, &r)) != OM_OK)
		return fail(in, "bad IMAGE_REGION: %s", om_strerror(rc));
	if (om_image_check_region(&in->chk, &r) != OM_OK)
		return fail(in, "bad IMAGE_REGION: %s", in->chk.why);
	uint32_t kind = uvm_kind_of(&r);
	uint32_t prot = kind == UVM_RESERVED ? 0 : r.prot & (UVM_PROT_R | UVM_PROT_W | UVM_PROT_X);
	if ((rc = uvm_map(&in->job->p->uvm, r.start, r.end, prot, kind, 0)) < 0)
		return fail(in, "%s", rc == -LX_ENOMEM ? "out of memory for the address space"
						       : "a region the node cannot map");
	if ((r.flags & OM_RF_LOCKED) && uvm_lock(&in->job->p->uvm, r.start, r.end, 1) < 0)
		return fail(in, "%s", "out of memory for the address space");
	if (kind == UVM_STACK)
		in->job->p->uvm.stack_limit = r.end > STACK_RLIMIT ? r.end - STACK_RLIMIT : 0;
	in->cur = r;
	in->cur_index = in->cur_index == UINT32_MAX ? 0 : in->cur_index + 1;
	return 0;
}

int image_in_pages(struct image_in *in, const void *p, size_t len)
{
	struct om_image_pages pg;
	int rc;
	if (!in->job)
		return fail(in, "%s", "IMAGE_PAGES without IMAGE_BEGIN");
	if ((rc = om_image_pages_decode(p, len, &pg)) != OM_OK)
		return fail(in, "bad IMAGE_PAGES: %s", om_strerror(rc));
	if (om_image_check_pages(&in->chk, &pg) != OM_OK)
		return fail(in, "bad IMAGE_PAGES: %s", in->chk.why);
	if (pg.region != in->cur_index)
		return fail(in, "%s", "IMAGE_PAGES for a region other than the last one");
	uint64_t at = in->cur.start + pg.first * OM_PAGE_SIZE;
	if (uvm_write(&in->job->p->uvm, at, pg.data, (size_t)pg.count * OM_PAGE_SIZE, 1) < 0)
		return fail(in, "%s", "out of memory for the image's pages");
	return 0;
}

struct job *image_in_end(struct image_in *in, const void *p, size_t len)
{
	struct om_image_end e;
	int rc;
	if (!in->job) {
		fail(in, "%s", "IMAGE_END without IMAGE_BEGIN");
		return NULL;
	}
	if ((rc = om_image_end_decode(p, len, &e)) != OM_OK) {
		fail(in, "bad IMAGE_END: %s", om_strerror(rc));
		return NULL;
	}
	if (om_image_check_end(&in->chk, &e) != OM_OK || !om_image_check_done(&in->chk)) {
		fail(in, "bad IMAGE_END: %s", in->chk.why);
		return NULL;
	}
	struct job *j = in->job;
	in->job = NULL;
	/* The header's thread had what the process had, less its others'. */
	uint64_t total = j->p->home_usage.utime_ns + j->p->home_usage.stime_ns, others = 0;
	for (struct job *t = j->p->threads; t; t = t->sibling)
		others += t != j ? t->came_ns : 0;
	j->came_ns = total > others ? total - others : 0;
	/* A registered rseq area names the CPU the thread runs on: this one's
	 * only CPU from now on (cpu_id_start and cpu_id, offsets 0 and 4). */
	for (struct job *t = j->p->threads; t; t = t->sibling)
		if (t->rseq) {
			uint32_t cpu[2] = { 0, 0 };
			if (uvm_write(&t->p->uvm, t->rseq, cpu, sizeof cpu, 0) < 0)
				t->rseq = 0;
		}
	return j;
}

/* ------------------------------------------------------------ going home */

void image_out_start(struct image_out *o, struct job *j)
{
	memset(o, 0, sizeof *o);
	o->job = j;
	o->phase = OUT_HDR;
}

static uint32_t image_kind_of(uint32_t kind, uint32_t *flags)
{
	*flags = 0;
	switch (kind) {
	case UVM_SHARED_ANON: *flags = OM_RF_SHARED; return OM_RK_ANON;
	case UVM_FILE:
	case UVM_FILE_SHARED: return OM_RK_FILE; /* a copy at home too */
	case UVM_HEAP: return OM_RK_HEAP;
	case UVM_STACK: return OM_RK_STACK;
	case UVM_VDSO: return OM_RK_VDSO;
	case UVM_RESERVED: return OM_RK_RESERVED;
	default: return OM_RK_ANON;
	}
}

/* The next page of [va, end) the image sends: present, and in a delta
 * region written since the last checkpoint. */
static uint64_t next_sent(struct uvm *u, uint64_t va, uint64_t end, int delta)
{
	for (va = uvm_next_page(u, va, end); delta && va < end && !uvm_ck_dirty(u, va);)
		va = uvm_next_page(u, va + PAGE_SIZE, end);
	return va;
}

static uint64_t region_sent(struct uvm *u, const struct uvm_region *r, int delta)
{
	uint64_t n = 0;
	for (uint64_t va = next_sent(u, r->start, r->end, delta); va < r->end; va = next_sent(u, va + PAGE_SIZE, r->end, delta))
		n++;
	return n;
}

/* Whether region r goes as a delta (OM_RF_DELTA): in a delta image, unless
 * pages the last checkpoint had there are gone since. */
static int region_delta(const struct image_out *o, struct uvm *u, const struct uvm_region *r)
{
	return o->delta && r->kind != UVM_RESERVED && !uvm_ck_whole(u, r->start, r->end);
}

/* A thread that waits in a call (asleep here, or for home) other than the
 * header's (JOB_HOME names that one) makes it again where it goes: back
 * over SYSCALL; RAX still holds its number until it returns. */
static void regs_to_image(const struct job *j, int again, uint64_t *g)
{
	const struct trap_frame *r = &j->regs;
	g[OM_REG_RAX] = r->rax, g[OM_REG_RBX] = r->rbx, g[OM_REG_RCX] = r->rcx;
	g[OM_REG_RDX] = r->rdx, g[OM_REG_RSI] = r->rsi, g[OM_REG_RDI] = r->rdi;
	g[OM_REG_RBP] = r->rbp, g[OM_REG_RSP] = r->rsp, g[OM_REG_R8] = r->r8;
	g[OM_REG_R9] = r->r9, g[OM_REG_R10] = r->r10, g[OM_REG_R11] = r->r11;
	g[OM_REG_R12] = r->r12, g[OM_REG_R13] = r->r13, g[OM_REG_R14] = r->r14;
	g[OM_REG_R15] = r->r15, g[OM_REG_RIP] = again ? r->rip - 2 : r->rip, g[OM_REG_RFLAGS] = r->rflags;
	g[OM_REG_ORIG_RAX] = (uint64_t)-1;
	g[OM_REG_FS_BASE] = j->fs_base, g[OM_REG_GS_BASE] = j->gs_base;
}

/* In sigsuspend or sigtimedwait a thread's real mask is the saved one: the
 * call runs again with its temporary mask. */
static uint64_t blocked_to_image(const struct job *j)
{
	return j->suspended ? j->suspend_mask : j->sigwaiting ? j->sigwait_mask : j->blocked;
}

/* The thread the header holds: j, or while j (the leader) is gone, its
 * live thread of the lowest tid. */
struct job *job_image_header(struct job *j)
{
	struct job *best = NULL;
	if (job_thread_live(j))
		return j;
	for (struct job *t = j->p->threads; t; t = t->sibling)
		if (job_thread_live(t) && (!best || t->tid < best->tid))
			best = t;
	return best ? best : j;
}

/* The live thread of j's process after tid 'after' other than the
 * header's, in tid order; NULL when none is left. */
static struct job *next_thread(struct job *j, int64_t after)
{
	struct job *h = job_image_header(j), *best = NULL;
	for (struct job *t = j->p->threads; t; t = t->sibling)
		if (t != h && job_thread_live(t) && t->tid > after && (!best || t->tid < best->tid))
			best = t;
	return best;
}

static int thread_to_image(struct job *t, uint8_t *buf, size_t cap)
{
	struct om_image_thread *m = calloc(1, sizeof *m);
	uint64_t xcr0;
	if (!m)
		return OM_E_NOSPACE;
	signal_settle_restart(t);
	m->tid = (uint32_t)t->tid;
	regs_to_image(t, t->state == JOB_SLEEPING || (t->state == JOB_WAIT_HOME && !t->home_fault), m->regs);
	m->xsave_size = fpu_to_image(t->xsave, m->xsave, t->p->home_xsave_size, t->p->home_xcr0, &xcr0);
	m->sig_blocked = blocked_to_image(t);
	m->sig_pending = t->own.pending;
	sigq_to_image(t, &m->sigq_count, m->sigq);
	m->ss_sp = t->altstack_sp, m->ss_size = t->altstack_size;
	m->ss_flags = t->altstack_size ? t->altstack_flags : LX_SS_DISABLE;
	m->rseq_addr = t->rseq, m->rseq_len = (uint32_t)t->rseq_len, m->rseq_sig = t->rseq_sig;
	m->tid_address = t->clear_child_tid;
	m->robust_list = t->robust_list, m->robust_len = t->robust_len;
	m->utime_ns = t->came_ns + t->cpu_ns;
	int n = om_image_thread_encode(m, buf, cap);
	free(m);
	return n;
}

static int hdr_from_job(struct job *j, int checkpoint, uint8_t *buf, size_t cap)
{
	struct om_image_hdr *h = calloc(1, sizeof *h);
	if (!h)
		return OM_E_NOSPACE;
	j = job_image_header(j);
	signal_unshare(j); /* the process's pending signals go with the header's */
	regs_to_image(j, checkpoint && j->state == JOB_SLEEPING, h->regs);
	h->cpu = *cpuinfo_node();
	h->xsave_size = fpu_to_image(j->xsave, h->xsave, j->p->home_xsave_size, j->p->home_xcr0, &h->xcr0);
	h->start_brk = j->p->start_brk, h->brk = j->p->brk, h->mmap_base = j->p->mmap_base;
	h->sig_blocked = blocked_to_image(j);
	h->sig_pending = j->own.pending;
	for (int i = 0; i < JOB_NSIG; i++)
		h->sigact[i] = (struct om_sigaction){ j->p->act[i].handler, j->p->act[i].flags, j->p->act[i].restorer,
						      j->p->act[i].mask };
	h->ss_sp = j->altstack_sp, h->ss_size = j->altstack_size;
	h->ss_flags = j->altstack_size ? j->altstack_flags : LX_SS_DISABLE;
	h->rseq_addr = j->rseq, h->rseq_len = (uint32_t)j->rseq_len, h->rseq_sig = j->rseq_sig;
	h->tid_address = j->clear_child_tid;
	h->robust_list = j->robust_list, h->robust_len = j->robust_len;
	const struct job_identity *id = &j->p->ident;
	h->pid = (uint32_t)id->pid, h->ppid = (uint32_t)id->ppid, h->tid = (uint32_t)j->tid;
	h->pgid = (uint32_t)id->pgid, h->sid = (uint32_t)id->sid;
	h->uid = (uint32_t)id->uid, h->euid = (uint32_t)id->euid, h->suid = (uint32_t)id->suid;
	h->gid = (uint32_t)id->gid, h->egid = (uint32_t)id->egid, h->sgid = (uint32_t)id->sgid;
	char *uts[6] = { h->sysname, h->nodename, h->release, h->version, h->machine, h->domainname };
	for (int i = 0; i < 6; i++)
		strncpy(uts[i], id->uts[i], OM_UTS_MAX);
	h->umask = id->umask;
	h->clock_realtime = (uint64_t)job_clock_ns(j, LX_CLOCK_REALTIME);
	h->clock_monotonic = (uint64_t)job_clock_ns(j, LX_CLOCK_MONOTONIC);
	h->clock_boottime = (uint64_t)job_clock_ns(j, LX_CLOCK_BOOTTIME);
	for (uint32_t i = 0; i < j->p->uvm.nregions; i++) {
		const struct uvm_region *ur = &j->p->uvm.regions[i];
		if (ur->kind == UVM_RESERVED && !h->scratch_start)
			h->scratch_start = ur->start, h->scratch_len = ur->end - ur->start;
		if (ur->kind == UVM_VDSO)
			h->vdso_base = ur->start;
	}
	usage_to_image(j, h);
	timers_to_image(j, h);
	sigq_to_image(j, &h->sigq_count, h->sigq);
	h->region_count = j->p->uvm.nregions;
	for (struct job *t = next_thread(j, 0); t; t = next_thread(j, t->tid))
		h->thread_count++;
	h->calls = j->p->seq;
	int n = om_image_hdr_encode(h, buf, cap);
	free(h);
	return n;
}

int image_out_next(struct image_out *o, uint8_t *type, uint8_t *buf, size_t cap)
{
	struct job *j = o->job;
	struct uvm *u = &j->p->uvm;
	for (;;) {
		switch (o->phase) {
		case OUT_HDR:
			o->phase = OUT_THREADS;
			o->last_tid = 0;
			*type = OM_T_IMAGE_BEGIN;
			return hdr_from_job(j, o->checkpoint, buf, cap);
		case OUT_THREADS: {
			struct job *t = next_thread(j, o->last_tid);
			if (!t) {
				o->phase = u->nregions ? OUT_REGION : OUT_END;
				continue;
			}
			o->last_tid = t->tid;
			*type = OM_T_IMAGE_THREAD;
			return thread_to_image(t, buf, cap);
		}
		case OUT_REGION: {
			const struct uvm_region *ur = &u->regions[o->region];
			struct om_image_region r = { .start = ur->start, .end = ur->end, .prot = ur->prot };
			r.kind = image_kind_of(ur->kind, &r.flags);
			if (ur->locked)
				r.flags |= OM_RF_LOCKED;
			o->region_delta = region_delta(o, u, ur);
			if (o->region_delta)
				r.flags |= OM_RF_DELTA;
			r.pages_sent = ur->kind == UVM_RESERVED ? 0 : region_sent(u, ur, o->region_delta);
			o->page = 0;
			o->phase = OUT_PAGES;
			o->regions_sent++;
			*type = OM_T_IMAGE_REGION;
			return om_image_region_encode(&r, buf, cap);
		}
		case OUT_PAGES: {
			const struct uvm_region *ur = &u->regions[o->region];
			uint64_t npages = (ur->end - ur->start) / PAGE_SIZE;
			/* The next run of pages sent, at most OUT_RUN_PAGES long. */
			if (ur->kind != UVM_RESERVED && o->page < npages)
				o->page = (next_sent(u, ur->start + o->page * PAGE_SIZE, ur->end, o->region_delta) - ur->start) /
					  PAGE_SIZE;
			if (ur->kind == UVM_RESERVED || o->page >= npages) {
				o->region++;
				o->phase = o->region < u->nregions ? OUT_REGION : OUT_END;
				continue;
			}
			uint64_t first = o->page;
			uint32_t count = 0;
			size_t hdr = OM_IMAGE_PAGES_HDR;
			while (o->page < npages && count < OUT_RUN_PAGES &&
			       hdr + (size_t)(count + 1) * PAGE_SIZE <= cap) {
				uint64_t va = ur->start + o->page * PAGE_SIZE;
				const void *pg = uvm_peek_page(u, va);
				if (!pg || (o->region_delta && !uvm_ck_dirty(u, va)))
					break;
				memcpy(buf + hdr + (size_t)count * PAGE_SIZE, pg, PAGE_SIZE);
				count++;
				o->page++;
			}
			o->pages_sent += count;
			*type = OM_T_IMAGE_PAGES;
			return om_image_pages_encode_header(o->region, first, count, buf, cap);
		}
		case OUT_END: {
			struct om_image_end e = { o->regions_sent, o->pages_sent };
			o->phase = OUT_DONE;
			if (o->checkpoint) /* the next may send what changes from here */
				uvm_ck_mark(u);
			*type = OM_T_IMAGE_END;
			return om_image_end_encode(&e, buf, cap);
		}
		default:
			if (!o->keep)
				job_destroy_process(o->job);
			o->job = NULL;
			return 0;
		}
	}
}
