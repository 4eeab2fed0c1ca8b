/* ckpt_resume.c - a saved job made whole again in a new home process
 * (contract in ckpt_resume.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <unistd.h>
#include <linux/prctl.h>

#include "capture.h"
#include "checkpoint.h"
#include "ckpt_resume.h"
#include "node_code.h"
#include "restore.h"

void ckpt_saved_free(struct ckpt_saved *s)
{
	free(s->buf);
	free(s->e);
	free(s->hdr);
	memset(s, 0, sizeof *s);
}

/* ---- reading the file */

/* One image frame through the validator (the pages are not kept). */
static int image_frame(struct ckpt_saved *s, struct om_image_check *c, const struct om_hdr *h, const uint8_t *p)
{
	struct om_image_region reg;
	struct om_image_pages pg;
	struct om_image_end end;
	switch (h->type) {
	case OM_T_IMAGE_BEGIN:
		if (s->hdr || !(s->hdr = malloc(sizeof *s->hdr)))
			return s->hdr ? OM_E_STATE : -ENOMEM;
		int rc = om_image_hdr_decode(p, h->length, s->hdr);
		return rc != OM_OK ? rc : om_image_check_begin(c, s->hdr);
	case OM_T_IMAGE_REGION:
		return om_image_region_decode(p, h->length, &reg) ?: om_image_check_region(c, &reg);
	case OM_T_IMAGE_PAGES:
		return om_image_pages_decode(p, h->length, &pg) ?: om_image_check_pages(c, &pg);
	case OM_T_IMAGE_END:
		return om_image_end_decode(p, h->length, &end) ?: om_image_check_end(c, &end);
	}
	return OM_E_STATE; /* a thread (refused before) or anything else */
}

/* One CKPT_ENTRY into s->e[*k] (grown as they come). */
static int add_entry(struct ckpt_saved *s, uint32_t *k, const uint8_t *p, uint32_t len)
{
	if ((*k & (*k - 1)) == 0) { /* 0, 1, 2, 4...: room for as many again */
		struct om_ckpt_entry *grown = realloc(s->e, (*k ? *k * 2 : 1) * sizeof *grown);
		if (!grown)
			return -ENOMEM;
		s->e = grown;
	}
	int rc = om_ckpt_entry_decode(p, len, &s->e[*k]);
	if (rc == OM_OK)
		(*k)++;
	return rc;
}

static int by_number(const void *a, const void *b)
{
	return *(const int32_t *)a < *(const int32_t *)b ? -1 : *(const int32_t *)a > *(const int32_t *)b;
}

/* One working directory, each descriptor once. */
static int entries_unique(const struct ckpt_saved *s)
{
	int32_t *fds = malloc((s->home.entries + 1) * sizeof *fds);
	uint32_t n = 0, cwd = 0;
	if (!fds)
		return 0;
	for (uint32_t i = 0; i < s->home.entries; i++) {
		cwd += s->e[i].kind == OM_CKPT_CWD;
		if (s->e[i].kind == OM_CKPT_FD)
			fds[n++] = s->e[i].fd;
	}
	qsort(fds, n, sizeof *fds, by_number);
	int ok = cwd == 1;
	for (uint32_t i = 1; ok && i < n; i++)
		ok = fds[i] != fds[i - 1];
	free(fds);
	return ok;
}

/* What the home record and the image say together: -1 with err when a
 * restart cannot make them one process. */
static int record_fits(const struct ckpt_saved *s, char *err, size_t errlen)
{
	size_t n = strlen(s->home.exe);
	if (s->home.calls != s->hdr->calls)
		return ckpt_fail(err, errlen, "its home record is of call %u, its image of call %u", s->home.calls,
			    s->hdr->calls);
	if (n > 10 && strcmp(s->home.exe + n - 10, " (deleted)") == 0)
		return ckpt_fail(err, errlen, "its program %s was deleted before the checkpoint", s->home.exe);
	if (!entries_unique(s))
		return ckpt_fail(err, errlen, "its home record has no working directory, or one of its descriptors twice");
	for (size_t at = s->image_at; at < s->len;) {
		struct om_hdr h;
		struct om_image_region reg;
		om_frame_check(s->buf + at, s->len - at, &h); /* checked as it was read */
		if (h.type == OM_T_IMAGE_REGION && om_image_region_decode(s->buf + at + OM_HDR_SIZE, h.length, &reg) == OM_OK &&
		    reg.kind == OM_RK_FILE && (reg.flags & OM_RF_SHARED))
			return ckpt_fail(err, errlen, "it had a file mapped shared at %#llx: a restart cannot map it again",
				    (unsigned long long)reg.start);
		at += OM_HDR_SIZE + h.length;
	}
	return 0;
}

