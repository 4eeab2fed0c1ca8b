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
};

/* The one entry into the kernel core, for every boot path. Never returns. */
void kernel_main(struct bootinfo *bi) __attribute__((noreturn));

#endif
