/* sys_mm.c - memory system calls answered on the node: brk, mmap,
 * munmap, mprotect, mremap, madvise. A file mapping becomes a copy of the
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

static void sys_brk(struct job *j, struct sys_call *sc)
{
	uint64_t want = sc->a[0];
	sc->ret = (int64_t)j->brk;
	if (want < j->start_brk)
		return;
	uint64_t heap = page_up(j->start_brk), old_end = page_up(j->brk), new_end = page_up(want);
	if (new_end > old_end) {
		int rc = old_end > heap ? uvm_map(&j->uvm, old_end, new_end, UVM_PROT_R | UVM_PROT_W, UVM_HEAP, 0)
					: uvm_map(&j->uvm, heap, new_end, UVM_PROT_R | UVM_PROT_W, UVM_HEAP, 0);
		if (rc < 0)
			return; /* brk(2): failure is the old break */
	} else if (new_end < old_end) {
		uvm_unmap(&j->uvm, new_end, old_end);
	}
	j->brk = want;
	sc->ret = (int64_t)want;
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

static void sys_mmap(struct job *j, struct sys_call *sc)
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
		int rc = uvm_map(&j->uvm, addr, addr + len, uprot, kind, !(flags & LX_MAP_FIXED_NOREPLACE));
		sc->ret = rc < 0 ? rc : (int64_t)addr;
		if (rc == 0 && file)
			mmap_fill(j, sc, addr, len);
		return;
	}
	/* A hint is taken when the range is free, as on Linux. */
	addr = page_up(addr);
	if (addr >= MMAP_MIN && addr + len <= UVM_TOP && uvm_map(&j->uvm, addr, addr + len, uprot, kind, 0) == 0) {
		sc->ret = (int64_t)addr;
		if (file)
			mmap_fill(j, sc, addr, len);
		return;
	}
	addr = uvm_find_gap(&j->uvm, len, MMAP_MIN, j->mmap_base);
	if (!addr)
		addr = uvm_find_gap(&j->uvm, len, MMAP_MIN, UVM_TOP);
	if (!addr) {
		sc->ret = -LX_ENOMEM;
		return;
	}
	int rc = uvm_map(&j->uvm, addr, addr + len, uprot, kind, 0);
	sc->ret = rc < 0 ? rc : (int64_t)addr;
	if (rc == 0 && file)
		mmap_fill(j, sc, addr, len);
}

static void sys_munmap(struct job *j, struct sys_call *sc)
{
	uint64_t addr = sc->a[0], len = page_up(sc->a[1]);
	if ((addr & (PAGE_SIZE - 1)) || !sc->a[1] || addr + len > UVM_TOP || addr + len < addr) {
		sc->ret = -LX_EINVAL;
		return;
	}
	sc->ret = uvm_unmap(&j->uvm, addr, addr + len);
}

static void sys_mprotect(struct job *j, struct sys_call *sc)
{
	uint64_t addr = sc->a[0], len = page_up(sc->a[1]);
	if ((addr & (PAGE_SIZE - 1)) || addr + len > UVM_TOP || addr + len < addr) {
		sc->ret = -LX_EINVAL;
		return;
	}
	/* A shared file mapping made writable must write the file: home. */
	if (sc->a[2] & LX_PROT_WRITE)
		for (uint32_t i = 0; i < j->uvm.nregions; i++) {
			const struct uvm_region *r = &j->uvm.regions[i];
			if (r->kind == UVM_FILE_SHARED && r->start < addr + len && r->end > addr) {
				sc->outcome = SYS_HOME;
				return;
			}
		}
	sc->ret = uvm_protect(&j->uvm, addr, addr + len, prot_from_linux(sc->a[2]));
}

static void sys_mremap(struct job *j, struct sys_call *sc)
{
	sc->ret = uvm_remap(&j->uvm, sc->a[0], sc->a[1], sc->a[2], (int)sc->a[3], sc->a[4]);
}

static void sys_madvise(struct job *j, struct sys_call *sc)
{
	uint64_t addr = sc->a[0], len = page_up(sc->a[1]);
	if ((addr & (PAGE_SIZE - 1)) || len < sc->a[1] || addr >= UVM_TOP || len > UVM_TOP - addr) {
		sc->ret = -LX_EINVAL;
		return;
	}
	sc->ret = 0;
	if (!len || (sc->a[2] != LX_MADV_DONTNEED && sc->a[2] != LX_MADV_FREE))
		return;
	/* Shared memory keeps its contents (the object behind it does, on
	 * Linux); private memory reads as zero again. */
	uint64_t end = addr + len, covered = 0;
	for (uint32_t i = 0; i < j->uvm.nregions; i++) {
		const struct uvm_region *r = &j->uvm.regions[i];
		uint64_t lo = r->start > addr ? r->start : addr, hi = r->end < end ? r->end : end;
		if (lo >= hi)
			continue;
		covered += hi - lo;
		if (r->kind != UVM_SHARED_ANON && (sc->ret = uvm_discard(&j->uvm, lo, hi)) < 0)
			return;
	}
	if (covered < len)
		sc->ret = -LX_ENOMEM; /* part of the range is not mapped, as madvise(2) says */
}

sys_fn sys_mm_lookup(uint64_t nr)
{
	switch (nr) {
	case NR_brk: return sys_brk;
	case NR_mmap: return sys_mmap;
	case NR_munmap: return sys_munmap;
	case NR_mprotect: return sys_mprotect;
	case NR_mremap: return sys_mremap;
	case NR_madvise: return sys_madvise;
	default: return NULL;
	}
}