int ckpt_saved_read(const char *path, struct ckpt_saved *s, char *err, size_t errlen)
{
	struct om_image_check check;
	uint32_t k = 0;
	memset(s, 0, sizeof *s);
	if (!(s->buf = ckpt_read_file(path, &s->len)))
		return ckpt_fail(err, errlen, "it cannot be read: %s", errno == EINVAL ? "not a regular file" : strerror(errno));
	om_image_check_init(&check);
	for (size_t at = 0; at < s->len;) {
		struct om_hdr h;
		int rc = om_frame_check(s->buf + at, s->len - at, &h);
		if (rc == OM_OK && h.length > s->len - at - OM_HDR_SIZE)
			rc = OM_E_SHORT;
		if (rc != OM_OK) {
			if (rc == OM_E_SHORT)
				ckpt_fail(err, errlen, "it is cut short (%zu bytes: a frame at byte %zu goes on past the end)", s->len,
				     at);
			else
				ckpt_fail(err, errlen, "it is not a checkpoint om can read: at byte %zu, %s", at,
				     rc == OM_E_VERSION ? "a frame of another version of om" : om_strerror(rc));
			ckpt_saved_free(s);
			return -1;
		}
		const uint8_t *p = s->buf + at + OM_HDR_SIZE;
		if (at == 0 && h.type != OM_T_CKPT_HOME)
			rc = OM_E_STATE;
		else if (h.type == OM_T_CKPT_HOME)
			rc = at != 0 ? OM_E_STATE : om_ckpt_home_decode(p, h.length, &s->home);
		else if (h.type == OM_T_CKPT_ENTRY)
			rc = k == s->home.entries ? OM_E_STATE : add_entry(s, &k, p, h.length);
		else if (k < s->home.entries)
			rc = OM_E_STATE;
		else if (h.type != OM_T_IMAGE_THREAD)
			rc = image_frame(s, &check, &h, p);
		if (h.type == OM_T_IMAGE_THREAD || (rc == OM_OK && h.type == OM_T_IMAGE_BEGIN && s->hdr->thread_count)) {
			ckpt_saved_free(s);
			return ckpt_fail(err, errlen, "the job had more than one thread: a restart takes a process of one thread");
		}
		if (rc == OM_OK && s->image_at == 0 && om_type_is_image(h.type))
			s->image_at = at;
		if (rc == OM_OK && h.type == OM_T_IMAGE_END && at + OM_HDR_SIZE + h.length != s->len)
			rc = OM_E_TRAILING;
		if (rc != OM_OK) {
			const char *why = check.why && check.why[0] ? check.why : rc == -ENOMEM ? "out of memory" : om_strerror(rc);
			if (at == 0 && h.type != OM_T_CKPT_HOME)
				why = "it has no home record (om-checkpoint --save's files and those of an older om "
				      "have none)";
			ckpt_fail(err, errlen, "it is not a checkpoint om-run can restart: frame %s at byte %zu: %s",
			     om_type_name(h.type), at, why);
			ckpt_saved_free(s);
			return -1;
		}
		at += OM_HDR_SIZE + h.length;
	}
	if (!s->hdr || !om_image_check_done(&check)) {
		ckpt_saved_free(s);
		return ckpt_fail(err, errlen, "it is cut short: %s", s->len == 0 ? "the file is empty" : "the image has no end");
	}
	if (s->home.uid != getuid()) {
		ckpt_fail(err, errlen, "it was saved by uid %u: a restart runs it as its own user only", s->home.uid);
		ckpt_saved_free(s);
		return -1;
	}
	if (record_fits(s, err, errlen) != 0) {
		ckpt_saved_free(s);
		return -1;
	}
	return 0;
}

/* ---- the files it names */

static int same_file(const struct om_ckpt_entry *e, const struct stat *st)
{
	return (uint64_t)st->st_dev == e->dev && (uint64_t)st->st_ino == e->ino;
}

static int unchanged(const struct om_ckpt_entry *e, const struct stat *st)
{
	return same_file(e, st) && (uint64_t)st->st_size == e->size && ckpt_ns(&st->st_mtim) == e->mtime_ns &&
	       ckpt_ns(&st->st_ctim) == e->ctime_ns;
}

