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

#endif
