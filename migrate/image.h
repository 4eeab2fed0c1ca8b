/* image.h - the process image: IMAGE_BEGIN / REGION / PAGES / END payloads
 * and a validator for an image as it streams (contract: docs/migration.md).
 *
 * Portable C99, no allocation, no I/O: the node kernel and the home side
 * both compile it. A checkpoint file is the same frames concatenated.
 *
 * Frame order (checked by struct om_image_check):
 *
 *   IMAGE_BEGIN                      one om_image_hdr
 *   IMAGE_THREAD*                    hdr.thread_count more threads, in
 *                                    ascending tid order
 *   IMAGE_REGION, IMAGE_PAGES*       per region, in ascending address order;
 *                                    the PAGES of a region follow its REGION,
 *                                    at ascending, non-overlapping offsets
 *   IMAGE_END                        totals, checked against what came
 *
 * Decoders take exactly one payload and fail on a short payload (OM_E_TRUNC),
 * trailing bytes (OM_E_TRAILING) or a field out of range (OM_E_RANGE), as in
 * proto.h. Encoders refuse what a decoder would refuse. */
#ifndef OM_IMAGE_H
#define OM_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define OM_PAGE_SIZE 4096u
#define OM_USER_TOP 0x0000800000000000ull /* regions lie below (lower half) */
#define OM_XSAVE_MAX 16384u       /* largest XSAVE area accepted */
#define OM_XSAVE_MIN 576u         /* legacy area (512) + XSAVE header (64) */
#define OM_IMAGE_PAGES_MAX 255u   /* pages in one IMAGE_PAGES frame: 256 would
                                     * exceed OM_MAX_PAYLOAD by the 16-byte
                                     * PAGES header */
#define OM_IMAGE_REGIONS_MAX 65536u /* above Linux's default vm.max_map_count */
#define OM_IMAGE_NAME_MAX 255u    /* region name, for diagnostics only */
#define OM_UTS_MAX 64u            /* Linux's __NEW_UTS_LEN */
#define OM_NSIG 64                /* signals 1..64 */
#define OM_TIMERS_MAX 32u         /* POSIX timers an image carries */
#define OM_SIGQUEUE_MAX 256u      /* pending signal instances it carries */
#define OM_SIGINFO_FIELDS 32u     /* siginfo_t bytes 16..47 (the union) */
#define OM_IMAGE_THREADS_MAX 1023u /* threads besides the header's */
#define OM_TID_MAX 0x3fffffffu    /* FUTEX_TID_MASK: Linux's tids fit in it */

/* General registers in the order they travel (user_regs_struct names). */
enum om_reg {
	OM_REG_RAX, OM_REG_RBX, OM_REG_RCX, OM_REG_RDX, OM_REG_RSI, OM_REG_RDI,
	OM_REG_RBP, OM_REG_RSP, OM_REG_R8, OM_REG_R9, OM_REG_R10, OM_REG_R11,
	OM_REG_R12, OM_REG_R13, OM_REG_R14, OM_REG_R15, OM_REG_RIP,
	OM_REG_RFLAGS, OM_REG_ORIG_RAX, OM_REG_FS_BASE, OM_REG_GS_BASE,
	OM_REG_COUNT
};

/* One signal's action as the kernel keeps it (struct kernel_sigaction). */
struct om_sigaction {
	uint64_t handler;  /* 0 = SIG_DFL, 1 = SIG_IGN, else an address */
	uint64_t flags;    /* SA_* */
	uint64_t restorer;
	uint64_t mask;     /* bit n-1 = signal n */
};

/* Resource usage of the process so far: what getrusage and times answer
 * from, and where its CPU clocks count on from. */
struct om_usage {
	uint64_t utime_ns, stime_ns;   /* user and system time */
	uint64_t cutime_ns, cstime_ns; /* of the children waited for */
	uint64_t maxrss_kb, minflt, majflt, nvcsw, nivcsw;
	uint64_t ticks;                /* times(2)'s clock (USER_HZ) at capture */
};

/* An interval timer (setitimer) as the job has it. Times are absolute on
 * the timer's clock, as the image's clocks see it: ITIMER_REAL counts
 * CLOCK_MONOTONIC (clock_monotonic below), VIRTUAL and PROF the process
 * CPU time (usage.utime_ns + usage.stime_ns). */
