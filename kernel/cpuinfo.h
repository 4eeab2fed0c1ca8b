/* cpuinfo.h - what this CPU can do, and turning on the state it needs. */
#ifndef OM_CPUINFO_H
#define OM_CPUINFO_H

#include <stdint.h>

#include "proto.h"

/* Enables XSAVE and every user state component the CPU supports (x87, SSE,
 * AVX, AVX-512), so a job may use any feature the node advertises. */
void cpu_features_init(void);
/* Fills vendor, model, CPUID feature leaves, XCR0 and core count. */
void cpuinfo_fill(struct om_cpu *cpu);
/* The same, read once (after cpu_features_init) and kept. */
const struct om_cpu *cpuinfo_node(void);
/* Size in bytes of the XSAVE area for the enabled XCR0 (CPUID 0xD.0 EBX),
 * 512 when XSAVE is off. */
uint32_t cpu_xsave_size(void);
/* Runs a fixed integer workload for about ms milliseconds and returns a
 * score proportional to its speed (work units per millisecond). */
uint32_t cpu_speed_score(uint32_t ms);

#endif
