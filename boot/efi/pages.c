/* pages.c - page allocation for the loader's own needs (the kernel image,
 * the bootinfo, page tables, the memory map buffer). */
#include "efiboot.h"

#define EFIBOOT_BELOW_4G 0xffffffffULL

EFI_STATUS efiboot_alloc(UINTN npages, EFI_PHYSICAL_ADDRESS *pa, const char *what)
{
	/* 7.2 AllocatePages: AllocateMaxAddress takes the highest address that
	 * fits at or below *pa; fall back to anywhere. EfiLoaderData stays
	 * reserved in the map the kernel gets (see memmap.c). */
	EFI_PHYSICAL_ADDRESS a = EFIBOOT_BELOW_4G;
	EFI_STATUS rc = BS->AllocatePages(AllocateMaxAddress, EfiLoaderData, npages, &a);
	if (EFI_ERROR(rc)) {
		a = 0;
		rc = BS->AllocatePages(AllocateAnyPages, EfiLoaderData, npages, &a);
	}
	if (EFI_ERROR(rc)) {
		Print(L"om: cannot allocate %lu pages for the %a: %r\r\n", (UINT64)npages, what, rc);
		return rc;
	}
	BS->SetMem((VOID *)a, npages * EFIBOOT_PAGE, 0);
	*pa = a;
	return EFI_SUCCESS;
}