struct om_itimer {
	uint64_t expires;   /* 0 = disarmed */
	uint64_t interval;  /* ns, 0 = one shot */
};

/* A POSIX timer (timer_create). clock is REALTIME (0), MONOTONIC (1),
 * PROCESS_CPUTIME_ID (2), THREAD_CPUTIME_ID (3) or BOOTTIME (7); expires
 * is absolute on it, as for om_itimer. */
struct om_timer {
	int32_t id;         /* >= 0, unique in the image */
	uint32_t clock;
	uint64_t expires;   /* 0 = disarmed */
	uint64_t interval;
	uint32_t notify;    /* SIGEV_SIGNAL 0, NONE 1, THREAD 2, SIGNAL|THREAD_ID 4 */
	uint32_t signo;     /* 1..64 unless notify is SIGEV_NONE */
	uint64_t value;     /* sigev_value */
	uint32_t tid;       /* notify 4: the thread it signals (1..OM_TID_MAX); else 0 */
};

/* A pending signal instance with its siginfo: si_signo, si_code, si_errno
 * and siginfo_t bytes 16..47 (the union, laid out as code and signal say). */
struct om_siginfo {
	uint32_t signo;     /* 1..OM_NSIG, and pending in sig_pending */
	int32_t code, errnum;
	uint8_t fields[OM_SIGINFO_FIELDS];
};

/* IMAGE_BEGIN. About 34 KiB at most: keep it off small stacks. */
struct om_image_hdr {
	uint64_t regs[OM_REG_COUNT];
	uint64_t xcr0;               /* XCR0 the area was saved under */
	uint32_t xsave_size;         /* 0 (no XSAVE) or OM_XSAVE_MIN..OM_XSAVE_MAX */
	uint8_t xsave[OM_XSAVE_MAX]; /* standard format (NT_X86_XSTATE layout) */
	struct om_cpu cpu;           /* features the image requires */
	uint64_t start_brk, brk;
	uint64_t mmap_base;          /* top of the top-down mmap area */
	uint64_t sig_blocked;
	uint64_t sig_pending;        /* thread and process pending, merged */
	uint32_t sigq_count;         /* <= OM_SIGQUEUE_MAX */
	/* Pending instances with their siginfo, in the order they came; a
	 * signal of sig_pending without one is delivered as from kill(). */
	struct om_siginfo sigq[OM_SIGQUEUE_MAX];
	struct om_sigaction sigact[OM_NSIG]; /* [n-1] = signal n */
	uint64_t ss_sp;              /* sigaltstack */
	uint32_t ss_flags;
	uint64_t ss_size;
	uint64_t rseq_addr;          /* 0 = not registered */
	uint32_t rseq_len, rseq_sig;
	uint64_t tid_address;        /* set_tid_address value */
	uint64_t robust_list, robust_len;
	uint32_t pid, ppid, tid, pgid, sid;
	uint32_t uid, euid, suid, gid, egid, sgid;
	char sysname[OM_UTS_MAX + 1], nodename[OM_UTS_MAX + 1];
	char release[OM_UTS_MAX + 1], version[OM_UTS_MAX + 1];
	char machine[OM_UTS_MAX + 1], domainname[OM_UTS_MAX + 1];
	uint32_t umask;              /* 0..0777 */
	uint64_t clock_realtime, clock_monotonic, clock_boottime; /* ns */
	uint64_t scratch_start, scratch_len; /* deputy's region, never mapped */
	uint64_t vdso_base;          /* 0 = none */
	struct om_usage usage;
	uint64_t memlock_max;        /* RLIMIT_MEMLOCK (soft), bytes; UINT64_MAX = unlimited */
	struct om_itimer itimer[3];  /* ITIMER_REAL, _VIRTUAL, _PROF */
	uint32_t timer_next_id;      /* the id the next timer_create would get */
	uint32_t timer_count;        /* <= OM_TIMERS_MAX */
	struct om_timer timers[OM_TIMERS_MAX];
	uint32_t region_count;       /* <= OM_IMAGE_REGIONS_MAX */
	/* IMAGE_THREAD frames that follow, one per other live thread; the
	 * header's own fields above are the thread tid's (the leader while it
	 * lives: a tid other than pid says it is gone). With threads,
	 * sig_pending and sigq are the process's pending signals and that
	 * thread's own, merged. */
	uint32_t thread_count;       /* <= OM_IMAGE_THREADS_MAX */
	/* Forwarded calls the process has made so far, wherever it ran: its
	 * next SYSCALL_REQ is number calls + 1 (docs/protocol.md, "Numbering"). */
	uint32_t calls;
};

