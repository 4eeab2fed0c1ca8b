/* vdso.c - patch a copy of the vDSO into trampolines, and find them again
 * when a process comes home (contract in vdso.h;
 * ELF-64 Object File Format, sections "Sections" and "Symbol Table"). */
#include <elf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "vdso.h"

long
vdso_syscall_nr(const char *name)
{
	static const struct { const char *name; long nr; } tab[] = {
		{ "clock_gettime", SYS_clock_gettime },
		{ "gettimeofday", SYS_gettimeofday },
		{ "time", SYS_time },
		{ "clock_getres", SYS_clock_getres },
		{ "getcpu", SYS_getcpu },
	};
	size_t i;

	if (strncmp(name, "__vdso_", 7) == 0)
		name += 7;
	for (i = 0; i < sizeof tab / sizeof tab[0]; i++)
		if (strcmp(name, tab[i].name) == 0)
			return tab[i].nr;
	return -1;
}

/* [off, off + size) lies inside [0, len). */
static int
in_image(uint64_t off, uint64_t size, size_t len)
{
	return off <= len && size <= len - off;
}

/* Calls fn for every function the image exports, with the offset of its
 * entry point in the image (checked to hold VDSO_PATCH_SIZE bytes). Returns
 * the number of functions, or -1 (see vdso_patch), or what fn returned
 * when that is not 0. */
static int
vdso_walk(const uint8_t *img, size_t len, int (*fn)(uint64_t off, const char *name, void *arg), void *arg)
{
	Elf64_Ehdr eh;
	Elf64_Shdr dynsym, strtab;
	Elf64_Phdr ph;
	uint64_t load_vaddr = 0, load_off = 0, i, nsym;
	int found_load = 0, n = 0, rc;

	if (len < sizeof eh)
		return -1;
	memcpy(&eh, img, sizeof eh);
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_type != ET_DYN ||
	    eh.e_machine != EM_X86_64 || eh.e_shentsize != sizeof(Elf64_Shdr) ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    !in_image(eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr), len) ||
	    !in_image(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr), len))
		return -1;
	/* Symbol values are link-time addresses: the first PT_LOAD maps them
	 * onto the image. */
	for (i = 0; i < eh.e_phnum && !found_load; i++) {
		memcpy(&ph, img + eh.e_phoff + i * sizeof ph, sizeof ph);
		if (ph.p_type == PT_LOAD) {
			load_vaddr = ph.p_vaddr;
			load_off = ph.p_offset;
			found_load = 1;
		}
	}
	if (!found_load)
		return -1;
	memset(&dynsym, 0, sizeof dynsym);
	for (i = 0; i < eh.e_shnum; i++) {
		memcpy(&dynsym, img + eh.e_shoff + i * sizeof dynsym, sizeof dynsym);
		if (dynsym.sh_type == SHT_DYNSYM)
			break;
	}
	if (i == eh.e_shnum || dynsym.sh_entsize != sizeof(Elf64_Sym) ||
	    dynsym.sh_link >= eh.e_shnum ||
	    !in_image(dynsym.sh_offset, dynsym.sh_size, len))
		return -1;
	memcpy(&strtab, img + eh.e_shoff + dynsym.sh_link * sizeof strtab, sizeof strtab);
	if (strtab.sh_type != SHT_STRTAB || !in_image(strtab.sh_offset, strtab.sh_size, len) ||
	    strtab.sh_size == 0 || img[strtab.sh_offset + strtab.sh_size - 1] != '\0')
		return -1;
	nsym = dynsym.sh_size / sizeof(Elf64_Sym);
	for (i = 0; i < nsym; i++) {
		Elf64_Sym s;
		uint64_t off;
		const char *name;

		memcpy(&s, img + dynsym.sh_offset + i * sizeof s, sizeof s);
		if (ELF64_ST_TYPE(s.st_info) != STT_FUNC || s.st_shndx == SHN_UNDEF ||
		    (ELF64_ST_BIND(s.st_info) != STB_GLOBAL &&
		    ELF64_ST_BIND(s.st_info) != STB_WEAK))
			continue;
		if (s.st_name >= strtab.sh_size || s.st_value < load_vaddr)
			return -1;
		name = (const char *)img + strtab.sh_offset + s.st_name;
		off = s.st_value - load_vaddr + load_off;
		if (!in_image(off, VDSO_PATCH_SIZE, len) ||
		    (s.st_size != 0 && s.st_size < VDSO_PATCH_SIZE))
			return -1;
		if ((rc = fn(off, name, arg)) != 0)
			return rc;
		n++;
	}
	return n;
}

static int
patch_one(uint64_t off, const char *name, void *arg)
{
	static const uint8_t enosys[VDSO_PATCH_SIZE] = {
		0x48, 0xc7, 0xc0, 0xda, 0xff, 0xff, 0xff, 0xc3 };
	uint8_t *img = arg, code[VDSO_PATCH_SIZE];
	long nr;

	if ((nr = vdso_syscall_nr(name)) >= 0) {
		code[0] = 0xb8; /* mov $imm32, %eax */
		code[1] = (uint8_t)nr;
		code[2] = (uint8_t)(nr >> 8);
		code[3] = 0;
		code[4] = 0;
		code[5] = 0x0f; /* syscall */
		code[6] = 0x05;
		code[7] = 0xc3; /* ret */
	} else
		memcpy(code, enosys, sizeof code);
	memcpy(img + off, code, sizeof code);
	return 0;
}

int
vdso_patch(uint8_t *img, size_t len)
{
	return vdso_walk(img, len, patch_one, img);
}

struct find {
	uint64_t at, entry;
	int found;
};

static int
find_one(uint64_t off, const char *name, void *arg)
{
	struct find *f = arg;

	(void)name;
	if (f->at >= off && f->at - off < VDSO_PATCH_SIZE) {
		f->entry = off;
		f->found = 1;
	}
	return 0;
}

long
vdso_trampoline_entry(const uint8_t *img, size_t len, uint64_t off)
{
	struct find f = { off, 0, 0 };

	if (vdso_walk(img, len, find_one, &f) < 0 || !f.found)
		return -1;
	return (long)f.entry;
}

int
vdso_self(const uint8_t **img, size_t *len)
{
	static const uint8_t *base;
	static size_t size;
	unsigned long lo, hi;
	char line[256];
	FILE *f;

	if (base == NULL && (f = fopen("/proc/self/maps", "re")) != NULL) {
		while (fgets(line, sizeof line, f) != NULL)
			if (strstr(line, "[vdso]") != NULL && sscanf(line, "%lx-%lx", &lo, &hi) == 2 && hi > lo) {
				base = (const uint8_t *)lo;
				size = hi - lo;
				break;
			}
		fclose(f);
	}
	if (base == NULL)
		return -1;
	*img = base;
	*len = size;
	return 0;
}
