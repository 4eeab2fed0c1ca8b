/* job_limits.c - jobs per user and the image-start deadline (see
 * job_limits.h). */
#include <stdio.h>
#include <string.h>

#include "job_limits.h"
#include "jobs.h"
#include "log.h"
#include "moves.h"

static uint32_t jl_per_user = JOB_LIMITS_PER_USER;
static uint32_t jl_image_ms = JOB_LIMITS_IMAGE_START_MS;

void
job_limits_set(uint32_t per_user, uint32_t image_start_ms)
{
	jl_per_user = per_user;
	jl_image_ms = image_start_ms;
}

uint32_t
job_limits_per_user(void)
{
	return jl_per_user;
}

uint32_t
job_limits_image_start_ms(void)
{
	return jl_image_ms;
}

struct jl_count {
	uint32_t uid, n;
};

static void
count_uid(struct job *j, void *arg)
{
	struct jl_count *k = arg;

	k->n += j->uid == k->uid;
}

const char *
job_limits_user(uint32_t uid)
{
	static char why[OM_STR_MAX + 1];
	struct jl_count k = { uid, 0 };

	if (uid == 0)
		return NULL;
	jobs_each(count_uid, &k);
	if (k.n < jl_per_user)
		return NULL;
	snprintf(why, sizeof why, "too many jobs of one user (jobs_per_user %u)", jl_per_user);
	return why;
}

/* Whether j waits on its node for an image that is late. */
static int
late(const struct job *j, uint64_t now)
{
	return j->node != NULL && j->state == OM_JOB_PLACED && j->why != OM_WHY_FORK &&
	    !j->image_begun && now - j->start_ms >= jl_image_ms;
}

struct jl_late {
	uint64_t now;
	uint32_t ids[OM_JOBS_MAX];
	int n;
};

static void
collect_late(struct job *j, void *arg)
{
	struct jl_late *l = arg;

	if (l->n < OM_JOBS_MAX && late(j, l->now))
		l->ids[l->n++] = j->id;
}

/* A send that fails closes its connection at the end of the loop's turn
 * (conn.h): the job is found again by id after each, as elsewhere. */
static void
drop_late(uint32_t id, uint64_t now)
{
	struct om_error e = { OM_E_STATE, "" };
	uint8_t buf[2 + 4 + OM_STR_MAX];
	char what[128];
	struct conn *nc;
	struct job *j;
	int len;

	if ((j = jobs_find(id)) == NULL || !late(j, now))
		return;
	if ((nc = node_conn_get(j->node)) != NULL)
		(void)conn_send(nc, OM_T_JOB_KILL, id, 0, NULL, 0);
	snprintf(e.msg, sizeof e.msg, "its image did not begin within %u ms (image_start_ms)", jl_image_ms);
	if ((j = jobs_find(id)) != NULL && (len = om_error_encode(&e, buf, sizeof buf)) > 0)
		(void)conn_send(j->home, OM_T_JOB_ERROR, id, 0, buf, (size_t)len);
	if ((j = jobs_find(id)) == NULL)
		return;
	moves_forget(j->uid, j->pid);
	snprintf(what, sizeof what, "no image within %u ms of its placement (image_start_ms); "
	    "its core is free, JOB_ERROR sent to om-run", jl_image_ms);
	jobs_end(j, what);
}

void
job_limits_sweep(uint64_t now)
{
	struct jl_late l; /* not static: see jobs_home_gone */
	int i;

	l.now = now;
	l.n = 0;
	jobs_each(collect_late, &l);
	for (i = 0; i < l.n; i++)
		drop_late(l.ids[i], now);
}
