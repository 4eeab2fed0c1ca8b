/* timers.c - timers between the home process and an image (timers.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>

#include "timers.h"

#define NS 1000000000ULL
#define FILLERS_MAX 4096 /* timers made on the way to an id, at most */

struct sigev {           /* struct sigevent, as the kernel reads it */
	uint64_t value;
	int32_t signo, notify, tid;
	uint8_t pad[44];
};

static int __attribute__((format(printf, 4, 5)))
fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/* Injects a call; a failed injection or a failed call is an error. */
static int
call(struct inject *in, long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, int64_t *ret,
    char *err, size_t errlen)
{
	uint64_t a[6] = { a0, a1, a2, a3, 0, 0 };
	int64_t v;
	int rc;

	if ((rc = inject_syscall(in, nr, a, &v)) != 0)
		return fail(err, errlen, rc, "timers: injected call %ld: %s", nr, strerror(-rc));
	if (v < 0 && v > -4096)
		return fail(err, errlen, (int)v, "timers: call %ld in the process: %s", nr, strerror((int)-v));
	if (ret != NULL)
		*ret = v;
	return 0;
}

/* The image's "now" on a clock (see timers.h). */
static uint64_t
image_now(const struct om_image_hdr *h, uint32_t clock)
{
	switch (clock) {
	case CLOCK_REALTIME: return h->clock_realtime;
	case CLOCK_BOOTTIME: return h->clock_boottime;
	case CLOCK_PROCESS_CPUTIME_ID:
	case CLOCK_THREAD_CPUTIME_ID: return h->usage.utime_ns + h->usage.stime_ns;
	default: return h->clock_monotonic;
	}
}

static uint64_t tv_ns(const int64_t tv[2]) { return (uint64_t)tv[0] * NS + (uint64_t)tv[1] * 1000; }
static uint64_t ts_ns(const int64_t ts[2]) { return (uint64_t)ts[0] * NS + (uint64_t)ts[1]; }

/* ---- capture */

static int
capture_itimers(struct inject *in, struct om_image_hdr *h, char *err, size_t errlen)
{
	static const uint32_t clock[3] = { CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID,
		CLOCK_PROCESS_CPUTIME_ID };
	int64_t v[4]; /* struct itimerval: interval, value */
	int which, rc;

	for (which = 0; which < 3; which++) {
		if ((rc = call(in, SYS_getitimer, (uint64_t)which, in->data, 0, 0, NULL, err, errlen)) != 0)
			return rc;
		if ((rc = inject_read(in, in->data, v, sizeof v)) != 0)
			return fail(err, errlen, rc, "timers: reading an itimerval: %s", strerror(-rc));
		h->itimer[which].interval = tv_ns(&v[0]);
		h->itimer[which].expires = tv_ns(&v[2]) ? image_now(h, clock[which]) + tv_ns(&v[2]) : 0;
	}
	return 0;
}

/* One "ID: ..." block of /proc/PID/timers (fs/proc/base.c show_timer). */
static int
parse_timer(FILE *f, int id, struct om_timer *t)
{
	char line[256], how[16], whom[8];
	unsigned long long value;
	int signo, n, clock;

	memset(t, 0, sizeof *t);
	t->id = id;
	if (fgets(line, sizeof line, f) == NULL || sscanf(line, "signal: %d/%llx", &signo, &value) != 2 ||
	    fgets(line, sizeof line, f) == NULL ||
	    sscanf(line, "notify: %15[a-z]/%7[a-z].%d", how, whom, &n) != 3 ||
	    fgets(line, sizeof line, f) == NULL || sscanf(line, "ClockID: %d", &clock) != 1)
		return -EPROTO;
	t->signo = (uint32_t)signo;
	t->value = value;
	t->clock = (uint32_t)clock;
	t->notify = strcmp(how, "none") == 0 ? 1 : strcmp(how, "thread") == 0 ? 2 : 0;
	if (strcmp(whom, "tid") == 0) {
		t->notify |= 4; /* SIGEV_THREAD_ID */
		t->tid = (uint32_t)n;
	}
	return 0;
}

/* The ids of the process's POSIX timers, from /proc/PID/timers; at most
 * max. Returns how many, or -errno. */
static int
timer_ids(pid_t pid, int *ids, int max)
{
	char path[64], line[256];
	int n = 0, id;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/timers", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "ID: %d", &id) == 1 && n < max)
			ids[n++] = id;
	fclose(f);
	return n;
}

