/* mm.h - physical memory, the kernel's view of it, and device mappings.
 *
 * Physical memory is direct-mapped at OM_DIRECT_MAP (the upper half); the
 * lower half of every address space belongs to the migrated process.
 * All calls run in kernel context with interrupts either on or off; none of
 * them sleeps. */
#ifndef OM_MM_H
#define OM_MM_H

#include <stddef.h>
#include <stdint.h>

#define PAGE_SIZE 4096UL
#define OM_DIRECT_MAP 0xffff800000000000UL /* phys 0 maps here */
#define OM_KERNEL_BASE 0xffffffff80000000UL /* kernel image, -mcmodel=kernel */

struct bootinfo;

/* Where the boot path put the image's first byte (__image_start): 1 MiB on
 * multiboot, wherever firmware had room on UEFI. Set once by kernel_main. */
extern uint64_t kernel_phys_base;

static inline void *phys_to_virt(uint64_t pa) { return (void *)(pa + OM_DIRECT_MAP); }
/* Valid for direct-map and kernel-image addresses only. */
uint64_t virt_to_phys(const void *va);

/* pmm: page-frame allocator built from the boot memory map. */
void pmm_init(const struct bootinfo *bi);
/* Returns the physical address of npages contiguous, zeroed, page-aligned
 * frames, or 0 when none are free. DMA-safe (identity of phys is stable). */
uint64_t pmm_alloc(size_t npages);
void pmm_free(uint64_t pa, size_t npages);
uint64_t pmm_free_bytes(void);
uint64_t pmm_total_bytes(void);

/* vm: kernel page tables. */
void vm_init(const struct bootinfo *bi);
/* Maps [pa, pa+len) uncached for device registers and returns its virtual
 * address; the mapping is never removed. Panics if out of page tables. */
volatile void *vm_map_mmio(uint64_t pa, size_t len);

/* Maps npages fresh zeroed pages at va inside the heap window; 0 or -1. */
int vm_heap_grow(uint64_t va, size_t npages);
uint64_t vm_heap_base(void);
/* The kernel's own top-level page table (every address space shares its
 * upper half). */
uint64_t *vm_kernel_pml4(void);
/* Physical memory below this is in the direct map (firmware tables too). */
uint64_t vm_direct_map_end(void);

/* heap: backs newlib's malloc through sbrk. */
void heap_init(void);

#endif
