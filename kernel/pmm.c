/* pmm.c - physical page frames: a bitmap (1 = in use) over all memory up to
 * the highest usable address. A bitmap keeps contiguous allocations (DMA
 * rings, large buffers) simple; allocation searches upward from a hint. */
#include <stdint.h>
#include <string.h>

#include "bootinfo.h"
#include "console.h"
#include "mm.h"

#define PMM_MAX_PHYS (64ULL << 30) /* frames above this are ignored */
#define PMM_LOW_RESERVED (1ULL << 20) /* real-mode area, BIOS data, ROMs */

extern char __image_start[], __image_end[];

static uint64_t *pmm_bitmap;
static uint64_t pmm_nframes, pmm_nfree, pmm_total, pmm_hint;

static int frame_used(uint64_t f) { return (pmm_bitmap[f / 64] >> (f % 64)) & 1; }
static void frame_set(uint64_t f) { pmm_bitmap[f / 64] |= 1ULL << (f % 64); }
static void frame_clear(uint64_t f) { pmm_bitmap[f / 64] &= ~(1ULL << (f % 64)); }

static void pmm_mark(uint64_t base, uint64_t end, int used)
{
	uint64_t f0 = (base + PAGE_SIZE - 1) / PAGE_SIZE, f1 = end / PAGE_SIZE;
	if (used) /* reserving rounds outward, freeing rounds inward */
		f0 = base / PAGE_SIZE, f1 = (end + PAGE_SIZE - 1) / PAGE_SIZE;
	if (f1 > pmm_nframes)
		f1 = pmm_nframes;
	for (uint64_t f = f0; f < f1; f++) {
		if (used && !frame_used(f)) {
			frame_set(f);
			pmm_nfree--;
		} else if (!used && frame_used(f)) {
			frame_clear(f);
			pmm_nfree++;
		}
	}
}

void pmm_init(const struct bootinfo *bi)
{
	uint64_t top = 0;
	for (uint32_t i = 0; i < bi->nmem; i++) {
		const struct boot_mem *m = &bi->mem[i];
		if (m->type == BOOT_MEM_USABLE && m->base + m->len > top)
			top = m->base + m->len;
	}
	if (top > PMM_MAX_PHYS)
		top = PMM_MAX_PHYS;
	pmm_nframes = top / PAGE_SIZE;
	uint64_t bitmap_bytes = (pmm_nframes + 63) / 64 * 8;

	/* The bitmap goes in the first usable range above the kernel image that
	 * can hold it, below 4 GiB (the boot page tables map no more). */
	uint64_t img_lo = virt_to_phys(__image_start), img_hi = virt_to_phys(__image_end);
	uint64_t bm_pa = 0;
	for (uint32_t i = 0; i < bi->nmem && !bm_pa; i++) {
		const struct boot_mem *m = &bi->mem[i];
		uint64_t lo = m->base, hi = m->base + m->len;
		if (m->type != BOOT_MEM_USABLE)
			continue;
		if (lo < img_hi && hi > img_lo)
			lo = img_hi;
		if (lo < PMM_LOW_RESERVED)
			lo = PMM_LOW_RESERVED;
		lo = (lo + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
		if (lo + bitmap_bytes <= hi && lo + bitmap_bytes <= (4ULL << 30))
			bm_pa = lo;
	}
	if (!bm_pa)
		panic("pmm: no room for the frame bitmap (%lu bytes)", bitmap_bytes);
	pmm_bitmap = phys_to_virt(bm_pa);
	memset(pmm_bitmap, 0xff, bitmap_bytes);
	pmm_nfree = 0; /* all used; usable ranges are freed below */
	for (uint32_t i = 0; i < bi->nmem; i++) {
		const struct boot_mem *m = &bi->mem[i];
		if (m->type == BOOT_MEM_USABLE)
			pmm_mark(m->base, m->base + m->len, 0);
	}
	/* Overlapping map entries may free what another entry reserves. */
	for (uint32_t i = 0; i < bi->nmem; i++) {
		const struct boot_mem *m = &bi->mem[i];
		if (m->type != BOOT_MEM_USABLE)
			pmm_mark(m->base, m->base + m->len, 1);
	}
	pmm_mark(0, PMM_LOW_RESERVED, 1);
	pmm_mark(img_lo, img_hi, 1);
	pmm_mark(bm_pa, bm_pa + bitmap_bytes, 1);
	pmm_total = pmm_nfree * PAGE_SIZE;
	pmm_hint = PMM_LOW_RESERVED / PAGE_SIZE;
}

static uint64_t pmm_search(uint64_t from, size_t npages)
{
	uint64_t run = 0;
	for (uint64_t f = from; f < pmm_nframes; f++) {
		if (f % 64 == 0 && run == 0 && pmm_bitmap[f / 64] == ~0ULL) {
			f += 63; /* skip a full word at once */
			continue;
		}
		run = frame_used(f) ? 0 : run + 1;
		if (run == npages)
			return f + 1 - npages;
	}
	return 0;
}

uint64_t pmm_alloc(size_t npages)
{
	if (npages == 0 || npages > pmm_nfree)
		return 0;
	uint64_t f = pmm_search(pmm_hint, npages);
	if (!f)
		f = pmm_search(PMM_LOW_RESERVED / PAGE_SIZE, npages);
	if (!f)
		return 0;
	for (uint64_t i = 0; i < npages; i++)
		frame_set(f + i);
	pmm_nfree -= npages;
	pmm_hint = f + npages;
	memset(phys_to_virt(f * PAGE_SIZE), 0, npages * PAGE_SIZE);
	return f * PAGE_SIZE;
}

void pmm_free(uint64_t pa, size_t npages)
{
	uint64_t f = pa / PAGE_SIZE;
	if (pa % PAGE_SIZE || f + npages > pmm_nframes)
		panic("pmm_free: bad range %#lx + %zu pages", pa, npages);
	for (uint64_t i = 0; i < npages; i++) {
		if (!frame_used(f + i))
			panic("pmm_free: frame %#lx freed twice", (f + i) * PAGE_SIZE);
		frame_clear(f + i);
	}
	pmm_nfree += npages;
	if (f < pmm_hint)
		pmm_hint = f;
}

uint64_t pmm_free_bytes(void) { return pmm_nfree * PAGE_SIZE; }
uint64_t pmm_total_bytes(void) { return pmm_total; }
