/* ckpt_file.h - what a checkpoint file holds besides the image: the
 * home side of the process when the checkpoint was taken, which
 * om-run --restart needs to make a new home process for it (the image
 * has memory, registers and signals; the rest stayed at home).
 *
 * A checkpoint file is frames, as a link carries them: CKPT_HOME, then
 * as many CKPT_ENTRY frames as it counts, then the image (image.h).
 * These two types appear in files only: a link that carries one is
 * broken (the agent and the node refuse them as any frame they do not
 * expect).
 *
 * CKPT_HOME (81): the program's file and the kernel's record of its
 * memory layout (prctl PR_SET_MM_MAP's fields: a new process gets them
 * back, so its break, arguments and environment are where the image has
 * them), the uid, the number of calls the image was taken after and
 * when the job started.
 *
 * CKPT_ENTRY (82): one thing home held:
 *   CKPT_CWD      the working directory;
 *   CKPT_FD       an open descriptor: fd, open flags (O_CLOEXEC
 *                 included), position, and what it is (kind: a file
 *                 reopened by path, or a pipe, terminal or socket that
 *                 the new om-run's own 0, 1 or 2 stand in for, a
 *                 second descriptor of an open file another has, or
 *                 one that cannot be given back, said as such);
 *   CKPT_CODE     a file home ran code from (a mapping, prot, at addr);
 *   CKPT_READ     a file the node read into its memory where a mapping
 *                 would have it (node_code.h): code it mapped itself;
 *   CKPT_SPECIAL  one of the kernel's own mappings ([vdso], [vvar]...),
 *                 by name in path, which a new process has elsewhere.
 * Every file is named by its path and known by device, inode, size,
 * mtime and ctime as they were, so a restart refuses one that changed.
 *
 * Paths are raw bytes (a u16 count, then 1..4095 bytes, no NUL): file
 * names need not be ASCII. Decoders take exactly one payload, as in
 * proto.h; encoders refuse what a decoder would. */
#ifndef OM_CKPT_FILE_H
#define OM_CKPT_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define OM_CKPT_PATH_MAX 4095u
#define OM_CKPT_ENTRIES_MAX 65536u

enum om_ckpt_kind {
	OM_CKPT_CWD = 1,
	OM_CKPT_FD = 2,
	OM_CKPT_CODE = 3,
	OM_CKPT_READ = 4,
	OM_CKPT_SPECIAL = 5,
	OM_CKPT_KIND_MAX = 5
};

/* What an open descriptor is (CKPT_FD's what). */
enum om_ckpt_what {
	OM_CKPT_FILE = 1,     /* a regular file */
	OM_CKPT_DIR = 2,      /* a directory */
	OM_CKPT_DEVICE = 3,   /* a character device other than a terminal */
	OM_CKPT_STREAM = 4,   /* pipe, terminal, socket: fds 0..2 only */
	OM_CKPT_OTHER = 5,    /* what a restart cannot give back (path: what it was) */
	OM_CKPT_DUP = 6,      /* the same open file as fd pos (a lower one): 2>&1 */
	OM_CKPT_WHAT_MAX = 6
};

struct om_ckpt_home {
	uint32_t uid;
	uint32_t calls;          /* the image's count of calls */
	uint32_t entries;        /* CKPT_ENTRY frames that follow */
	int64_t since_ns;        /* when the job started (CLOCK_REALTIME): files
				  * changed after bring no code home (node_code.h) */
	uint64_t start_code, end_code, start_data, end_data;
	uint64_t start_brk, start_stack;
	uint64_t arg_start, arg_end, env_start, env_end;
	char exe[OM_CKPT_PATH_MAX + 1];
};

struct om_ckpt_entry {
	uint32_t kind;           /* enum om_ckpt_kind */
	uint32_t what;           /* CKPT_FD: enum om_ckpt_what; else 0 */
	int32_t fd;              /* CKPT_FD: 0..INT32_MAX; else -1 */
	uint32_t flags;          /* CKPT_FD: open flags; CKPT_CODE: prot */
	uint64_t pos;            /* CKPT_FD: position; CODE, READ: file offset */
	uint64_t addr, len;      /* CODE, READ, SPECIAL: page-aligned range */
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns;
	char path[OM_CKPT_PATH_MAX + 1]; /* SPECIAL: "[vdso]" and the like */
};

int om_ckpt_home_encode(const struct om_ckpt_home *h, void *out, size_t cap);
int om_ckpt_home_decode(const void *buf, size_t len, struct om_ckpt_home *h);
int om_ckpt_entry_encode(const struct om_ckpt_entry *e, void *out, size_t cap);
int om_ckpt_entry_decode(const void *buf, size_t len, struct om_ckpt_entry *e);
const char *om_ckpt_kind_name(uint32_t kind);

#endif
