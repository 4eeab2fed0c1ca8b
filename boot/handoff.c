/* handoff.c - entry from the UEFI loader: copy its struct bootinfo into the
 * kernel before kernel_main replaces the loader's page tables. */
#include <string.h>

#include "bootinfo.h"
#include "console.h"
#include "mm.h"

void handoff_main(uint64_t bootinfo_pa) __attribute__((noreturn));

void handoff_main(uint64_t bootinfo_pa)
{
	static struct bootinfo bi;
	memcpy(&bi, phys_to_virt(bootinfo_pa), sizeof bi);
	bi.cmdline[sizeof bi.cmdline - 1] = '\0';
	if (bi.nmem > BOOT_MEM_MAX)
		bi.nmem = BOOT_MEM_MAX;
	bi.loader = "uefi";
	kernel_main(&bi);
}
