/* node_code.h - code a node mapped from a file, to check when it comes
 * home.
 *
 * A node makes a private file mapping (ld.so loading a library there) as
 * anonymous memory that it fills with forwarded preads (kernel/sys_mm.c),
 * so home has no such mapping when the job comes back, and restore.h
 * takes no executable memory home does not have, unless it is a file's
 * content. The deputy notes every forwarded pread of a regular file whose
 * buffer and offset lie alike within a page (as a mapping's are): which
 * file (path, device, inode), at which offset, landed at which node
 * address. A page of an executable region the image brings must then be,
 * as a whole, the page of one such file that a read put part of there,
 * byte for byte as that file reads now (zero past its end, as mmap has
 * it), and the file must not have changed (ctime) since the job started;
 * a page no read touched must be zero. So each page home runs is a page
 * the program could have mapped from a file at home, not bytes of several
 * files stitched together nor a file a node wrote through the deputy
 * during the job; anything a node made or changed is refused (so is a
 * library the job itself built and then loaded on a node).
 *
 * What this does not cover: a file written through the deputy in an
 * earlier job (docs/security.md).
 *
 * One table per deputy process: a deputy forked for a child (life.c,
 * spawn) inherits its parent's, as the child's memory is a copy of the
 * parent's. Bounded (NODE_CODE_MAX records): a newer record takes the
 * bytes it covers from older ones, reads that continue one another are
 * one record, the oldest goes first when full. Home side only. */
#ifndef OM_NODE_CODE_H
#define OM_NODE_CODE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "syscall_codec.h"

#define NODE_CODE_MAX 4096

/* After a forwarded call ran in process pid and returned ret. */
void node_code_note(pid_t pid, const struct om_sysreq *req, int64_t ret);
/* 0 when the page at addr (4096 bytes) is what a noted file holds there
 * now; else -1 with why ("no file was read there", ...). ctx unused
 * (restore.h's file_code hook). */
int node_code_check(void *ctx, uint64_t addr, const uint8_t *page, char *why, size_t len);
/* Forgets every record (the process execed: a new address space). */
void node_code_forget(void);
/* The job starts now: files changed from now on bring no code home. */
void node_code_since_now(void);
/* The job's start as node_code_since_now took it (ns, CLOCK_REALTIME;
 * now if it did not), for a checkpoint file, and that start again at its
 * restart: a file changed after it brings no code home then either. */
int64_t node_code_since_ns(void);
void node_code_since_set(int64_t ns);
/* Every record, oldest first, for a checkpoint file (ckpt_home.h). */
void node_code_each(void (*fn)(void *ctx, uint64_t addr, uint64_t len, uint64_t off, dev_t dev, ino_t ino,
    const char *path), void *ctx);
/* A record a checkpoint file had, for its restart (its file checked by
 * the caller): 0, or -1 when there is no room or memory. */
int node_code_add(uint64_t addr, uint64_t len, uint64_t off, dev_t dev, ino_t ino, const char *path);

#endif
