/* fpu.c - turning on XSAVE (or living with FXSAVE), and a job's vector
 * state between the node's format and the image's (see fpu.h). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "console.h"
#include "cpu.h"
#include "fpu.h"
#include "image.h"

#define CPUID1_ECX_XSAVE (1u << 26)
#define CR4_OSXSAVE (1ULL << 18)
/* XCR0 bits: x87, SSE, AVX, AVX-512 opmask, ZMM_Hi256, Hi16_ZMM (SDM vol. 1, 13.3). */
#define XCR0_USER_STATE 0xe7ULL
#define TRAP_PATH_AREA 16384u /* kernel/trap_entry.S's save area */

/* Offsets in the legacy area (SDM vol. 1, table 10-2). */
#define LEG_FCW 0
#define LEG_FSW 2
#define LEG_FTW 4   /* abridged tag byte: 0 = every register empty */
#define LEG_FOP 6
#define LEG_FIP 8
#define LEG_FDP 16
#define LEG_MXCSR 24
#define LEG_MXCSR_MASK 28
#define LEG_ST0 32  /* ST0..ST7, 16 bytes each */
#define LEG_XMM0 160 /* XMM0..XMM15, 16 bytes each */
#define LEG_SW 464  /* 48 bytes the CPU ignores; Linux's signal frame uses them */
#define XSTATE_BV 512
#define XCOMP_BV 520

#define FCW_INIT 0x37f
#define MXCSR_INIT 0x1f80
#define MXCSR_MASK_DEFAULT 0xffbf

static int use_xsave;
static uint64_t xcr0 = FPU_XCR0_X87_SSE;
static uint32_t area_size = FPU_LEGACY_SIZE;
static uint32_t mxcsr_mask = MXCSR_MASK_DEFAULT;

static uint32_t rd32(const uint8_t *p, int off) { uint32_t v; memcpy(&v, p + off, 4); return v; }
static uint64_t rd64(const uint8_t *p, int off) { uint64_t v; memcpy(&v, p + off, 8); return v; }
static void wr16(uint8_t *p, int off, uint16_t v) { memcpy(p + off, &v, 2); }
static void wr32(uint8_t *p, int off, uint32_t v) { memcpy(p + off, &v, 4); }
static void wr64(uint8_t *p, int off, uint64_t v) { memcpy(p + off, &v, 8); }

void fpu_init(void)
{
	static uint8_t probe[FPU_LEGACY_SIZE] __attribute__((aligned(16)));
	uint32_t r[4];
	__asm__ volatile("fxsave64 %0" : "=m"(probe));
	if (rd32(probe, LEG_MXCSR_MASK))
		mxcsr_mask = rd32(probe, LEG_MXCSR_MASK);
	cpuid(1, 0, r);
	if (!(r[2] & CPUID1_ECX_XSAVE))
		return; /* FXSAVE/FXRSTOR keep x87 and SSE: all a job can use here */
	cpuid(0xd, 0, r); /* what the CPU supports; OSXSAVE is not needed to ask */
	xcr0 = (((uint64_t)r[3] << 32) | r[0]) & XCR0_USER_STATE;
	use_xsave = 1;
	fpu_init_core();
	cpuid(0xd, 0, r); /* EBX now reflects the enabled components */
	area_size = r[1];
	if (area_size > TRAP_PATH_AREA)
		panic("cpu: XSAVE area of %u bytes is larger than the trap path's", area_size);
}

void fpu_init_core(void)
{
	if (!use_xsave)
		return;
	write_cr4(read_cr4() | CR4_OSXSAVE);
	xsetbv(0, xcr0);
}

int fpu_has_xsave(void) { return use_xsave; }
uint32_t fpu_area_size(void) { return area_size; }
uint64_t fpu_xcr0(void) { return xcr0; }
uint32_t fpu_mxcsr_mask(void) { return mxcsr_mask; }

