/* uvm.c - job address spaces: regions plus the lower half of the page
 * tables. Frames come from the frame allocator one page at a time, on first
 * touch. */
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "linux_abi.h"
#include "cpu.h"
#include "mm.h"
#include "percpu.h"
#include "smp.h"
#include "uvm.h"

#define PTE_P 0x001ULL
#define PTE_W 0x002ULL
#define PTE_U 0x004ULL
#define PTE_D 0x040ULL  /* the CPU sets it at a write (uvm_byte too) */
#define PTE_CK 0x200ULL /* (an available bit) as the last marked image had it (uvm_ck_mark) */
#define PTE_NX (1ULL << 63)
#define PTE_ADDR 0x000ffffffffff000ULL
#define UVM_MIN_ADDR 0x1000UL /* page 0 stays unmapped, as mmap_min_addr */
#define UVM_STACK_GAP (256 * PAGE_SIZE) /* Linux's stack_guard_gap */
#define MREMAP_MAYMOVE 1
#define MREMAP_FIXED 2


static int page_aligned(uint64_t a) { return (a & (PAGE_SIZE - 1)) == 0; }

static int range_ok(uint64_t start, uint64_t end)
{
	return page_aligned(start) && page_aligned(end) && start < end && start >= UVM_MIN_ADDR &&
	       end <= UVM_TOP;
}

static uint64_t pte_flags(uint32_t prot)
{
	uint64_t f = PTE_P | PTE_U;
	if (prot & UVM_PROT_W)
		f |= PTE_W;
	if (!(prot & UVM_PROT_X))
		f |= PTE_NX;
	return f;
}

/* The 4 KiB entry for va, or NULL if a table on the way is missing and
 * create is not set. */
static uint64_t *uvm_pte(struct uvm *u, uint64_t va, int create)
{
	uint64_t *t = u->pml4;
	for (int shift = 39; shift > 12; shift -= 9) {
		uint64_t *e = &t[(va >> shift) & 511];
		if (!(*e & PTE_P)) {
			if (!create)
				return NULL;
			uint64_t pa = pmm_alloc(1);
			if (!pa)
				return NULL;
			*e = pa | PTE_P | PTE_W | PTE_U;
		}
		t = phys_to_virt(*e & PTE_ADDR);
	}
	return &t[(va >> 12) & 511];
}

static void invlpg(uint64_t va) { __asm__ volatile("invlpg (%0)" ::"r"(va) : "memory"); }

void (*uvm_shootdown)(struct uvm *u);

/* An entry of u is about to be removed or weakened. */
static void changing(struct uvm *u)
{
	if (!u->shot && uvm_shootdown) {
		uvm_shootdown(u);
		u->shot = 1;
	}
}

/* An entry of u was removed or weakened: this core forgets it now, the
 * others when they next load u (uvm_activate). */
static void weakened(struct uvm *u, uint64_t va)
{
	changing(u);
	invlpg(va);
	u->gen++;
}

int uvm_create(struct uvm *u)
{
	memset(u, 0, sizeof *u);
	uint64_t pa = pmm_alloc(1);
	if (!pa)
		return -LX_ENOMEM;
	u->pml4 = phys_to_virt(pa);
	/* The upper half is the kernel's: share its top-level entries. */
	memcpy(u->pml4 + 256, vm_kernel_pml4() + 256, 256 * sizeof(uint64_t));
	return 0;
}

static void uvm_free_table(uint64_t *t, int level)
{
	for (int i = 0; i < 512; i++) {
		/* A leaf with P clear may still own a frame (PROT_NONE keeps it). */
		if (!(t[i] & (level == 1 ? PTE_ADDR : PTE_P)))
			continue;
		if (level > 1)
			uvm_free_table(phys_to_virt(t[i] & PTE_ADDR), level - 1);
		pmm_free(t[i] & PTE_ADDR, 1);
	}
}

void uvm_destroy(struct uvm *u)
{
	if (!u->pml4)
		return;
	smp_forget_tables(virt_to_phys(u->pml4));
	for (int i = 0; i < 256; i++) {
		if (!(u->pml4[i] & PTE_P))
			continue;
		uvm_free_table(phys_to_virt(u->pml4[i] & PTE_ADDR), 3);
		pmm_free(u->pml4[i] & PTE_ADDR, 1);
	}
	pmm_free(virt_to_phys(u->pml4), 1);
	free(u->regions);
	memset(u, 0, sizeof *u);
}

