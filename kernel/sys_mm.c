/* sys_mm.c - memory system calls answered on the node: brk, mmap,
 * munmap, mprotect, mremap, madvise, msync, mincore and the mlock family. A file mapping becomes a copy of the
 * file that home reads into it (SYS_FILL), unless it must stay the file
 * (writable and shared): then the job goes home. */
#include "job.h"
#include "linux_abi.h"
#include "mm.h"
#include "syscall.h"
#include "sysnr.h"

#define MMAP_MIN 0x10000UL /* vm.mmap_min_addr's default */
#define FILE_MAP_MAX (64UL << 20) /* larger file mappings go home */

static uint64_t page_up(uint64_t a) { return (a + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1); }

static uint32_t prot_from_linux(uint64_t prot)
{
	return (uint32_t)(((prot & LX_PROT_READ) ? UVM_PROT_R : 0) | ((prot & LX_PROT_WRITE) ? UVM_PROT_W : 0) |
			  ((prot & LX_PROT_EXEC) ? UVM_PROT_X : 0));
}

void sys_brk(struct job *j, struct sys_call *sc)
{
	uint64_t want = sc->a[0];
	sc->ret = (int64_t)j->p->brk;
	if (want < j->p->start_brk)
		return;
	uint64_t heap = page_up(j->p->start_brk), old_end = page_up(j->p->brk), new_end = page_up(want);
	if (new_end > old_end) {
		int rc = old_end > heap ? uvm_map(&j->p->uvm, old_end, new_end, UVM_PROT_R | UVM_PROT_W, UVM_HEAP, 0)
					: uvm_map(&j->p->uvm, heap, new_end, UVM_PROT_R | UVM_PROT_W, UVM_HEAP, 0);
		if (rc < 0)
			return; /* brk(2): failure is the old break */
	} else if (new_end < old_end) {
		uvm_unmap(&j->p->uvm, new_end, old_end);
	}
	j->p->brk = want;
	sc->ret = (int64_t)want;
	if (j->p->lock_future && new_end > old_end)
		uvm_lock(&j->p->uvm, old_end > heap ? old_end : heap, new_end, 1);
}

/* The mapping exists; its contents come from home before mmap returns. */
static void mmap_fill(struct job *j, struct sys_call *sc, uint64_t addr, uint64_t len)
{
	j->fill.addr = addr;
	j->fill.len = len;
	j->fill.off = sc->a[5];
	j->fill.fd = (int64_t)sc->a[4];
	j->fill.done = 0;
	sc->outcome = SYS_FILL;
}

