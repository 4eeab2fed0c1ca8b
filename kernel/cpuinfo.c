/* cpuinfo.c - CPUID, XSAVE set-up and the boot-time speed score. */
#include <stdint.h>
#include <string.h>

#include "console.h"
#include "cpu.h"
#include "cpuinfo.h"
#include "timer.h"

#define CPUID1_ECX_XSAVE (1u << 26)
#define CR4_OSXSAVE (1ULL << 18)
/* XCR0 bits: x87, SSE, AVX, AVX-512 opmask, ZMM_Hi256, Hi16_ZMM (SDM vol. 1, 13.3). */
#define XCR0_USER_STATE 0xe7ULL

static uint64_t cpu_xcr0;
static uint32_t cpu_xsave_bytes = 512;

void cpu_features_init(void)
{
	uint32_t r[4];
	cpuid(1, 0, r);
	if (!(r[2] & CPUID1_ECX_XSAVE))
		return;
	write_cr4(read_cr4() | CR4_OSXSAVE);
	cpuid(0xd, 0, r);
	cpu_xcr0 = (((uint64_t)r[3] << 32) | r[0]) & XCR0_USER_STATE;
	xsetbv(0, cpu_xcr0);
	cpuid(0xd, 0, r); /* EBX now reflects the enabled components */
	cpu_xsave_bytes = r[1];
}

uint32_t cpu_xsave_size(void) { return cpu_xsave_bytes; }

void cpuinfo_fill(struct om_cpu *cpu)
{
	uint32_t r[4], max, maxext;
	memset(cpu, 0, sizeof *cpu);

	cpuid(0, 0, r);
	max = r[0];
	memcpy(cpu->vendor, &r[1], 4);
	memcpy(cpu->vendor + 4, &r[3], 4);
	memcpy(cpu->vendor + 8, &r[2], 4);

	cpuid(1, 0, r);
	uint32_t fam = (r[0] >> 8) & 0xf, model = (r[0] >> 4) & 0xf;
	if (fam == 0xf)
		fam += (r[0] >> 20) & 0xff;
	if (fam == 0x6 || fam >= 0xf)
		model |= ((r[0] >> 16) & 0xf) << 4;
	cpu->family = fam;
	cpu->model_id = model;
	cpu->stepping = r[0] & 0xf;
	cpu->leaf1_ecx = r[2];
	cpu->leaf1_edx = r[3];
	if (max >= 7) {
		cpuid(7, 0, r);
		cpu->leaf7_ebx = r[1];
		cpu->leaf7_ecx = r[2];
		cpu->leaf7_edx = r[3];
	}
	cpu->xcr0 = cpu_xcr0;

	cpuid(0x80000000, 0, r);
	maxext = r[0];
	if (maxext >= 0x80000004) {
		for (uint32_t i = 0; i < 3; i++) {
			cpuid(0x80000002 + i, 0, r);
			memcpy(cpu->model + 16 * i, r, 16);
		}
		/* Brand strings are padded with leading spaces on some parts. */
		char *m = cpu->model;
		while (*m == ' ')
			m++;
		memmove(cpu->model, m, strlen(m) + 1);
	}
	cpu->cores = 1; /* one job core until SMP bring-up exists */
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
