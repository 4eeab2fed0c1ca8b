/* conf.h - /etc/om/agent.conf: om-agent's settings file.
 *
 * One "key = value" per line; '#' starts a comment (to the end of the
 * line); blank lines are ignored; spaces around key and value are not
 * part of them. Keys: listen (ADDR:PORT), control (a path), heartbeat_ms,
 * down_after_ms, node_grace_ms, drop_after_ms (1..86400000); the balancer's (balancer.h):
 * balance (yes/no), balance_ms, balance_min_cpu_ms, balance_min_stay_ms
 * (milliseconds), balance_margin (1.0..10.0), home_cores (0..1024),
 * home_speed (0..1000000, 0: the fastest node's); node_moves (relay: a job
 * goes from node to node through the agent, the default; home: through
 * its home process, as before); key_file (the agent's link key,
 * agent_key.h); admit (open, list or pairing), admit_nets (A.B.C.D/BITS,
 * ...), admit_macs (aa:bb:cc:dd:ee:ff, ...) (admission.h); confine (yes/no:
 * om-run confines its jobs with Landlock unless told otherwise, CTL_POLICY);
 * the caps: jobs_per_user (1..4096), image_start_ms (job_limits.h),
 * buffer_mib (1..1048576, bufmem.h). A key may appear once.
 * Command-line options override the file. */
#ifndef OM_CONF_H
#define OM_CONF_H

#include <stdint.h>

#include "admission.h"

#define CONF_DEFAULT_PATH "/etc/om/agent.conf"
#define CONF_PATH_MAX 108 /* a Unix socket path: sizeof sun_path */

struct agent_conf {
	char listen[64];           /* "" when not set */
	char control[CONF_PATH_MAX];
	uint32_t heartbeat_ms, down_after_ms, drop_after_ms; /* 0 when not set */
	uint32_t node_grace_ms;    /* 0 when not set */
	int balance;               /* -1 not set, 0 no, 1 yes */
	uint32_t balance_ms, balance_min_cpu_ms, balance_min_stay_ms; /* 0: not set */
	double balance_margin;     /* 0: not set */
	int64_t home_cores;        /* -1: not set */
	uint32_t home_speed;       /* 0: not set */
	int node_moves_relay;      /* -1 not set, 0 home, 1 relay */
	char key_file[256];        /* "" when not set */
	int admit_set;             /* admit given */
	struct admit_cfg admit;    /* admit, admit_nets, admit_macs */
	int confine;               /* -1 not set, 0 no, 1 yes */
	uint32_t checkpoint_every_ms; /* 0 when not set: only jobs that ask */
	uint32_t checkpoint_max_pct;  /* 0 when not set (OM_CKPT_PCT_DEFAULT) */
	uint32_t jobs_per_user;    /* 0: not set (job_limits.h) */
	uint32_t image_start_ms;   /* 0: not set (job_limits.h) */
	uint32_t buffer_mib;       /* 0: not set (bufmem.h) */
};

/* Reads path into *cf (zeroed first). A missing file is fine (returns 0,
 * nothing set) when 'required' is 0, an error otherwise. Returns 0, or -1
 * with "PATH:LINE: reason" (or "PATH: reason") in err[errlen]. */
int conf_load(const char *path, int required, struct agent_conf *cf, char *err, size_t errlen);

/* Parses a balance margin, 1.0..10.0 (decimal). Returns 0 or -1. */
int conf_parse_margin(const char *s, double *out);
/* Parses a millisecond count, 1..86400000. Returns 0 or -1. */
int conf_parse_ms(const char *s, uint32_t *out);

#endif