static int fd_file_ok(const struct om_ckpt_entry *e, const struct stat *st, char *err, size_t errlen)
{
	uint64_t now = (uint64_t)st->st_size;
	if ((e->flags & O_ACCMODE) == O_RDONLY && (now != e->size || ckpt_ns(&st->st_mtim) != e->mtime_ns))
		return ckpt_fail(err, errlen, "fd %d: %s changed since the checkpoint (it reads it; size %llu then, %llu now)",
			    e->fd, e->path, (unsigned long long)e->size, (unsigned long long)now);
	if ((e->flags & O_ACCMODE) != O_RDONLY && (e->flags & O_APPEND) && now != e->size)
		return ckpt_fail(err, errlen, "fd %d: %s grew or shrank since the checkpoint (%llu bytes then, %llu now): "
			    "the job appends to it and would write again what it wrote since; cut it back to %llu "
			    "bytes to restart", e->fd, e->path, (unsigned long long)e->size, (unsigned long long)now,
			    (unsigned long long)e->size);
	if ((e->flags & O_ACCMODE) != O_RDONLY && now < e->pos)
		return ckpt_fail(err, errlen, "fd %d: %s is shorter (%llu bytes) than where the job was writing (%llu)",
			    e->fd, e->path, (unsigned long long)now, (unsigned long long)e->pos);
	return 0;
}

int ckpt_saved_files(const struct ckpt_saved *s, char *err, size_t errlen)
{
	struct stat st;
	if (stat(s->home.exe, &st) != 0)
		return ckpt_fail(err, errlen, "its program %s: %s", s->home.exe, strerror(errno));
	for (uint32_t i = 0; i < s->home.entries; i++) {
		const struct om_ckpt_entry *e = &s->e[i];
		/* (the files the node read its code from are checked page by
		 * page, as a returning image's are, when the image is restored) */
		if (e->kind == OM_CKPT_SPECIAL || e->kind == OM_CKPT_READ || e->what == OM_CKPT_STREAM ||
		    e->what == OM_CKPT_DUP)
			continue;
		int gone = e->what != OM_CKPT_OTHER && stat(e->path, &st) != 0;
		if (gone)
			return ckpt_fail(err, errlen, "%s %s: %s", e->kind == OM_CKPT_FD ? "its open file" : "its file", e->path,
				    strerror(errno));
		switch (e->kind) {
		case OM_CKPT_CWD:
			if (!same_file(e, &st))
				return ckpt_fail(err, errlen, "its working directory %s is another directory now", e->path);
			break;
		case OM_CKPT_CODE:
			if (!unchanged(e, &st))
				return ckpt_fail(err, errlen, "%s, which it runs code from, changed since the checkpoint", e->path);
			break;
		case OM_CKPT_FD:
			if (e->what == OM_CKPT_OTHER)
				return ckpt_fail(err, errlen, "fd %d (%s) cannot be given back: a restart opens files, directories "
					    "and devices again, and takes the new om-run's own fds 0, 1 and 2 for pipes, "
					    "terminals and sockets", e->fd, e->path);
			if (!same_file(e, &st))
				return ckpt_fail(err, errlen, "fd %d: %s is another file now", e->fd, e->path);
			if (e->what == OM_CKPT_FILE && fd_file_ok(e, &st, err, errlen) != 0)
				return -1;
			break;
		}
	}
	return 0;
}

/* ---- the new process */

/* One injected call; -1 with err saying what failed. */
#define ARGS(...) ((const uint64_t[6]){ __VA_ARGS__ })
static int call(struct inject *in, const char *what, long nr, const uint64_t a[6], int64_t *ret, char *err,
		size_t errlen)
{
	int rc = in->stub ? inject_syscall(in, nr, a, ret) : inject_syscall_here(in, nr, a, ret);
	if (rc == 0 && *ret < 0 && *ret > -4096)
		rc = (int)*ret;
	return rc == 0 ? 0 : ckpt_fail(err, errlen, "%s: %s", what, strerror(-rc));
}

/* path into the scratch data area, for a call that takes it. */
static int put_path(struct inject *in, const char *path, char *err, size_t errlen)
{
	int rc = inject_write(in, in->data, path, strlen(path) + 1);
	return rc == 0 ? 0 : ckpt_fail(err, errlen, "writing into the new process: %s", strerror(-rc));
}

/* path opened in the new process: its descriptor in *fd. */
static int open_in(struct inject *in, const char *path, uint64_t flags, int64_t *fd, char *err, size_t errlen)
{
	if (put_path(in, path, err, errlen) != 0)
		return -1;
	return call(in, path, SYS_openat, ARGS((uint64_t)AT_FDCWD, in->data, flags), fd, err, errlen);
}

