/* capture.h - build the image of a stopped tracee (docs/migration.md,
 * "Image"). Home side only (Linux, x86-64).
 *
 * The tracee must be in a ptrace stop with its scratch region set up
 * (inject_setup); capture reads it and changes nothing it will see (some
 * pages are faulted in by reading them). Nothing of the home process is
 * patched: the vDSO is patched in the copy that travels. */
#ifndef OM_CAPTURE_H
#define OM_CAPTURE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "image.h"
#include "inject.h"

/* Receives one frame payload of the image (type is an OM_T_IMAGE_* value);
 * returns 0 to go on, anything else to stop the capture with that value. */
typedef int (*capture_emit_fn)(int type, const void *payload, size_t len, void *ctx);

struct capture_stats {
	uint32_t regions;  /* IMAGE_REGION frames */
	uint64_t pages;    /* pages sent */
	uint64_t frames;   /* all frames */
	unsigned sigs;     /* the oldest recorded signal instances (inject.h)
			    * that are in the image: still recorded, for the
			    * caller to drop once the image is taken, or to
			    * make pending again at home if it is not */
};

/* Captures the tracee and emits IMAGE_BEGIN, an IMAGE_THREAD per other
 * thread, per region IMAGE_REGION and its IMAGE_PAGES, then IMAGE_END, in
 * the order image.h requires. in is the header's thread (the leader);
 * threads[0..nthreads) the process's other threads, each stopped, with an
 * injector of its own sharing in's scratch region, in ascending tid order;
 * what each took during calls injected in it is in its IMAGE_THREAD (and
 * still in its record, for the caller to drop). Returns 0,
 * a nonzero value emit returned, or -errno with a message in err. */
int capture_image(struct inject *in, struct inject *const *threads, unsigned nthreads,
    capture_emit_fn emit, void *ctx, struct capture_stats *st, char *err, size_t errlen);

/* One line of /proc/PID/maps. */
struct capture_map {
	uint64_t start, end, offset, inode;
	uint32_t prot;     /* OM_PROT_* */
	int shared;        /* 's' in the permissions */
	int locked;        /* mlock(2)ed ("lo" in smaps' VmFlags) */
	char name[OM_IMAGE_NAME_MAX + 1]; /* path or [tag], "" when anonymous */
};

/* Reads /proc/PID/maps into a malloc'd array (*maps, *n); free() it.
 * Entries are split at the scratch region's ends (scratch_len 0: none),
 * since the kernel may merge it with a neighbour. Returns 0 or -errno. */
int capture_read_maps(pid_t pid, uint64_t scratch, uint64_t scratch_len,
    struct capture_map **maps, size_t *n);

/* The image kind of a mapping, or 0 for those that never travel ([vvar],
 * [vvar_vclock], [vsyscall]). scratch/scratch_len: the deputy's region,
 * which is OM_RK_RESERVED. */
uint32_t capture_map_kind(const struct capture_map *m, uint64_t scratch, uint64_t scratch_len);

/* The XSAVE area size for the features enabled in XCR0 (CPUID leaf 0xD,
 * sub-leaf 0, EBX) and XCR0 itself; 0 and 0 without OSXSAVE. */
uint32_t capture_xsave_size(uint64_t *xcr0);

/* This machine's CPU description with cores = 1; its
 * xcr0 is the state components a process has: XCR0, or x87|SSE (3) on a
 * CPU without XSAVE, as a node reports it. */
void capture_cpu(struct om_cpu *cpu);

#endif
