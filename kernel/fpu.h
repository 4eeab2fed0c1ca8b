/* fpu.h - a job's x87/SSE/AVX state as the node keeps it: the XSAVE
 * standard format where the CPU has XSAVE, the 512-byte FXSAVE area where it
 * has not (every x86-64 CPU has x87 and SSE; pre-2011 lab PCs have no
 * XSAVE). Images carry the XSAVE standard format either way; this file
 * converts. Layouts: Intel SDM vol. 1, 10.5.1 (FXSAVE) and 13.4 (XSAVE).
 * Main-loop context, after fpu_init. */
#ifndef OM_FPU_H
#define OM_FPU_H

#include <stdint.h>

#define FPU_LEGACY_SIZE 512u    /* the FXSAVE area, also XSAVE's first part */
#define FPU_XSAVE_HDR_SIZE 64u  /* XSAVE header after it: XSTATE_BV, XCOMP_BV */
#define FPU_XCR0_X87_SSE 3u

/* Turns on XSAVE with every user state component the CPU has (x87, SSE,
 * AVX, AVX-512), or notes that the CPU has FXSAVE only; reads MXCSR_MASK. */
void fpu_init(void);
/* The same state on another core, once fpu_init has run on the first. */
void fpu_init_core(void);
/* 1 if jobs' state is kept with XSAVE, 0 if with FXSAVE. */
int fpu_has_xsave(void);
/* Bytes of a job's area: CPUID 0xD.0 EBX for the enabled XCR0, or 512. */
uint32_t fpu_area_size(void);
/* The state components the node keeps for a job: XCR0, or x87|SSE (3)
 * without XSAVE. What HELLO reports as the node's xcr0. */
uint64_t fpu_xcr0(void);
/* The MXCSR bits this CPU accepts (SDM vol. 1, 11.6.6: 0xffbf if the
 * FXSAVE area says 0). A value outside them makes (F)XRSTOR fault. */
uint32_t fpu_mxcsr_mask(void);

/* Puts area in the initial state a new program has (FCW 0x37f, MXCSR 0x1f80). */
void fpu_area_init(uint8_t *area);
/* Makes state a program wrote (its signal frame, on sigreturn) safe to
 * restore: MXCSR reduced to the CPU's bits, as Linux does, only components
 * the CPU has, standard format, software bytes cleared. */
void fpu_area_sanitize(uint8_t *area);

/* Loads an image's XSAVE standard-format area (size bytes, 0 for none:
 * the initial state) into area. Returns 0, or -1 with *why set when the
 * image's MXCSR has bits this CPU lacks (restoring it would fault). */
int fpu_from_image(uint8_t *area, const uint8_t *xs, uint32_t size, const char **why);
/* Writes area out in the XSAVE standard format for an image going to a
 * home whose area is home_size bytes with components home_xcr0 (0, 0:
 * not known, keep ours). Returns the size written (at least 576) and sets
 * *xcr0 to the components it describes. out holds OM_XSAVE_MAX bytes. */
uint32_t fpu_to_image(const uint8_t *area, uint8_t *out, uint32_t home_size, uint64_t home_xcr0,
		      uint64_t *xcr0);

#endif
