/* bootinfo.h - what every boot path (multiboot, UEFI) hands to kernel_main.
 * The boot path copies everything it needs into this struct, so nothing the
 * firmware left in memory has to survive once the allocator starts. */
#ifndef OM_BOOTINFO_H
#define OM_BOOTINFO_H

#include <stdint.h>

#define BOOT_CMDLINE_MAX 512 /* iPXE's own command-line limit */
#define BOOT_MEM_MAX 128

enum boot_mem_type { BOOT_MEM_USABLE = 1, BOOT_MEM_RESERVED = 2, BOOT_MEM_ACPI = 3 };

struct boot_mem {
	uint64_t base, len;
	uint32_t type; /* enum boot_mem_type */
};

struct bootinfo {
	const char *loader;           /* "multiboot", "uefi" */
	char cmdline[BOOT_CMDLINE_MAX];
	uint32_t nmem;
	struct boot_mem mem[BOOT_MEM_MAX];
	uint64_t rsdp;                /* physical address of the ACPI RSDP, 0 if unknown */
	uint64_t tsc_at_entry;        /* TSC when the boot path first ran */
	uint64_t kernel_phys;         /* physical address of __image_start */
	/* Linear framebuffer (UEFI GOP), fb_base 0 when there is none. 32 bits
	 * per pixel only. The console draws on it when fb_base is set and on the
	 * VGA text screen only when vga_text is set (kernel/console.c). */
	uint64_t fb_base;
	uint32_t fb_width, fb_height, fb_pitch; /* pitch in bytes per scanline */
	uint32_t fb_bgr;              /* 1: blue in the low byte (GOP BGRReserved) */
	uint32_t vga_text;            /* 1: legacy 80x25 text at 0xB8000 exists */
};

/* The image's handoff block for loaders that are not multiboot (the UEFI
 * loader, boot/efi/). It sits in the first 8 KiB of the image, 8-byte
 * aligned, right after the multiboot header. Addresses are the linker's
 * virtual ones; entry64 expects long mode, interrupts off, page tables that
 * map the image at its link address, physical memory at OM_DIRECT_MAP and the
 * caller's code identically, and RDI = physical address of a struct bootinfo
 * (copied before the kernel replaces the page tables). */
#define OM_HANDOFF_MAGIC "OMNODE64"
struct om_handoff {
	char magic[8];
	uint64_t entry64;
	uint64_t image_start, load_end, image_end;
};

/* The one entry into the kernel core, for every boot path. Never returns. */
void kernel_main(struct bootinfo *bi) __attribute__((noreturn));

#endif