static void mmap_place(struct job *j, struct sys_call *sc)
{
	uint64_t addr = sc->a[0], len = page_up(sc->a[1]), prot = sc->a[2], flags = sc->a[3];
	int file = !(flags & LX_MAP_ANONYMOUS);
	/* A private file mapping is a copy of the file taken now: the node
	 * makes it anonymous memory and home fills it (SYS_FILL). So is a
	 * read-only shared one (glibc maps its gconv cache so), as long as
	 * nobody changes the file meanwhile. A writable shared one must reach
	 * the file, and a huge one would cross the link whole: those go home. */
	int shared_ro = file && (flags & LX_MAP_SHARED) && !(prot & LX_PROT_WRITE);
	if (file && (((flags & LX_MAP_SHARED) && !shared_ro) || len > FILE_MAP_MAX ||
		     (sc->a[5] & (PAGE_SIZE - 1)) || (int64_t)sc->a[4] < 0)) {
		sc->outcome = SYS_HOME;
		return;
	}
	if (!sc->a[1] || len < sc->a[1] || len >= UVM_TOP || !(flags & (LX_MAP_SHARED | LX_MAP_PRIVATE))) {
		sc->ret = -LX_EINVAL;
		return;
	}
	uint32_t kind = shared_ro ? UVM_FILE_SHARED : file ? UVM_FILE : (flags & LX_MAP_SHARED) ? UVM_SHARED_ANON : UVM_ANON;
	uint32_t uprot = prot_from_linux(prot);
	if (flags & (LX_MAP_FIXED | LX_MAP_FIXED_NOREPLACE)) {
		if (addr & (PAGE_SIZE - 1)) {
			sc->ret = -LX_EINVAL;
			return;
		}
		int rc = uvm_map(&j->p->uvm, addr, addr + len, uprot, kind, !(flags & LX_MAP_FIXED_NOREPLACE));
		sc->ret = rc < 0 ? rc : (int64_t)addr;
		if (rc == 0 && file)
			mmap_fill(j, sc, addr, len);
		return;
	}
	/* A hint is taken when the range is free, as on Linux. */
	addr = page_up(addr);
	if (addr >= MMAP_MIN && addr + len <= UVM_TOP && uvm_map(&j->p->uvm, addr, addr + len, uprot, kind, 0) == 0) {
		sc->ret = (int64_t)addr;
		if (file)
			mmap_fill(j, sc, addr, len);
		return;
	}
	addr = uvm_find_gap(&j->p->uvm, len, MMAP_MIN, j->p->mmap_base);
	if (!addr)
		addr = uvm_find_gap(&j->p->uvm, len, MMAP_MIN, UVM_TOP);
	if (!addr) {
		sc->ret = -LX_ENOMEM;
		return;
	}
	int rc = uvm_map(&j->p->uvm, addr, addr + len, uprot, kind, 0);
	sc->ret = rc < 0 ? rc : (int64_t)addr;
	if (rc == 0 && file)
		mmap_fill(j, sc, addr, len);
}

/* After mlockall(MCL_FUTURE) a new mapping is locked. */
void sys_mmap(struct job *j, struct sys_call *sc)
{
	mmap_place(j, sc);
	if (j->p->lock_future && sc->ret >= 0 && sc->outcome != SYS_HOME)
		uvm_lock(&j->p->uvm, (uint64_t)sc->ret, (uint64_t)sc->ret + page_up(sc->a[1]), 1);
}

void sys_munmap(struct job *j, struct sys_call *sc)
{
	uint64_t addr = sc->a[0], len = page_up(sc->a[1]);
	if ((addr & (PAGE_SIZE - 1)) || !sc->a[1] || addr + len > UVM_TOP || addr + len < addr) {
		sc->ret = -LX_EINVAL;
		return;
	}
	sc->ret = uvm_unmap(&j->p->uvm, addr, addr + len);
}

void sys_mprotect(struct job *j, struct sys_call *sc)
{
	uint64_t addr = sc->a[0], len = page_up(sc->a[1]);
	if ((addr & (PAGE_SIZE - 1)) || addr + len > UVM_TOP || addr + len < addr) {
		sc->ret = -LX_EINVAL;
		return;
	}
	/* A shared file mapping made writable must write the file: home. */
	if (sc->a[2] & LX_PROT_WRITE)
		for (uint32_t i = 0; i < j->p->uvm.nregions; i++) {
			const struct uvm_region *r = &j->p->uvm.regions[i];
			if (r->kind == UVM_FILE_SHARED && r->start < addr + len && r->end > addr) {
				sc->outcome = SYS_HOME;
				return;
			}
		}
	sc->ret = uvm_protect(&j->p->uvm, addr, addr + len, prot_from_linux(sc->a[2]));
}

void sys_mremap(struct job *j, struct sys_call *sc)
{
	sc->ret = uvm_remap(&j->p->uvm, sc->a[0], sc->a[1], sc->a[2], (int)sc->a[3], sc->a[4]);
}

