/* cpu_mask.h - what a job may use of the CPU, between home and node.
 *
 * At its entry point a static program has chosen nothing yet: its libc looks
 * at CPUID after the entry, on the node. A dynamic glibc program has: ld.so
 * resolved its IFUNCs at home. om-run therefore tells glibc, through the
 * glibc.cpu.hwcaps tunable, to leave out every feature the chosen node lacks,
 * and the image then requires only what home and node share. Whatever still
 * slips through (a library's own dispatch, code built with -march) faults on
 * the node with #UD, and the node sends the job home (docs/man/om-run.1). */
#ifndef OM_CPU_MASK_H
#define OM_CPU_MASK_H

#include <stddef.h>

#include "proto.h"

/* The x86-64 baseline every node has (what om-run asks the agent for). */
void cpu_mask_baseline(struct om_cpu *c);
/* The features both have: a with everything b lacks cleared. */
void cpu_mask_common(struct om_cpu *out, const struct om_cpu *a, const struct om_cpu *b);
/* "glibc.cpu.hwcaps=-AVX512F,-AVX2,...,-XSAVEC" for what home has and the
 * node lacks (XSAVEC always, AVX_Fast_Unaligned_Load with AVX2, XSAVE for a
 * node without it: see cpu_mask.c). Returns the length, or -1 if
 * out is too small. */
int cpu_mask_tunable(const struct om_cpu *home, const struct om_cpu *node, char *out, size_t len);
/* 1 if the ELF file at path has a PT_INTERP (a dynamic program), 0 if not
 * or unreadable (then it is treated as static: nothing chosen at home). */
int cpu_mask_is_dynamic(const char *path);

#endif