/* The kernel's mappings where the saved process had them. */
static int move_special(struct ckpt_saved *s, struct inject *in, char *err, size_t errlen)
{
	struct capture_map *maps;
	size_t n;
	int64_t ret;
	int rc = capture_read_maps(in->pid, 0, 0, &maps, &n);
	if (rc != 0)
		return ckpt_fail(err, errlen, "/proc/%d/maps: %s", (int)in->pid, strerror(-rc));
	for (uint32_t i = 0; rc == 0 && i < s->home.entries; i++) {
		const struct om_ckpt_entry *e = &s->e[i];
		size_t k = 0;
		if (e->kind != OM_CKPT_SPECIAL)
			continue;
		while (k < n && strcmp(maps[k].name, e->path) != 0)
			k++;
		if (k == n || maps[k].end - maps[k].start != e->len) {
			rc = ckpt_fail(err, errlen, "this kernel's %s is not the checkpoint's: restart it on the kernel it ran on",
				  e->path);
			break;
		}
		for (size_t j = 0; j < n; j++)
			if (j != k && maps[j].start < e->addr + e->len && e->addr < maps[j].end && maps[j].name[0] == '[')
				rc = ckpt_fail(err, errlen, "the new process has its %s where %s was (by chance): run it again",
					  maps[j].name, e->path);
		if (rc == 0 && maps[k].start != e->addr)
			rc = call(in, e->path, SYS_mremap,
				  ARGS(maps[k].start, e->len, e->len, MREMAP_MAYMOVE | MREMAP_FIXED, e->addr), &ret, err,
				  errlen);
	}
	free(maps);
	return rc;
}

/* prctl(PR_SET_MM_MAP): break, arguments and environment where the image has them. */
static int set_layout(struct ckpt_saved *s, struct inject *in, char *err, size_t errlen)
{
	const struct om_ckpt_home *h = &s->home;
	struct prctl_mm_map m = {
		.start_code = h->start_code, .end_code = h->end_code, .start_data = h->start_data,
		.end_data = h->end_data, .start_brk = s->hdr->start_brk, .brk = s->hdr->brk,
		.start_stack = h->start_stack, .arg_start = h->arg_start, .arg_end = h->arg_end,
		.env_start = h->env_start, .env_end = h->env_end, .exe_fd = (uint32_t)-1,
	};
	int64_t ret;
	int rc = inject_write(in, in->data, &m, sizeof m);
	if (rc != 0)
		return ckpt_fail(err, errlen, "writing into the new process: %s", strerror(-rc));
	return call(in, "its memory layout (prctl PR_SET_MM_MAP)", SYS_prctl,
		    ARGS(PR_SET_MM, PR_SET_MM_MAP, in->data, sizeof m), &ret, err, errlen);
}

/* Whether fd of the new process is the file e names (no file put in its
 * place since the check): 0, or -1 with err. */
static int opened_is(struct inject *in, int64_t fd, const struct om_ckpt_entry *e, struct stat *st, char *err,
		     size_t errlen)
{
	char link[96];
	snprintf(link, sizeof link, "/proc/%d/fd/%lld", (int)in->pid, (long long)fd);
	if (stat(link, st) != 0 || !same_file(e, st))
		return ckpt_fail(err, errlen, "%s is another file now", e->path);
	return 0;
}

static uint64_t prot_of(uint32_t om)
{
	return ((om & OM_PROT_R) ? PROT_READ : 0) | ((om & OM_PROT_W) ? PROT_WRITE : 0) |
	       ((om & OM_PROT_X) ? PROT_EXEC : 0);
}

/* Home's code where it was; what the node read noted as it was. */
static int set_code(struct ckpt_saved *s, struct inject *in, char *err, size_t errlen)
{
	int64_t fd, ret;
	for (uint32_t i = 0; i < s->home.entries; i++) {
		const struct om_ckpt_entry *e = &s->e[i];
		if (e->kind == OM_CKPT_READ && node_code_add(e->addr, e->len, e->pos, e->dev, e->ino, e->path) != 0)
			return ckpt_fail(err, errlen, "more files it read its code from than a deputy keeps (%d)", NODE_CODE_MAX);
		if (e->kind != OM_CKPT_CODE)
			continue;
		if (open_in(in, e->path, O_RDONLY | O_CLOEXEC, &fd, err, errlen) != 0)
			return -1;
		struct stat st;
		int rc = opened_is(in, fd, e, &st, err, errlen);
		if (rc == 0)
			rc = call(in, e->path, SYS_mmap,
				  ARGS(e->addr, e->len, prot_of(e->flags), MAP_PRIVATE | MAP_FIXED, (uint64_t)fd, e->pos),
				  &ret, err, errlen);
		call(in, "close", SYS_close, ARGS((uint64_t)fd), &ret, err, rc ? 0 : errlen);
		if (rc != 0)
			return -1;
	}
	return 0;
}

