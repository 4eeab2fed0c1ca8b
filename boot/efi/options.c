/* options.c - LoadOptions to the kernel's ASCII command line.
 *
 * iPXE ("chain om-node.efi om.agent=...") and OVMF's -kernel/-append both
 * pass the command line as UCS-2 text in the loaded image's LoadOptions
 * (9.1 EFI Loaded Image Protocol); iPXE puts the image name first, which the
 * kernel's parser skips like any word not starting with "om.". */
#include "efiboot.h"

EFI_STATUS efiboot_cmdline(EFI_HANDLE image, char *out)
{
	EFI_LOADED_IMAGE *li = NULL;
	EFI_STATUS rc = BS->HandleProtocol(image, &LoadedImageProtocol, (VOID **)&li);
	out[0] = '\0';
	if (EFI_ERROR(rc)) {
		Print(L"om: no loaded image protocol on our own handle: %r\r\n", rc);
		return rc;
	}
	if (!li->LoadOptions || li->LoadOptionsSize < sizeof(CHAR16))
		return EFI_SUCCESS; /* no options: the kernel uses its defaults */

	/* The size is in bytes and need not be even; the text may or may not
	 * end with a NUL. Copy up to whichever comes first. */
	const CHAR16 *in = li->LoadOptions;
	UINTN n = li->LoadOptionsSize / sizeof(CHAR16), len = 0;
	for (UINTN i = 0; i < n && in[i] != 0; i++) {
		CHAR16 c = in[i];
		if (c == L'\t' || c == L'\r' || c == L'\n')
			c = L' ';
		if (c < 0x20 || c > 0x7e) {
			Print(L"om: the command line has a non-ASCII character (U+%04x at position %lu);"
			      L" the node takes plain ASCII only\r\n", (UINT32)c, (UINT64)i);
			return EFI_INVALID_PARAMETER;
		}
		if (len == BOOT_CMDLINE_MAX - 1) {
			Print(L"om: the command line is longer than %d characters\r\n", BOOT_CMDLINE_MAX - 1);
			return EFI_INVALID_PARAMETER;
		}
		out[len++] = (char)c;
	}
	out[len] = '\0';
	return EFI_SUCCESS;
}
