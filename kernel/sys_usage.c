/* sys_usage.c - getrusage and times: the job's usage at home when its image
 * left (the image carries it) plus what it used here. Usage of the children
 * is at home: getrusage(RUSAGE_CHILDREN) is forwarded (om_syscall_where_at),
 * and times() reports the children's time as the image had it (a job on a
 * node has no children of its own yet). */
#include <stdint.h>

#include "job.h"
#include "linux_abi.h"
#include "mm.h"
#include "syscall.h"
#include "timer.h"

#define RUSAGE_SELF 0
#define RUSAGE_THREAD 1
#define USER_HZ 100 /* times(2) and clock_t on x86-64 */
#define NS 1000000000ULL

struct lx_rusage {
	struct lx_timeval utime, stime;
	int64_t maxrss, ixrss, idrss, isrss, minflt, majflt, nswap, inblock, oublock;
	int64_t msgsnd, msgrcv, nsignals, nvcsw, nivcsw;
};
_Static_assert(sizeof(struct lx_rusage) == 144, "struct rusage is 144 bytes");

static struct lx_timeval tv(uint64_t ns) { return (struct lx_timeval){ (int64_t)(ns / NS), (int64_t)(ns % NS / 1000) }; }

/* Every call forwarded home waited for home: a voluntary switch. */
void sys_getrusage(struct job *j, struct sys_call *sc)
{
	const struct job_usage *h = &j->p->home_usage;
	int64_t who = (int32_t)sc->a[0];
	if (who != RUSAGE_SELF && who != RUSAGE_THREAD) {
		sc->ret = -LX_EINVAL;
		return;
	}
	uint64_t rss_kb = j->p->uvm.pages * (PAGE_SIZE / 1024);
	int thread = who == RUSAGE_THREAD && j->p->nthreads > 1; /* else the process's own */
	struct lx_rusage ru = {
		.utime = tv(thread ? j->came_ns + j->cpu_ns : h->utime_ns + job_ran_ns(j->p)),
		.stime = tv(thread ? 0 : h->stime_ns),
		.maxrss = (int64_t)(rss_kb > h->maxrss_kb ? rss_kb : h->maxrss_kb),
		.minflt = (int64_t)(h->minflt + j->faults),
		.majflt = (int64_t)h->majflt,
		.nvcsw = (int64_t)(h->nvcsw + j->syscalls_forwarded),
		.nivcsw = (int64_t)h->nivcsw,
	};
	sc->ret = uvm_write(&j->p->uvm, sc->a[1], &ru, sizeof ru, 0) < 0 ? -LX_EFAULT : 0;
}

void sys_times(struct job *j, struct sys_call *sc)
{
	const struct job_usage *h = &j->p->home_usage;
	int64_t t[4] = {
		(int64_t)((h->utime_ns + job_ran_ns(j->p)) / (NS / USER_HZ)), (int64_t)(h->stime_ns / (NS / USER_HZ)),
		(int64_t)(h->cutime_ns / (NS / USER_HZ)), (int64_t)(h->cstime_ns / (NS / USER_HZ)),
	};
	if (sc->a[0] && uvm_write(&j->p->uvm, sc->a[0], t, sizeof t, 0) < 0) {
		sc->ret = -LX_EFAULT;
		return;
	}
	/* The system's tick count, going on from home's at capture. */
	sc->ret = (int64_t)(h->ticks + (timer_ns() - j->p->node_ns_base) / (NS / USER_HZ));
}
