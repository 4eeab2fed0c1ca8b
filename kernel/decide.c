/* decide.c - the node's own decisions for a job, kept and replayed
 * (decide.h). */
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "decision.h"
#include "fnv.h"
#include "job.h"
#include "linux_abi.h"
#include "proto.h"
#include "signal.h"
#include "syscall.h"
#include "sysnr.h"

#define RET_BYTES (-1) /* the buffer is as long as the call's result */

static void replay_end(struct decide *d);
static void replay_stop(struct decide *d);

/* The local calls whose result the node decides, and the buffers each
 * writes: by argument, and size (Linux x86-64's structs). */
static const struct {
	uint16_t nr;
	int8_t arg[OM_DEC_OUTS];  /* -1: none */
	int16_t size[OM_DEC_OUTS];
} decided[] = {
	{ NR_gettimeofday, { 0, 1 }, { 16, 8 } },    /* timeval, timezone */
	{ NR_time, { 0, -1 }, { 8, 0 } },
	{ NR_clock_gettime, { 1, -1 }, { 16, 0 } },  /* timespec */
	{ NR_getrusage, { 1, -1 }, { 144, 0 } },     /* rusage */
	{ NR_times, { 0, -1 }, { 32, 0 } },          /* tms */
	{ NR_getcpu, { 0, 1 }, { 4, 4 } },
	{ NR_getrandom, { 0, -1 }, { RET_BYTES, 0 } },
	{ NR_getitimer, { 1, -1 }, { 32, 0 } },      /* itimerval */
	{ NR_setitimer, { 2, -1 }, { 32, 0 } },
	{ NR_alarm, { -1, -1 }, { 0, 0 } },
	{ NR_timer_gettime, { 1, -1 }, { 32, 0 } },  /* itimerspec */
	{ NR_timer_settime, { 3, -1 }, { 32, 0 } },
	{ NR_timer_getoverrun, { -1, -1 }, { 0, 0 } },
};
#define NDECIDED (sizeof decided / sizeof decided[0])

static int find(uint64_t nr)
{
	for (unsigned i = 0; i < NDECIDED; i++)
		if (decided[i].nr == nr)
			return (int)i;
	return -1;
}

static int keep(struct decide *d, const struct om_decision *e)
{
	if (!d->out && !(d->out = malloc(DECIDE_OUT_CAP)))
		return -1;
	int n = om_decision_encode(e, d->out + d->out_len, DECIDE_OUT_CAP - d->out_len);
	if (n < 0)
		return -1;
	d->out_len += (uint32_t)n;
	return 0;
}

static void lost(struct decide *d)
{
	d->out_lost = 1;
}

/* The buffers decided call i (sc) writes when it returns ret: their
 * count (addr[], len[]), or -1 when one is more than an entry holds. */
static int outs_of(int i, const struct sys_call *sc, int64_t ret, uint64_t addr[OM_DEC_OUTS],
		   uint32_t len[OM_DEC_OUTS])
{
	int n = 0;
	for (int k = 0; k < OM_DEC_OUTS && ret >= 0; k++) {
		int arg = decided[i].arg[k];
		int64_t size = decided[i].size[k] == RET_BYTES ? ret : decided[i].size[k];
		if (arg < 0 || !sc->a[arg] || size <= 0)
			continue;
		if (size > OM_DEC_OUT_MAX)
			return -1;
		addr[n] = sc->a[arg];
		len[n++] = (uint32_t)size;
	}
	return n;
}

/* Home's next entry, if it is this call (i: its row in decided[]) and
 * writes only what the call would: 1 with *e filled. */
