/* ctl_client.c - control socket client for the om tools (see ctl_client.h). */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_client.h"

const char *
ctl_path(const char *explicit_path)
{
	const char *env;

	if (explicit_path != NULL)
		return explicit_path;
	if ((env = getenv("OM_CONTROL")) != NULL && env[0] != '\0')
		return env;
	return CTL_DEFAULT_PATH;
}

int
ctl_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, saved;

	if (strlen(path) >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Sends wbuf, or receives into rbuf (the other is NULL): exactly len
 * bytes, waiting at most CTL_TIMEOUT_MS for each step. Returns 0, or -1
 * with errno (ETIMEDOUT; ECONNRESET for an early EOF). */
static int
ctl_io(int fd, const void *wbuf, void *rbuf, size_t len)
{
	int writing = wbuf != NULL;
	struct pollfd pfd = { .fd = fd, .events = writing ? POLLOUT : POLLIN };
	const uint8_t *wp = wbuf;
	uint8_t *rp = rbuf;
	ssize_t n;
	int rc;

	while (len > 0) {
		rc = poll(&pfd, 1, CTL_TIMEOUT_MS);
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc == -1)
			return -1;
		if (rc == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		n = writing ? send(fd, wp, len, MSG_NOSIGNAL) : recv(fd, rp, len, 0);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n == -1)
			return -1;
		if (n == 0) {
			errno = ECONNRESET;
			return -1;
		}
		if (writing)
			wp += n;
		else
			rp += n;
		len -= (size_t)n;
	}
	return 0;
}

int
ctl_call(int fd, uint8_t type, const void *req, size_t reqlen, uint8_t want,
    uint8_t **reply, size_t *len, char *err, size_t errlen)
{
	uint8_t hdr[OM_HDR_SIZE], *p = NULL;
	struct om_error e;
	struct om_hdr h;
	int rc;

	*reply = NULL;
	*len = 0;
	om_hdr_encode(hdr, type, (uint32_t)reqlen, 0, 0);
	if (ctl_io(fd, hdr, NULL, sizeof hdr) == -1 ||
	    (reqlen > 0 && ctl_io(fd, req, NULL, reqlen) == -1)) {
		snprintf(err, errlen, "send: %s", strerror(errno));
		return -1;
	}
	if (ctl_io(fd, NULL, hdr, sizeof hdr) == -1) {
		snprintf(err, errlen, "receive: %s", strerror(errno));
		return -1;
	}
	/* om_frame_check bounds the length by OM_MAX_PAYLOAD before we
	 * allocate anything for it. */
	if ((rc = om_frame_check(hdr, sizeof hdr, &h)) != OM_OK) {
		snprintf(err, errlen, "malformed reply: %s", om_strerror(rc));
		return -1;
	}
	if (h.length > 0) {
		if ((p = malloc(h.length)) == NULL) {
			snprintf(err, errlen, "%s", strerror(errno));
			return -1;
		}
		if (ctl_io(fd, NULL, p, h.length) == -1) {
			snprintf(err, errlen, "receive: %s", strerror(errno));
			goto fail;
		}
	}
	if (h.type == OM_T_ERROR && want != OM_T_ERROR) {
		if ((rc = om_error_decode(p, h.length, &e)) != OM_OK)
			snprintf(err, errlen, "malformed ERROR reply: %s", om_strerror(rc));
		else
			snprintf(err, errlen, "agent: %s", e.msg);
		goto fail;
	}
	if (h.type != want) {
		snprintf(err, errlen, "malformed reply: got %s, expected %s",
		    om_type_name(h.type), om_type_name(want));
		goto fail;
	}
	*reply = p;
	*len = h.length;
	return 0;

fail:
	free(p);
	return -1;
}

/* A list reply (nodes or jobs): the count, each record, nothing after. */
typedef int list_count_fn(const void *buf, size_t len, uint32_t *count, size_t *pos);
typedef int list_next_fn(const void *buf, size_t len, size_t *pos, void *rec);

static int
ctl_get_list(int fd, uint8_t req, uint8_t want, size_t recsize, list_count_fn *count_fn,
    list_next_fn *next_fn, int (*end_fn)(size_t, size_t), void **out, uint32_t *n, char *err,
    size_t errlen)
{
	uint8_t *p, *v = NULL;
	uint32_t i, count;
	size_t len, pos;
	int rc;

	*out = NULL;
	*n = 0;
	if (ctl_call(fd, req, NULL, 0, want, &p, &len, err, errlen) == -1)
		return -1;
	if ((rc = count_fn(p, len, &count, &pos)) != OM_OK)
		goto bad;
	if ((v = calloc(count ? count : 1, recsize)) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		free(p);
		return -1;
	}
	for (i = 0; i < count; i++)
		if ((rc = next_fn(p, len, &pos, v + (size_t)i * recsize)) != OM_OK)
			goto bad;
	if ((rc = end_fn(len, pos)) != OM_OK)
		goto bad;
	free(p);
	*out = v;
	*n = count;
	return 0;

bad:
	snprintf(err, errlen, "malformed reply: %s", om_strerror(rc));
	free(v);
	free(p);
	return -1;
}

static int
node_next(const void *buf, size_t len, size_t *pos, void *rec)
{
	return om_node_list_next(buf, len, pos, rec);
}

static int
job_next(const void *buf, size_t len, size_t *pos, void *rec)
{
	return om_job_list_next(buf, len, pos, rec);
}

int
ctl_get_nodes(int fd, struct om_node_info **nodes, uint32_t *n, char *err, size_t errlen)
{
	return ctl_get_list(fd, OM_T_CTL_NODES, OM_T_CTL_NODES_REPLY, sizeof **nodes,
	    om_node_list_count, node_next, om_node_list_end, (void **)nodes, n, err, errlen);
}

int
ctl_get_jobs(int fd, struct om_job_info **jobs, uint32_t *n, char *err, size_t errlen)
{
	return ctl_get_list(fd, OM_T_CTL_JOBS, OM_T_CTL_JOBS_REPLY, sizeof **jobs,
	    om_job_list_count, job_next, om_job_list_end, (void **)jobs, n, err, errlen);
}

int
ctl_get_policy(int fd, struct om_policy *p, char *err, size_t errlen)
{
	uint8_t *reply;
	size_t len;
	int rc;

	if (ctl_call(fd, OM_T_CTL_POLICY, NULL, 0, OM_T_CTL_POLICY_REPLY, &reply, &len, err, errlen) == -1)
		return -1;
	rc = om_policy_decode(reply, len, p);
	free(reply);
	if (rc != OM_OK) {
		snprintf(err, errlen, "malformed reply: %s", om_strerror(rc));
		return -1;
	}
	return 0;
}