/* IMAGE_THREAD: another thread of the process, what is its own. Its FPU
 * area is in the header's format (xcr0, size); its CPU time counts in the
 * header's usage too. */
struct om_image_thread {
	uint32_t tid;                /* 1..OM_TID_MAX, above the previous thread's, not
	                              * hdr.tid, nor hdr.pid when hdr.tid is not it */
	uint64_t regs[OM_REG_COUNT];
	uint32_t xsave_size;         /* the header's */
	uint8_t xsave[OM_XSAVE_MAX];
	uint64_t sig_blocked;
	uint64_t sig_pending;        /* sent to this thread (tgkill), not the process */
	uint32_t sigq_count;         /* <= OM_SIGQUEUE_MAX, as in the header */
	struct om_siginfo sigq[OM_SIGQUEUE_MAX];
	uint64_t ss_sp;              /* sigaltstack */
	uint32_t ss_flags;
	uint64_t ss_size;
	uint64_t rseq_addr;          /* 0 = not registered */
	uint32_t rseq_len, rseq_sig;
	uint64_t tid_address;        /* set_tid_address / CLONE_CHILD_CLEARTID */
	uint64_t robust_list, robust_len;
	uint64_t utime_ns, stime_ns; /* its own CPU time so far */
};

enum om_region_kind {
	OM_RK_ANON = 1,     /* private or shared anonymous memory */
	OM_RK_FILE = 2,     /* file-backed; name is the path */
	OM_RK_HEAP = 3,     /* [heap]: start_brk .. brk */
	OM_RK_STACK = 4,    /* [stack] */
	OM_RK_VDSO = 5,     /* [vdso], patched (see docs/migration.md) */
	OM_RK_RESERVED = 6  /* taken but not part of the job (the scratch) */
};

#define OM_PROT_R 1u
#define OM_PROT_W 2u
#define OM_PROT_X 4u
#define OM_RF_SHARED 1u /* MAP_SHARED at home */
#define OM_RF_LOCKED 2u /* mlock(2)ed */
/* A checkpoint's region whose pages not sent are as the checkpoint before
 * had them (CHECKPOINT's base; a page it did not have is zero): the node
 * sends what was written since. Home merges it into a whole image; the
 * validator (om_image_check_region) refuses it: a returning image, a
 * restart's or a checkpoint file never has it. */
#define OM_RF_DELTA 4u

/* IMAGE_REGION. */
struct om_image_region {
	uint64_t start, end;  /* page aligned, start < end <= OM_USER_TOP */
	uint32_t prot;        /* OM_PROT_* */
	uint32_t kind;        /* enum om_region_kind */
	uint32_t flags;       /* OM_RF_* */
	uint64_t pages_sent;  /* pages that travel in this image's PAGES frames */
	uint64_t pages_home;  /* pages that stay at home (lazy; 0 for now) */
	uint64_t file_offset;
	char name[OM_IMAGE_NAME_MAX + 1]; /* printable ASCII, may be "" */
};

/* IMAGE_PAGES: count pages of region 'region' from page 'first' on. The data
 * points into the decoded payload (no copy). */
struct om_image_pages {
	uint32_t region;      /* index, 0 = first REGION of the image */
	uint64_t first;       /* page offset from the region's start */
	uint32_t count;       /* 1..OM_IMAGE_PAGES_MAX */
	const uint8_t *data;  /* count * OM_PAGE_SIZE bytes */
};

/* IMAGE_END. */
struct om_image_end {
	uint32_t regions;
	uint64_t pages;       /* sum of all PAGES counts */
};

