/* sys_time.c - clocks and sleeps. The node keeps the home's time: each clock
 * is its home value at capture plus the node time elapsed since. */
#include <stdint.h>

#include "job.h"
#include "linux_abi.h"
#include "sched.h"
#include "syscall.h"
#include "sysnr.h"
#include "timer.h"

#define NS 1000000000LL

uint64_t job_ran_ns(const struct proc *p)
{
	uint64_t ns = p->ran_gone_ns;
	for (const struct job *t = p->threads; t; t = t->sibling)
		ns += t->cpu_ns;
	return ns;
}

uint64_t job_cpu_ns(const struct job *j)
{
	return j->p->home_usage.utime_ns + j->p->home_usage.stime_ns + job_ran_ns(j->p);
}

int64_t job_clock_ns(const struct job *j, int clock)
{
	int64_t delta = (int64_t)(timer_ns() - j->p->node_ns_base);
	switch (clock) {
	case LX_CLOCK_REALTIME:
	case LX_CLOCK_REALTIME_COARSE:
		return j->p->home_realtime_ns + delta;
	case LX_CLOCK_MONOTONIC:
	case LX_CLOCK_MONOTONIC_RAW:
	case LX_CLOCK_MONOTONIC_COARSE:
		return j->p->home_monotonic_ns + delta;
	case LX_CLOCK_BOOTTIME:
		return j->p->home_boottime_ns + delta;
	case LX_CLOCK_PROCESS_CPUTIME_ID:
		return (int64_t)job_cpu_ns(j);
	case LX_CLOCK_THREAD_CPUTIME_ID:
		return (int64_t)(j->came_ns + j->cpu_ns);
	default:
		return -1;
	}
}

static void put_timespec(struct job *j, struct sys_call *sc, uint64_t uaddr, int64_t ns)
{
	struct lx_timespec ts = { ns / NS, ns % NS };
	sc->ret = uvm_write(&j->p->uvm, uaddr, &ts, sizeof ts, 0) < 0 ? -LX_EFAULT : 0;
}

/* Clocks the node does not keep (TAI, the alarm clocks, another
 * process's CPU clock) are forwarded: om_syscall_where_at. */
void sys_clock_gettime(struct job *j, struct sys_call *sc)
{
	put_timespec(j, sc, sc->a[1], job_clock_ns(j, (int)sc->a[0]));
}

void sys_clock_getres(struct job *j, struct sys_call *sc)
{
	sc->ret = 0;
	if (sc->a[1])
		put_timespec(j, sc, sc->a[1], 1);
}

void sys_gettimeofday(struct job *j, struct sys_call *sc)
{
	int64_t ns = job_clock_ns(j, LX_CLOCK_REALTIME);
	struct { int64_t sec, usec; } tv = { ns / NS, ns % NS / 1000 };
	sc->ret = 0;
	if (sc->a[0] && uvm_write(&j->p->uvm, sc->a[0], &tv, sizeof tv, 0) < 0)
		sc->ret = -LX_EFAULT;
	/* The timezone argument is obsolete; Linux fills zeros. */
	static const int32_t tz[2];
	if (sc->a[1] && uvm_write(&j->p->uvm, sc->a[1], tz, sizeof tz, 0) < 0)
		sc->ret = -LX_EFAULT;
}

void sys_time(struct job *j, struct sys_call *sc)
{
	int64_t sec = job_clock_ns(j, LX_CLOCK_REALTIME) / NS;
	sc->ret = sec;
	if (sc->a[0] && uvm_write(&j->p->uvm, sc->a[0], &sec, sizeof sec, 0) < 0)
		sc->ret = -LX_EFAULT;
}

/* Sleeps until node time wake; a signal ends it early and writes the time
 * left to rem (a user address, 0 for none). */
static void sleep_until(struct job *j, struct sys_call *sc, uint64_t wake, uint64_t rem)
{
	sched_sleep(j, sc, wake, 0);
	j->sleep_rem = rem;
}

int job_read_timespec(struct job *j, uint64_t uaddr, int64_t *ns)
{
	struct lx_timespec ts;
	if (uvm_read(&j->p->uvm, uaddr, &ts, sizeof ts) < 0)
		return -LX_EFAULT;
	if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= NS)
		return -LX_EINVAL;
	*ns = ts.tv_sec > INT64_MAX / NS - 1 ? INT64_MAX : ts.tv_sec * NS + ts.tv_nsec;
	return 0;
}

uint64_t job_deadline(const struct job *j, int64_t ns, int clock)
{
	if (clock >= 0) {
		int64_t left = ns - job_clock_ns(j, clock);
		ns = left > 0 ? left : 0;
	}
	uint64_t now = timer_ns();
	return (uint64_t)ns > UINT64_MAX - now ? UINT64_MAX : now + (uint64_t)ns;
}

void sys_nanosleep(struct job *j, struct sys_call *sc)
{
	int64_t ns;
	int rc = job_read_timespec(j, sc->a[0], &ns);
	if (rc < 0) {
		sc->ret = rc;
		return;
	}
	sleep_until(j, sc, job_deadline(j, ns, -1), sc->a[1]);
}

void sys_clock_nanosleep(struct job *j, struct sys_call *sc)
{
	int64_t ns;
	switch (sc->a[0]) {
	case LX_CLOCK_THREAD_CPUTIME_ID: /* as Linux: no sleeping on them */
		sc->ret = -LX_EINVAL;
		return;
	case LX_CLOCK_MONOTONIC_RAW:
	case LX_CLOCK_REALTIME_COARSE:
	case LX_CLOCK_MONOTONIC_COARSE:
		sc->ret = -LX_ENOTSUP;
		return;
	}
	int rc = job_read_timespec(j, sc->a[2], &ns);
	if (rc < 0) {
		sc->ret = rc;
		return;
	}
	/* An absolute sleep has no time left to report. */
	int abs = (sc->a[1] & LX_TIMER_ABSTIME) != 0;
	sleep_until(j, sc, job_deadline(j, ns, abs ? (int)sc->a[0] : -1), abs ? 0 : sc->a[3]);
}
