/* efiboot.h - the UEFI loader (build/om-node.efi): a GNU-EFI application that
 * carries the node kernel inside it, loads it where firmware has room and
 * enters it through the image's struct om_handoff with a struct bootinfo, the
 * way the multiboot path enters kernel_main.
 *
 * Every call here runs before ExitBootServices unless it says otherwise, and
 * on failure prints why on the EFI console and returns an EFI error status.
 * Section numbers are those of the UEFI Specification 2.10. */
#ifndef OM_EFIBOOT_H
#define OM_EFIBOOT_H

#include <efi.h>
#include <efilib.h>

#include "bootinfo.h"

#define EFIBOOT_PAGE 4096ULL

/* pages.c: EfiLoaderData pages, zeroed; below 4 GiB when firmware has room
 * there, anywhere otherwise (7.2 AllocatePages). what names them in the
 * error message. */
EFI_STATUS efiboot_alloc(UINTN npages, EFI_PHYSICAL_ADDRESS *pa, const char *what);

/* options.c: the loaded image's LoadOptions (UCS-2, 9.1) as an ASCII command
 * line in out[BOOT_CMDLINE_MAX]. Rejects non-ASCII and over-long lines. */
EFI_STATUS efiboot_cmdline(EFI_HANDLE image, char *out);

/* image.c: the embedded kernel (payload.S), checked and copied. */
struct efiboot_kernel {
	EFI_PHYSICAL_ADDRESS phys;   /* where __image_start went */
	uint64_t vstart, vend;       /* link addresses: __image_start, __image_end */
	uint64_t entry64;            /* link address of handoff_entry64 */
	uint64_t file_bytes;         /* bytes copied from the file; the rest is zero */
};
EFI_STATUS efiboot_kernel_load(struct efiboot_kernel *k);

/* memmap.c: the firmware's memory map (7.2 GetMemoryMap) in a buffer that is
 * allocated once with room to spare, so that refreshing it right before
 * ExitBootServices allocates nothing. */
struct efiboot_memmap {
	EFI_MEMORY_DESCRIPTOR *buf;
	UINTN cap;                   /* bytes in buf */
	UINTN size;                  /* bytes GetMemoryMap filled in */
	UINTN key, desc_size;
	UINT32 desc_version;
};
EFI_STATUS efiboot_memmap_init(struct efiboot_memmap *mm);
/* Refreshes the map into the same buffer; prints nothing (a Print could
 * allocate and so change the map it just read), safe to call after a failed
 * ExitBootServices. EFI_BUFFER_TOO_SMALL if the map outgrew the buffer. */
EFI_STATUS efiboot_memmap_refresh(struct efiboot_memmap *mm);
/* The end of the highest range in the map (any type). */
uint64_t efiboot_memmap_top(const struct efiboot_memmap *mm);
/* Fills bi->mem[]/nmem from the map: sorted, adjacent same-type ranges merged,
 * at most BOOT_MEM_MAX (usable ranges win over the others when it is full).
 * Pure computation: safe between GetMemoryMap and ExitBootServices. Returns
 * the number of ranges that did not fit. */
UINTN efiboot_memmap_convert(struct efiboot_memmap *mm, struct bootinfo *bi);

/* paging.c: 4-level tables for the jump (see struct om_handoff): identity and
 * OM_DIRECT_MAP maps of [0, top) in large pages, the kernel image at its link
 * address in 4 KiB pages. *cr3 = physical address of the PML4. */
EFI_STATUS efiboot_paging_build(uint64_t top, const struct efiboot_kernel *k, uint64_t *cr3);

/* sysinfo.c: what the kernel wants to know about the machine. */
uint64_t efiboot_find_rsdp(void);
/* CPUID 0x80000001 EDX (NX bit 20, Page1GB bit 26), 0 if the leaf is absent. */
uint32_t efiboot_ext_edx(void);
void efiboot_framebuffer(struct bootinfo *bi);

#endif
