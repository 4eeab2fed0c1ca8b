/* timers.c - interval timers and POSIX timers of a job (see timers.h).
 * Semantics follow Linux 6.1's kernel/time/itimer.c and posix-timers.c. */
#include <stdint.h>
#include <string.h>

#include "job.h"
#include "job_thread.h"
#include "linux_abi.h"
#include "signal.h"
#include "syscall.h"
#include "timers.h"

#define NS 1000000000LL
#define US 1000LL
#define TIMERID_MAX 0x7fffffff
/* A CPU clock named by id (clock_getcpuclockid): ~pid << 3 | type, with
 * bit 2 for a thread and type 3 invalid (include/linux/posix-timers.h). */
#define CPUCLOCK_PERTHREAD 4
#define CPUCLOCK_TYPE 3

/* ITIMER_REAL counts CLOCK_MONOTONIC, VIRTUAL and PROF the job's CPU time
 * (on the node all of it is user time). */
static const struct {
	int clock, signo;
} itimer_kind[3] = {
	{ LX_CLOCK_MONOTONIC, LX_SIGALRM },
	{ LX_CLOCK_PROCESS_CPUTIME_ID, LX_SIGVTALRM },
	{ LX_CLOCK_PROCESS_CPUTIME_ID, LX_SIGPROF },
};

struct lx_itimerspec {
	struct lx_timespec interval, value;
};
struct lx_itimerval {
	struct lx_timeval interval, value;
};

static uint64_t clock_now(const struct job *j, int clock) { return (uint64_t)job_clock_ns(j, clock); }

static uint64_t ts_ns(const struct lx_timespec *t)
{
	return (uint64_t)t->tv_sec > (uint64_t)(INT64_MAX / NS - 1) ? (uint64_t)INT64_MAX
								  : (uint64_t)t->tv_sec * NS + (uint64_t)t->tv_nsec;
}

/* Saturates as Linux's timeval-to-ktime does (KTIME_MAX). */
static uint64_t tv_ns(const struct lx_timeval *t)
{
	return (uint64_t)t->tv_sec > (uint64_t)(INT64_MAX / NS - 1) ? (uint64_t)INT64_MAX
								   : (uint64_t)t->tv_sec * NS + (uint64_t)t->tv_usec * US;
}

static int ts_valid(const struct lx_timespec *t) { return t->tv_sec >= 0 && t->tv_nsec >= 0 && t->tv_nsec < NS; }
static int tv_valid(const struct lx_timeval *t) { return t->tv_sec >= 0 && t->tv_usec >= 0 && t->tv_usec < 1000000; }

static struct lx_timespec ns_ts(uint64_t ns) { return (struct lx_timespec){ (int64_t)(ns / NS), (int64_t)(ns % NS) }; }
static struct lx_timeval ns_tv(uint64_t ns) { return (struct lx_timeval){ (int64_t)(ns / NS), (int64_t)(ns % NS / US) }; }

/* Time to the next expiry; an armed timer whose time has passed but which
 * has not fired yet says 1 ns, as Linux does (0 would read as disarmed). */
static uint64_t remaining(const struct job *j, const struct job_timer *t)
{
	if (!t->expires)
		return 0;
	uint64_t now = clock_now(j, t->clock);
	return t->expires > now ? t->expires - now : 1;
}

/* Disarming forgets the interval, except on the CPU clocks' interval
 * timers (Linux's do_setitimer, common_timer_set, set_cpu_itimer). */
static void arm(struct job *j, struct job_timer *t, uint64_t value, uint64_t interval, int absolute)
{
	int cpu_itimer = t == &j->p->itimer[LX_ITIMER_VIRTUAL] || t == &j->p->itimer[LX_ITIMER_PROF];
	t->interval = value || cpu_itimer ? interval : 0;
	if (!value) {
		t->expires = 0;
		return;
	}
	uint64_t now = clock_now(j, t->clock);
	t->expires = absolute ? value : (value > UINT64_MAX - now ? UINT64_MAX : now + value);
	if (!t->expires)
		t->expires = 1; /* 0 means disarmed; absolute time 0 has passed anyway */
}

