/* restore.h - make a stopped tracee match an image ("migrate home").
 * Home side only (Linux, x86-64).
 *
 * The image may differ from the process it came from: the node grew brk,
 * added or removed anonymous mappings, changed protections, wrote memory.
 * Restore feeds the frames, in image order, through om_image_check and:
 *
 *  - munmaps every home mapping the image does not have;
 *  - sets brk with an injected brk(2) (first: the heap follows brk);
 *  - keeps a home mapping that matches an image region (it covers the
 *    region, same kind; a file mapping also the same file at the same
 *    offset; a stack the same top, extended downwards by a MAP_GROWSDOWN
 *    mapping when it grew),
 *    mprotects it when the protection changed and discards its private
 *    pages (MADV_DONTNEED), so that pages the image does not send read as
 *    zero (anonymous) or as the file (file-backed);
 *  - maps any other region afresh (anonymous, MAP_FIXED);
 *  - writes the pages through /proc/PID/mem, which ignores protections;
 *  - but takes no code from the image: an executable region must be
 *    home mappings that were executable when the job left, with the same
 *    protection, kind and sharing, and each page the image sends for it
 *    must equal the home's (compared, never written, not discarded), and
 *    a file behind them must pass the home_file hook; or,
 *    with a file_code hook, a file region the node mapped itself whose
 *    every page the hook finds to be a file's content (then mapped and
 *    written as any region); every thread's instruction pointer must lie
 *    in such a region or the vDSO. A node, which may be hostile, thus
 *    cannot have home run code it made or changed (docs/security.md, "A
 *    returning image"); a JIT's code made on a node does not come home
 *    either;
 *  - then signal actions, mask, sigaltstack, rseq, set_tid_address, robust
 *    list, umask (all injected), the XSAVE area (PTRACE_SETREGSET) and the
 *    general registers with fs/gs base (PTRACE_SETREGS; the segment
 *    selectors stay the home's);
 *  - and for each other thread of the image (IMAGE_THREAD), in the home
 *    thread of its tid (thread_in): its mask, sigaltstack, rseq,
 *    set_tid_address and robust list (injected there), its XSAVE area and
 *    registers. The header must hold the leader (tid = pid).
 *
 * It never touches [vdso], [vvar], [vsyscall] or the scratch region: an
 * image region there must be the same vdso / the same scratch (its pages,
 * the node's patched vDSO copy, are ignored), anything else overlapping
 * them is refused. Shared mappings are kept, not discarded: pages the image
 * sends are written, the rest stay as the home has them.
 *
 * Pending signals of the image are not raised (an injected kill would be
 * caught by the injection itself): restore_end leaves them in 'pending'
 * and 'sigq' for restore_raise_pending, which the caller runs from outside
 * when it resumes the tracee.
 *
 * Errors are -errno (or a negative enum om_err for a bad image) with a
 * message in the caller's err buffer. After a failure the tracee is in an
 * undefined state: kill it. */
#ifndef OM_RESTORE_H
#define OM_RESTORE_H

#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "image.h"
#include "inject.h"

struct restore {
	struct inject *in;
	char *err;
	size_t errlen;
	struct om_image_check check;
	struct om_image_hdr *hdr;     /* copy of IMAGE_BEGIN (malloc'd) */
	struct capture_map *home;     /* home mappings after brk (malloc'd) */
	size_t nhome;
	uint64_t prev_end;            /* end of the last image region */
	int write_pages;              /* the current region takes its pages */
	uint64_t cur_start;
	uint64_t pages_written;
	int code_region;              /* the current region is code: CODE_HOME, CODE_FILE */
	char cur_name[OM_IMAGE_NAME_MAX + 1]; /* its name, for messages */
	struct restore_code {         /* the image's code regions and its vDSO */
		uint64_t start, end;
	} *code;
	size_t ncode;
	uint8_t *compare;             /* home's pages, to compare code with (malloc'd) */
	/* Where each IMAGE_THREAD goes: the home thread of its tid, stopped,
	 * sharing the tracee's scratch region (NULL: no such thread, the image
	 * is refused). Set by the caller; NULL refuses images with threads.
	 * Kept across restore_begin. */
	struct inject *(*thread_in)(void *ctx, pid_t tid);
	void *thread_ctx;
	/* Whether the page at addr of an executable file region home does
	 * not have is a file's content (node_code.h): 0, or -1 with why.
	 * NULL refuses such regions. Kept across restore_begin. */
	int (*file_code)(void *ctx, uint64_t addr, const uint8_t *page, char *why, size_t len);
	void *file_code_ctx;
	/* Whether home may keep running code it maps from the file at path:
	 * 0, or -1 with why (a file a node could have written through the
	 * deputy since the job started; the home's pages of a private mapping
	 * read as the file until written). NULL: no check. Kept across
	 * restore_begin; called with file_code_ctx. */
	int (*home_file)(void *ctx, const char *path, char *why, size_t len);
	struct om_image_thread **threads; /* the image's other threads, to apply at the end */
	uint32_t nthreads;
	uint64_t pending;             /* after restore_end: signals to deliver */
	uint32_t nsigq;               /* ... and the siginfo the image has for them */
	struct om_siginfo sigq[OM_SIGQUEUE_MAX];
};

/* Starts a restore into the stopped tracee (scratch set up). */
int restore_begin(struct restore *r, struct inject *in, const struct om_image_hdr *h,
    char *err, size_t errlen);
int restore_region(struct restore *r, const struct om_image_region *reg);
int restore_pages(struct restore *r, const struct om_image_pages *p);
/* Finishes: unmaps what is left, then thread state and registers. */
int restore_end(struct restore *r, const struct om_image_end *e);
/* Decodes one frame payload and passes it to the functions above; the
 * first frame must be IMAGE_BEGIN (r is then initialised). */
int restore_frame(struct restore *r, struct inject *in, int type, const void *payload,
    size_t len, char *err, size_t errlen);
/* Frees what restore_begin allocated; safe after any outcome. */
void restore_free(struct restore *r);

/* Makes the image's pending signals pending in the tracee (pid), sent from
 * the caller's own process: each with its siginfo where Linux lets another
 * process queue that (rt_tgsigqueueinfo takes a negative si_code, SI_TKILL
 * aside), else as kill(2) sends it; the image's threads' own pending
 * signals go to those threads (tgkill). Call after restore_end, before the
 * tracee runs. */
void restore_raise_pending(const struct restore *r, pid_t pid);

#endif
