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
#include <sys/statfs.h>
#include <linux/magic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "image.h"
#include "node_code.h"

/* len bytes of the file at off landed at node address addr; addr and off
 * alike within a page. */
struct copy {
	uint64_t addr, len, off;
	dev_t dev;
	ino_t ino;
	char *path;
};

static struct copy copies[NODE_CODE_MAX];
static size_t ncopies;
/* The job's start by the clock ctime is read from (the coarse one: a
 * finer reading could be later than the ctime of a change made after it). */
static struct timespec since;

void node_code_since_now(void)
{
	clock_gettime(CLOCK_REALTIME_COARSE, &since);
}

int64_t node_code_since_ns(void)
{
	if (!since.tv_sec)
		node_code_since_now();
	return (int64_t)since.tv_sec * 1000000000 + since.tv_nsec;
}

void node_code_since_set(int64_t ns)
{
	since.tv_sec = ns / 1000000000;
	since.tv_nsec = ns % 1000000000;
}

static int changed_since_start(const struct stat *st)
{
	/* A file system that keeps whole seconds (FAT: two; NFS: the
	 * server's clock) may date a change after the start before it. */
	if (st->st_ctim.tv_nsec == 0)
		return st->st_ctim.tv_sec >= since.tv_sec - 2;
	return st->st_ctim.tv_sec > since.tv_sec ||
	       (st->st_ctim.tv_sec == since.tv_sec && st->st_ctim.tv_nsec >= since.tv_nsec);
}

/* Files whose contents the kernel makes as they are read (a process's
 * /proc/PID/stat holds its name, which the job chooses): no code. */