void sys_madvise(struct job *j, struct sys_call *sc)
{
	uint64_t addr = sc->a[0], len = page_up(sc->a[1]);
	if ((addr & (PAGE_SIZE - 1)) || len < sc->a[1] || addr >= UVM_TOP || len > UVM_TOP - addr) {
		sc->ret = -LX_EINVAL;
		return;
	}
	/* A fork here copies every page: a program told that memory is left
	 * out of the child, or wiped in it, would trust that (a random
	 * generator's state): it hears what a kernel without them says. */
	if (sc->a[2] == LX_MADV_DONTFORK || sc->a[2] == LX_MADV_WIPEONFORK) {
		sc->ret = -LX_EINVAL;
		return;
	}
	sc->ret = 0;
	if (!len || (sc->a[2] != LX_MADV_DONTNEED && sc->a[2] != LX_MADV_FREE))
		return;
	/* Shared memory keeps its contents (the object behind it does, on
	 * Linux); private memory reads as zero again. */
	uint64_t end = addr + len, covered = 0;
	for (uint32_t i = 0; i < j->p->uvm.nregions; i++) {
		const struct uvm_region *r = &j->p->uvm.regions[i];
		uint64_t lo = r->start > addr ? r->start : addr, hi = r->end < end ? r->end : end;
		if (lo >= hi)
			continue;
		covered += hi - lo;
		if (r->kind != UVM_SHARED_ANON && (sc->ret = uvm_discard(&j->p->uvm, lo, hi)) < 0)
			return;
	}
	if (covered < len)
		sc->ret = -LX_ENOMEM; /* part of the range is not mapped, as madvise(2) says */
}

/* How much of [start, end) the job's regions cover, in bytes. */
static uint64_t mapped_bytes(const struct job *j, uint64_t start, uint64_t end)
{
	uint64_t covered = 0;
	for (uint32_t i = 0; i < j->p->uvm.nregions; i++) {
		const struct uvm_region *r = &j->p->uvm.regions[i];
		uint64_t lo = r->start > start ? r->start : start, hi = r->end < end ? r->end : end;
		if (lo < hi)
			covered += hi - lo;
	}
	return covered;
}

/* A page-aligned range that must be mapped whole: 0, -EINVAL or -ENOMEM. */
static int64_t mapped_range(const struct job *j, uint64_t addr, uint64_t len_in, uint64_t *end)
{
	if (addr & (PAGE_SIZE - 1))
		return -LX_EINVAL;
	uint64_t len = page_up(len_in);
	if (len < len_in || addr >= UVM_TOP || len > UVM_TOP - addr)
		return -LX_ENOMEM;
	*end = addr + len;
	return mapped_bytes(j, addr, *end) == len ? 0 : -LX_ENOMEM;
}

/* Private mappings are copies and shared anonymous memory lives only
 * here: there is nothing to write back (writable shared file mappings
 * are at home). The checks are msync(2)'s. */
void sys_msync(struct job *j, struct sys_call *sc)
{
	uint64_t flags = sc->a[2], end;
	if ((flags & ~(uint64_t)(LX_MS_ASYNC | LX_MS_INVALIDATE | LX_MS_SYNC)) ||
	    ((flags & LX_MS_ASYNC) && (flags & LX_MS_SYNC))) {
		sc->ret = -LX_EINVAL;
		return;
	}
	sc->ret = mapped_range(j, sc->a[0], sc->a[1], &end);
}

/* One byte per page: 1 where the page is in memory (touched), 0 where it
 * would still be made on first touch. */
void sys_mincore(struct job *j, struct sys_call *sc)
{
	uint64_t addr = sc->a[0], end, vec = sc->a[2];
	if ((sc->ret = mapped_range(j, addr, sc->a[1], &end)) < 0)
		return;
	uint8_t chunk[256];
	while (addr < end) {
		size_t n = 0;
		/* Untouched stretches are skipped a page table at a time. */
		uint64_t next = uvm_next_page(&j->p->uvm, addr, end);
		for (; n < sizeof chunk && addr < end; n++, addr += PAGE_SIZE)
			if (addr < next) {
				chunk[n] = 0;
			} else {
				chunk[n] = uvm_peek_page(&j->p->uvm, addr) != NULL;
				next = uvm_next_page(&j->p->uvm, addr + PAGE_SIZE, end);
			}
		if (uvm_write(&j->p->uvm, vec, chunk, n, 0) < 0) {
			sc->ret = -LX_EFAULT;
			return;
		}
		vec += n;
	}
}

