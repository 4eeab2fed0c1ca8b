/* multiboot.c - turns the multiboot (v1) information into a struct bootinfo.
 * Runs on the boot page tables, where the low 4 GiB are direct-mapped, before
 * anything else in the kernel is set up. */
#include <stdint.h>
#include <string.h>

#include "bootinfo.h"
#include "console.h"
#include "mm.h"

#define MB_LOADER_MAGIC 0x2BADB002u
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MMAP (1u << 6)

/* Multiboot 0.6.96, 3.3 Boot information format. */
struct mb_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper;
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
} __attribute__((packed));

struct mb_mmap {
	uint32_t size; /* of the rest of the entry, not counting this field */
	uint64_t base, len;
	uint32_t type;
} __attribute__((packed));

extern char __image_start[];
static struct bootinfo boot_info;

void multiboot_main(uint32_t magic, uint32_t info_pa, uint64_t tsc) __attribute__((noreturn));

void multiboot_main(uint32_t magic, uint32_t info_pa, uint64_t tsc)
{
	struct bootinfo *bi = &boot_info;

	console_init();
	if (magic != MB_LOADER_MAGIC)
		panic("boot: not started by a multiboot loader (magic %#x)", magic);

	const struct mb_info *mb = phys_to_virt(info_pa);
	bi->loader = "multiboot";
	bi->tsc_at_entry = tsc;
	bi->vga_text = 1; /* BIOS machines boot in text mode; we asked for no other */
	console_attach(bi); /* 0xB8000 is mapped already, so early panics show on screen */
	bi->kernel_phys = (uint64_t)__image_start - OM_KERNEL_BASE; /* the a.out kludge put it there */
	if (mb->flags & MB_INFO_CMDLINE) {
		strncpy(bi->cmdline, phys_to_virt(mb->cmdline), sizeof bi->cmdline - 1);
		bi->cmdline[sizeof bi->cmdline - 1] = '\0';
	}
	if (!(mb->flags & MB_INFO_MMAP))
		panic("boot: the loader gave no memory map");

	/* Entries are variable-sized: step by each entry's own size field, and
	 * stop at a size that could not hold an entry rather than loop forever. */
	uint64_t p = mb->mmap_addr, end = (uint64_t)mb->mmap_addr + mb->mmap_length;
	while (p + sizeof(struct mb_mmap) <= end && bi->nmem < BOOT_MEM_MAX) {
		const struct mb_mmap *e = phys_to_virt(p);
		if (e->size < 20)
			break;
		bi->mem[bi->nmem].base = e->base;
		bi->mem[bi->nmem].len = e->len;
		bi->mem[bi->nmem].type = e->type == 1 ? BOOT_MEM_USABLE
				       : e->type == 3 ? BOOT_MEM_ACPI
						      : BOOT_MEM_RESERVED;
		bi->nmem++;
		p += e->size + 4;
	}
	kernel_main(bi);
}