static int made_by_kernel(int fd)
{
	static const long kinds[] = { PROC_SUPER_MAGIC, SYSFS_MAGIC, DEBUGFS_MAGIC, TRACEFS_MAGIC,
				      SECURITYFS_MAGIC, CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, BPF_FS_MAGIC };
	struct statfs fs;
	if (fstatfs(fd, &fs) != 0)
		return 1;
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if ((long)fs.f_type == kinds[i])
			return 1;
	return 0;
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

/* Takes [addr, end) out of every record: what lies there now is the new
 * read's. A record cut in two keeps its head in place and gets its tail
 * appended (when there is no room or memory for it, the tail is lost,
 * which only refuses more). */
static void cut_out(uint64_t addr, uint64_t end)
{
	for (size_t i = ncopies; i-- > 0;) {
		struct copy *c = &copies[i];
		uint64_t c_end = c->addr + c->len;
		if (c_end <= addr || end <= c->addr)
			continue;
		struct copy tail = *c;
		if (c_end > end) {
			tail.off += end - c->addr;
			tail.addr = end;
			tail.len = c_end - end;
		} else {
			tail.len = 0;
		}
		if (c->addr < addr) {
			c->len = addr - c->addr;
			if (tail.len && ncopies < NODE_CODE_MAX && (tail.path = strdup(tail.path)) != NULL)
				copies[ncopies++] = tail;
		} else if (tail.len) {
			*c = tail;
		} else {
			drop(i);
		}
	}
}

void node_code_note(pid_t pid, const struct om_sysreq *req, int64_t ret)
{
	uint64_t addr = req->args[1], off = req->args[3];
	char link[64], path[PATH_MAX];
	struct stat st;
	if (req->nr != SYS_pread64 || ret <= 0 || addr + (uint64_t)ret < addr)
		return;
	/* A read the program makes into a buffer of its own leaves bytes that
	 * are no longer what they were: cut them out of the records, whatever
	 * the file. */
	cut_out(addr, addr + (uint64_t)ret);
	if ((addr - off) % OM_PAGE_SIZE != 0)
		return; /* no page of a mapping */
	snprintf(link, sizeof link, "/proc/%d/fd/%d", (int)pid, (int)req->args[0]);
	ssize_t n = readlink(link, path, sizeof path - 1);
	if (n <= 0 || path[0] != '/' || stat(link, &st) != 0 || !S_ISREG(st.st_mode))
		return;
	path[n] = '\0';
	/* The next part of the same fill continues the last record. */
	if (ncopies) {
		struct copy *last = &copies[ncopies - 1];
		if (last->addr + last->len == addr && last->off + last->len == off && last->dev == st.st_dev &&
		    last->ino == st.st_ino && strcmp(last->path, path) == 0) {
			last->len += (uint64_t)ret;
			return;
		}
	}
	if (ncopies == NODE_CODE_MAX)
		drop(0);
	char *p = strdup(path);
	if (p == NULL)
		return;
	copies[ncopies++] = (struct copy){ addr, (uint64_t)ret, off, st.st_dev, st.st_ino, p };
}

void node_code_each(void (*fn)(void *ctx, uint64_t addr, uint64_t len, uint64_t off, dev_t dev, ino_t ino,
    const char *path), void *ctx)
{
	for (size_t i = 0; i < ncopies; i++)
		fn(ctx, copies[i].addr, copies[i].len, copies[i].off, copies[i].dev, copies[i].ino, copies[i].path);
}

int node_code_add(uint64_t addr, uint64_t len, uint64_t off, dev_t dev, ino_t ino, const char *path)
{
	cut_out(addr, addr + len);
	char *p = ncopies < NODE_CODE_MAX ? strdup(path) : NULL;
	if (p == NULL)
		return -1;
	copies[ncopies++] = (struct copy){ addr, len, off, dev, ino, p };
	return 0;
}

/* A record with bytes in the page at addr, or NULL. */
static const struct copy *copy_in(uint64_t addr)
{
	for (size_t i = ncopies; i-- > 0;)
		if (copies[i].addr < addr + OM_PAGE_SIZE && addr < copies[i].addr + copies[i].len)
			return &copies[i];
	return NULL;
}

/* Whether the page at node address addr, which c has bytes in, is the
 * page of c's file there as it reads now. */
static int same_as_file(const struct copy *c, uint64_t addr, const uint8_t *page, char *why, size_t len)
{
	static uint8_t file[OM_PAGE_SIZE];
	const char *path = c->path;
	struct stat st;
	if (addr < c->addr && c->off < c->addr - addr) {
		snprintf(why, len, "it would begin before the start of %s", path);
		return 0;
	}
	uint64_t off = c->off + addr - c->addr;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) != 0 || st.st_dev != c->dev || st.st_ino != c->ino) {
		snprintf(why, len, "%s is no longer the file the node read", path);
		if (fd >= 0)
			close(fd);
		return 0;
	}
	if (changed_since_start(&st)) {
		snprintf(why, len, "%s changed after the job started", path);
		close(fd);
		return 0;
	}
	if (made_by_kernel(fd)) {
		snprintf(why, len, "%s is made by the kernel as it is read", path);
		close(fd);
		return 0;
	}
	ssize_t got = pread(fd, file, OM_PAGE_SIZE, (off_t)off);
	close(fd);
	if (got < 0)
		got = -1;
	else
		memset(file + got, 0, OM_PAGE_SIZE - (size_t)got); /* past the end: zero, as mmap has it */
	if (got < 0 || memcmp(file, page, OM_PAGE_SIZE) != 0) {
		snprintf(why, len, "it is not what %s holds at offset %llu", path, (unsigned long long)off);
		return 0;
	}
	return 1;
}

int node_code_check(void *ctx, uint64_t addr, const uint8_t *page, char *why, size_t len)
{
	(void)ctx;
	const struct copy *c = copy_in(addr);
	if (c != NULL)
		return same_as_file(c, addr, page, why, len) ? 0 : -1;
	for (size_t at = 0; at < OM_PAGE_SIZE; at++)
		if (page[at] != 0) {
			snprintf(why, len, "no file was read there");
			return -1;
		}
	return 0; /* zeros are no code */
}
