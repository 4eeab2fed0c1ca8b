/* ctl_admit.h - the tools' side of node admission (admit_msg.h): om-ctl
 * admit and om-ctl pending. */
#ifndef OM_CTL_ADMIT_H
#define OM_CTL_ADMIT_H

#include <stddef.h>
#include <stdint.h>

#include "admit_msg.h"

/* Admits the node key with fingerprint fp. 0 with *r, or -1 with the
 * reason in err (the agent's refusal, or why it could not be asked). */
int ctl_admit(const char *path, const char *fp, struct om_ctl_admit_reply *r, char *err, size_t errlen);
/* The nodes waiting for admission into p[OM_PENDING_MAX]; 0 with *n, or -1
 * with the reason in err. */
int ctl_pending(const char *path, struct om_pending *p, uint32_t *n, char *err, size_t errlen);

#endif
