/* node_code.c - the file copies a node made, and the check of its code
 * against them (contract in node_code.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "image.h"
#include "node_code.h"

struct copy {
	uint64_t addr, len, off;
	dev_t dev;
	ino_t ino;
	char *path;
};

static struct copy copies[NODE_CODE_MAX];
static size_t ncopies;
static struct timespec since; /* the job's start (CLOCK_REALTIME, as ctime) */

void node_code_since_now(void)
{
	clock_gettime(CLOCK_REALTIME, &since);
}

static int changed_since_start(const struct stat *st)
{
	return st->st_ctim.tv_sec > since.tv_sec ||
	       (st->st_ctim.tv_sec == since.tv_sec && st->st_ctim.tv_nsec >= since.tv_nsec);
}

static void drop(size_t i)
{
	free(copies[i].path);
	memmove(&copies[i], &copies[i + 1], (ncopies - i - 1) * sizeof copies[0]);
	ncopies--;
}

void node_code_forget(void)
{
	while (ncopies)
		drop(ncopies - 1);
}

void node_code_note(pid_t pid, const struct om_sysreq *req, int64_t ret)
{
	uint64_t addr = req->args[1], off = req->args[3];
	char link[64], path[PATH_MAX];
	struct stat st;
	if (req->nr != SYS_pread64 || ret <= 0)
		return;
	snprintf(link, sizeof link, "/proc/%d/fd/%d", (int)pid, (int)req->args[0]);
	ssize_t n = readlink(link, path, sizeof path - 1);
	if (n <= 0 || path[0] != '/' || stat(link, &st) != 0 || !S_ISREG(st.st_mode))
		return;
	path[n] = '\0';
	for (size_t i = ncopies; i-- > 0;)
		if (copies[i].addr < addr + (uint64_t)ret && addr < copies[i].addr + copies[i].len)
			drop(i);
	if (ncopies == NODE_CODE_MAX)
		drop(0);
	char *p = strdup(path);
	if (p == NULL)
		return;
	copies[ncopies++] = (struct copy){ addr, (uint64_t)ret, off, st.st_dev, st.st_ino, p };
}

/* The newest copy that covers addr, or NULL. */
static const struct copy *copy_at(uint64_t addr)
{
	for (size_t i = ncopies; i-- > 0;)
		if (addr >= copies[i].addr && addr - copies[i].addr < copies[i].len)
			return &copies[i];
	return NULL;
}

/* Whether n bytes at node address addr, which copy c covers, are the
 * file's there now. */
static int same_as_file(const struct copy *c, uint64_t addr, const uint8_t *bytes, size_t n, char *why, size_t len)
{
	static uint8_t file[OM_PAGE_SIZE];
	struct stat st;
	uint64_t off = c->off + (addr - c->addr);
	int fd = open(c->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) != 0 || st.st_dev != c->dev || st.st_ino != c->ino) {
		snprintf(why, len, "%s is no longer the file the node read", c->path);
		if (fd >= 0)
			close(fd);
		return 0;
	}
	if (changed_since_start(&st)) {
		snprintf(why, len, "%s changed after the job started", c->path);
		close(fd);
		return 0;
	}
	ssize_t got = pread(fd, file, n, (off_t)off);
	close(fd);
	if (got != (ssize_t)n || memcmp(file, bytes, n) != 0) {
		snprintf(why, len, "it is not what %s holds at offset %llu", c->path, (unsigned long long)off);
		return 0;
	}
	return 1;
}

/* A page may come from several reads (a large fill is read in parts);
 * bytes no read put there are zero on the node (past a file's end). */
int node_code_check(void *ctx, uint64_t addr, const uint8_t *page, char *why, size_t len)
{
	(void)ctx;
	for (size_t at = 0; at < OM_PAGE_SIZE;) {
		const struct copy *c = copy_at(addr + at);
		size_t n = OM_PAGE_SIZE - at;
		if (c == NULL) { /* zeros up to the next copy */
			uint64_t next = addr + OM_PAGE_SIZE;
			for (size_t i = 0; i < ncopies; i++)
				if (copies[i].addr > addr + at && copies[i].addr < next)
					next = copies[i].addr;
			for (; addr + at < next; at++)
				if (page[at] != 0) {
					snprintf(why, len, "no file was read there");
					return -1;
				}
			continue;
		}
		if (c->addr + c->len - (addr + at) < n)
			n = (size_t)(c->addr + c->len - (addr + at));
		if (!same_as_file(c, addr + at, page + at, n, why, len))
			return -1;
		at += n;
	}
	return 0;
}