void uvm_activate(const struct uvm *u)
{
	struct cpu *c = this_cpu();
	uint64_t pa = virt_to_phys(u->pml4);
	/* One core: invlpg already dropped what changed. */
	uint64_t gen = __atomic_load_n(&u->gen, __ATOMIC_ACQUIRE);
	if (read_cr3() != pa || (ncpus > 1 && c->cr3_gen != gen))
		write_cr3(pa);
	c->cr3_gen = gen;
	__atomic_store_n(&c->cr3_job, pa, __ATOMIC_SEQ_CST);
}

/* The page at va, which the last marked image had, is gone. */
static void ck_dropped(struct uvm *u, uint64_t va)
{
	if (u->ck_ndrop && u->ck_drop[u->ck_ndrop - 1].end == va) {
		u->ck_drop[u->ck_ndrop - 1].end += PAGE_SIZE;
		return;
	}
	if (u->ck_ndrop == UVM_CK_DROPS) {
		u->ck_overflow = 1;
		return;
	}
	u->ck_drop[u->ck_ndrop].start = va;
	u->ck_drop[u->ck_ndrop++].end = va + PAGE_SIZE;
}

/* Frees the frames mapped in [start, end) and clears their entries. */
static void uvm_drop_pages(struct uvm *u, uint64_t start, uint64_t end)
{
	for (uint64_t va = start; va < end; va += PAGE_SIZE) {
		uint64_t *pte = uvm_pte(u, va, 0);
		if (!pte) {
			/* Skip to the next 2 MiB: no page table covers this one. */
			va = (va | ((1UL << 21) - 1)) + 1 - PAGE_SIZE;
			continue;
		}
		if (*pte & PTE_ADDR) { /* present, or kept by PROT_NONE */
			if (*pte & PTE_CK)
				ck_dropped(u, va);
			changing(u);
			pmm_free(*pte & PTE_ADDR, 1);
			*pte = 0;
			weakened(u, va);
			u->pages--;
		}
	}
}

static int uvm_reserve(struct uvm *u, uint32_t n)
{
	if (n <= u->cap)
		return 0;
	uint32_t cap = u->cap ? u->cap * 2 : 32;
	while (cap < n)
		cap *= 2;
	struct uvm_region *r = realloc(u->regions, cap * sizeof *r);
	if (!r)
		return -LX_ENOMEM;
	u->regions = r;
	u->cap = cap;
	return 0;
}

static void uvm_insert_at(struct uvm *u, uint32_t i, const struct uvm_region *r)
{
	memmove(&u->regions[i + 1], &u->regions[i], (u->nregions - i) * sizeof *r);
	u->regions[i] = *r;
	u->nregions++;
}

static void uvm_remove_at(struct uvm *u, uint32_t i)
{
	memmove(&u->regions[i], &u->regions[i + 1], (u->nregions - i - 1) * sizeof u->regions[0]);
	u->nregions--;
}

/* Splits the region containing addr (if any) so that addr is a boundary. */
static int uvm_split(struct uvm *u, uint64_t addr)
{
	for (uint32_t i = 0; i < u->nregions; i++) {
		struct uvm_region *r = &u->regions[i];
		if (addr > r->start && addr < r->end) {
			if (uvm_reserve(u, u->nregions + 1) < 0)
				return -LX_ENOMEM;
			r = &u->regions[i];
			struct uvm_region hi = *r;
			hi.start = addr;
			r->end = addr;
			uvm_insert_at(u, i + 1, &hi);
			return 0;
		}
	}
	return 0;
}

