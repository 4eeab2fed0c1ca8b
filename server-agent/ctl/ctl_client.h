/* ctl_client.h - the tools' side of the agent's control socket: where it is
 * (ctl_path, which om-agent shares) and blocking request/reply with a
 * timeout, using the same frames as the node protocol (docs/protocol.md,
 * section 7). ctl/ is this client and nothing else: om-run, om-mon and
 * om-migrate use it; it uses migrate/ only. */
#ifndef OM_CTL_CLIENT_H
#define OM_CTL_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "job_msg.h"
#include "proto.h"

#define CTL_DEFAULT_PATH "/run/om/agent.sock"
#define CTL_TIMEOUT_MS 5000

/* The control socket path: explicit if not NULL, else $OM_CONTROL if set
 * and non-empty, else CTL_DEFAULT_PATH. */
const char *ctl_path(const char *explicit_path);

/* Connects to the agent. Returns the fd, or -1 with errno (ENAMETOOLONG
 * for a path that does not fit a sockaddr_un). */
int ctl_connect(const char *path);

/* Sends one request frame and reads one reply frame of type 'want'. On
 * success returns 0 with *reply (malloc'd, free it; NULL when empty) and
 * *len. On failure returns -1 and puts a message in err: an I/O error, a
 * timeout, a malformed or unexpected reply, or the agent's own ERROR. */
int ctl_call(int fd, uint8_t type, const void *req, size_t reqlen, uint8_t want,
    uint8_t **reply, size_t *len, char *err, size_t errlen);

/* Fetches the node table: *nodes (malloc'd) and *n. Same errors as
 * ctl_call, plus a malformed node list. */
int ctl_get_nodes(int fd, struct om_node_info **nodes, uint32_t *n, char *err, size_t errlen);

/* Fetches the jobs the caller may see: *jobs (malloc'd) and *n. Same
 * errors as ctl_call, plus a malformed job list. */
int ctl_get_jobs(int fd, struct om_job_info **jobs, uint32_t *n, char *err, size_t errlen);

/* Asks the agent for its policy (CTL_POLICY): *p. Same errors as
 * ctl_call, plus a malformed reply. */
int ctl_get_policy(int fd, struct om_policy *p, char *err, size_t errlen);

#endif