static int replayed(struct decide *d, int i, const struct sys_call *sc, struct om_decision *e)
{
	uint64_t addr[OM_DEC_OUTS];
	uint32_t len[OM_DEC_OUTS];
	if (!d->in)
		return 0;
	size_t at = d->in_at;
	int n, ok = om_decision_next(d->in, d->in_len, &at, e) == OM_OK && e->kind == OM_DEC_CALL &&
		    e->nr == sc->nr && memcmp(e->a, sc->a, sizeof e->a) == 0 &&
		    (n = outs_of(i, sc, e->ret, addr, len)) == e->nout;
	for (int k = 0; ok && k < e->nout; k++)
		ok = e->out[k].addr == addr[k] && e->out[k].len == len[k];
	if (ok) {
		d->in_at = (uint32_t)at;
		return 1;
	}
	/* It went another way: fresh answers from here (home sees it). */
	replay_stop(d);
	return 0;
}

void decide_call(struct job *j, struct sys_call *sc)
{
	struct decide *d = &j->p->dec;
	struct om_decision e;
	int i = d->on ? find(sc->nr) : -1; /* a job home keeps no log of pays nothing */
	if (i < 0)
		return;
	if (j->p->nthreads > 1) { /* their order is the cores': home takes no restart of threads */
		lost(d);
		return;
	}
	if (replayed(d, i, sc, &e)) {
		sc->ret = e.ret;
		for (int k = 0; k < e.nout; k++)
			if (uvm_write(&j->p->uvm, e.out[k].addr, e.out[k].bytes, e.out[k].len, 0) < 0)
				sc->ret = -LX_EFAULT;
		if (sc->ret != e.ret || keep(d, &e) < 0)
			lost(d);
		if (d->in_at >= d->in_len)
			replay_end(d);
		return;
	}
	/* What this call wrote, read back: its buffers as it filled them. */
	static uint8_t buf[OM_DEC_OUTS][OM_DEC_OUT_MAX];
	uint64_t addr[OM_DEC_OUTS];
	uint32_t len[OM_DEC_OUTS];
	int n = outs_of(i, sc, sc->ret, addr, len);
	e = (struct om_decision){ .kind = OM_DEC_CALL, .nr = (uint16_t)sc->nr, .ret = sc->ret };
	memcpy(e.a, sc->a, sizeof e.a);
	for (int k = 0; k < n; k++) {
		if (uvm_read(&j->p->uvm, addr[k], buf[k], len[k]) < 0)
			break; /* gone */
		e.out[e.nout].addr = addr[k];
		e.out[e.nout].len = len[k];
		e.out[e.nout++].bytes = buf[k];
	}
	if (n < 0 || e.nout != n) {
		lost(d); /* too big to keep, or gone: no replay past it */
		return;
	}
	if (keep(d, &e) < 0)
		lost(d);
}

/* ---- signals the node's timers raise */

/* The registers at a place the job may come to again: a hash of what the
 * program can see (the flags it may test, not IF or RF) and its vector
 * registers (the FXSAVE layout's XMM0-15). */
static uint64_t regs_hash(const struct job *j)
{
	const struct trap_frame *r = &j->regs;
	const uint64_t v[] = { r->rax, r->rbx, r->rcx, r->rdx, r->rsi, r->rdi, r->rbp, r->rsp, r->r8, r->r9, r->r10,
			       r->r11, r->r12, r->r13, r->r14, r->r15, r->rip, r->rflags & 0xcd5, j->fs_base };
	uint64_t h = om_fnv1a(OM_FNV1A_INIT, v, sizeof v);
	return j->xsave ? om_fnv1a(h, j->xsave + 160, 256) : h;
}

static void replay_end(struct decide *d)
{
	free(d->in);
	d->in = NULL;
	d->in_len = d->in_at = 0;
}

/* The job went another way: no more of home's entries, and its timers
 * raise their own signals again (home ends it at its next call). */
static void replay_stop(struct decide *d)
{
	replay_end(d);
	d->rem_at = 0;
	d->until = 0;
	d->diverged = 1;
}

void decide_unfed(struct decide *d)
{
	if (!d->in)
		return;
	d->in_len = d->in_at; /* those not answered with yet: home sends them again */
	if (!d->in_len)
		replay_end(d);
}

