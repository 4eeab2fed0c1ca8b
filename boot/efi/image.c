/* image.c - the embedded node kernel: check its ELF64 header and its one
 * PT_LOAD segment against the blob's size, find the om_handoff block, and
 * copy the image into pages of its own.
 *
 * The blob is part of this loader, so a failure here means a broken build,
 * not a hostile peer; it is checked all the same, and the message says
 * what was wrong. */
#include "efiboot.h"
#include "elf64.h"

#define IMAGE_HANDOFF_WINDOW 8192 /* bootinfo.h: the block is in the first 8 KiB */
#define IMAGE_MAX (64ULL << 20)   /* no node kernel is this big */

/* payload.S */
extern const uint8_t om_payload[] __attribute__((visibility("hidden")));
extern const uint8_t om_payload_end[] __attribute__((visibility("hidden")));

static EFI_STATUS image_bad(const char *why)
{
	Print(L"om: the embedded kernel image is broken: %a\r\n", why);
	return EFI_LOAD_ERROR;
}

/* The one PT_LOAD segment, every field checked against the blob. */
static EFI_STATUS image_segment(const uint8_t *blob, uint64_t size, struct elf64_phdr *seg)
{
	struct elf64_ehdr eh;
	if (size < sizeof eh)
		return image_bad("shorter than an ELF header");
	CopyMem(&eh, blob, sizeof eh);
	if (eh.e_ident[0] != 0x7f || eh.e_ident[1] != 'E' || eh.e_ident[2] != 'L' || eh.e_ident[3] != 'F')
		return image_bad("no ELF magic");
	if (eh.e_ident[4] != ELFCLASS64 || eh.e_ident[5] != ELFDATA2LSB || eh.e_machine != EM_X86_64)
		return image_bad("not ELF64 little-endian x86-64");
	if (eh.e_phentsize != sizeof(struct elf64_phdr) || eh.e_phnum == 0)
		return image_bad("bad program header size or count");
	if (eh.e_phoff > size || (uint64_t)eh.e_phnum * sizeof(struct elf64_phdr) > size - eh.e_phoff)
		return image_bad("program headers run past the end of the file");

	int nload = 0;
	for (uint16_t i = 0; i < eh.e_phnum; i++) {
		struct elf64_phdr ph;
		CopyMem(&ph, blob + eh.e_phoff + (uint64_t)i * sizeof ph, sizeof ph);
		if (ph.p_type != PT_LOAD)
			continue;
		*seg = ph;
		nload++;
	}
	if (nload != 1)
		return image_bad("expected exactly one PT_LOAD segment");
	if (seg->p_offset > size || seg->p_filesz > size - seg->p_offset)
		return image_bad("the segment runs past the end of the file");
	if (seg->p_filesz > seg->p_memsz || seg->p_memsz > IMAGE_MAX)
		return image_bad("bad segment sizes");
	if (seg->p_vaddr % EFIBOOT_PAGE || seg->p_offset % EFIBOOT_PAGE != seg->p_vaddr % EFIBOOT_PAGE)
		return image_bad("the segment is not page-aligned");
	return EFI_SUCCESS;
}

/* The om_handoff block: 8-byte aligned in the first 8 KiB of the segment's
 * file bytes, then its addresses checked against the segment. */
static EFI_STATUS image_handoff(const uint8_t *bytes, const struct elf64_phdr *seg, struct om_handoff *h)
{
	uint64_t window = seg->p_filesz < IMAGE_HANDOFF_WINDOW ? seg->p_filesz : IMAGE_HANDOFF_WINDOW;
	uint64_t off;
	for (off = 0; off + sizeof *h <= window; off += 8)
		if (CompareMem(bytes + off, OM_HANDOFF_MAGIC, 8) == 0)
			break;
	if (off + sizeof *h > window)
		return image_bad("no " OM_HANDOFF_MAGIC " handoff block in its first 8 KiB");
	CopyMem(h, bytes + off, sizeof *h);

	if (h->image_start != seg->p_vaddr)
		return image_bad("handoff image_start is not the segment's address");
	if (h->load_end - h->image_start != seg->p_filesz)
		return image_bad("handoff load_end does not match the segment's file size");
	if (h->image_end < h->image_start + seg->p_memsz || h->image_end - h->image_start > IMAGE_MAX)
		return image_bad("handoff image_end does not cover the segment");
	if (h->entry64 < h->image_start || h->entry64 >= h->load_end)
		return image_bad("handoff entry64 is outside the loaded bytes");
	return EFI_SUCCESS;
}

EFI_STATUS efiboot_kernel_load(struct efiboot_kernel *k)
{
	const uint8_t *blob = om_payload;
	uint64_t size = (uint64_t)(om_payload_end - om_payload);
	struct elf64_phdr seg;
	struct om_handoff h;
	EFI_STATUS rc;

	ZeroMem(&seg, sizeof seg);

	if ((rc = image_segment(blob, size, &seg)) != EFI_SUCCESS)
		return rc;
	if ((rc = image_handoff(blob + seg.p_offset, &seg, &h)) != EFI_SUCCESS)
		return rc;

	uint64_t bytes = h.image_end - h.image_start;
	UINTN npages = (bytes + EFIBOOT_PAGE - 1) / EFIBOOT_PAGE;
	if ((rc = efiboot_alloc(npages, &k->phys, "kernel image")) != EFI_SUCCESS)
		return rc;
	/* efiboot_alloc zeroed the pages: that is the .bss up to image_end. */
	CopyMem((VOID *)k->phys, blob + seg.p_offset, seg.p_filesz);
	k->vstart = h.image_start;
	k->vend = h.image_start + npages * EFIBOOT_PAGE;
	k->entry64 = h.entry64;
	k->file_bytes = seg.p_filesz;
	return EFI_SUCCESS;
}
