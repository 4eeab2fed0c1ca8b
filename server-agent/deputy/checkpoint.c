#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"

uint64_t ckpt_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void ckpt_init(struct ckpt *c, const char *path, uint32_t every_ms, uint32_t max_pct)
{
	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->max_pct = max_pct ? max_pct : CKPT_MAX_PCT;
	if (!path || !every_ms || strlen(path) + 1 > sizeof c->path)
		return; /* om-run checked the path */
	snprintf(c->path, sizeof c->path, "%s", path);
	c->every_ms = every_ms;
	c->next_ms = ckpt_now_ms() + every_ms;
}

void ckpt_request(struct ckpt *c, const char *path)
{
	if (strlen(path) + 1 > sizeof c->path)
		return; /* the agent passes no longer */
	snprintf(c->path, sizeof c->path, "%s", path);
	c->asked_now = 1;
	if (c->state == CKPT_IDLE)
		c->next_ms = ckpt_now_ms();
}

int ckpt_wait_ms(const struct ckpt *c)
{
	if (!c->path[0] || c->state != CKPT_IDLE || (!c->every_ms && !c->asked_now))
		return -1;
	uint64_t now = ckpt_now_ms();
	return c->next_ms <= now ? 0 : c->next_ms - now > 86400000 ? 86400000 : (int)(c->next_ms - now);
}

uint32_t ckpt_base(const struct ckpt *c)
{
	return c->base_ok && c->deltas < CKPT_DELTAS_MAX ? c->node_seq : 0;
}

void ckpt_asked(struct ckpt *c)
{
	c->asked_base = ckpt_base(c);
	c->state = CKPT_ASKED;
}

void ckpt_new_node(struct ckpt *c)
{
	c->node_seq = 0;
	c->base_ok = 0;
}

int ckpt_busy(const struct ckpt *c)
{
	return c->state != CKPT_IDLE;
}

