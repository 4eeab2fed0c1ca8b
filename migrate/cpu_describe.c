/* cpu_describe.c - CPUID into struct om_cpu (Intel SDM vol. 2A, CPUID). */
#include <string.h>

#include "cpu_describe.h"

static void printable(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

void om_cpu_describe(struct om_cpu *c, om_cpuid_fn *cpuid, uint64_t xcr0)
{
	uint32_t r[4], max;

	memset(c, 0, sizeof *c);
	cpuid(0, 0, r);
	max = r[0];
	memcpy(c->vendor, &r[1], 4);
	memcpy(c->vendor + 4, &r[3], 4);
	memcpy(c->vendor + 8, &r[2], 4);
	printable(c->vendor);

	cpuid(1, 0, r);
	uint32_t fam = (r[0] >> 8) & 0xf, model = (r[0] >> 4) & 0xf;
	if (fam == 0xf)
		fam += (r[0] >> 20) & 0xff;
	if (fam == 0x6 || fam >= 0xf)
		model |= ((r[0] >> 16) & 0xf) << 4;
	c->family = fam;
	c->model_id = model;
	c->stepping = r[0] & 0xf;
	c->leaf1_ecx = r[2];
	c->leaf1_edx = r[3];
	if (max >= 7) {
		cpuid(7, 0, r);
		c->leaf7_ebx = r[1];
		c->leaf7_ecx = r[2];
		c->leaf7_edx = r[3];
	}
	c->xcr0 = xcr0;

	cpuid(0x80000000, 0, r);
	if (r[0] >= 0x80000004) {
		for (uint32_t i = 0; i < 3; i++) {
			cpuid(0x80000002 + i, 0, r);
			memcpy(c->model + 16 * i, r, 16);
		}
		/* Brand strings are padded with leading spaces on some parts. */
		char *m = c->model;
		while (*m == ' ')
			m++;
		memmove(c->model, m, strlen(m) + 1);
		printable(c->model);
	}
	c->cores = 1; /* the node kernel says how many of its cores run */
}