void fpu_area_init(uint8_t *area)
{
	memset(area, 0, area_size);
	wr16(area, LEG_FCW, FCW_INIT);
	wr32(area, LEG_MXCSR, MXCSR_INIT);
	if (use_xsave)
		wr64(area, XSTATE_BV, FPU_XCR0_X87_SSE);
}

void fpu_area_sanitize(uint8_t *area)
{
	wr32(area, LEG_MXCSR, rd32(area, LEG_MXCSR) & mxcsr_mask);
	memset(area + LEG_SW, 0, FPU_LEGACY_SIZE - LEG_SW);
	if (use_xsave) {
		wr64(area, XSTATE_BV, rd64(area, XSTATE_BV) & xcr0);
		memset(area + XCOMP_BV, 0, FPU_XSAVE_HDR_SIZE - 8); /* XCOMP_BV, reserved */
	}
}

/* An XSAVE area whose XSTATE_BV leaves x87 or SSE out holds them in their
 * initial configuration, whatever the legacy bytes say (SDM vol. 1,
 * 13.6): FXRSTOR has no such bit, so the bytes must say it. */
static void legacy_from_xstate_bv(uint8_t *area, uint64_t bv)
{
	if (!(bv & 1)) {
		wr16(area, LEG_FCW, FCW_INIT);
		wr16(area, LEG_FSW, 0);
		area[LEG_FTW] = 0;
		wr16(area, LEG_FOP, 0);
		wr64(area, LEG_FIP, 0);
		wr64(area, LEG_FDP, 0);
		memset(area + LEG_ST0, 0, 8 * 16);
	}
	if (!(bv & 2))
		memset(area + LEG_XMM0, 0, 16 * 16);
}

int fpu_from_image(uint8_t *area, const uint8_t *xs, uint32_t size, const char **why)
{
	static char buf[96];
	fpu_area_init(area);
	if (size == 0)
		return 0;
	uint32_t mxcsr = rd32(xs, LEG_MXCSR);
	if (mxcsr & ~mxcsr_mask) {
		snprintf(buf, sizeof buf, "MXCSR %#x has bits this CPU lacks (MXCSR_MASK %#x)", mxcsr, mxcsr_mask);
		*why = buf;
		return -1;
	}
	uint64_t bv = size >= FPU_LEGACY_SIZE + 8 ? rd64(xs, XSTATE_BV) : FPU_XCR0_X87_SSE;
	if (!use_xsave) {
		memcpy(area, xs, FPU_LEGACY_SIZE);
		legacy_from_xstate_bv(area, bv);
	} else {
		/* The standard format puts each component at the same offset on
		 * every CPU: the home's area loads once stripped of what this
		 * CPU lacks. */
		memcpy(area, xs, size < area_size ? size : area_size);
	}
	fpu_area_sanitize(area);
	return 0;
}

uint32_t fpu_to_image(const uint8_t *area, uint8_t *out, uint32_t home_size, uint64_t home_xcr0,
		      uint64_t *out_xcr0)
{
	uint32_t size = FPU_LEGACY_SIZE + FPU_XSAVE_HDR_SIZE;
	uint64_t have = xcr0;
	if (use_xsave) {
		/* Home's kernel takes an area of its own size at most: the
		 * first home_size bytes carry every component home has. */
		size = area_size;
		if (home_size >= OM_XSAVE_MIN && home_size < size)
			size = home_size;
		memcpy(out, area, size);
	} else {
		memcpy(out, area, FPU_LEGACY_SIZE);
		memset(out + FPU_LEGACY_SIZE, 0, FPU_XSAVE_HDR_SIZE);
	}
	if (home_xcr0)
		have &= home_xcr0;
	memset(out + LEG_SW, 0, FPU_LEGACY_SIZE - LEG_SW);
	wr64(out, XSTATE_BV, (use_xsave ? rd64(area, XSTATE_BV) : FPU_XCR0_X87_SSE) & have);
	memset(out + XCOMP_BV, 0, FPU_XSAVE_HDR_SIZE - 8);
	*out_xcr0 = have;
	return size;
}
