/* paging.c - the page tables the kernel is entered on (struct om_handoff):
 *
 *   [0, top)             identity, so this loader's code, stack, GDT and IDT
 *                        stay where they are when CR3 changes;
 *   OM_DIRECT_MAP + same the kernel's direct map (the same PDPT as the
 *                        identity map, as boot/multiboot.S does);
 *   link address         the kernel image, 4 KiB pages onto wherever
 *                        image.c put it.
 *
 * Large pages are 1 GiB where the CPU has them, else 2 MiB. Everything is
 * writable and executable: kernel/vm.c replaces these tables at once.
 * Intel SDM vol. 3, 4.5 4-Level Paging. */
#include "efiboot.h"

#define PTE_P 0x001ULL
#define PTE_W 0x002ULL
#define PTE_PS 0x080ULL
#define PTE_ADDR 0x000ffffffffff000ULL

#define PAGING_DIRECT_MAP 0xffff800000000000ULL /* kernel/mm.h OM_DIRECT_MAP */
#define PAGING_LOW_MAX (512ULL << 30)           /* one PML4 entry */
#define GIB (1ULL << 30)
#define MIB2 (1ULL << 21)

static uint64_t *paging_table(void)
{
	EFI_PHYSICAL_ADDRESS pa;
	if (efiboot_alloc(1, &pa, "page tables") != EFI_SUCCESS)
		return NULL;
	return (uint64_t *)pa; /* boot services run identity-mapped (2.3.4) */
}

uint32_t efiboot_ext_edx(void)
{
	uint32_t a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000000), "c"(0));
	if (a < 0x80000001)
		return 0;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000001), "c"(0));
	return d;
}

/* The entry for va in the table level whose pages are 1 << shift bytes,
 * creating tables on the way; NULL when out of memory. */
static uint64_t *paging_entry(uint64_t *pml4, uint64_t va, int shift)
{
	uint64_t *t = pml4;
	for (int s = 39; s > shift; s -= 9) {
		uint64_t *e = &t[(va >> s) & 511];
		if (!(*e & PTE_P)) {
			uint64_t *n = paging_table();
			if (!n)
				return NULL;
			*e = (uint64_t)n | PTE_P | PTE_W;
		}
		t = (uint64_t *)(*e & PTE_ADDR);
	}
	return &t[(va >> shift) & 511];
}

EFI_STATUS efiboot_paging_build(uint64_t top, const struct efiboot_kernel *k, uint64_t *cr3)
{
	uint64_t *pml4 = paging_table();
	if (!pml4)
		return EFI_OUT_OF_RESOURCES;

	/* At least 4 GiB: firmware, MMIO below 4 GiB and the kernel's early
	 * direct-map users (the frame bitmap) all live there. */
	if (top < 4 * GIB)
		top = 4 * GIB;
	if (top > PAGING_LOW_MAX) {
		Print(L"om: memory above 512 GiB is not mapped for the handoff\r\n");
		top = PAGING_LOW_MAX;
	}
	int big = (efiboot_ext_edx() >> 26) & 1; /* Page1GB */
	uint64_t step = big ? GIB : MIB2;
	for (uint64_t pa = 0; pa < top; pa += step) {
		uint64_t *e = paging_entry(pml4, pa, big ? 30 : 21);
		if (!e)
			return EFI_OUT_OF_RESOURCES;
		*e = pa | PTE_P | PTE_W | PTE_PS;
	}
	pml4[(PAGING_DIRECT_MAP >> 39) & 511] = pml4[0];

	for (uint64_t va = k->vstart; va < k->vend; va += EFIBOOT_PAGE) {
		uint64_t *e = paging_entry(pml4, va, 12);
		if (!e)
			return EFI_OUT_OF_RESOURCES;
		*e = (k->phys + (va - k->vstart)) | PTE_P | PTE_W;
	}
	*cr3 = (uint64_t)pml4;
	return EFI_SUCCESS;
}
