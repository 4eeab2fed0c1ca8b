/* ctl_admit.c - admission requests to the agent (see ctl_admit.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_admit.h"
#include "ctl_client.h"

/* One request on its own connection; the reply's payload into *reply. */
static int
ask(const char *path, uint8_t type, const void *req, size_t len, uint8_t want, uint8_t **reply,
    size_t *rlen, char *err, size_t errlen)
{
	int fd, rc;

	if ((fd = ctl_connect(path)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = ctl_call(fd, type, req, len, want, reply, rlen, err, errlen);
	close(fd);
	return rc;
}

int
ctl_admit(const char *path, const char *fp, struct om_ctl_admit_reply *r, char *err, size_t errlen)
{
	struct om_ctl_admit m;
	uint8_t buf[NOISE_FP_LEN + 8], *reply = NULL;
	size_t len;
	int n, rc = -1;

	snprintf(m.fp, sizeof m.fp, "%s", fp);
	if (strlen(fp) != NOISE_FP_LEN || (n = om_ctl_admit_encode(&m, buf, sizeof buf)) < 0) {
		snprintf(err, errlen, "not a key fingerprint (xxxx-xxxx-xxxx-xxxx, lowercase hex)");
		return -1;
	}
	if (ask(path, OM_T_CTL_ADMIT, buf, (size_t)n, OM_T_CTL_ADMIT_REPLY, &reply, &len, err, errlen) == 0) {
		if (om_ctl_admit_reply_decode(reply, len, r) != OM_OK)
			snprintf(err, errlen, "the agent's answer is malformed");
		else
			rc = 0;
	}
	free(reply);
	return rc;
}

int
ctl_pending(const char *path, struct om_pending *p, uint32_t *n, char *err, size_t errlen)
{
	uint8_t *reply = NULL;
	size_t len;
	int rc = -1;

	if (ask(path, OM_T_CTL_PENDING, NULL, 0, OM_T_CTL_PENDING_REPLY, &reply, &len, err, errlen) == 0) {
		if (om_pending_list_decode(reply, len, p, OM_PENDING_MAX, n) != OM_OK)
			snprintf(err, errlen, "the agent's answer is malformed");
		else
			rc = 0;
	}
	free(reply);
	return rc;
}