static void fire(struct job *j, struct job_timer *t, int posix, uint64_t now)
{
	uint32_t missed = 0;
	if (t->interval) {
		/* The next period after now; the ones skipped count as overruns. */
		uint64_t periods = (now - t->expires) / t->interval;
		missed = periods > TIMERID_MAX ? TIMERID_MAX : (uint32_t)periods;
		uint64_t step = (periods + 1) * t->interval;
		t->expires = step / t->interval != periods + 1 || t->expires > UINT64_MAX - step ? 0 : t->expires + step;
	} else {
		t->expires = 0;
	}
	if (!posix) { /* an interval timer's signal comes from the kernel, merged when pending */
		struct job_siginfo info = { .code = LX_SI_KERNEL, .node_timer = 1 };
		if (!decide_replaying(j->p)) /* a replay raises the logged ones instead */
			signal_raise(j, t->signo, &info);
		return;
	}
	if (t->notify == LX_SIGEV_NONE)
		return;
	if (t->queued) {
		uint64_t o = (uint64_t)t->overrun + 1 + missed;
		t->overrun = o > TIMERID_MAX ? TIMERID_MAX : (uint32_t)o;
		return;
	}
	t->overrun = missed;
	if (decide_replaying(j->p))
		return; /* a replay raises the logged ones instead */
	struct job_siginfo info = { .code = LX_SI_TIMER, .timer = 1, .node_timer = 1 };
	uint32_t zero = 0;
	memcpy(info.fields + 0, &t->id, 4); /* _timer: si_timerid, si_overrun, si_value */
	memcpy(info.fields + 4, &zero, 4);
	memcpy(info.fields + 8, &t->value, 8);
	struct job *to = t->tid ? job_thread_find(j->p, t->tid) : NULL;
	if ((to ? signal_raise_thread(to, t->signo, &info) : signal_raise(j, t->signo, &info)) == 0)
		t->queued = 1;
}

void timers_run(struct job *j)
{
	for (int i = 0; i < 3; i++) {
		struct job_timer *t = &j->p->itimer[i];
		uint64_t now;
		if (t->expires && (now = clock_now(j, t->clock)) >= t->expires)
			fire(j, t, 0, now);
	}
	for (int i = 0; i < JOB_TIMERS_MAX; i++) {
		struct job_timer *t = &j->p->timer[i];
		uint64_t now;
		if (t->owner && t->owner != j->tid)
			continue; /* a thread's CPU clock: its own turn reads it */
		if (t->used && t->expires && (now = clock_now(j, t->clock)) >= t->expires)
			fire(j, t, 1, now);
	}
}

static struct job_timer *timer_by_id(struct job *j, int64_t id)
{
	for (int i = 0; i < JOB_TIMERS_MAX; i++)
		if (j->p->timer[i].used && j->p->timer[i].id == id)
			return &j->p->timer[i];
	return NULL;
}

static int32_t info_timerid(const struct job_siginfo *info)
{
	int32_t id;
	memcpy(&id, info->fields, 4);
	return id;
}

void timers_signal_delivered(struct job *j, struct job_siginfo *info)
{
	struct job_timer *t = timer_by_id(j, info_timerid(info));
	if (!t || !t->queued)
		return; /* deleted meanwhile: its last signal still comes, as on Linux */
	memcpy(info->fields + 4, &t->overrun, 4);
	t->overrun_last = t->overrun;
	t->overrun = 0;
	t->queued = 0;
}

void timers_signal_gone(struct job *j, const struct job_siginfo *info)
{
	struct job_timer *t = timer_by_id(j, info_timerid(info));
	if (t) {
		t->queued = 0;
		t->overrun = 0;
	}
}

/* ---- interval timers */

void timers_init(struct job *j)
{
	for (int i = 0; i < 3; i++) {
		j->p->itimer[i].clock = itimer_kind[i].clock;
		j->p->itimer[i].signo = itimer_kind[i].signo;
	}
}

static struct lx_itimerval itimer_get(struct job *j, int which)
{
	const struct job_timer *t = &j->p->itimer[which];
	uint64_t left = remaining(j, t);
	/* A live timer under a microsecond still reads as armed. */
	return (struct lx_itimerval){ ns_tv(t->interval), ns_tv(left && left < US ? US : left) };
}

void sys_getitimer(struct job *j, struct sys_call *sc)
{
	int which = (int)sc->a[0];
	if (which < LX_ITIMER_REAL || which > LX_ITIMER_PROF) {
		sc->ret = -LX_EINVAL;
		return;
	}
	struct lx_itimerval v = itimer_get(j, which);
	sc->ret = uvm_write(&j->p->uvm, sc->a[1], &v, sizeof v, 0) < 0 ? -LX_EFAULT : 0;
}