/* Home's next entry when it is a signal: 1 with *e filled. */
static int next_signal(struct decide *d, struct om_decision *e)
{
	size_t at = d->in_at;
	return d->in && om_decision_next(d->in, d->in_len, &at, e) == OM_OK && e->kind == OM_DEC_SIGNAL;
}

/* The logged signal *e raised now: j takes it where it took it. */
static void raise_logged(struct job *j, struct decide *d, const struct om_decision *e)
{
	struct job_siginfo si;
	size_t at = d->in_at;
	struct om_decision skip;
	om_decision_next(d->in, d->in_len, &at, &skip);
	d->in_at = (uint32_t)at;
	if (e->out[0].len != sizeof si) {
		replay_stop(d); /* another kernel's: home sees it */
		return;
	}
	memcpy(&si, e->out[0].bytes, sizeof si);
	/* Reported as logged: the place was found. Taken in its call, it
	 * cuts the call short at its start rather than in its sleep (the
	 * time left it reports is the logged one). Not a timer's own any
	 * more: no queue of home's making past its bound. */
	si.node_timer = 0;
	si.timer = 0;
	d->call_cut = e->ret == OM_DEC_AT_CALL;
	d->rem_at = 0;
	if (e->nout == 2 && e->out[1].len == sizeof d->rem) {
		d->rem_at = e->out[1].addr;
		memcpy(d->rem, e->out[1].bytes, sizeof d->rem);
	}
	signal_raise(j, e->nr, &si);
	if (keep(d, e) < 0)
		lost(d);
	if (d->in_at >= d->in_len)
		replay_end(d);
}

void decide_enter(struct job *j)
{
	struct decide *d = &j->p->dec;
	struct om_decision e;
	d->since++;
	d->call_cut = 0;
	d->rem_at = 0;
	d->user_ran = 0;
	d->holding = 0;
	if (!next_signal(d, &e))
		return;
	if ((int64_t)e.a[0] < d->since) /* its place went by: the job went another way (home sees it) */
		replay_stop(d);
	else if ((int64_t)e.a[0] == d->since && e.ret == OM_DEC_AT_CALL)
		raise_logged(j, d, &e);
}

void decide_anchor(struct job *j, int sleeping)
{
	j->p->dec.since = sleeping ? 1 : 0; /* the call it sleeps in is the image's first */
}

int decide_replaying(const struct proc *p)
{
	return p->seq < p->dec.until;
}

void decide_place(struct job *j)
{
	j->p->dec.place_rip = j->regs.rip;
	j->p->dec.place_hash = regs_hash(j);
}

void decide_rem(struct job *j, uint64_t rem_at, void *rem)
{
	struct decide *d = &j->p->dec;
	if (d->rem_at && d->rem_at == rem_at)
		memcpy(rem, d->rem, sizeof d->rem);
	d->rem_at = 0;
}

void decide_taken(struct job *j, int sig, const struct job_siginfo *si, int at_call, uint64_t rem_at,
		  const void *rem)
{
	struct decide *d = &j->p->dec;
	d->call_cut = 0;
	if (!d->on || !si->node_timer)
		return; /* home's signals, and the job's own (a call of its), come the same way again */
	if (j->p->nthreads > 1 || (!at_call && d->user_ran)) {
		lost(d); /* in the middle of its own code: no place a replay finds again */
		return;
	}
	struct om_decision e = { .kind = OM_DEC_SIGNAL, .nr = (uint16_t)sig, .ret = at_call ? OM_DEC_AT_CALL : OM_DEC_AT_USER,
				 .a = { (uint64_t)(int64_t)d->since, at_call ? 0 : d->place_rip, at_call ? 0 : d->place_hash },
				 .nout = 1, .out = { { 0, sizeof *si, (const uint8_t *)si }, { rem_at, 16, rem } } };
	if (at_call && rem_at)
		e.nout = 2;
	if (keep(d, &e) < 0)
		lost(d);
}

