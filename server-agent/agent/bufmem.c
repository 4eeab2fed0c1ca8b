/* bufmem.c - the cap on the agent's buffer memory (see bufmem.h). */
#include <stdio.h>

#include "bufmem.h"
#include "log.h"

static uint32_t bm_mib = BUFMEM_DEFAULT_MIB;
static size_t bm_used;
static char bm_name[48];

void
bufmem_set_cap_mib(uint32_t mib)
{
	bm_mib = mib;
	bm_name[0] = '\0';
}

uint32_t
bufmem_cap_mib(void)
{
	return bm_mib;
}

int
bufmem_fits(size_t n)
{
	size_t cap = (size_t)bm_mib << 20;

	return bm_used <= cap && n <= cap - bm_used;
}

int
bufmem_take(size_t n)
{
	if (!bufmem_fits(n))
		return -1;
	bm_used += n;
	return 0;
}

void
bufmem_give(size_t n)
{
	if (n > bm_used)
		fatalx("bufmem: %zu bytes given back, %zu counted", n, bm_used);
	bm_used -= n;
}

size_t
bufmem_used(void)
{
	return bm_used;
}

const char *
bufmem_cap_name(void)
{
	if (bm_name[0] == '\0')
		snprintf(bm_name, sizeof bm_name, "buffer memory (buffer_mib %u)", bm_mib);
	return bm_name;
}