/* Node memory is never swapped out: locking is bookkeeping, with Linux's
 * checks. The range is taken page-aligned as mlock(2) does; the locked
 * total counts against RLIMIT_MEMLOCK (home's, in the image) unless the
 * job runs as root, as CAP_IPC_LOCK would allow (a limit of 0: EPERM). */
static int may_lock(const struct job *j, uint64_t more)
{
	if (j->p->ident.euid == 0)
		return 0;
	if (j->p->memlock_max == 0)
		return -LX_EPERM;
	return uvm_locked_bytes(&j->p->uvm, 0, UVM_TOP) + more > j->p->memlock_max ? -LX_ENOMEM : 0;
}

static void lock_range(struct job *j, struct sys_call *sc, int lock)
{
	if (sc->a[1] >= UVM_TOP || sc->a[0] >= UVM_TOP) {
		sc->ret = -LX_ENOMEM;
		return;
	}
	uint64_t start = sc->a[0] & ~(PAGE_SIZE - 1), len = page_up(sc->a[1] + (sc->a[0] & (PAGE_SIZE - 1)));
	if (len > UVM_TOP - start) {
		sc->ret = -LX_ENOMEM;
		return;
	}
	if (lock) {
		uint64_t already = uvm_locked_bytes(&j->p->uvm, start, start + len);
		if ((sc->ret = may_lock(j, len - already)) < 0)
			return;
	}
	sc->ret = uvm_lock(&j->p->uvm, start, start + len, lock);
}

void sys_mlock(struct job *j, struct sys_call *sc) { lock_range(j, sc, 1); }
void sys_munlock(struct job *j, struct sys_call *sc) { lock_range(j, sc, 0); }

void sys_mlock2(struct job *j, struct sys_call *sc)
{
	if (sc->a[2] & ~(uint64_t)LX_MLOCK_ONFAULT) {
		sc->ret = -LX_EINVAL;
		return;
	}
	lock_range(j, sc, 1);
}

/* Locks (or unlocks) every region there is. */
static void lock_all(struct job *j, int on)
{
	for (uint32_t i = 0; i < j->p->uvm.nregions; i++)
		j->p->uvm.regions[i].locked = (uint32_t)on;
}

/* MCL_FUTURE locks what is mapped later too (lock_new). */
void sys_mlockall(struct job *j, struct sys_call *sc)
{
	uint64_t flags = sc->a[0];
	if (!flags || (flags & ~(uint64_t)(LX_MCL_CURRENT | LX_MCL_FUTURE | LX_MCL_ONFAULT)) ||
	    flags == LX_MCL_ONFAULT) {
		sc->ret = -LX_EINVAL;
		return;
	}
	uint64_t total = mapped_bytes(j, 0, UVM_TOP), locked = uvm_locked_bytes(&j->p->uvm, 0, UVM_TOP);
	if ((sc->ret = may_lock(j, (flags & LX_MCL_CURRENT) ? total - locked : 0)) < 0)
		return;
	if (flags & LX_MCL_CURRENT)
		lock_all(j, 1);
	j->p->lock_future = (flags & LX_MCL_FUTURE) != 0;
}

void sys_munlockall(struct job *j, struct sys_call *sc)
{
	lock_all(j, 0);
	j->p->lock_future = 0;
	sc->ret = 0;
}

/* prctl(PR_SET_VMA) (the other options are forwarded or go home:
 * om_syscall_where_at): the node keeps no names for memory, and answers as
 * a kernel without CONFIG_ANON_VMA_NAME (Debian's) does. */
void sys_prctl(struct job *j, struct sys_call *sc)
{
	(void)j;
	sc->ret = -LX_EINVAL;
}
