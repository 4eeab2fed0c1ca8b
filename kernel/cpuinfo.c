/* cpuinfo.c - CPUID and the boot-time speed score. */
#include <stdint.h>
#include <string.h>

#include "console.h"
#include "cpu.h"
#include "cpu_describe.h"
#include "cpuinfo.h"
#include "fpu.h"
#include "percpu.h"
#include "timer.h"

static void cpuinfo_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	cpuid(leaf, sub, r);
}

void cpuinfo_fill(struct om_cpu *cpu)
{
	om_cpu_describe(cpu, cpuinfo_cpuid, fpu_xcr0());
}

const struct om_cpu *cpuinfo_node(void)
{
	static struct om_cpu node;
	static int known;
	if (!known) {
		cpuinfo_fill(&node);
		known = 1;
	}
	node.cores = (uint16_t)ncpus; /* the cores running, once smp_start is done */
	return &node;
}

/* xorshift plus a multiply and a data-dependent branch: integer ALU and
 * branch work that no compiler can fold away. */
static uint64_t speed_kernel(uint64_t x, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		x = x * 0x9e3779b97f4a7c15ULL + (x & 1 ? 3 : 5);
	}
	return x;
}

uint32_t cpu_speed_score(uint32_t ms)
{
	const uint32_t chunk = 1000;
	volatile uint64_t sink = 0;
	uint64_t units = 0, start = timer_ns(), end = start + (uint64_t)ms * 1000000u;
	uint64_t x = 0x243f6a8885a308d3ULL;
	while (timer_ns() < end) {
		x = speed_kernel(x, chunk);
		units++;
	}
	sink = x;
	(void)sink;
	uint64_t elapsed_us = (timer_ns() - start) / 1000u;
	return elapsed_us ? (uint32_t)(units * 1000u * 1000u / elapsed_us / 1000u) : 0;
}