int decide_may_deliver(struct job *j)
{
	struct decide *d = &j->p->dec;
	if (!d->on || !d->user_ran || j->state != JOB_RUNNABLE || j->p->nthreads > 1 ||
	    !signal_ready_from_timers(j)) {
		d->holding = 0;
		return 1;
	}
	/* Its own code ran since its last call: the signals wait for the
	 * next (a place a replay finds again), while it runs DECIDE_HOLD_MS
	 * more of it (its time, not the clock's: a busy node or host may keep
	 * it from running). */
	if (!d->holding) {
		d->holding = 1;
		d->held_cpu_ns = j->cpu_ns;
	}
	if (j->cpu_ns - d->held_cpu_ns < DECIDE_HOLD_MS * 1000000ull)
		return 0;
	d->holding = 0;
	return 1;
}

void decide_prepare(struct job *j)
{
	struct decide *d = &j->p->dec;
	struct om_decision e;
	if (!next_signal(d, &e) || e.ret != OM_DEC_AT_USER || (int64_t)e.a[0] != d->since ||
	    j->state != JOB_RUNNABLE)
		return;
	if (j->regs.rip == e.a[1] && regs_hash(j) == e.a[2])
		raise_logged(j, d, &e);
	else
		replay_stop(d); /* not where it took it: it went another way (home sees it) */
}

int decide_cuts_sleep(const struct job *j)
{
	return j->p->dec.call_cut;
}

void decide_runs(struct job *j)
{
	j->p->dec.user_ran = 1;
}

size_t decide_pending(const struct proc *p)
{
	return p->dec.out_len + (p->dec.out_lost ? OM_DEC_HEAD : 0);
}

size_t decide_take(struct proc *p, uint8_t *buf, size_t cap)
{
	struct decide *d = &p->dec;
	size_t n = d->out_len;
	if (n > cap)
		return 0; /* cannot happen: cap holds DECIDE_OUT_CAP */
	memcpy(buf, d->out, n);
	if (d->out_lost) {
		struct om_decision e = { .kind = OM_DEC_LOST };
		int m = om_decision_encode(&e, buf + n, cap - n);
		n += m > 0 ? (size_t)m : 0;
	}
	d->out_len = 0;
	d->out_lost = 0;
	return n;
}

void decide_drop(struct proc *p)
{
	p->dec.out_len = 0;
	p->dec.out_lost = 0;
}

void decide_feed(struct decide *d, const uint8_t *buf, size_t len)
{
	d->on = 1;
	if (d->diverged)
		return; /* the rest of a replay that is over */
	if (d->in && d->in_at > 0) { /* what was answered goes */
		memmove(d->in, d->in + d->in_at, d->in_len - d->in_at);
		d->in_len -= d->in_at;
		d->in_at = 0;
	}
	uint8_t *in = d->in_len + len <= DECIDE_IN_CAP ? realloc(d->in, d->in_len + len) : NULL;
	if (!in) { /* more than a node keeps: fresh answers, home sees it */
		replay_stop(d);
		return;
	}
	d->in = in;
	/* Its entries but the replay's end, which is kept aside. */
	struct om_decision e;
	for (size_t at = 0, from = 0; at < len; from = at) {
		if (om_decision_next(buf, len, &at, &e) != OM_OK)
			break; /* checked by the caller: cannot be */
		if (e.kind == OM_DEC_UNTIL)
			d->until = (uint32_t)e.a[0];
		else {
			memcpy(d->in + d->in_len, buf + from, at - from);
			d->in_len += (uint32_t)(at - from);
		}
	}
	if (!d->in_len)
		replay_end(d);
}

void decide_free(struct decide *d)
{
	free(d->out);
	free(d->in);
	memset(d, 0, sizeof *d);
}