uint8_t *ckpt_read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	size_t cap = 1 << 20, n = 0;
	uint8_t *buf = malloc(cap);
	struct stat st;
	if (fd < 0 || !buf)
		goto fail;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		errno = EINVAL; /* a FIFO or a device would never end */
		goto fail;
	}
	for (;;) {
		if (n == cap) {
			uint8_t *grown = realloc(buf, cap *= 2);
			if (!grown)
				goto fail;
			buf = grown;
		}
		ssize_t got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			goto fail;
		if (got == 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	*len = n;
	return buf;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

void ckpt_dir(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, len, ".");
	else
		snprintf(dir, len, "%.*s", slash == path ? 1 : (int)(slash - path), path);
}

/* After the rename: the directory's entry is on disk too. */
static void sync_dir(const char *path)
{
	char dir[sizeof ((struct ckpt *)0)->path];
	ckpt_dir(path, dir, sizeof dir);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int ckpt_taken(struct ckpt *c, const uint8_t *p, size_t len, char *err, size_t errlen)
{
	struct om_error e;
	int rc = om_error_decode(p, len, &e);
	err[0] = '\0';
	if (rc != OM_OK) {
		snprintf(err, errlen, "bad CHECKPOINT_TAKEN: %s", om_strerror(rc));
		return -1;
	}
	if (c->state == CKPT_IMAGE && e.code != 0) { /* the image failed on the node */
		ckpt_abort(c);
		snprintf(err, errlen, "the node could not send its image: %s", e.msg);
		return 1;
	}
	if (c->state != CKPT_ASKED) {
		snprintf(err, errlen, "CHECKPOINT_TAKEN unasked");
		return -1;
	}
	if (e.code != 0) {
		c->state = CKPT_IDLE;
		c->next_ms = ckpt_now_ms() + (c->every_ms && c->every_ms < CKPT_RETRY_MS ? c->every_ms : CKPT_RETRY_MS);
		return 1;
	}
	c->state = CKPT_IMAGE; /* its frames come: without a file they are dropped */
	snprintf(c->target, sizeof c->target, "%s", c->path);
	snprintf(c->tmp, sizeof c->tmp, "%s.XXXXXX", c->target);
	c->fd = mkostemp(c->tmp, O_CLOEXEC);
	if (c->fd < 0) {
		snprintf(err, errlen, "%s: %s", c->tmp, strerror(errno));
		c->asked_now = 0; /* asked for there: not again */
	} else if (ckpt_merge_begin(&c->merge, c->asked_base ? c->done : NULL, &c->done_id, c->fd, err, errlen) != 0) {
		ckpt_file_failed(c); /* said: the image is dropped */
	}
	c->taken_ms = ckpt_now_ms();
	c->bytes = 0;
	return 0;
}


int ckpt_frame(struct ckpt *c, const struct om_hdr *h, const uint8_t *p, char *err, size_t errlen)
{
	err[0] = '\0';
	if (c->state != CKPT_IMAGE) {
		snprintf(err, errlen, "%s without CHECKPOINT_TAKEN", om_type_name(h->type));
		return -1;
	}
	if (h->type == OM_T_IMAGE_END)
		c->node_seq++; /* the node marked its pages: the next may be a delta of this one */
	if (c->fd < 0) { /* no file (said): the image is dropped */
		if (h->type == OM_T_IMAGE_END)
			ckpt_abort(c);
		return 0;
	}
	char why[200];
	c->bytes += OM_HDR_SIZE + h->length;
	if (ckpt_merge_frame(&c->merge, h->type, p, h->length, h->seq, why, sizeof why) != 0) {
		snprintf(err, errlen, "%s: %s", c->tmp, why);
		ckpt_file_failed(c); /* the rest of the image is dropped */
		if (h->type == OM_T_IMAGE_END)
			ckpt_abort(c);
		return 0;
	}
	if (h->type != OM_T_IMAGE_END)
		return 0;
	c->last_delta = c->merge.deltas > 0;
	ckpt_merge_end(&c->merge);
	struct stat st;
	int rc = fsync(c->fd) != 0 || fstat(c->fd, &st) != 0 ? -1 : 0;
	if (rc == 0)
		ckpt_file_id_take(&c->done_id, &st);
	close(c->fd);
	c->fd = -1;
	c->asked_now = 0;
	if (rc != 0 || rename(c->tmp, c->target) != 0) {
		snprintf(err, errlen, "%s: %s", c->target, strerror(errno));
		c->base_ok = 0;
		unlink(c->tmp);
		c->state = CKPT_IDLE;
		c->next_ms = ckpt_now_ms() + c->every_ms;
		return 0;
	}
	sync_dir(c->target);
	snprintf(c->done, sizeof c->done, "%s", c->target);
	c->base_ok = 1;
	c->deltas = c->last_delta ? c->deltas + 1 : 0;
	c->state = CKPT_IDLE;
	c->count++;
	c->last_bytes = c->bytes;
	c->last_ms = ckpt_now_ms() - c->taken_ms;
	uint64_t apart = c->last_ms * 100 / c->max_pct;
	c->earliest_ms = ckpt_now_ms() + apart;
	c->next_ms = ckpt_now_ms() + (apart > c->every_ms ? apart : c->every_ms);
	return 1;
}

void ckpt_soon(struct ckpt *c)
{
	if (!c->every_ms || c->state != CKPT_IDLE)
		return;
	uint64_t now = ckpt_now_ms(), at = c->earliest_ms > now ? c->earliest_ms : now;
	if (c->next_ms > at)
		c->next_ms = at;
}

int ckpt_file(const struct ckpt *c)
{
	return c->state == CKPT_IMAGE ? c->fd : -1;
}

void ckpt_file_failed(struct ckpt *c)
{
	ckpt_merge_end(&c->merge);
	c->base_ok = 0;
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
		unlink(c->tmp);
	}
}

void ckpt_abort(struct ckpt *c)
{
	ckpt_file_failed(c);
	if (c->state == CKPT_IMAGE)
		c->asked_now = 0; /* its image began and is lost: not asked for again */
	if (c->state != CKPT_IDLE)
		c->next_ms = ckpt_now_ms() + c->every_ms;
	c->state = CKPT_IDLE;
}
