/* agent_key.c - om-agent's key file (see agent_key.h). */
#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent_key.h"
#include "hexkey.h"

int
agent_key_load(const char *path, uint8_t priv[NOISE_KEY], uint8_t pub[NOISE_KEY],
    char *err, size_t errlen)
{
	char buf[2 * NOISE_KEY + 2];
	struct stat st;
	ssize_t n;
	int fd, ok;

	/* O_NONBLOCK: a FIFO at path must not hang the start. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) == -1) {
		snprintf(err, errlen, "%s: %s%s", path, strerror(errno), errno == ENOENT
		    ? " (make one with: om-agent --genkey PATH)" : "");
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if ((st.st_mode & 077) != 0 || st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: must belong to uid %u and be readable by it alone "
		    "(mode 0600), not uid %u mode %04o", path, (unsigned)geteuid(),
		    (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	n = read(fd, buf, sizeof buf);
	close(fd);
	ok = n == 2 * NOISE_KEY + 1 && buf[2 * NOISE_KEY] == '\n' &&
	    hexkey_parse(buf, 2 * NOISE_KEY, priv) == 0;
	noise_wipe(buf, sizeof buf);
	if (!ok) {
		snprintf(err, errlen, "%s: expected 64 hex digits and a newline", path);
		return -1;
	}
	if (noise_public(pub, priv) != 0) {
		snprintf(err, errlen, "%s: not an X25519 key", path);
		return -1;
	}
	return 0;
}

int
agent_key_generate(const char *path, uint8_t pub[NOISE_KEY], char *err, size_t errlen)
{
	uint8_t priv[NOISE_KEY];
	char buf[2 * NOISE_KEY + 2];
	int fd, ok;

	if (getrandom(priv, sizeof priv, 0) != (ssize_t)sizeof priv) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		return -1;
	}
	if (noise_public(pub, priv) != 0) {
		noise_wipe(priv, sizeof priv);
		snprintf(err, errlen, "X25519 refused the key");
		return -1;
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		noise_wipe(priv, sizeof priv);
		return -1;
	}
	hexkey_format(priv, buf);
	buf[2 * NOISE_KEY] = '\n';
	ok = write(fd, buf, 2 * NOISE_KEY + 1) == 2 * NOISE_KEY + 1 && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	noise_wipe(priv, sizeof priv);
	noise_wipe(buf, sizeof buf);
	if (!ok) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(path);
		return -1;
	}
	return 0;
}
