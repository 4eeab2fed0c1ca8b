/* claims.c - a node's CPU figures against its jobs' CPU time (see
 * claims.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "claims.h"
#include "jobs.h"
#include "log.h"
#include "nodes.h"

void
claims_hello(struct node *n, int same_key, uint32_t heartbeat_ms)
{
	uint8_t flag = same_key ? n->claims.flag : OM_CLAIMS_OK;
	uint32_t period = heartbeat_ms < CLAIMS_HB_MIN_MS ? CLAIMS_HB_MIN_MS :
	    heartbeat_ms > CLAIMS_HB_MAX_MS ? CLAIMS_HB_MAX_MS : heartbeat_ms;

	memset(&n->claims, 0, sizeof n->claims);
	n->claims.flag = flag;
	/* As the node keeps it; 0 (the cores rule off) when an early
	 * heartbeat, CLAIMS_HB_SOON_MS and a little after the last, could
	 * look on time. */
	n->claims.on_time_ms = period * CLAIMS_HB_LATE_PCT / 100;
	if (n->claims.on_time_ms < 2 * CLAIMS_HB_SOON_MS)
		n->claims.on_time_ms = 0;
}

/* Peer values may be anything: sums saturate instead of wrapping. */
static uint64_t
add_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static const struct om_hb_job *
listed(const struct om_heartbeat *hb, uint32_t job)
{
	uint32_t i;

	for (i = 0; i < hb->nlisted; i++)
		if (hb->listed[i].job == job)
			return &hb->listed[i];
	return NULL;
}

static void __attribute__((format(printf, 3, 4)))
raise_flag(struct node *n, uint8_t flag, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	if (n->claims.flag != OM_CLAIMS_OK)
		return;
	n->claims.flag = flag;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	log_warnx("node %u (key %s): its CPU claims look false: %s; om-mon shows it suspect", n->id,
	    n->fp, why);
}

/* A stay listed last time and not now (or counted from 0 again: it left
 * and came back) has ended at its last listing. */
static void
fold_ended(struct node *n, const struct om_heartbeat *hb)
{
	const struct om_hb_job *now;
	uint32_t i;

	for (i = 0; i < n->hb.nlisted; i++) {
		now = listed(hb, n->hb.listed[i].job);
		if (now == NULL || now->cpu_ns < n->hb.listed[i].cpu_ns)
			n->claims.ended_ns = add_sat(n->claims.ended_ns, n->hb.listed[i].cpu_ns);
	}
}

/* The CPU time rule: everything reported since HELLO, against cores x
 * the time since then (milliseconds, which cannot overflow here). */
static void
check_cpu_time(struct node *n, const struct om_heartbeat *hb, uint64_t now)
{
	uint64_t sum = n->claims.ended_ns, cores = n->hello.cpu.cores, ms = now - n->registered_ms;
	uint32_t i;

	for (i = 0; i < hb->nlisted; i++)
		sum = add_sat(sum, hb->listed[i].cpu_ns);
	if (sum / 1000000 > cores * ms * CLAIMS_SLACK_PCT / 100 + cores * CLAIMS_GRACE_MS)
		raise_flag(n, OM_CLAIMS_CPU_TIME, "its jobs used %.1f s of CPU time in %.1f s on %u core%s",
		    sum / 1e9, ms / 1e3, (unsigned)cores, cores == 1 ? "" : "s");
}

/* The cores rule: the jobs listed runnable in both heartbeats, on this
 * node for the whole interval and running as the agent knows them. */
static void
check_cores(struct node *n, const struct om_heartbeat *hb, uint64_t now)
{
	uint64_t dt = now - n->claims.hb_ms, node_dt = (uint32_t)(hb->uptime_ms - n->hb.uptime_ms);
	uint64_t got = 0, runnable = 0, cores = n->hello.cpu.cores;
	const struct om_hb_job *was;
	const struct job *j;
	uint32_t i;

	if (node_dt < dt)
		dt = node_dt;
	/* Early: what wants a core changed in between (claims.h). */
	if (n->claims.on_time_ms == 0 || node_dt < n->claims.on_time_ms)
		return;
	for (i = 0; i < hb->nlisted; i++) {
		if (!hb->listed[i].runnable || (was = listed(&n->hb, hb->listed[i].job)) == NULL ||
		    !was->runnable || hb->listed[i].cpu_ns < was->cpu_ns)
			continue;
		j = jobs_find(hb->listed[i].job);
		if (j == NULL || j->node != n || j->state != OM_JOB_RUNNING || j->move_to != NULL ||
		    j->start_ms > n->claims.hb_ms)
			continue;
		runnable++;
		got = add_sat(got, hb->listed[i].cpu_ns - was->cpu_ns);
	}
	n->claims.want_ns += (runnable < cores ? runnable : cores) * dt * 1000000;
	n->claims.got_ns = add_sat(n->claims.got_ns, got);
	if (n->claims.want_ns < (uint64_t)CLAIMS_EVIDENCE_MS * 1000000)
		return;
	if (n->claims.got_ns / 100 < n->claims.want_ns / 100 * CLAIMS_SHORT_PCT / 100)
		raise_flag(n, OM_CLAIMS_CORES, "its runnable jobs got %.1f of the %.1f core-seconds its "
		    "%u cores would give them", n->claims.got_ns / 1e9, n->claims.want_ns / 1e9,
		    (unsigned)cores);
	else if (n->claims.flag == OM_CLAIMS_OK)
		log_debug("node %u: its claims hold: its runnable jobs got %.1f of the %.1f core-seconds "
		    "its %u cores would give them", n->id, n->claims.got_ns / 1e9,
		    n->claims.want_ns / 1e9, (unsigned)cores);
	n->claims.want_ns = n->claims.got_ns = 0;
}

void
claims_heartbeat(struct node *n, const struct om_heartbeat *hb, uint64_t now)
{
	fold_ended(n, hb);
	check_cpu_time(n, hb, now);
	if (n->claims.hb_ms != 0)
		check_cores(n, hb, now);
	n->claims.hb_ms = now;
}
