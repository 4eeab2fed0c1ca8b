/* timers.h - a process's interval timers (setitimer) and POSIX timers
 * (timer_create) between the home process and an image (migrate/image.h:
 * om_itimer, om_timer). Home side only (Linux, x86-64); the tracee must be
 * in a ptrace stop with its scratch region set up (inject.h).
 *
 * In the image a timer's expiry is absolute on its clock as the image's
 * clocks see it: CLOCK_MONOTONIC and friends are home's own (the node keeps
 * them), the CPU clocks count from the image's usage (utime + stime).
 * Expiries in the past fire at once.
 *
 * Both return 0, or -errno with a message in err. */
#ifndef OM_DEPUTY_TIMERS_H
#define OM_DEPUTY_TIMERS_H

#include <stddef.h>

#include "image.h"
#include "inject.h"

/* Reads the tracee's timers into h (getitimer and timer_gettime injected,
 * /proc/PID/timers for the POSIX timers' events). h's clock_monotonic,
 * clock_realtime, clock_boottime and usage must be filled already. */
int timers_capture(struct inject *in, struct om_image_hdr *h, char *err, size_t errlen);

/* Arms the image's timers in the tracee. A POSIX timer keeps its id: one
 * the process has already (it was disarmed when the job left) is armed
 * again; otherwise, as the kernel hands ids out in turn (Linux 6.1),
 * timers are created until the id comes up and the ones made on the way
 * are deleted; a timer whose id has passed already cannot be made again
 * (an error). The process's timers the image lacks (deleted on the node)
 * are deleted. */
int timers_restore(struct inject *in, const struct om_image_hdr *h, char *err, size_t errlen);

/* The job runs elsewhere now, with its timers: home's copies stop (the
 * POSIX timers stay, disarmed, so that their ids are there for the job's
 * return). */
int timers_disarm(struct inject *in, char *err, size_t errlen);

#endif
