/* vm.c - the kernel's page tables.
 *
 * Upper half only: the direct map of RAM at OM_DIRECT_MAP (2 MiB pages), the
 * kernel image at -2 GiB, and two windows of 4 KiB pages: device registers
 * (uncached) and the heap. The lower half stays empty for the job. */
#include <stdint.h>
#include <string.h>

#include "bootinfo.h"
#include "console.h"
#include "cpu.h"
#include "mm.h"

#define PTE_P 0x001ULL
#define PTE_W 0x002ULL
#define PTE_PWT 0x008ULL
#define PTE_PCD 0x010ULL
#define PTE_PS 0x080ULL
#define PTE_G 0x100ULL
#define PTE_NX (1ULL << 63)
#define PTE_ADDR 0x000ffffffffff000ULL

#define VM_MMIO_BASE 0xffffc00000000000UL
#define VM_MMIO_SIZE (1UL << 36)
#define VM_HEAP_BASE 0xffffa00000000000UL
#define VM_HEAP_SIZE (1UL << 36)
#define VGA_WINDOW_LO 0xa0000
#define VGA_WINDOW_HI 0xc0000

extern char __image_start[], __image_end[];
uint64_t kernel_phys_base;
static uint64_t *kernel_pml4;
static uint64_t direct_map_end;
static uint64_t vm_mmio_next = VM_MMIO_BASE;

uint64_t virt_to_phys(const void *va)
{
	uint64_t a = (uint64_t)va;
	if (a >= (uint64_t)__image_start && a <= (uint64_t)__image_end) /* end: one past */
		return a - (uint64_t)__image_start + kernel_phys_base;
	if (a >= OM_DIRECT_MAP && a < VM_HEAP_BASE)
		return a - OM_DIRECT_MAP;
	/* The heap and device windows are mapped page by page. */
	uint64_t *t = kernel_pml4;
	for (int shift = 39; shift >= 12; shift -= 9) {
		uint64_t e = t[(a >> shift) & 511];
		if (!(e & PTE_P))
			panic("virt_to_phys: %p is not mapped", va);
		if (shift == 12 || (e & PTE_PS))
			return (e & PTE_ADDR & ~((1ULL << shift) - 1)) | (a & ((1ULL << shift) - 1));
		t = phys_to_virt(e & PTE_ADDR);
	}
	return 0;
}

static uint64_t *vm_table_alloc(void)
{
	uint64_t pa = pmm_alloc(1);
	if (!pa)
		panic("vm: out of memory for page tables");
	return phys_to_virt(pa);
}

/* Returns the entry for va at the level whose pages are 1 << shift bytes
 * (12, 21 or 30), creating intermediate tables. */
static uint64_t *vm_entry(uint64_t va, int shift)
{
	uint64_t *t = kernel_pml4;
	for (int s = 39; s > shift; s -= 9) {
		uint64_t *e = &t[(va >> s) & 511];
		if (!(*e & PTE_P))
			*e = virt_to_phys(vm_table_alloc()) | PTE_P | PTE_W;
		else if (*e & PTE_PS)
			panic("vm: %#lx already mapped by a large page", va);
		t = phys_to_virt(*e & PTE_ADDR);
	}
	return &t[(va >> shift) & 511];
}

static void vm_map_page(uint64_t va, uint64_t pa, uint64_t flags)
{
	*vm_entry(va, 12) = (pa & PTE_ADDR) | flags | PTE_P;
	__asm__ volatile("invlpg (%0)" ::"r"(va) : "memory");
}

void vm_init(const struct bootinfo *bi)
{
	uint64_t top = 1ULL << 30; /* at least the low 1 GiB: firmware tables live there */
	for (uint32_t i = 0; i < bi->nmem; i++) {
		const struct boot_mem *m = &bi->mem[i];
		if (m->type != BOOT_MEM_RESERVED && m->base + m->len > top)
			top = m->base + m->len;
	}
	kernel_pml4 = vm_table_alloc();
	direct_map_end = (top + (1ULL << 21) - 1) & ~((1ULL << 21) - 1);

	/* Direct map, 2 MiB pages, no execute; the first 2 MiB in 4 KiB pages so
	 * the legacy VGA window can be uncached. */
	for (uint64_t pa = 0; pa < top; pa += 1ULL << 21) {
		if (pa == 0) {
			for (uint64_t p = 0; p < (1ULL << 21); p += PAGE_SIZE) {
				uint64_t cache = (p >= VGA_WINDOW_LO && p < VGA_WINDOW_HI) ? PTE_PCD | PTE_PWT : 0;
				*vm_entry(OM_DIRECT_MAP + p, 12) = p | PTE_P | PTE_W | PTE_G | PTE_NX | cache;
			}
			continue;
		}
		*vm_entry(OM_DIRECT_MAP + pa, 21) = pa | PTE_P | PTE_W | PTE_PS | PTE_G | PTE_NX;
	}
	/* The kernel image where the linker placed it, backed by wherever the
	 * boot path loaded it. */
	for (uint64_t va = (uint64_t)__image_start; va < (uint64_t)__image_end; va += PAGE_SIZE)
		*vm_entry(va, 12) = virt_to_phys((void *)va) | PTE_P | PTE_W | PTE_G;

	/* Jobs copy the kernel's top-level entries once, so every upper-half
	 * slot the kernel will ever use must exist before the first job. */
	for (int i = 256; i < 512; i++)
		if (!(kernel_pml4[i] & PTE_P))
			kernel_pml4[i] = virt_to_phys(vm_table_alloc()) | PTE_P | PTE_W;
	write_cr3(virt_to_phys(kernel_pml4));
	write_cr4(read_cr4() | (1 << 7)); /* PGE: global pages survive CR3 loads */
}

volatile void *vm_map_mmio(uint64_t pa, size_t len)
{
	uint64_t off = pa & (PAGE_SIZE - 1);
	uint64_t npages = (off + len + PAGE_SIZE - 1) / PAGE_SIZE;
	if (vm_mmio_next + npages * PAGE_SIZE > VM_MMIO_BASE + VM_MMIO_SIZE)
		panic("vm: device window full");
	uint64_t va = vm_mmio_next;
	for (uint64_t i = 0; i < npages; i++)
		vm_map_page(va + i * PAGE_SIZE, (pa & ~(PAGE_SIZE - 1)) + i * PAGE_SIZE,
			    PTE_W | PTE_PCD | PTE_PWT | PTE_NX | PTE_G);
	vm_mmio_next += npages * PAGE_SIZE;
	return (volatile void *)(va + off);
}

/* heap.c's only way in: maps fresh zeroed pages at the heap's end. */
int vm_heap_grow(uint64_t va, size_t npages)
{
	if (va < VM_HEAP_BASE || va + npages * PAGE_SIZE > VM_HEAP_BASE + VM_HEAP_SIZE)
		return -1;
	for (size_t i = 0; i < npages; i++) {
		uint64_t pa = pmm_alloc(1);
		if (!pa)
			return -1;
		vm_map_page(va + i * PAGE_SIZE, pa, PTE_W | PTE_NX | PTE_G);
	}
	return 0;
}

uint64_t vm_heap_base(void) { return VM_HEAP_BASE; }
uint64_t vm_direct_map_end(void) { return direct_map_end; }

uint64_t *vm_kernel_pml4(void) { return kernel_pml4; }