const struct uvm_region *uvm_find(const struct uvm *u, uint64_t addr)
{
	uint32_t lo = 0, hi = u->nregions;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		const struct uvm_region *r = &u->regions[mid];
		if (addr < r->start)
			hi = mid;
		else if (addr >= r->end)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

static int uvm_overlaps(const struct uvm *u, uint64_t start, uint64_t end)
{
	for (uint32_t i = 0; i < u->nregions; i++)
		if (u->regions[i].start < end && u->regions[i].end > start)
			return 1;
	return 0;
}

int uvm_unmap(struct uvm *u, uint64_t start, uint64_t end)
{
	if (!range_ok(start, end))
		return -LX_EINVAL;
	if (uvm_split(u, start) < 0 || uvm_split(u, end) < 0)
		return -LX_ENOMEM;
	for (uint32_t i = 0; i < u->nregions;) {
		struct uvm_region *r = &u->regions[i];
		if (r->start >= start && r->end <= end) {
			uvm_drop_pages(u, r->start, r->end);
			uvm_remove_at(u, i);
		} else {
			i++;
		}
	}
	return 0;
}

int uvm_map(struct uvm *u, uint64_t start, uint64_t end, uint32_t prot, uint32_t kind, int fixed)
{
	if (!range_ok(start, end))
		return -LX_EINVAL;
	if (uvm_overlaps(u, start, end)) {
		if (!fixed)
			return -LX_EEXIST;
		int rc = uvm_unmap(u, start, end);
		if (rc < 0)
			return rc;
	}
	if (uvm_reserve(u, u->nregions + 1) < 0)
		return -LX_ENOMEM;
	uint32_t i = 0;
	while (i < u->nregions && u->regions[i].start < start)
		i++;
	struct uvm_region r = { start, end, prot, kind, 0 };
	/* Grow a neighbour instead of adding a region when nothing differs:
	 * keeps the list short for programs that mmap in small steps. Only
	 * anonymous memory: the other kinds must go home as they came. */
	if (i > 0 && u->regions[i - 1].end == start && u->regions[i - 1].prot == prot &&
	    u->regions[i - 1].kind == kind && !u->regions[i - 1].locked &&
	    (kind == UVM_ANON || kind == UVM_HEAP)) {
		u->regions[i - 1].end = end;
		return 0;
	}
	uvm_insert_at(u, i, &r);
	return 0;
}

/* Every byte of [start, end) must be mapped: 0 or -LX_ENOMEM. */
static int uvm_all_mapped(const struct uvm *u, uint64_t start, uint64_t end)
{
	for (uint64_t a = start; a < end;) {
		const struct uvm_region *r = uvm_find(u, a);
		if (!r)
			return -LX_ENOMEM;
		a = r->end;
	}
	return 0;
}

/* Makes [start, end) whole regions, for a change to all of it: 0, 1 for
 * an empty range, -LX_EINVAL, or -LX_ENOMEM unless every byte is mapped
 * (mprotect(2), mlock(2)). */
static int uvm_carve(struct uvm *u, uint64_t start, uint64_t end)
{
	int rc;
	if (!page_aligned(start) || !page_aligned(end) || start > end || end > UVM_TOP)
		return -LX_EINVAL;
	if (start == end)
		return 1;
	if ((rc = uvm_all_mapped(u, start, end)) < 0)
		return rc;
	if (uvm_split(u, start) < 0 || uvm_split(u, end) < 0)
		return -LX_ENOMEM;
	return 0;
}

int uvm_lock(struct uvm *u, uint64_t start, uint64_t end, int on)
{
	int rc = uvm_carve(u, start, end);
	if (rc)
		return rc < 0 ? rc : 0;
	for (uint32_t i = 0; i < u->nregions; i++)
		if (u->regions[i].start >= start && u->regions[i].end <= end)
			u->regions[i].locked = (uint32_t)(on != 0);
	return 0;
}

uint64_t uvm_locked_bytes(const struct uvm *u, uint64_t start, uint64_t end)
{
	uint64_t n = 0;
	for (uint32_t i = 0; i < u->nregions; i++) {
		const struct uvm_region *r = &u->regions[i];
		uint64_t lo = r->start > start ? r->start : start, hi = r->end < end ? r->end : end;
		if (r->locked && lo < hi)
			n += hi - lo;
	}
	return n;
}

int uvm_protect(struct uvm *u, uint64_t start, uint64_t end, uint32_t prot)
{
	int rc = uvm_carve(u, start, end);
	if (rc)
		return rc < 0 ? rc : 0;
	for (uint32_t i = 0; i < u->nregions; i++) {
		struct uvm_region *r = &u->regions[i];
		if (r->start >= start && r->end <= end)
			r->prot = prot;
	}
	for (uint64_t va = uvm_next_page(u, start, end); va < end; va = uvm_next_page(u, va + PAGE_SIZE, end)) {
		uint64_t *pte = uvm_pte(u, va, 0);
		if (!pte || !(*pte & PTE_P))
			continue;
		if (prot == 0) { /* PROT_NONE: the page keeps its contents, unmapped */
			*pte &= ~PTE_P;
		} else {
			*pte = (*pte & (PTE_ADDR | PTE_CK | PTE_D)) | pte_flags(prot);
		}
		weakened(u, va);
	}
	return 0;
}

int uvm_discard(struct uvm *u, uint64_t start, uint64_t end)
{
	if (!range_ok(start, end))
		return -LX_EINVAL;
	uvm_drop_pages(u, start, end);
	return 0;
}

uint64_t uvm_find_gap(const struct uvm *u, uint64_t len, uint64_t above, uint64_t below)
{
	if (above < UVM_MIN_ADDR)
		above = UVM_MIN_ADDR;
	uint64_t top = below;
	for (int64_t i = (int64_t)u->nregions - 1; i >= -1; i--) {
		uint64_t floor = i >= 0 ? u->regions[i].end : above;
		if (i >= 0 && u->regions[i].start >= top)
			continue;
		if (floor < above)
			floor = above;
		if (top >= floor + len)
			return top - len;
		if (i >= 0)
			top = u->regions[i].start;
		if (top <= above)
			break;
	}
	return 0;
}

/* Moves the frames of [old, old+len) to [new, new+len); the target has no
 * pages. */
static int uvm_move_pages(struct uvm *u, uint64_t old, uint64_t new, uint64_t len)
{
	for (uint64_t off = 0; off < len; off += PAGE_SIZE) {
		uint64_t *src = uvm_pte(u, old + off, 0);
		if (!src || !(*src & PTE_ADDR))
			continue;
		uint64_t *dst = uvm_pte(u, new + off, 1);
		if (!dst)
			return -LX_ENOMEM;
		src = uvm_pte(u, old + off, 0); /* the table may have been allocated */
		if (*src & PTE_CK)
			ck_dropped(u, old + off);
		*dst = *src & ~PTE_CK; /* new at its new address */
		*src = 0;
		weakened(u, old + off);
		weakened(u, new + off);
	}
	return 0;
}

int64_t uvm_remap(struct uvm *u, uint64_t old, uint64_t old_len, uint64_t new_len, int flags, uint64_t new_addr)
{
	old_len = (old_len + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	new_len = (new_len + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	if (!page_aligned(old) || !new_len || (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED)) ||
	    ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE)) || old >= UVM_TOP ||
	    new_len > UVM_TOP || old_len > UVM_TOP) /* sums below stay under 2^48 */
		return -LX_EINVAL;
	const struct uvm_region *r = uvm_find(u, old);
	if (!r || old + old_len > r->end || old_len == 0)
		return -LX_EFAULT;
	struct uvm_region orig = *r;
	if (!(flags & MREMAP_FIXED)) {
		if (new_len <= old_len) {
			if (new_len < old_len)
				uvm_unmap(u, old + new_len, old + old_len);
			return (int64_t)old;
		}
		if (!uvm_overlaps(u, old + old_len, old + new_len) && old + new_len <= UVM_TOP) {
			if (old + old_len == orig.end) {
				struct uvm_region *rw = (struct uvm_region *)uvm_find(u, old);
				rw->end = old + new_len;
				return (int64_t)old;
			}
			int rc = uvm_map(u, old + old_len, old + new_len, orig.prot, orig.kind, 0);
			return rc < 0 ? rc : (int64_t)old;
		}
		if (!(flags & MREMAP_MAYMOVE))
			return -LX_ENOMEM;
		new_addr = uvm_find_gap(u, new_len, 0, r->start);
		if (!new_addr)
			new_addr = uvm_find_gap(u, new_len, 0, UVM_TOP);
		if (!new_addr)
			return -LX_ENOMEM;
	} else if (!range_ok(new_addr, new_addr + new_len) ||
		   (new_addr < old + old_len && new_addr + new_len > old)) {
		return -LX_EINVAL;
	}
	int rc = uvm_map(u, new_addr, new_addr + new_len, orig.prot, orig.kind, 1);
	if (rc < 0)
		return rc;
	uint64_t moved = old_len < new_len ? old_len : new_len;
	if ((rc = uvm_move_pages(u, old, new_addr, moved)) < 0)
		return rc;
	uvm_unmap(u, old, old + old_len);
	return (int64_t)new_addr;
}

