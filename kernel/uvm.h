/* uvm.h - a job's address space: the lower half of its own page tables
 * (the upper half is the kernel's, shared), described by a sorted list of
 * regions (VMAs). Pages are allocated on first touch; a page never touched
 * reads as zero, as on Linux.
 *
 * Main-loop context only. Addresses are user virtual addresses; every call
 * checks they lie in the lower half and are page aligned where it says so.
 * Errors are negative Linux errno values (kernel/linux_abi.h), ready to
 * return to a program. */
#ifndef OM_UVM_H
#define OM_UVM_H

#include <stddef.h>
#include <stdint.h>

#define UVM_TOP 0x0000800000000000UL /* first non-canonical address */
#define UVM_PROT_R 1
#define UVM_PROT_W 2
#define UVM_PROT_X 4

enum uvm_kind {
	UVM_ANON, UVM_SHARED_ANON,
	UVM_FILE,        /* a private file mapping: a copy of the file */
	UVM_FILE_SHARED, /* a read-only shared one, also a copy (may not become writable) */
	UVM_HEAP, UVM_STACK, UVM_VDSO, UVM_RESERVED
};

struct uvm_region {
	uint64_t start, end; /* [start, end), page aligned */
	uint32_t prot;       /* UVM_PROT_* */
	uint32_t kind;       /* enum uvm_kind */
	uint32_t locked;     /* mlock(2): counts against RLIMIT_MEMLOCK */
};

#define UVM_CK_DROPS 32

struct uvm {
	uint64_t *pml4;          /* kernel virtual address of the top table */
	struct uvm_region *regions;
	uint32_t nregions, cap;
	uint64_t pages;          /* frames mapped for the job */
	uint64_t stack_limit;    /* lowest address the stack may grow down to */
	/* Counts entries removed or made weaker (munmap, mprotect, mremap):
	 * a core that still holds these tables from an earlier run reloads
	 * them when it differs (uvm_activate). */
	uint64_t gen;
	/* No thread of it has entered ring 3 since uvm_shootdown ran. */
	uint8_t shot;
	/* Checkpoints (uvm_ck_*): how many images of it went out marked, and
	 * the ranges whose pages the last one had that are gone since (more
	 * than UVM_CK_DROPS: ck_overflow, the next image is whole). */
	uint32_t ck_seq;
	uint32_t ck_ndrop;
	uint8_t ck_overflow;
	struct { uint64_t start, end; } ck_drop[UVM_CK_DROPS];
};

/* Called (by the scheduler) before the first entry of u is removed or
 * weakened while other threads of its process may run on other cores:
 * they leave their cores first, so that no stale TLB entry reaches a frame
 * freed and given out again (Linux's flush before free). */
extern void (*uvm_shootdown)(struct uvm *u);

int uvm_create(struct uvm *u);
/* Makes dst, new and empty (uvm_create), a copy of src: its regions, and
 * a frame of its own for every page src has (fork). After -LX_ENOMEM dst
 * holds part of it: destroy it. */
int uvm_clone(struct uvm *dst, struct uvm *src);
/* Frees every frame and table of the lower half, and the region list. */
void uvm_destroy(struct uvm *u);
/* Makes u the current address space (CR3): loaded again unless this core
 * holds it already, unchanged since (with other cores, a core keeps a
 * job's tables loaded after the job is back in the kernel; uvm_destroy
 * has every core let go of them first, smp_forget_tables). */
void uvm_activate(const struct uvm *u);

/* Adds a region; it must not overlap another unless fixed is set, in which
 * case what it covers is unmapped first (MAP_FIXED). */
int uvm_map(struct uvm *u, uint64_t start, uint64_t end, uint32_t prot, uint32_t kind, int fixed);
int uvm_unmap(struct uvm *u, uint64_t start, uint64_t end);
int uvm_protect(struct uvm *u, uint64_t start, uint64_t end, uint32_t prot);
/* Moves or resizes [old, old+old_len) per mremap(2) semantics (flags are
 * MREMAP_MAYMOVE / MREMAP_FIXED); returns the new address or -errno. */
int64_t uvm_remap(struct uvm *u, uint64_t old, uint64_t old_len, uint64_t new_len, int flags, uint64_t new_addr);
/* Marks [start, end) locked or not (mlock/munlock); every byte must be
 * mapped (-LX_ENOMEM). Node memory is never swapped: it is bookkeeping. */
int uvm_lock(struct uvm *u, uint64_t start, uint64_t end, int on);
/* Bytes of [start, end) in locked regions (all: 0, UVM_TOP). */
uint64_t uvm_locked_bytes(const struct uvm *u, uint64_t start, uint64_t end);
/* Drops the pages of [start, end) so they read as zero again (MADV_DONTNEED). */
int uvm_discard(struct uvm *u, uint64_t start, uint64_t end);
/* Highest free gap of len bytes below 'below' and above 'above', or 0. */
uint64_t uvm_find_gap(const struct uvm *u, uint64_t len, uint64_t above, uint64_t below);
const struct uvm_region *uvm_find(const struct uvm *u, uint64_t addr);

/* Handles a page fault at addr: demand-zero inside a region whose
 * protection allows the access, growing the stack region if addr is just
 * below it. Returns 0 when the job can retry, -LX_EFAULT (SEGV_MAPERR) or
 * -LX_EACCES (SEGV_ACCERR) when it must get SIGSEGV. */
int uvm_fault(struct uvm *u, uint64_t addr, int write, int exec);

/* Copies between the job's memory and the kernel, page by page through the
 * direct map, faulting pages in as the job itself would. write_user ignores
 * write protection only when force is set (loading an image).
 * Return 0 or -EFAULT. */
int uvm_read(struct uvm *u, uint64_t uaddr, void *dst, size_t len);
int uvm_write(struct uvm *u, uint64_t uaddr, const void *src, size_t len, int force);
/* The kernel's pointer to the aligned 32-bit word at uaddr, faulted in
 * writable as the job's own write would (NULL if it would fault): for
 * atomic operations other cores see (futexes). */
uint32_t *uvm_word(struct uvm *u, uint64_t uaddr);
/* The first page at or after va and below end that owns a frame (present,
 * or kept by PROT_NONE), or end; skips untouched ranges a table at a time,
 * so huge sparse reservations cost little. */
uint64_t uvm_next_page(struct uvm *u, uint64_t va, uint64_t end);
/* The kernel address of the page at va if it is present, else NULL; never
 * faults anything in (for sending an image). */
const void *uvm_peek_page(struct uvm *u, uint64_t va);
/* Checkpoints: whether the page at va is there and written since the last
 * uvm_ck_mark (or never marked); whether pages the last marked image had
 * in [start, end) may be gone (then its next image sends that range
 * whole); and the mark, when an image of every page there went out. */
int uvm_ck_dirty(struct uvm *u, uint64_t va);
int uvm_ck_whole(const struct uvm *u, uint64_t start, uint64_t end);
void uvm_ck_mark(struct uvm *u);

#endif
