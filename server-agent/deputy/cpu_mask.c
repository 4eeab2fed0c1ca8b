/* cpu_mask.c - CPU feature sets for placement and for glibc's tunables. */
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cpu_mask.h"

/* CPUID.1:EDX FPU TSC CX8 CMOV MMX FXSR SSE SSE2: x86-64's baseline. */
#define BASE_L1EDX ((1u << 0) | (1u << 4) | (1u << 8) | (1u << 15) | (1u << 23) | (1u << 24) | \
		    (1u << 25) | (1u << 26))
#define XCR0_X87_SSE 3u

/* glibc's names (sysdeps/x86 cpu features) for the CPUID bits its string,
 * memory and math functions dispatch on. */
struct hwcap {
	const char *name;
	int leaf;      /* 1: leaf 1, 7: leaf 7 */
	int reg;       /* 'b', 'c', 'd' */
	int bit;
};

static const struct hwcap hwcaps[] = {
	{ "SSE3", 1, 'c', 0 },      { "SSSE3", 1, 'c', 9 },     { "FMA", 1, 'c', 12 },
	{ "SSE4_1", 1, 'c', 19 },   { "SSE4_2", 1, 'c', 20 },   { "MOVBE", 1, 'c', 22 },
	{ "POPCNT", 1, 'c', 23 },   { "AVX", 1, 'c', 28 },      { "F16C", 1, 'c', 29 },
	{ "BMI1", 7, 'b', 3 },      { "AVX2", 7, 'b', 5 },      { "BMI2", 7, 'b', 8 },
	{ "ERMS", 7, 'b', 9 },      { "RTM", 7, 'b', 11 },      { "AVX512F", 7, 'b', 16 },
	{ "AVX512DQ", 7, 'b', 17 }, { "AVX512IFMA", 7, 'b', 21 }, { "AVX512PF", 7, 'b', 26 },
	{ "AVX512ER", 7, 'b', 27 }, { "AVX512CD", 7, 'b', 28 }, { "AVX512BW", 7, 'b', 30 },
	{ "AVX512VL", 7, 'b', 31 }, { "AVX512_VBMI", 7, 'c', 1 }, { "AVX512_VBMI2", 7, 'c', 6 },
	{ "VAES", 7, 'c', 9 },      { "VPCLMULQDQ", 7, 'c', 10 }, { "AVX512_VNNI", 7, 'c', 11 },
	{ "AVX512_BITALG", 7, 'c', 12 }, { "AVX512_VPOPCNTDQ", 7, 'c', 14 }, { "FSRM", 7, 'd', 4 },
	{ "AVX512_VP2INTERSECT", 7, 'd', 8 }, { "AVX512_FP16", 7, 'd', 23 },
	/* Not a code path of its own: without it (and XSAVEC, below) glibc
	 * 2.34+ also drops every AVX feature and saves the vector registers
	 * in ld.so's lazy-binding trampoline with FXSAVE (BZ #27605). */
	{ "XSAVE", 1, 'c', 26 },
	/* A preference glibc sets with AVX2 and does not drop with it:
	 * memmove's AVX code is picked by it alone. */
	{ "AVX_Fast_Unaligned_Load", 7, 'b', 5 },
};

static uint32_t reg_of(const struct om_cpu *c, int leaf, int reg)
{
	if (leaf == 1)
		return reg == 'c' ? c->leaf1_ecx : c->leaf1_edx;
	return reg == 'b' ? c->leaf7_ebx : reg == 'c' ? c->leaf7_ecx : c->leaf7_edx;
}

void cpu_mask_baseline(struct om_cpu *c)
{
	struct om_cpu keep = *c;
	memset(c, 0, sizeof *c);
	memcpy(c->vendor, keep.vendor, sizeof c->vendor);
	memcpy(c->model, keep.model, sizeof c->model);
	c->family = keep.family, c->model_id = keep.model_id, c->stepping = keep.stepping;
	c->leaf1_edx = keep.leaf1_edx & BASE_L1EDX;
	c->xcr0 = keep.xcr0 & XCR0_X87_SSE;
	c->cores = 1;
}

void cpu_mask_common(struct om_cpu *out, const struct om_cpu *a, const struct om_cpu *b)
{
	*out = *a;
	out->leaf1_ecx &= b->leaf1_ecx;
	out->leaf1_edx &= b->leaf1_edx;
	out->leaf7_ebx &= b->leaf7_ebx;
	out->leaf7_ecx &= b->leaf7_ecx;
	out->leaf7_edx &= b->leaf7_edx;
	out->xcr0 &= b->xcr0;
}

int cpu_mask_tunable(const struct om_cpu *home, const struct om_cpu *node, char *out, size_t len)
{
	size_t n = 0;
	if (len == 0)
		return -1;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof hwcaps / sizeof hwcaps[0]; i++) {
		const struct hwcap *h = &hwcaps[i];
		uint32_t bit = 1u << h->bit;
		if (!(reg_of(home, h->leaf, h->reg) & bit) || (reg_of(node, h->leaf, h->reg) & bit))
			continue;
		int k = snprintf(out + n, len - n, "%s-%s", n ? "," : "glibc.cpu.hwcaps=", h->name);
		if (k < 0 || (size_t)k >= len - n)
			return -1;
		n += (size_t)k;
	}
	/* ld.so's lazy-binding trampoline saves the vector registers with
	 * XSAVEC where home has it; om_cpu does not describe CPUID leaf 0xD,
	 * so the node may lack it: XSAVE, which every node with AVX has, does
	 * the same job (and a node without XSAVE gets FXSAVE, above). */
	int k = snprintf(out + n, len - n, "%s-XSAVEC", n ? "," : "glibc.cpu.hwcaps=");
	if (k < 0 || (size_t)k >= len - n)
		return -1;
	n += (size_t)k;
	return (int)n;
}

int cpu_mask_is_dynamic(const char *path)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	int fd = open(path, O_RDONLY | O_CLOEXEC), dyn = 0;
	if (fd < 0)
		return 0;
	if (pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh && !memcmp(eh.e_ident, ELFMAG, SELFMAG) &&
	    eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phentsize == sizeof ph && eh.e_phnum < 256) {
		for (int i = 0; i < eh.e_phnum && !dyn; i++)
			if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + (uint64_t)i * sizeof ph)) ==
				    (ssize_t)sizeof ph &&
			    ph.p_type == PT_INTERP)
				dyn = 1;
	}
	close(fd);
	return dyn;
}
