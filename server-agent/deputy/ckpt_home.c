/* ckpt_home.c - a checkpoint file's home record, taken (contract in
 * ckpt_home.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <linux/kcmp.h>
#include <unistd.h>

#include "capture.h"
#include "ckpt_home.h"
#include "ckpt_merge.h"
#include "home_code.h"
#include "node_code.h"

/* The entries' frames, as they are made. */
struct out {
	uint8_t *p;
	size_t len, cap;
	uint32_t count;
	int err;
};

static int put_frame(struct out *o, int type, const void *payload, int n)
{
	if (n < 0)
		return o->err = -EINVAL; /* a field out of range */
	if (o->len + OM_HDR_SIZE + (size_t)n > o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 1 << 16;
		while (cap < o->len + OM_HDR_SIZE + (size_t)n)
			cap *= 2;
		uint8_t *grown = realloc(o->p, cap);
		if (!grown)
			return o->err = -ENOMEM;
		o->p = grown;
		o->cap = cap;
	}
	om_hdr_encode(o->p + o->len, (uint8_t)type, (uint32_t)n, 0, 0);
	memcpy(o->p + o->len + OM_HDR_SIZE, payload, (size_t)n);
	o->len += OM_HDR_SIZE + (size_t)n;
	return 0;
}

/* An entry that does not encode (a node's read outside user space) is
 * left out: that only refuses more at a restart. */
static void put_entry(struct out *o, const struct om_ckpt_entry *e)
{
	static uint8_t buf[OM_CKPT_PATH_MAX + 256];
	int n = om_ckpt_entry_encode(e, buf, sizeof buf);
	if (o->err == 0 && n >= 0 && put_frame(o, OM_T_CKPT_ENTRY, buf, n) == 0)
		o->count++;
}

static void identity(struct om_ckpt_entry *e, const struct stat *st)
{
	e->dev = st->st_dev;
	e->ino = st->st_ino;
	e->size = (uint64_t)st->st_size;
	e->mtime_ns = ckpt_ns(&st->st_mtim);
	e->ctime_ns = ckpt_ns(&st->st_ctim);
}

/* A symbolic link of /proc/PID as a path: 0, or -1 (too long, gone). */
static int read_link(pid_t pid, const char *name, char *out, size_t len)
{
	char link[128];
	snprintf(link, sizeof link, "/proc/%d/%s", (int)pid, name);
	ssize_t n = readlink(link, out, len - 1);
	if (n <= 0 || (size_t)n >= len - 1)
		return -1;
	out[n] = '\0';
	return 0;
}

/* Character devices that keep no state of their own: opened again, the
 * same. Any other (a terminal, a tun, a watchdog) cannot be given back. */
static int is_stateless_device(const struct stat *st)
{
	unsigned maj = major(st->st_rdev), min = minor(st->st_rdev);
	return maj == 1 && (min == 3 || min == 5 || min == 7 || min == 8 || min == 9); /* null zero full random urandom */
}

static int is_terminal(const struct stat *st)
{
	unsigned maj = major(st->st_rdev);
	return maj == 4 || maj == 5 || (maj >= 136 && maj <= 143);
}

static uint32_t fd_what(int fd, const struct stat *st, const char *path)
{
	int deleted = strlen(path) > 10 && strcmp(path + strlen(path) - 10, " (deleted)") == 0;
	if (path[0] == '/' && !deleted) {
		if (S_ISREG(st->st_mode))
			return OM_CKPT_FILE;
		if (S_ISDIR(st->st_mode))
			return OM_CKPT_DIR;
		if (S_ISCHR(st->st_mode) && is_stateless_device(st))
			return OM_CKPT_DEVICE;
	}
	if (fd <= 2 && (S_ISFIFO(st->st_mode) || S_ISSOCK(st->st_mode) || (S_ISCHR(st->st_mode) && is_terminal(st))))
		return OM_CKPT_STREAM;
	return OM_CKPT_OTHER;
}

/* fdinfo's position and flags. */
static int fd_info(pid_t pid, int fd, uint64_t *pos, uint32_t *flags)
{
	char name[64], line[256];
	int got = 0;
	snprintf(name, sizeof name, "/proc/%d/fdinfo/%d", (int)pid, fd);
	FILE *f = fopen(name, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f)) {
		unsigned long long v;
		unsigned o;
		if (sscanf(line, "pos: %llu", &v) == 1)
			*pos = v, got |= 1;
		else if (sscanf(line, "flags: %o", &o) == 1)
			*flags = o, got |= 2;
	}
	fclose(f);
	return got == 3 ? 0 : -1;
}