int uvm_fault(struct uvm *u, uint64_t addr, int write, int exec)
{
	if (addr >= UVM_TOP)
		return -LX_EFAULT;
	uint64_t va = addr & ~(PAGE_SIZE - 1);
	const struct uvm_region *r = uvm_find(u, addr);
	if (!r) {
		/* Stack growth: just below the stack region, within its limit, and
		 * not closer than the guard gap to the region below. */
		for (uint32_t i = 0; i < u->nregions; i++) {
			struct uvm_region *s = &u->regions[i];
			if (s->kind != UVM_STACK || addr >= s->start || va < u->stack_limit)
				continue;
			uint64_t below = i > 0 ? u->regions[i - 1].end : 0;
			if (va < below + UVM_STACK_GAP)
				return -LX_EFAULT;
			s->start = va;
			r = s;
			break;
		}
		if (!r)
			return -LX_EFAULT;
	}
	if ((write && !(r->prot & UVM_PROT_W)) || (exec && !(r->prot & UVM_PROT_X)) || r->prot == 0 ||
	    r->kind == UVM_RESERVED)
		return -LX_EACCES;
	uint64_t *pte = uvm_pte(u, va, 1);
	if (!pte)
		return -LX_ENOMEM;
	if (*pte & PTE_P)
		return -LX_EACCES; /* present, so the fault was a protection violation */
	if (*pte & PTE_ADDR) { /* kept by PROT_NONE; the region allows access again */
		*pte = (*pte & (PTE_ADDR | PTE_CK | PTE_D)) | pte_flags(r->prot);
		invlpg(va);
		return 0;
	}
	uint64_t pa = pmm_alloc(1);
	if (!pa)
		return -LX_ENOMEM;
	*pte = pa | pte_flags(r->prot);
	u->pages++;
	invlpg(va);
	return 0;
}

