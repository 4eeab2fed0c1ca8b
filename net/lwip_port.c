/* lwip_port.c - the few services lwIP needs from the node with NO_SYS=1:
 * sys_now() for its timers, random numbers, and the assert handler. */
#include <stdint.h>

#include "lwip/sys.h"

#include "console.h"
#include "cpu.h"
#include "timer.h"

/* Milliseconds since boot; lwIP's timeouts compare with wrap-around, so the
 * 49-day wrap of timer_ms is fine. */
u32_t sys_now(void)
{
	return timer_ms();
}

/* xorshift64* over a state that absorbs the TSC on every call: the TSC alone
 * is predictable in its low bits right after boot (QEMU starts every guest
 * alike), the generator spreads whatever entropy the timing carries. Not
 * cryptographic; lwIP only needs ISNs and ports that differ between boots. */
uint32_t lwip_port_rand(void)
{
	static uint64_t s;

	s ^= rdtsc() * 0x9e3779b97f4a7c15ull;
	if (s == 0)
		s = 0x853c49e6748fea9bull;
	s ^= s >> 12;
	s ^= s << 25;
	s ^= s >> 27;
	return (uint32_t)((s * 0x2545f4914f6cdd1dull) >> 32);
}

/* A failed lwIP assert means its pools or lists are corrupt: say where and
 * stop (panic never allocates, so it works even with the heap in doubt). */
void lwip_port_assert(const char *msg, const char *file, int line)
{
	panic("lwip: assertion \"%s\" failed at %s:%d", msg, file, line);
}
