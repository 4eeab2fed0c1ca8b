/* ckpt_merge.h - a checkpoint that carries only what changed made whole
 * as it comes in.
 *
 * The deputy asks for a checkpoint with the node's count of the one it
 * holds whole (CHECKPOINT's base). A node that sent that one marked its
 * pages then and now sends, for each region whose pages it still has
 * (OM_RF_DELTA), only the pages written since; a region where pages went
 * (munmap, madvise) it sends whole. The file written is whole anyway: a
 * delta region's pages are the node's where it sent them, else the base
 * file's at the same address, in ascending order, with the region's and
 * the image's counts made right, so that restore and om-run --restart
 * read it as any image. The base is the last whole file, the same one
 * (device, inode, size, mtime as written), read page by page as needed.
 * Frames other than a delta region's pass as they come. */
#ifndef OM_CKPT_MERGE_H
#define OM_CKPT_MERGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "image.h"

struct ckpt_page {
	uint64_t addr;
	uint64_t off;             /* where its bytes are in the base file */
};

/* A file as it was written: another there since is not it. */
struct ckpt_file_id {
	uint64_t dev, ino, size;
	int64_t mtime_ns;
};

struct ckpt_merge {
	int fd;                   /* the file written */
	int base_fd;              /* the base file (-1: none) */
	uint8_t *page;            /* one of its pages, read */
	struct ckpt_page *pages;  /* its pages, ascending */
	size_t npages, next;      /* next: the first not yet passed */
	int delta;                /* in a delta region */
	struct om_image_region reg;
	uint32_t index;           /* its index */
	uint32_t regions;         /* REGION frames so far */
	off_t reg_at;             /* where its REGION frame is in the file */
	uint32_t reg_seq;         /* its header's seq */
	uint64_t reg_sent;        /* pages written for it */
	uint64_t last;            /* the last page address written in it + 1 page (0: none) */
	uint64_t run_first;       /* pages gathered for one PAGES frame */
	uint32_t run_count;
	uint8_t *run;             /* OM_IMAGE_PAGES_MAX pages */
	uint64_t pages_out;       /* the image's pages as written */
	uint32_t deltas;          /* delta regions in it */
};

/* The base checkpoint file base_path (NULL: none; then a delta region is
 * refused), which must still be the file id says (NULL: any), for an
 * image written to fd: 0, or -1 with err. */
int ckpt_merge_begin(struct ckpt_merge *m, const char *base_path, const struct ckpt_file_id *id, int fd, char *err,
    size_t errlen);
void ckpt_file_id_take(struct ckpt_file_id *id, const struct stat *st);
/* A stat time in nanoseconds, as records keep them. */
int64_t ckpt_ns(const struct timespec *t);
int ckpt_file_id_is(const struct ckpt_file_id *id, const struct stat *st);
/* One frame of the image as it comes (seq: its header's): written,
 * merged where it is a delta region's; 0, or -1 with err (the image is
 * then lost). */
int ckpt_merge_frame(struct ckpt_merge *m, uint8_t type, const uint8_t *p, uint32_t len, uint32_t seq, char *err,
    size_t errlen);
void ckpt_merge_end(struct ckpt_merge *m);
/* All of p to fd (EINTR taken care of): 0, or -1 with errno. */
int ckpt_write_all(int fd, const uint8_t *p, size_t len);
/* err says fmt's message; returns -1. */
int ckpt_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