/* The kernel address of the byte at uaddr, faulting the page in as an access
 * of that kind would; force skips the write-permission check. */
static void *uvm_byte(struct uvm *u, uint64_t uaddr, int write, int force)
{
	if (uaddr >= UVM_TOP)
		return NULL;
	uint64_t *pte = uvm_pte(u, uaddr, 0);
	if (!pte || !(*pte & PTE_P) || (write && !force && !(*pte & PTE_W))) {
		const struct uvm_region *r = uvm_find(u, uaddr);
		if (force && r && r->kind != UVM_RESERVED) {
			if (!pte || !(*pte & PTE_ADDR)) {
				uint64_t pa = pmm_alloc(1);
				if (!pa || !(pte = uvm_pte(u, uaddr, 1))) {
					if (pa)
						pmm_free(pa, 1);
					return NULL;
				}
				*pte = pa | (r->prot ? pte_flags(r->prot) : 0);
				u->pages++;
			}
		} else if (uvm_fault(u, uaddr, write, 0) < 0) {
			return NULL;
		}
		pte = uvm_pte(u, uaddr, 0);
	}
	if (write) /* the kernel writes it, not the CPU through this entry: the
		    * mark stays (what the last image had), the page is dirty */
		*pte |= PTE_D;
	return (uint8_t *)phys_to_virt(*pte & PTE_ADDR) + (uaddr & (PAGE_SIZE - 1));
}

int uvm_read(struct uvm *u, uint64_t uaddr, void *dst, size_t len)
{
	uint8_t *d = dst;
	while (len) {
		size_t chunk = PAGE_SIZE - (uaddr & (PAGE_SIZE - 1));
		if (chunk > len)
			chunk = len;
		void *src = uvm_byte(u, uaddr, 0, 0);
		if (!src)
			return -LX_EFAULT;
		memcpy(d, src, chunk);
		d += chunk, uaddr += chunk, len -= chunk;
	}
	return 0;
}

int uvm_write(struct uvm *u, uint64_t uaddr, const void *src, size_t len, int force)
{
	const uint8_t *s = src;
	while (len) {
		size_t chunk = PAGE_SIZE - (uaddr & (PAGE_SIZE - 1));
		if (chunk > len)
			chunk = len;
		void *dst = uvm_byte(u, uaddr, 1, force);
		if (!dst)
			return -LX_EFAULT;
		memcpy(dst, s, chunk);
		s += chunk, uaddr += chunk, len -= chunk;
	}
	return 0;
}