/* A NULL new value disarms, as Linux 6.1 still allows. */
void sys_setitimer(struct job *j, struct sys_call *sc)
{
	int which = (int)sc->a[0];
	struct lx_itimerval neu = { { 0, 0 }, { 0, 0 } };
	if (sc->a[1]) {
		if (uvm_read(&j->p->uvm, sc->a[1], &neu, sizeof neu) < 0) {
			sc->ret = -LX_EFAULT;
			return;
		}
		if (!tv_valid(&neu.value) || !tv_valid(&neu.interval)) {
			sc->ret = -LX_EINVAL;
			return;
		}
	}
	if (which < LX_ITIMER_REAL || which > LX_ITIMER_PROF) {
		sc->ret = -LX_EINVAL;
		return;
	}
	struct lx_itimerval old = itimer_get(j, which);
	arm(j, &j->p->itimer[which], tv_ns(&neu.value), tv_ns(&neu.interval), 0);
	sc->ret = 0;
	if (sc->a[2] && uvm_write(&j->p->uvm, sc->a[2], &old, sizeof old, 0) < 0)
		sc->ret = -LX_EFAULT;
}

/* The seconds left of the previous alarm, rounded to the nearest, but never
 * 0 for one still pending (Linux's alarm_setitimer). */
void sys_alarm(struct job *j, struct sys_call *sc)
{
	struct job_timer *t = &j->p->itimer[LX_ITIMER_REAL];
	uint64_t left = remaining(j, t);
	arm(j, t, (uint64_t)(uint32_t)sc->a[0] * NS, 0, 0);
	uint64_t sec = left / NS, frac = left % NS;
	sc->ret = (int64_t)(sec + ((!sec && frac) || frac >= NS / 2 ? 1 : 0));
}

/* ---- POSIX timers */

/* The clock a timer may count on the node: 0 and the clock, -EINVAL /
 * -EOPNOTSUPP as Linux answers, or 1 for a clock only home keeps (the
 * alarm clocks, TAI, another process's CPU clock). */
static int timer_clock(const struct job *j, int64_t clock, int *out)
{
	switch (clock) {
	case LX_CLOCK_REALTIME:
	case LX_CLOCK_MONOTONIC:
	case LX_CLOCK_BOOTTIME:
	case LX_CLOCK_PROCESS_CPUTIME_ID:
	case LX_CLOCK_THREAD_CPUTIME_ID:
		*out = (int)clock;
		return 0;
	case LX_CLOCK_MONOTONIC_RAW:
	case LX_CLOCK_REALTIME_COARSE:
	case LX_CLOCK_MONOTONIC_COARSE:
		return -LX_ENOTSUP; /* no timers on them (EOPNOTSUPP) */
	}
	if (clock == 8 || clock == 9 || clock == 11)
		return 1; /* the alarm clocks, TAI */
	if (clock >= 0)
		return -LX_EINVAL; /* 10 (CLOCK_SGI_CYCLE) is gone */
	if ((clock & (CPUCLOCK_PERTHREAD | CPUCLOCK_TYPE)) == CPUCLOCK_TYPE)
		return -LX_ENOTSUP; /* a clock named by a file descriptor (CLOCKFD) */
	if ((clock & CPUCLOCK_TYPE) == CPUCLOCK_TYPE)
		return -LX_EINVAL;
	int64_t pid = ~(clock >> 3);
	if (pid != 0 && pid != j->p->ident.pid)
		return 1;
	*out = (clock & CPUCLOCK_PERTHREAD) ? LX_CLOCK_THREAD_CPUTIME_ID : LX_CLOCK_PROCESS_CPUTIME_ID;
	return 0;
}

/* Linux's good_sigevent: a thread id must name a thread of the process. */
static int sigevent_ok(struct job *j, int notify, int signo, int32_t tid)
{
	switch (notify) {
	case LX_SIGEV_SIGNAL | LX_SIGEV_THREAD_ID:
		if (!job_thread_find(j->p, tid))
			return 0;
		/* fall through */
	case LX_SIGEV_SIGNAL:
	case LX_SIGEV_THREAD:
		return signo >= 1 && signo <= JOB_NSIG;
	case LX_SIGEV_NONE:
		return 1;
	}
	return 0;
}

/* Ids are handed out in turn from 0, skipping ones in use (Linux 6.1). */
static int32_t next_id(struct job *j)
{
	for (;;) {
		int32_t id = (int32_t)j->p->timer_next_id;
		j->p->timer_next_id = (j->p->timer_next_id + 1) & TIMERID_MAX;
		if (!timer_by_id(j, id))
			return id;
	}
}

/* Linux's order: the sigevent is read, the clock checked, an id taken (a
 * bad sigevent still uses it up), the sigevent checked, the id written. */