static int by_number(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* The process's descriptors, in ascending order: malloc'd, -1 if none. */
static int list_fds(pid_t pid, int **fds)
{
	char dir[64];
	int n = 0, cap = 0;
	struct dirent *de;
	snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
	DIR *d = opendir(dir);
	*fds = NULL;
	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);
		if (de->d_name[0] == '.' || *end || fd < 0 || fd > INT32_MAX)
			continue;
		if (n == cap) {
			int *grown = realloc(*fds, (size_t)(cap = cap ? cap * 2 : 64) * sizeof *grown);
			if (!grown) {
				closedir(d);
				return -1;
			}
			*fds = grown;
		}
		(*fds)[n++] = (int)fd;
	}
	closedir(d);
	qsort(*fds, (size_t)n, sizeof **fds, by_number);
	return n;
}

static int reopened(uint32_t what)
{
	return what == OM_CKPT_FILE || what == OM_CKPT_DIR || what == OM_CKPT_DEVICE;
}

/* The lower descriptor, one a restart opens again, whose open file fd
 * shares (dup, 2>&1): its number, or -1. (Streams stay apart: fds 0, 1
 * and 2 of one terminal are the new om-run's own 0, 1 and 2.) kcmp needs
 * the caller to be allowed to trace pid (the deputy is its tracer). */
static int dup_of(pid_t pid, const int *fds, const struct stat *sts, const uint32_t *whats, int k)
{
	for (int j = 0; j < k; j++)
		if (reopened(whats[j]) && sts[j].st_dev == sts[k].st_dev && sts[j].st_ino == sts[k].st_ino &&
		    syscall(SYS_kcmp, pid, pid, KCMP_FILE, fds[j], fds[k]) == 0)
			return fds[j];
	return -1;
}

static void take_fds(struct out *o, pid_t pid)
{
	int *fds, n = list_fds(pid, &fds);
	struct stat *sts = n > 0 ? calloc((size_t)n, sizeof *sts) : NULL;
	uint32_t *whats = n > 0 ? calloc((size_t)n, sizeof *whats) : NULL;
	if (n < 0 || (n > 0 && (!sts || !whats))) {
		o->err = -ENOMEM;
		free(fds);
		free(sts);
		free(whats);
		return;
	}
	for (int k = 0; k < n && o->err == 0; k++) {
		struct om_ckpt_entry e = { .kind = OM_CKPT_FD, .fd = fds[k] };
		char name[64], link[96];
		snprintf(name, sizeof name, "fd/%d", fds[k]);
		snprintf(link, sizeof link, "/proc/%d/fd/%d", (int)pid, fds[k]);
		if (read_link(pid, name, e.path, sizeof e.path) != 0)
			snprintf(e.path, sizeof e.path, "(unreadable)");
		/* The process is stopped or away: what cannot be read is
		 * recorded as what a restart refuses, never left out. */
		int known = stat(link, &sts[k]) == 0 && fd_info(pid, fds[k], &e.pos, &e.flags) == 0;
		e.what = whats[k] = known ? fd_what(fds[k], &sts[k], e.path) : OM_CKPT_OTHER;
		int twin = reopened(e.what) ? dup_of(pid, fds, sts, whats, k) : -1;
		if (twin >= 0) {
			e.what = OM_CKPT_DUP;
			e.pos = (uint64_t)twin;
		}
		if (known)
			identity(&e, &sts[k]);
		put_entry(o, &e);
	}
	free(whats);
	free(sts);
	free(fds);
}

static int is_special(const char *name)
{
	return strcmp(name, "[vdso]") == 0 || strncmp(name, "[vvar", 5) == 0;
}

/* The files home runs code from, and the kernel's own mappings. */
static void take_maps(struct out *o, pid_t pid, uint64_t scratch, uint64_t scratch_len, int check_code)
{
	struct capture_map *maps;
	size_t n;
	int rc = capture_read_maps(pid, scratch, scratch_len, &maps, &n);
	if (rc != 0) {
		o->err = rc;
		return;
	}
	for (size_t i = 0; i < n && o->err == 0; i++) {
		const struct capture_map *m = &maps[i];
		struct om_ckpt_entry e = { .kind = OM_CKPT_CODE, .fd = -1, .addr = m->start, .len = m->end - m->start };
		struct stat st;
		char why[256];
		if (is_special(m->name)) {
			e.kind = OM_CKPT_SPECIAL;
			snprintf(e.path, sizeof e.path, "%s", m->name);
			put_entry(o, &e);
		} else if ((m->prot & OM_PROT_X) && m->inode != 0 && m->name[0] == '/' && !m->shared &&
			   stat(m->name, &st) == 0 && (uint64_t)st.st_ino == m->inode &&
			   (!check_code || home_code_check(NULL, m->name, why, sizeof why) == 0)) {
			/* (a file replaced since, or one a node could have written
			 * since the job left, is not recorded: its code cannot
			 * come back) */
			e.flags = m->prot;
			e.pos = m->offset;
			snprintf(e.path, sizeof e.path, "%s", m->name);
			identity(&e, &st);
			put_entry(o, &e);
		}
	}
	free(maps);
}

