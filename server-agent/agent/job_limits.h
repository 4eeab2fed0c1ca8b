/* job_limits.h - the caps on jobs that agent.conf sets (docs/security.md,
 * "Resource limits"): how many live jobs one user may have
 * (jobs_per_user), and how long a job placed on a node may wait for the
 * first frame of its image from its om-run (image_start_ms).
 *
 * A placed job holds a core of its node from its placement on (nodes.h):
 * an om-run that asks for places and sends no images would keep a lab's
 * cores busy for nothing, and one user's many jobs would crowd out the
 * others' in the agent's table. Root is not capped per user (it may stop
 * the agent anyway); the table's OM_JOBS_MAX bounds everyone. A fork's
 * child (OM_WHY_FORK) gets no image from home, so has no deadline. */
#ifndef OM_JOB_LIMITS_H
#define OM_JOB_LIMITS_H

#include <stdint.h>

#define JOB_LIMITS_PER_USER 1024        /* default jobs_per_user */
#define JOB_LIMITS_IMAGE_START_MS 30000 /* default image_start_ms */

/* Sets both caps (per_user 1..OM_JOBS_MAX, image_start_ms >= 1). */
void job_limits_set(uint32_t per_user, uint32_t image_start_ms);
uint32_t job_limits_per_user(void);
uint32_t job_limits_image_start_ms(void);
/* NULL when uid may have one more job, else the refusal naming the cap:
 * "too many jobs of one user (jobs_per_user N)". */
const char *job_limits_user(uint32_t uid);
/* Ends each job placed on a node whose image has not begun to come from
 * home within image_start_ms of its placement: the node gets JOB_KILL, its
 * om-run JOB_ERROR naming the deadline, its core is free again; logged.
 * The node sweep calls it (node_conn.c). */
void job_limits_sweep(uint64_t now);

#endif