void sys_timer_create(struct job *j, struct sys_call *sc)
{
	struct {
		uint64_t value;
		int32_t signo, notify, tid;
		uint8_t pad[44];
	} ev = { .signo = LX_SIGALRM, .notify = LX_SIGEV_SIGNAL };
	if (sc->a[1] && uvm_read(&j->p->uvm, sc->a[1], &ev, sizeof ev) < 0) {
		sc->ret = -LX_EFAULT;
		return;
	}
	int clock, rc = timer_clock(j, (int64_t)(int32_t)sc->a[0], &clock);
	if (rc == 1) {
		sc->outcome = SYS_HOME;
		return;
	}
	if (rc < 0) {
		sc->ret = rc;
		return;
	}
	struct job_timer *t = NULL;
	for (int i = 0; i < JOB_TIMERS_MAX && !t; i++)
		if (!j->p->timer[i].used)
			t = &j->p->timer[i];
	if (!t) {
		sc->outcome = SYS_HOME; /* Linux allows many more: home has room */
		return;
	}
	int32_t id = next_id(j);
	if (!sc->a[1])
		ev.value = (uint64_t)(uint32_t)id;
	else if (!sigevent_ok(j, ev.notify, ev.signo, ev.tid)) {
		sc->ret = -LX_EINVAL;
		return;
	}
	if (uvm_write(&j->p->uvm, sc->a[2], &id, sizeof id, 0) < 0) {
		sc->ret = -LX_EFAULT;
		return;
	}
	*t = (struct job_timer){ .used = 1, .id = id, .clock = clock, .notify = ev.notify & ~LX_SIGEV_THREAD_ID,
				 .signo = ev.signo, .value = ev.value,
				 .tid = sc->a[1] && (ev.notify & LX_SIGEV_THREAD_ID) ? ev.tid : 0,
				 .owner = clock == LX_CLOCK_THREAD_CPUTIME_ID ? (int32_t)j->tid : 0 };
	sc->ret = 0;
}

/* The timer the first argument names (timer_t: an int), or NULL with
 * sc->ret = -EINVAL. */
static struct job_timer *timer_arg(struct job *j, struct sys_call *sc)
{
	struct job_timer *t = timer_by_id(j, (int32_t)sc->a[0]);
	if (!t)
		sc->ret = -LX_EINVAL;
	return t;
}

static struct lx_itimerspec timer_get(struct job *j, const struct job_timer *t)
{
	uint64_t left = remaining(j, t);
	return (struct lx_itimerspec){ ns_ts(t->interval), ns_ts(left) };
}

/* Linux reads and checks the new value before it looks the timer up. */
void sys_timer_settime(struct job *j, struct sys_call *sc)
{
	struct lx_itimerspec neu;
	if (!sc->a[2]) {
		sc->ret = -LX_EINVAL;
		return;
	}
	if (uvm_read(&j->p->uvm, sc->a[2], &neu, sizeof neu) < 0) {
		sc->ret = -LX_EFAULT;
		return;
	}
	if (!ts_valid(&neu.value) || !ts_valid(&neu.interval)) {
		sc->ret = -LX_EINVAL;
		return;
	}
	struct job_timer *t = timer_arg(j, sc);
	if (!t)
		return;
	struct lx_itimerspec old = timer_get(j, t);
	t->overrun_last = 0;
	arm(j, t, ts_ns(&neu.value), ts_ns(&neu.interval), (sc->a[1] & LX_TIMER_ABSTIME) != 0);
	sc->ret = 0;
	if (sc->a[3] && uvm_write(&j->p->uvm, sc->a[3], &old, sizeof old, 0) < 0)
		sc->ret = -LX_EFAULT;
}

void sys_timer_gettime(struct job *j, struct sys_call *sc)
{
	struct job_timer *t = timer_arg(j, sc);
	if (!t)
		return;
	struct lx_itimerspec cur = timer_get(j, t);
	sc->ret = uvm_write(&j->p->uvm, sc->a[1], &cur, sizeof cur, 0) < 0 ? -LX_EFAULT : 0;
}

void sys_timer_getoverrun(struct job *j, struct sys_call *sc)
{
	struct job_timer *t = timer_arg(j, sc);
	if (t)
		sc->ret = t->overrun_last;
}

/* A signal it already queued still comes (Linux's sigqueue_free). */
void sys_timer_delete(struct job *j, struct sys_call *sc)
{
	struct job_timer *t = timer_arg(j, sc);
	if (!t)
		return;
	memset(t, 0, sizeof *t);
	sc->ret = 0;
}
