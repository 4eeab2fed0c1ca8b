/* admit_ctl.h - om-ctl's admit and pending requests on the control socket
 * (admit_msg.h frames; the policy is admission.h). */
#ifndef OM_ADMIT_CTL_H
#define OM_ADMIT_CTL_H

#include <stdint.h>

#include "conn.h"

/* CTL_ADMIT from uid: root only; answers CTL_ADMIT_REPLY or an ERROR. */
void admit_ctl_admit(struct conn *c, uint32_t uid, const uint8_t *p, uint32_t len);
/* CTL_PENDING: anyone may list the waiting nodes (their keys are public). */
void admit_ctl_pending(struct conn *c, uint32_t len);

#endif
