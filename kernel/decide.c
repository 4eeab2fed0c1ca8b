/* decide.c - the node's own decisions for a job, kept and replayed
 * (decide.h). */
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "decision.h"
#include "job.h"
#include "linux_abi.h"
#include "proto.h"
#include "syscall.h"
#include "sysnr.h"

#define RET_BYTES (-1) /* the buffer is as long as the call's result */

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

int decide_is(uint64_t nr)
{
	return find(nr) >= 0;
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

/* Home's next entry, if it is this call: 1 with *e filled. */
static int replayed(struct decide *d, const struct sys_call *sc, struct om_decision *e)
{
	if (!d->in)
		return 0;
	size_t at = d->in_at;
	if (om_decision_next(d->in, d->in_len, &at, e) == OM_OK && e->kind == OM_DEC_CALL && e->nr == sc->nr &&
	    memcmp(e->a, sc->a, sizeof e->a) == 0) {
		d->in_at = (uint32_t)at;
		return 1;
	}
	/* It went another way: fresh answers from here (home sees it). */
	free(d->in);
	d->in = NULL;
	d->in_len = d->in_at = 0;
	return 0;
}

void decide_call(struct job *j, struct sys_call *sc)
{
	struct decide *d = &j->p->dec;
	int i = find(sc->nr);
	struct om_decision e;
	if (i < 0 || !d->on)
		return;
	if (j->p->nthreads > 1) { /* their order is the cores': home takes no restart of threads */
		lost(d);
		return;
	}
	if (replayed(d, sc, &e)) {
		sc->ret = e.ret;
		for (int k = 0; k < e.nout; k++)
			if (uvm_write(&j->p->uvm, e.out[k].addr, e.out[k].bytes, e.out[k].len, 0) < 0)
				sc->ret = -LX_EFAULT;
		if (sc->ret != e.ret || keep(d, &e) < 0)
			lost(d);
		if (d->in_at >= d->in_len) {
			free(d->in);
			d->in = NULL;
			d->in_len = d->in_at = 0;
		}
		return;
	}
	/* What this call wrote, read back: its buffers as it filled them. */
	static uint8_t buf[OM_DEC_OUTS][OM_DEC_OUT_MAX];
	e = (struct om_decision){ .kind = OM_DEC_CALL, .nr = (uint16_t)sc->nr, .ret = sc->ret };
	memcpy(e.a, sc->a, sizeof e.a);
	for (int k = 0; k < OM_DEC_OUTS && sc->ret >= 0; k++) {
		int arg = decided[i].arg[k];
		int64_t size = decided[i].size[k] == RET_BYTES ? sc->ret : decided[i].size[k];
		if (arg < 0 || !sc->a[arg] || size <= 0)
			continue;
		if (size > OM_DEC_OUT_MAX || uvm_read(&j->p->uvm, sc->a[arg], buf[k], (size_t)size) < 0) {
			lost(d); /* too big to keep, or gone: no replay past it */
			return;
		}
		e.out[e.nout].addr = sc->a[arg];
		e.out[e.nout].len = (uint32_t)size;
		e.out[e.nout++].bytes = buf[k];
	}
	if (keep(d, &e) < 0)
		lost(d);
}

void decide_signal(struct proc *p, int sig)
{
	struct om_decision e = { .kind = OM_DEC_SIGNAL, .nr = (uint16_t)sig };
	if (p->dec.on && keep(&p->dec, &e) < 0)
		lost(&p->dec);
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
	if (d->in && d->in_at > 0) { /* what was answered goes */
		memmove(d->in, d->in + d->in_at, d->in_len - d->in_at);
		d->in_len -= d->in_at;
		d->in_at = 0;
	}
	uint8_t *in = d->in_len + len <= DECIDE_IN_CAP ? realloc(d->in, d->in_len + len) : NULL;
	if (!in) { /* more than a node keeps: fresh answers, home sees it */
		free(d->in);
		d->in = NULL;
		d->in_len = d->in_at = 0;
		return;
	}
	memcpy(in + d->in_len, buf, len);
	d->in = in;
	d->in_len += (uint32_t)len;
}

void decide_free(struct decide *d)
{
	free(d->out);
	free(d->in);
	memset(d, 0, sizeof *d);
}
