/* heap.c - sbrk for newlib's malloc: a contiguous virtual window whose pages
 * are mapped from the frame allocator as the break grows. */
#include <errno.h>
#include <stdint.h>

#include "mm.h"

#define HEAP_GROW_MIN (64 * 1024) /* map ahead so small mallocs don't each fault in a page */

static uint64_t heap_start, heap_brk, heap_mapped;

void heap_init(void)
{
	heap_start = heap_brk = heap_mapped = vm_heap_base();
}

void *sbrk(intptr_t incr)
{
	uint64_t old = heap_brk;
	if (!heap_start) {
		errno = ENOMEM;
		return (void *)-1;
	}
	if (incr < 0) {
		/* newlib only trims at the top; pages stay mapped for reuse. */
		if ((uint64_t)-incr > heap_brk - heap_start) {
			errno = EINVAL;
			return (void *)-1;
		}
		heap_brk += incr;
		return (void *)old;
	}
	uint64_t want = heap_brk + (uint64_t)incr;
	if (want > heap_mapped) {
		uint64_t grow = (want - heap_mapped + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
		if (grow < HEAP_GROW_MIN)
			grow = HEAP_GROW_MIN;
		if (vm_heap_grow(heap_mapped, grow / PAGE_SIZE) < 0) {
			errno = ENOMEM;
			return (void *)-1;
		}
		heap_mapped += grow;
	}
	heap_brk = want;
	return (void *)old;
}
