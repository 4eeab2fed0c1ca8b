/* klock.c - a ticket lock: cores get the kernel in the order they asked. */
#include <stdint.h>

#include "cpu.h"
#include "klock.h"

static uint32_t next_ticket, now_serving;

void klock(void)
{
	uint32_t t = __atomic_fetch_add(&next_ticket, 1, __ATOMIC_RELAXED);
	while (__atomic_load_n(&now_serving, __ATOMIC_ACQUIRE) != t)
		cpu_pause();
}

void kunlock(void)
{
	__atomic_store_n(&now_serving, now_serving + 1, __ATOMIC_RELEASE);
}
