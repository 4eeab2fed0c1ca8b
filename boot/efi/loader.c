/* loader.c - efi_main: load the embedded node kernel, describe the machine in
 * a struct bootinfo, leave boot services and enter the kernel through its
 * om_handoff entry (kernel/bootinfo.h), the same core the multiboot path
 * reaches. Until ExitBootServices every failure is printed on the EFI console
 * and returned to the firmware, which goes on to its next boot option. */
#include "efiboot.h"

#define CR0_WP (1ULL << 16)
#define CR4_LA57 (1ULL << 12)
#define MSR_EFER 0xc0000080
#define EFER_NXE (1ULL << 11)

static inline uint64_t loader_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* 7.4 ExitBootServices: the map key must be that of the latest map. If the
 * map changed in between (an event allocated), the call fails with
 * EFI_INVALID_PARAMETER and the loader may fetch the map again and retry; it
 * must not call other boot services then, so nothing here prints. The
 * bootinfo's ranges are rebuilt from whichever map was used last. */
static EFI_STATUS loader_exit_boot_services(EFI_HANDLE image, struct efiboot_memmap *mm, struct bootinfo *bi)
{
	EFI_STATUS rc = EFI_LOAD_ERROR;
	for (int attempt = 0; attempt < 2; attempt++) {
		if ((rc = efiboot_memmap_refresh(mm)) != EFI_SUCCESS)
			return rc;
		efiboot_memmap_convert(mm, bi);
		rc = BS->ExitBootServices(image, mm->key);
		if (rc != EFI_INVALID_PARAMETER)
			return rc;
	}
	return rc;
}

/* No way back from here. Interrupts off (the firmware's handlers are gone),
 * NXE because kernel/vm.c maps with the NX bit, CR0.WP as on the multiboot
 * path; SSE is already on (2.3.4 x64 Platforms). The jump runs on the
 * identity map, from this loader's code, on the firmware's stack, which the
 * kernel leaves at once for its own. */
static void __attribute__((noreturn)) loader_enter(uint64_t cr3, uint64_t entry64, uint64_t bi_pa, int nx)
{
	__asm__ volatile("cli" ::: "memory");
	if (nx) {
		uint32_t lo, hi;
		__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(MSR_EFER));
		lo |= (uint32_t)EFER_NXE;
		__asm__ volatile("wrmsr" ::"c"(MSR_EFER), "a"(lo), "d"(hi));
	}
	__asm__ volatile("mov %0, %%cr3\n\t"
			 "mov %%cr0, %%rax\n\t"
			 "or %3, %%rax\n\t"
			 "mov %%rax, %%cr0\n\t"
			 "jmp *%1"
			 :
			 : "r"(cr3), "r"(entry64), "D"(bi_pa), "i"(CR0_WP)
			 : "rax", "memory");
	__builtin_unreachable();
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	uint64_t tsc = loader_rdtsc();
	struct efiboot_kernel k;
	struct efiboot_memmap mm;
	EFI_PHYSICAL_ADDRESS bi_pa;
	struct bootinfo *bi;
	uint64_t cr3, cr4;
	EFI_STATUS rc;

	InitializeLib(image, systab);
	Print(L"om: UEFI loader for the om node kernel\r\n");

	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	if (cr4 & CR4_LA57) {
		Print(L"om: the firmware runs with 5-level paging; the node kernel needs 4-level\r\n");
		return EFI_UNSUPPORTED;
	}
	/* The kernel copies the bootinfo first thing (boot/handoff.c); until
	 * then it lives in EfiLoaderData, which the map keeps reserved. */
	if ((rc = efiboot_alloc((sizeof *bi + EFIBOOT_PAGE - 1) / EFIBOOT_PAGE, &bi_pa, "boot information")) != EFI_SUCCESS)
		return rc;
	bi = (struct bootinfo *)bi_pa;
	bi->tsc_at_entry = tsc;
	bi->vga_text = 0; /* a UEFI machine has no text mode we could rely on */
	if ((rc = efiboot_cmdline(image, bi->cmdline)) != EFI_SUCCESS)
		return rc;
	if ((rc = efiboot_kernel_load(&k)) != EFI_SUCCESS)
		return rc;
	bi->kernel_phys = k.phys;
	bi->rsdp = efiboot_find_rsdp();
	efiboot_framebuffer(bi);

	if ((rc = efiboot_memmap_init(&mm)) != EFI_SUCCESS)
		return rc;
	if ((rc = efiboot_paging_build(efiboot_memmap_top(&mm), &k, &cr3)) != EFI_SUCCESS)
		return rc;
	/* A trial conversion, while we can still say something about it. */
	if ((rc = efiboot_memmap_refresh(&mm)) != EFI_SUCCESS) {
		Print(L"om: GetMemoryMap failed: %r\r\n", rc);
		return rc;
	}
	UINTN dropped = efiboot_memmap_convert(&mm, bi);
	if (dropped)
		Print(L"om: the memory map has more than %d ranges; %lu left out\r\n", BOOT_MEM_MAX, (UINT64)dropped);

	Print(L"om: kernel %lu KiB at %lx, %d memory ranges, rsdp %lx, framebuffer %dx%d at %lx\r\n",
	      (UINT64)((k.vend - k.vstart) >> 10), (UINT64)k.phys, (INT32)bi->nmem, bi->rsdp,
	      (INT32)bi->fb_width, (INT32)bi->fb_height, bi->fb_base);
	Print(L"om: command line \"%a\"; leaving boot services\r\n", bi->cmdline);

	int nx = (efiboot_ext_edx() >> 20) & 1; /* NX */
	if ((rc = loader_exit_boot_services(image, &mm, bi)) != EFI_SUCCESS) {
		/* The console may already be gone; try anyway. */
		Print(L"om: could not leave boot services (GetMemoryMap or ExitBootServices): %r\r\n", rc);
		return rc;
	}
	loader_enter(cr3, k.entry64, bi_pa, nx);
}
