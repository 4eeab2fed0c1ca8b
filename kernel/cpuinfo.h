/* cpuinfo.h - what this CPU can do (its state components: fpu.h). */
#ifndef OM_CPUINFO_H
#define OM_CPUINFO_H

#include <stdint.h>

#include "proto.h"

/* Fills vendor, model, CPUID feature leaves, the state components the
 * node keeps (fpu_xcr0: 3 without XSAVE) and core count. */
void cpuinfo_fill(struct om_cpu *cpu);
/* The same, read once (after fpu_init) and kept. */
const struct om_cpu *cpuinfo_node(void);
/* Runs a fixed integer workload for about ms milliseconds and returns a
 * score proportional to its speed (work units per millisecond). */
uint32_t cpu_speed_score(uint32_t ms);

#endif
