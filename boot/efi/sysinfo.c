/* sysinfo.c - facts about the machine for the bootinfo: where ACPI's RSDP is
 * and what framebuffer the firmware set up. */
#include "efiboot.h"

static int guid_eq(const EFI_GUID *a, const EFI_GUID *b)
{
	return CompareMem(a, b, sizeof *a) == 0;
}

/* 4.6 EFI Configuration Table, 4.6.1 Industry Standard Configuration Tables:
 * the ACPI 2.0+ RSDP under its own GUID, the ACPI 1.0 one under another.
 * Prefer 2.0 (it has the XSDT). 0 when neither is there. */
uint64_t efiboot_find_rsdp(void)
{
	EFI_GUID acpi20 = ACPI_20_TABLE_GUID, acpi10 = ACPI_TABLE_GUID;
	uint64_t v1 = 0;
	for (UINTN i = 0; i < ST->NumberOfTableEntries; i++) {
		EFI_CONFIGURATION_TABLE *t = &ST->ConfigurationTable[i];
		if (guid_eq(&t->VendorGuid, &acpi20))
			return (uint64_t)t->VendorTable;
		if (guid_eq(&t->VendorGuid, &acpi10))
			v1 = (uint64_t)t->VendorTable;
	}
	return v1;
}

/* 12.9 Graphics Output Protocol: the current mode's linear framebuffer, when
 * it is 32 bits per pixel in RGB or BGR order (12.9.2 EFI_GRAPHICS_PIXEL_FORMAT;
 * a PixelBitMask mode with exactly those masks counts too). The kernel's
 * framebuffer console draws nothing otherwise: fb_base stays 0. */
void efiboot_framebuffer(struct bootinfo *bi)
{
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop = NULL;
	bi->fb_base = 0;
	if (EFI_ERROR(BS->LocateProtocol(&GraphicsOutputProtocol, NULL, (VOID **)&gop)) || !gop ||
	    !gop->Mode || !gop->Mode->Info) {
		Print(L"om: no graphics output; the node's console is serial only\r\n");
		return;
	}
	const EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info = gop->Mode->Info;
	const EFI_PIXEL_BITMASK *m = &info->PixelInformation;
	int bgr;
	switch (info->PixelFormat) {
	case PixelRedGreenBlueReserved8BitPerColor:
		bgr = 0;
		break;
	case PixelBlueGreenRedReserved8BitPerColor:
		bgr = 1;
		break;
	case PixelBitMask:
		if (m->RedMask == 0xff0000 && m->GreenMask == 0xff00 && m->BlueMask == 0xff) {
			bgr = 1;
			break;
		}
		if (m->RedMask == 0xff && m->GreenMask == 0xff00 && m->BlueMask == 0xff0000) {
			bgr = 0;
			break;
		}
		/* fall through */
	default:
		Print(L"om: the framebuffer's pixel format (%d) is not 32-bit RGB/BGR;"
		      L" the node's console is serial only\r\n", (INT32)info->PixelFormat);
		return;
	}
	if (!gop->Mode->FrameBufferBase || !info->HorizontalResolution || !info->VerticalResolution ||
	    info->PixelsPerScanLine < info->HorizontalResolution)
		return;
	bi->fb_base = gop->Mode->FrameBufferBase;
	bi->fb_width = info->HorizontalResolution;
	bi->fb_height = info->VerticalResolution;
	bi->fb_pitch = info->PixelsPerScanLine * 4;
	bi->fb_bgr = (uint32_t)bgr;
}