int
timers_disarm(struct inject *in, char *err, size_t errlen)
{
	static const int64_t zero[4];
	int ids[OM_TIMERS_MAX], n, rc;

	if ((rc = inject_write(in, in->data, zero, sizeof zero)) != 0)
		return fail(err, errlen, rc, "timers: writing a zero timer: %s", strerror(-rc));
	for (int which = 0; which < 3; which++)
		if ((rc = call(in, SYS_setitimer, (uint64_t)which, in->data, 0, 0, NULL, err, errlen)) != 0)
			return rc;
	if ((n = timer_ids(in->pid, ids, OM_TIMERS_MAX)) < 0)
		return fail(err, errlen, n, "/proc/%d/timers: %s", (int)in->pid, strerror(-n));
	for (int i = 0; i < n; i++)
		if ((rc = call(in, SYS_timer_settime, (uint64_t)ids[i], 0, in->data, 0, NULL, err, errlen)) != 0)
			return rc;
	return 0;
}

int
timers_capture(struct inject *in, struct om_image_hdr *h, char *err, size_t errlen)
{
	char path[64], line[256];
	int64_t v[4]; /* struct itimerspec: interval, value */
	int id, rc, next = 0;
	FILE *f;

	if ((rc = capture_itimers(in, h, err, errlen)) != 0)
		return rc;
	h->timer_count = 0;
	snprintf(path, sizeof path, "/proc/%d/timers", (int)in->pid);
	if ((f = fopen(path, "re")) == NULL)
		return errno == ENOENT ? 0 : fail(err, errlen, -errno, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof line, f) != NULL) {
		struct om_timer *t = &h->timers[h->timer_count];
		if (sscanf(line, "ID: %d", &id) != 1)
			continue;
		if (h->timer_count == OM_TIMERS_MAX) {
			fclose(f);
			return fail(err, errlen, -EOVERFLOW, "more than %u POSIX timers", OM_TIMERS_MAX);
		}
		if ((rc = parse_timer(f, id, t)) != 0) {
			fclose(f);
			return fail(err, errlen, rc, "%s: unexpected format", path);
		}
		if (t->clock != CLOCK_REALTIME && t->clock != CLOCK_MONOTONIC && t->clock != CLOCK_BOOTTIME &&
		    t->clock != CLOCK_PROCESS_CPUTIME_ID && t->clock != CLOCK_THREAD_CPUTIME_ID) {
			fclose(f);
			return fail(err, errlen, -EOPNOTSUPP, "POSIX timer %d counts clock %u, which only home keeps",
			    id, t->clock);
		}
		if ((rc = call(in, SYS_timer_gettime, (uint64_t)id, in->data, 0, 0, NULL, err, errlen)) != 0 ||
		    (rc = inject_read(in, in->data, v, sizeof v)) != 0) {
			fclose(f);
			return rc < 0 ? rc : -EIO;
		}
		t->interval = ts_ns(&v[0]);
		t->expires = ts_ns(&v[2]) ? image_now(h, t->clock) + ts_ns(&v[2]) : 0;
		if (id >= next)
			next = id + 1;
		h->timer_count++;
	}
	fclose(f);
	/* The kernel's next id is not shown; past the highest is the best guess. */
	h->timer_next_id = (uint32_t)next;
	return 0;
}

/* ---- restore */

static int
restore_itimers(struct inject *in, const struct om_image_hdr *h, char *err, size_t errlen)
{
	struct timespec now;
	uint64_t cpu = image_now(h, CLOCK_PROCESS_CPUTIME_ID), left, base;
	int64_t v[4];
	int which, rc;

	clock_gettime(CLOCK_MONOTONIC, &now);
	for (which = 0; which < 3; which++) {
		const struct om_itimer *t = &h->itimer[which];
		if (!t->expires && !t->interval)
			continue;
		/* ITIMER_REAL against home's monotonic clock now; the CPU ones
		 * against the CPU time the image had: home's own count differs. */
		base = which == 0 ? (uint64_t)now.tv_sec * NS + (uint64_t)now.tv_nsec : cpu;
		left = !t->expires ? 0 : t->expires > base ? t->expires - base : 1000;
		v[0] = (int64_t)(t->interval / NS), v[1] = (int64_t)(t->interval % NS / 1000);
		v[2] = (int64_t)(left / NS), v[3] = (int64_t)(left % NS / 1000);
		if (t->expires && !v[2] && !v[3])
			v[3] = 1; /* under a microsecond is still armed */
		if ((rc = inject_write(in, in->data, v, sizeof v)) != 0)
			return fail(err, errlen, rc, "timers: writing an itimerval: %s", strerror(-rc));
		if ((rc = call(in, SYS_setitimer, (uint64_t)which, in->data, 0, 0, NULL, err, errlen)) != 0)
			return rc;
	}
	return 0;
}

/* Creates timers until one gets id; those made on the way are listed in
 * fill (at most FILLERS_MAX) for the caller to delete. */
