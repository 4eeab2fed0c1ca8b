/* memmap.c - the firmware's memory map (7.2 GetMemoryMap) and its
 * translation into struct bootinfo's ranges.
 *
 * After ExitBootServices the kernel owns every range of the types that
 * Table 7.6 "Memory Type Usage after ExitBootServices()" says the OS may use:
 * conventional memory and boot services code/data. EfiLoaderCode/Data stay
 * reserved: they hold this loader, the kernel image, the page tables the
 * kernel is running on and the bootinfo. Runtime services, ACPI NVS, MMIO and
 * anything unknown stay reserved; ACPI reclaim memory is reported as such. */
#include "efiboot.h"

#define MEMMAP_SLACK 64 /* descriptors of room for the map to grow */

static EFI_MEMORY_DESCRIPTOR *memmap_desc(const struct efiboot_memmap *mm, UINTN i)
{
	return (EFI_MEMORY_DESCRIPTOR *)((UINT8 *)mm->buf + i * mm->desc_size);
}

EFI_STATUS efiboot_memmap_init(struct efiboot_memmap *mm)
{
	/* Ask for the size, then allocate that plus slack: the allocation itself
	 * and later ones (page tables) add descriptors. */
	UINTN size = 0, key, dsize;
	UINT32 dver;
	EFI_STATUS rc = BS->GetMemoryMap(&size, NULL, &key, &dsize, &dver);
	if (rc != EFI_BUFFER_TOO_SMALL) {
		Print(L"om: GetMemoryMap did not report the map's size: %r\r\n", rc);
		return EFI_ERROR(rc) ? rc : EFI_LOAD_ERROR;
	}
	if (dsize < sizeof(EFI_MEMORY_DESCRIPTOR)) {
		Print(L"om: the firmware's memory descriptors are too small (%lu bytes)\r\n", (UINT64)dsize);
		return EFI_UNSUPPORTED;
	}
	UINTN cap = size + MEMMAP_SLACK * dsize;
	EFI_PHYSICAL_ADDRESS pa;
	if ((rc = efiboot_alloc((cap + EFIBOOT_PAGE - 1) / EFIBOOT_PAGE, &pa, "memory map")) != EFI_SUCCESS)
		return rc;
	mm->buf = (EFI_MEMORY_DESCRIPTOR *)pa;
	mm->cap = (cap + EFIBOOT_PAGE - 1) / EFIBOOT_PAGE * EFIBOOT_PAGE;
	if ((rc = efiboot_memmap_refresh(mm)) != EFI_SUCCESS) {
		Print(L"om: GetMemoryMap failed: %r\r\n", rc);
		return rc;
	}
	return EFI_SUCCESS;
}

EFI_STATUS efiboot_memmap_refresh(struct efiboot_memmap *mm)
{
	mm->size = mm->cap;
	return BS->GetMemoryMap(&mm->size, mm->buf, &mm->key, &mm->desc_size, &mm->desc_version);
}

uint64_t efiboot_memmap_top(const struct efiboot_memmap *mm)
{
	uint64_t top = 0;
	for (UINTN i = 0; i < mm->size / mm->desc_size; i++) {
		const EFI_MEMORY_DESCRIPTOR *d = memmap_desc(mm, i);
		uint64_t end = d->PhysicalStart + d->NumberOfPages * EFIBOOT_PAGE;
		if (end > top)
			top = end;
	}
	return top;
}

static uint32_t memmap_type(UINT32 efi_type)
{
	switch (efi_type) {
	case EfiConventionalMemory:
	case EfiBootServicesCode:
	case EfiBootServicesData:
		return BOOT_MEM_USABLE;
	case EfiACPIReclaimMemory:
		return BOOT_MEM_ACPI;
	default: /* loader, runtime, NVS, MMIO, unusable, persistent, unaccepted... */
		return BOOT_MEM_RESERVED;
	}
}

/* Sorts the descriptors by address in place (insertion sort: a map has a few
 * hundred entries at most). desc_size may exceed the struct, so whole
 * descriptors move through a bounded scratch buffer. */
static void memmap_sort(struct efiboot_memmap *mm)
{
	UINT8 tmp[256];
	UINTN n = mm->size / mm->desc_size;
	if (mm->desc_size > sizeof tmp)
		return; /* unsorted input only costs merges */
	for (UINTN i = 1; i < n; i++) {
		UINTN j = i;
		CopyMem(tmp, memmap_desc(mm, i), mm->desc_size);
		EFI_PHYSICAL_ADDRESS a = ((EFI_MEMORY_DESCRIPTOR *)tmp)->PhysicalStart;
		while (j > 0 && memmap_desc(mm, j - 1)->PhysicalStart > a) {
			CopyMem(memmap_desc(mm, j), memmap_desc(mm, j - 1), mm->desc_size);
			j--;
		}
		CopyMem(memmap_desc(mm, j), tmp, mm->desc_size);
	}
}

/* Drops the last non-usable range to make room; 0 if there is none. Such a
 * range only tells the kernel what to avoid, and the kernel never allocates
 * memory that no usable range names. */
static int memmap_evict(struct bootinfo *bi)
{
	for (uint32_t i = bi->nmem; i-- > 0;) {
		if (bi->mem[i].type == BOOT_MEM_USABLE)
			continue;
		for (uint32_t j = i; j + 1 < bi->nmem; j++)
			bi->mem[j] = bi->mem[j + 1];
		bi->nmem--;
		return 1;
	}
	return 0;
}

UINTN efiboot_memmap_convert(struct efiboot_memmap *mm, struct bootinfo *bi)
{
	UINTN dropped = 0;
	memmap_sort(mm);
	bi->nmem = 0;
	for (UINTN i = 0; i < mm->size / mm->desc_size; i++) {
		const EFI_MEMORY_DESCRIPTOR *d = memmap_desc(mm, i);
		uint64_t base = d->PhysicalStart, len = d->NumberOfPages * EFIBOOT_PAGE;
		uint32_t type = memmap_type(d->Type);
		if (len == 0)
			continue;
		struct boot_mem *last = bi->nmem ? &bi->mem[bi->nmem - 1] : NULL;
		if (last && last->type == type && last->base + last->len == base) {
			last->len += len;
			continue;
		}
		if (bi->nmem == BOOT_MEM_MAX && (type != BOOT_MEM_USABLE || !memmap_evict(bi))) {
			dropped++;
			continue;
		}
		bi->mem[bi->nmem].base = base;
		bi->mem[bi->nmem].len = len;
		bi->mem[bi->nmem].type = type;
		bi->nmem++;
	}
	return dropped;
}
