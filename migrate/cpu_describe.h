/* cpu_describe.h - a struct om_cpu from CPUID, one decoder for the node
 * kernel and the home side (each brings its own way to run CPUID). */
#ifndef OM_CPU_DESCRIBE_H
#define OM_CPU_DESCRIBE_H

#include <stdint.h>

#include "proto.h"

/* Runs CPUID leaf/sub-leaf: r = EAX, EBX, ECX, EDX. */
typedef void om_cpuid_fn(uint32_t leaf, uint32_t sub, uint32_t r[4]);

/* Vendor, brand (leading spaces dropped, anything not printable ASCII
 * shown as '?', as the wire wants it), family/model/stepping, CPUID
 * leaves 1 and 7, the given XCR0, and one core. */
void om_cpu_describe(struct om_cpu *c, om_cpuid_fn *cpuid, uint64_t xcr0);

#endif
