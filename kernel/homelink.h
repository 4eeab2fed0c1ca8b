/* homelink.h - the node's side of om-run: jobs that arrive as images from
 * home, run here, forward what they cannot do here, and end or go home
 * (docs/migration.md). Main-loop context only. */
#ifndef OM_HOMELINK_H
#define OM_HOMELINK_H

/* Registers with the agent link; call once after net_start. */
int homelink_init(void);
/* Sends what is waiting to be sent: from the main loop only, where no job
 * pointer is held (a poll may send a job home and free it). */
void homelink_poll(void);
/* Jobs arriving or going home: the node holds them, not the scheduler. */
int homelink_jobs_in_transit(void);
/* The node leaves (its owner is back, or the agent asked): every job goes
 * home as for MIGRATE_HOME (a job waiting for a call's reply goes after
 * it), images still arriving go home once they have, and new ones are
 * refused (JOB_ERROR busy). why is the JOB_HOME text. Idempotent. */
void homelink_leave(const char *why);
/* Whether nothing is left to send: no job, none in transit, no frame
 * queued. */
int homelink_idle(void);

#endif