static void take_read(void *ctx, uint64_t addr, uint64_t len, uint64_t off, dev_t dev, ino_t ino, const char *path)
{
	struct out *o = ctx;
	struct om_ckpt_entry e = { .kind = OM_CKPT_READ, .fd = -1 };
	struct stat st;
	/* Whole pages, as a mapping has them: the page the read began in
	 * to the page it ended in. */
	e.addr = addr & ~(uint64_t)(OM_PAGE_SIZE - 1);
	e.pos = off - (addr - e.addr);
	e.len = ((addr + len + OM_PAGE_SIZE - 1) & ~(uint64_t)(OM_PAGE_SIZE - 1)) - e.addr;
	if (stat(path, &st) != 0 || st.st_dev != dev || st.st_ino != ino || strlen(path) > OM_CKPT_PATH_MAX)
		return; /* no longer that file: its code cannot come back */
	snprintf(e.path, sizeof e.path, "%s", path);
	identity(&e, &st);
	put_entry(o, &e);
}

/* /proc/PID/stat's memory layout fields (proc(5): 26-28, 45-51). */
static int take_layout(pid_t pid, struct om_ckpt_home *h)
{
	char name[64], buf[2048];
	snprintf(name, sizeof name, "/proc/%d/stat", (int)pid);
	int fd = open(name, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *p = strrchr(buf, ')'), *save = NULL;
	if (!p)
		return -1;
	uint64_t v[52] = { 0 };
	int field = 3;
	for (char *t = strtok_r(p + 2, " ", &save); t && field < 52; t = strtok_r(NULL, " ", &save))
		v[field++] = strtoull(t, NULL, 10);
	if (field < 52)
		return -1;
	h->start_code = v[26], h->end_code = v[27], h->start_stack = v[28];
	h->start_data = v[45], h->end_data = v[46], h->start_brk = v[47];
	h->arg_start = v[48], h->arg_end = v[49], h->env_start = v[50], h->env_end = v[51];
	return 0;
}

int ckpt_home_write(int fd, pid_t pid, uint64_t scratch, uint64_t scratch_len, uint32_t calls, int check_code,
    char *err, size_t errlen)
{
	static struct om_ckpt_home h;
	static uint8_t buf[OM_HDR_SIZE + OM_CKPT_PATH_MAX + 256];
	struct out o = { 0 };
	struct om_ckpt_entry cwd = { .kind = OM_CKPT_CWD, .fd = -1 };
	struct stat st;
	char link[64];
	memset(&h, 0, sizeof h);
	h.calls = calls;
	snprintf(link, sizeof link, "/proc/%d", (int)pid);
	if (stat(link, &st) != 0 || read_link(pid, "exe", h.exe, sizeof h.exe) != 0 || take_layout(pid, &h) != 0) {
		snprintf(err, errlen, "process %d: its program or memory layout cannot be read", (int)pid);
		return -1;
	}
	h.uid = getuid(); /* the deputy's is the job's (/proc/PID's owner may be root's) */
	h.since_ns = node_code_since_ns();
	snprintf(link, sizeof link, "/proc/%d/cwd", (int)pid);
	if (read_link(pid, "cwd", cwd.path, sizeof cwd.path) == 0 && stat(link, &st) == 0) {
		identity(&cwd, &st);
		put_entry(&o, &cwd);
	}
	take_fds(&o, pid);
	take_maps(&o, pid, scratch, scratch_len, check_code);
	node_code_each(take_read, &o);
	h.entries = o.count;
	int n = o.err ? o.err : om_ckpt_home_encode(&h, buf + OM_HDR_SIZE, sizeof buf - OM_HDR_SIZE);
	if (n < 0 && !o.err)
		n = -EINVAL;
	if (n >= 0) {
		om_hdr_encode(buf, OM_T_CKPT_HOME, (uint32_t)n, 0, 0);
		n = ckpt_write_all(fd, buf, OM_HDR_SIZE + (size_t)n) == 0 && ckpt_write_all(fd, o.p, o.len) == 0 ? 0 : -errno;
	}
	free(o.p);
	if (n < 0)
		snprintf(err, errlen, "process %d's home record: %s", (int)pid, strerror(-n));
	return n < 0 ? -1 : 0;
}
