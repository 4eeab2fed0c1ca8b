/* node_code.h - code a node mapped from a file, to check when it comes
 * home.
 *
 * A node makes a private file mapping (ld.so loading a library there) as
 * anonymous memory that it fills with forwarded preads (kernel/sys_mm.c),
 * so home has no such mapping when the job comes back, and restore.h
 * takes no executable memory home does not have, unless it is a file's
 * content. The deputy notes every forwarded pread into a page-aligned
 * buffer at a page-aligned offset: which file (path, device, inode), at
 * which offset, landed at which node address. A page of an executable
 * region the image brings must then read, byte for byte, as that file
 * reads now at that offset, and the file must not have changed (ctime)
 * since the job started: the code home runs is a file's the job read, as
 * if the program had mapped it at home, and not one a node wrote through
 * the deputy first; anything a node made or changed is refused (so is a
 * library the job itself built and then loaded on a node).
 *
 * One table per deputy process: a deputy forked for a child (life.c,
 * spawn) inherits its parent's, as the child's memory is a copy of the
 * parent's. Bounded (NODE_CODE_MAX records): a newer record replaces the
 * older ones it overlaps, the oldest goes first when full. Home side
 * only. */
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

#endif