static int
create_as(struct inject *in, const struct om_timer *t, int *fill, int *nfill, char *err, size_t errlen)
{
	/* A thread's timer goes to that thread, which must be the process's
	 * at home too (one made at home with the tid the job knows). */
	struct sigev ev = { .value = t->value, .signo = (int32_t)t->signo, .notify = (int32_t)t->notify,
		.tid = t->tid ? (int32_t)t->tid : (int32_t)in->pid };
	uint64_t evp = in->data, idp = in->data + sizeof ev;
	int32_t got;
	int rc;

	if ((rc = inject_write(in, evp, &ev, sizeof ev)) != 0)
		return fail(err, errlen, rc, "timers: writing a sigevent: %s", strerror(-rc));
	for (;;) {
		if ((rc = call(in, SYS_timer_create, t->clock, evp, idp, 0, NULL, err, errlen)) != 0)
			return rc;
		if ((rc = inject_read(in, idp, &got, sizeof got)) != 0)
			return fail(err, errlen, rc, "timers: reading a timer id: %s", strerror(-rc));
		if (got == t->id)
			return 0;
		if (*nfill < FILLERS_MAX)
			fill[(*nfill)++] = got;
		else
			(void)call(in, SYS_timer_delete, (uint64_t)got, 0, 0, 0, NULL, NULL, 0);
		if (got > t->id || *nfill == FILLERS_MAX)
			return fail(err, errlen, -EEXIST, "POSIX timer %d cannot be made again at home "
			    "(the process's next timer id is %d)", t->id, got);
	}
}

static int
by_id(const void *a, const void *b)
{
	const struct om_timer *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

int
timers_restore(struct inject *in, const struct om_image_hdr *h, char *err, size_t errlen)
{
	struct om_timer t[OM_TIMERS_MAX];
	int *fill, nfill = 0, rc, i, have[OM_TIMERS_MAX], nhave;
	uint32_t k;

	if ((rc = restore_itimers(in, h, err, errlen)) != 0)
		return rc;
	if ((nhave = timer_ids(in->pid, have, OM_TIMERS_MAX)) < 0)
		return fail(err, errlen, nhave, "/proc/%d/timers: %s", (int)in->pid, strerror(-nhave));
	/* Timers home kept while the job was away: deleted there, or kept. */
	for (i = 0; i < nhave; i++) {
		int kept = 0;
		for (k = 0; k < h->timer_count; k++)
			kept |= h->timers[k].id == have[i];
		if (!kept && (rc = call(in, SYS_timer_delete, (uint64_t)have[i], 0, 0, 0, NULL, err, errlen)) != 0)
			return rc;
		if (!kept)
			have[i] = -1;
	}
	if (h->timer_count == 0)
		return 0;
	if ((fill = malloc(FILLERS_MAX * sizeof *fill)) == NULL)
		return fail(err, errlen, -ENOMEM, "out of memory");
	memcpy(t, h->timers, h->timer_count * sizeof t[0]);
	qsort(t, h->timer_count, sizeof t[0], by_id);
	for (k = 0; k < h->timer_count && rc == 0; k++) {
		int exists = 0;
		for (i = 0; i < nhave; i++)
			exists |= have[i] == t[k].id;
		if (!exists)
			rc = create_as(in, &t[k], fill, &nfill, err, errlen);
	}
	for (i = 0; i < nfill; i++)
		(void)call(in, SYS_timer_delete, (uint64_t)fill[i], 0, 0, 0, NULL, NULL, 0);
	free(fill);
	/* Wall-clock timers keep their absolute time (home's clocks are the
	 * image's); CPU-clock ones the time they had left. */
	for (k = 0; k < h->timer_count && rc == 0; k++) {
		int cpu = t[k].clock == CLOCK_PROCESS_CPUTIME_ID || t[k].clock == CLOCK_THREAD_CPUTIME_ID;
		uint64_t at = t[k].expires, base = image_now(h, t[k].clock);
		int64_t spec[4];
		if (!at)
			continue;
		if (cpu)
			at = at > base ? at - base : 1;
		spec[0] = (int64_t)(t[k].interval / NS), spec[1] = (int64_t)(t[k].interval % NS);
		spec[2] = (int64_t)(at / NS), spec[3] = (int64_t)(at % NS);
		if ((rc = inject_write(in, in->data, spec, sizeof spec)) != 0)
			return fail(err, errlen, rc, "timers: writing an itimerspec: %s", strerror(-rc));
		rc = call(in, SYS_timer_settime, (uint64_t)t[k].id, cpu ? 0 : TIMER_ABSTIME, in->data, 0, NULL, err,
		    errlen);
	}
	return rc;
}