/* Largest encoded payloads, for sizing buffers. */
#define OM_IMAGE_HDR_MAX 36864u /* checked by tests/test_image.c */
#define OM_IMAGE_REGION_MAX (8 + 8 + 4 + 4 + 4 + 8 + 8 + 8 + 2 + OM_IMAGE_NAME_MAX)
#define OM_IMAGE_PAGES_HDR 16u /* region u32, first u64, count u32 */
#define OM_IMAGE_THREAD_MAX 28672u /* checked by tests/test_image.c */

/* Encoders return the payload length or a negative enum om_err. */
int om_image_hdr_encode(const struct om_image_hdr *h, void *out, size_t cap);
int om_image_hdr_decode(const void *buf, size_t len, struct om_image_hdr *h);
int om_image_region_encode(const struct om_image_region *r, void *out, size_t cap);
int om_image_region_decode(const void *buf, size_t len, struct om_image_region *r);
/* Copies count pages from data into the payload. */
int om_image_pages_encode(uint32_t region, uint64_t first, uint32_t count,
    const void *data, void *out, size_t cap);
/* Writes only the 16-byte header, for a sender that already put the count
 * pages right after it in out; returns the whole payload's length. */
int om_image_pages_encode_header(uint32_t region, uint64_t first, uint32_t count,
    void *out, size_t cap);
int om_image_pages_decode(const void *buf, size_t len, struct om_image_pages *p);
/* IMAGE_THREAD; valid checks what the frame alone can: xsave size
 * bounds, tid >= 1, its pending siginfo. */
int om_image_thread_valid(const struct om_image_thread *t);
int om_image_thread_encode(const struct om_image_thread *t, void *out, size_t cap);
int om_image_thread_decode(const void *buf, size_t len, struct om_image_thread *t);
int om_image_end_encode(const struct om_image_end *e, void *out, size_t cap);
int om_image_end_decode(const void *buf, size_t len, struct om_image_end *e);

/* The streaming validator. Feed it every decoded frame in order; each call
 * returns OM_OK, or OM_E_STATE (a frame out of order) / OM_E_RANGE (a field
 * that contradicts the rest of the image) and sets 'why' to a short
 * reason. After a failure every further call fails the same way. State is
 * O(1): the regions themselves are not kept. */
struct om_image_check {
	int state;            /* private: what may come next */
	int err;              /* first failure, OM_OK before */
	const char *why;      /* static text describing it, "" before */
	uint32_t regions;     /* REGION frames seen */
	uint32_t regions_expected; /* hdr.region_count */
	uint64_t pages;       /* pages seen in PAGES frames */
	uint64_t prev_end;    /* end of the previous region */
	uint64_t cur_pages;   /* size of the current region in pages */
	uint64_t cur_sent;    /* pages of the current region seen so far */
	uint64_t cur_expected; /* its pages_sent */
	uint64_t cur_next;    /* first page offset a next PAGES may use */
	uint32_t cur_kind;
	uint64_t vdso_base;   /* hdr.vdso_base, to find its region */
	int vdso_seen;
	uint32_t threads, threads_expected; /* IMAGE_THREAD frames seen, hdr.thread_count */
	uint32_t hdr_tid, hdr_pid, last_tid, xsave_size; /* the header's, the last thread's tid, the FPU size */
};

void om_image_check_init(struct om_image_check *c);
int om_image_check_begin(struct om_image_check *c, const struct om_image_hdr *h);
int om_image_check_thread(struct om_image_check *c, const struct om_image_thread *t);
int om_image_check_region(struct om_image_check *c, const struct om_image_region *r);
int om_image_check_pages(struct om_image_check *c, const struct om_image_pages *p);
int om_image_check_end(struct om_image_check *c, const struct om_image_end *e);
/* 1 once IMAGE_END was accepted: the image is complete and consistent. */
int om_image_check_done(const struct om_image_check *c);

/* Checks a header on its own (also done by om_image_hdr_decode/_encode):
 * XSAVE size bounds, XCR0 has x87|SSE when XSAVE is present, umask, scratch
 * range, cpu.cores >= 1, pending siginfo (count, each signal pending),
 * timers (count, ids unique and >= 0, clock, notify, signal), region and
 * thread count bounds. */
int om_image_hdr_valid(const struct om_image_hdr *h);

const char *om_region_kind_name(uint32_t kind); /* "anon", ..., "?" */

#endif