static int fd_open_in(const char *fds, int fd)
{
	char name[96];
	struct stat st;
	snprintf(name, sizeof name, "%s/%d", fds, fd);
	return lstat(name, &st) == 0;
}

/* The descriptors: the saved ones at their numbers, no other. */
static int set_fds(struct ckpt_saved *s, struct inject *in, char *err, size_t errlen)
{
	char fds[64];
	int64_t ret, fd;
	snprintf(fds, sizeof fds, "/proc/%d/fd", (int)in->pid);
	DIR *d = opendir(fds);
	struct dirent *de;
	if (!d)
		return ckpt_fail(err, errlen, "%s: %s", fds, strerror(errno));
	while ((de = readdir(d)) != NULL) { /* om-run's own, but 0, 1 and 2 where they stand in */
		int n = atoi(de->d_name), stays = 0;
		if (de->d_name[0] == '.')
			continue;
		for (uint32_t i = 0; i < s->home.entries; i++)
			stays |= s->e[i].kind == OM_CKPT_FD && s->e[i].fd == n && s->e[i].what == OM_CKPT_STREAM;
		if (!stays && call(in, "close", SYS_close, ARGS((uint64_t)n), &ret, err, errlen) != 0) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	for (uint32_t i = 0; i < s->home.entries; i++) {
		const struct om_ckpt_entry *e = &s->e[i];
		if (e->kind == OM_CKPT_CWD && (put_path(in, e->path, err, errlen) != 0 ||
					       call(in, e->path, SYS_chdir, ARGS(in->data), &ret, err, errlen) != 0))
			return -1;
		if (e->kind != OM_CKPT_FD)
			continue;
		if (e->what == OM_CKPT_STREAM) {
			if (!fd_open_in(fds, e->fd))
				return ckpt_fail(err, errlen, "fd %d was %s: om-run has no fd %d to give it now", e->fd, e->path,
					    e->fd);
			continue;
		}
		if (e->what == OM_CKPT_DUP)
			continue; /* below, once the one it shares is there */
		uint64_t flags = e->flags & ~(uint64_t)(O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC);
		if (open_in(in, e->path, flags | O_NOCTTY, &fd, err, errlen) != 0)
			return -1;
		int cloexec = (e->flags & O_CLOEXEC) != 0, rc = 0;
		if (fd != e->fd) {
			rc = call(in, e->path, SYS_dup3, ARGS((uint64_t)fd, (uint64_t)e->fd, cloexec ? O_CLOEXEC : 0), &ret,
				  err, errlen);
			if (rc != 0 && ret == -EBADF)
				ckpt_fail(err, errlen, "fd %d: above this process's limit of open files (ulimit -n)", e->fd);
			call(in, "close", SYS_close, ARGS((uint64_t)fd), &ret, err, rc ? 0 : errlen);
		} else if (cloexec) {
			rc = call(in, e->path, SYS_fcntl, ARGS((uint64_t)fd, F_SETFD, FD_CLOEXEC), &ret, err, errlen);
		}
		struct stat st;
		if (rc == 0)
			rc = opened_is(in, e->fd, e, &st, err, errlen);
		/* What it wrote after the checkpoint goes: it writes it again. */
		if (rc == 0 && e->what == OM_CKPT_FILE && (e->flags & O_ACCMODE) != O_RDONLY && !(e->flags & O_APPEND) &&
		    (uint64_t)st.st_size > e->size)
			rc = call(in, e->path, SYS_ftruncate, ARGS((uint64_t)e->fd, e->size), &ret, err, errlen);
		if (rc == 0 && e->what != OM_CKPT_DEVICE && !(e->flags & O_PATH))
			rc = call(in, e->path, SYS_lseek, ARGS((uint64_t)e->fd, e->pos, SEEK_SET), &ret, err, errlen);
		if (rc != 0)
			return -1;
	}
	for (uint32_t i = 0; i < s->home.entries; i++) {
		const struct om_ckpt_entry *e = &s->e[i];
		if (e->kind == OM_CKPT_FD && e->what == OM_CKPT_DUP &&
		    call(in, "a second descriptor of an open file", SYS_dup3,
			 ARGS(e->pos, (uint64_t)e->fd, (e->flags & O_CLOEXEC) ? O_CLOEXEC : 0), &ret, err, errlen) != 0)
			return -1;
	}
	return 0;
}

/* restore.h's home_file hook: home may run code from a file only if it
 * is one the record names as code, still as it was (the checkpoint took
 * only files unchanged since the job left home). */
static int code_file_ok(void *ctx, const char *path, char *why, size_t len)
{
	const struct ckpt_saved *s = ctx;
	struct stat st;
	for (uint32_t i = 0; i < s->home.entries; i++)
		if (s->e[i].kind == OM_CKPT_CODE && strcmp(s->e[i].path, path) == 0)
			return stat(path, &st) == 0 && unchanged(&s->e[i], &st) ? 0 :
			       (snprintf(why, len, "%s changed since the checkpoint", path), -1);
	snprintf(why, len, "%s is no file the checkpoint ran code from", path);
	return -1;
}

static int restore_image(struct ckpt_saved *s, struct inject *in, struct restore *rs, char *err, size_t errlen)
{
	memset(rs, 0, sizeof *rs);
	rs->file_code = node_code_check;
	rs->home_file = code_file_ok;
	rs->file_code_ctx = s;
	for (size_t at = s->image_at; at < s->len;) {
		struct om_hdr h;
		om_frame_check(s->buf + at, s->len - at, &h); /* checked as it was read */
		if (restore_frame(rs, in, h.type, s->buf + at + OM_HDR_SIZE, h.length, err, errlen) != 0)
			return -1;
		at += OM_HDR_SIZE + h.length;
	}
	return 0;
}

int ckpt_resume(struct ckpt_saved *s, struct inject *in, char *err, size_t errlen)
{
	static struct restore rs;
	static struct inject_sig back[INJECT_SIGS_MAX];
	struct user_regs_struct regs;
	int rc;
	/* (A node names the region's first part only: the restore checks
	 * that every part is where this one has it.) */
	if (!s->hdr->scratch_len || s->hdr->scratch_len > INJECT_CODE_SIZE + INJECT_DATA_SIZE)
		return ckpt_fail(err, errlen, "its scratch region is not one this om-run makes");
	uint64_t scratch_end = s->hdr->scratch_start + INJECT_CODE_SIZE + INJECT_DATA_SIZE;
	for (uint32_t i = 0; i < s->home.entries; i++)
		if ((s->e[i].kind == OM_CKPT_CODE || s->e[i].kind == OM_CKPT_SPECIAL) &&
		    s->e[i].addr < scratch_end && s->hdr->scratch_start < s->e[i].addr + s->e[i].len)
			return ckpt_fail(err, errlen, "its scratch region overlaps %s", s->e[i].path);
	node_code_since_set(s->home.since_ns); /* the job's start, not this restart's */
	if ((rc = inject_exec_turn(in)) != 0)
		return ckpt_fail(err, errlen, "the new process: %s", strerror(-rc));
	if (move_special(s, in, err, errlen) != 0)
		return -1;
	if ((rc = inject_setup_at(in, s->hdr->scratch_start)) != 0)
		return ckpt_fail(err, errlen, "the scratch region at %#llx: %s", (unsigned long long)s->hdr->scratch_start,
			    rc == -EBUSY ? "the new process's loader is there (by chance): run it again" : strerror(-rc));
	rc = set_layout(s, in, err, errlen) ?: set_code(s, in, err, errlen) ?: set_fds(s, in, err, errlen) ?:
	     restore_image(s, in, &rs, err, errlen);
	if (rc == 0 && ptrace(PTRACE_GETREGS, in->pid, NULL, &regs) == 0) {
		rc = inject_teardown(in);
		ptrace(PTRACE_SETREGS, in->pid, NULL, &regs);
		if (rc != 0)
			ckpt_fail(err, errlen, "its scratch region does not go: %s", strerror(-rc));
	} else if (rc == 0) {
		rc = ckpt_fail(err, errlen, "its registers: %s", strerror(errno));
	}
	if (rc == 0) {
		unsigned n = inject_take_signals(in, back);
		for (unsigned i = 0; i < n; i++)
			inject_raise(in->pid, &back[i]);
		restore_raise_pending(&rs, in->pid);
	}
	restore_free(&rs);
	return rc == 0 ? 0 : -1;
}