uint32_t *uvm_word(struct uvm *u, uint64_t uaddr)
{
	return (uaddr & 3) ? NULL : uvm_byte(u, uaddr, 1, 0);
}

int uvm_clone(struct uvm *dst, struct uvm *src)
{
	if (uvm_reserve(dst, src->nregions) < 0)
		return -LX_ENOMEM;
	memcpy(dst->regions, src->regions, src->nregions * sizeof *src->regions);
	dst->nregions = src->nregions;
	dst->stack_limit = src->stack_limit;
	for (uint32_t i = 0; i < src->nregions; i++) {
		const struct uvm_region *r = &src->regions[i];
		for (uint64_t va = uvm_next_page(src, r->start, r->end); va < r->end;
		     va = uvm_next_page(src, va + PAGE_SIZE, r->end)) {
			uint64_t from = *uvm_pte(src, va, 0), pa = pmm_alloc(1);
			uint64_t *to = pa ? uvm_pte(dst, va, 1) : NULL;
			if (!to) {
				if (pa)
					pmm_free(pa, 1);
				return -LX_ENOMEM;
			}
			memcpy(phys_to_virt(pa), phys_to_virt(from & PTE_ADDR), PAGE_SIZE);
			*to = pa | (from & ~PTE_ADDR); /* same protection, PROT_NONE's absence too */
			dst->pages++;
		}
	}
	return 0;
}

int uvm_ck_dirty(struct uvm *u, uint64_t va)
{
	uint64_t *pte = uvm_pte(u, va & ~(PAGE_SIZE - 1), 0);
	return pte && (*pte & PTE_ADDR) && (!(*pte & PTE_CK) || (*pte & PTE_D));
}

int uvm_ck_whole(const struct uvm *u, uint64_t start, uint64_t end)
{
	if (u->ck_overflow)
		return 1;
	for (uint32_t i = 0; i < u->ck_ndrop; i++)
		if (u->ck_drop[i].start < end && start < u->ck_drop[i].end)
			return 1;
	return 0;
}

void uvm_ck_mark(struct uvm *u)
{
	for (uint32_t i = 0; i < u->nregions; i++) {
		const struct uvm_region *r = &u->regions[i];
		for (uint64_t va = uvm_next_page(u, r->start, r->end); va < r->end;
		     va = uvm_next_page(u, va + PAGE_SIZE, r->end)) {
			uint64_t *pte = uvm_pte(u, va, 0);
			*pte = (*pte | PTE_CK) & ~PTE_D;
		}
	}
	u->ck_ndrop = 0;
	u->ck_overflow = 0;
	u->ck_seq++;
	/* A TLB entry that has D set would let writes through unseen: every
	 * core loads the tables afresh (this one now). */
	changing(u);
	__atomic_add_fetch(&u->gen, 1, __ATOMIC_RELEASE);
	uint64_t pa = virt_to_phys(u->pml4);
	if (read_cr3() == pa)
		write_cr3(pa);
}

const void *uvm_peek_page(struct uvm *u, uint64_t va)
{
	uint64_t *pte = uvm_pte(u, va & ~(PAGE_SIZE - 1), 0);
	if (!pte || !(*pte & PTE_ADDR))
		return NULL; /* never touched (PROT_NONE pages keep their frame) */
	return phys_to_virt(*pte & PTE_ADDR);
}

uint64_t uvm_next_page(struct uvm *u, uint64_t va, uint64_t end)
{
	va &= ~(PAGE_SIZE - 1);
	while (va < end) {
		uint64_t *t = u->pml4;
		int shift;
		for (shift = 39; shift > 12; shift -= 9) {
			uint64_t e = t[(va >> shift) & 511];
			if (!(e & PTE_P))
				break;
			t = phys_to_virt(e & PTE_ADDR);
		}
		if (shift > 12) { /* no table here: skip all it would cover */
			va = (va | ((1ULL << shift) - 1)) + 1;
			continue;
		}
		if (t[(va >> 12) & 511] & PTE_ADDR)
			return va;
		va += PAGE_SIZE;
	}
	return end;
}
