/* timer.c - the PIT (8254) interrupts at TIMER_HZ; the TSC, calibrated once
 * against PIT channel 2, gives nanoseconds. */
#include <stdint.h>

#include "console.h"
#include "cpu.h"
#include "irq.h"
#include "timer.h"

#define PIT_HZ 1193182u
#define PIT_CH0 0x40
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PIT_GATE 0x61 /* bit 0: channel 2 gate, bit 1: speaker, bit 5: ch2 output */
#define CALIBRATE_MS 20

static uint64_t tsc_hz, tsc_base, ns_mult; /* ns = (tsc - base) * mult >> 32 */
volatile uint64_t timer_ticks;

static void timer_tick(void *arg)
{
	(void)arg;
	timer_ticks++;
}

/* Counts TSC cycles while PIT channel 2 counts down CALIBRATE_MS in one-shot
 * mode, gate on, speaker off (the classic approach; the PIT's input clock is
 * fixed by the platform). */
static uint64_t tsc_calibrate(void)
{
	uint32_t count = PIT_HZ * CALIBRATE_MS / 1000;
	outb(PIT_GATE, (inb(PIT_GATE) & ~0x02) | 0x01);
	outb(PIT_CMD, 0xb0); /* channel 2, lobyte/hibyte, mode 0, binary */
	outb(PIT_CH2, count & 0xff);
	outb(PIT_CH2, count >> 8);
	/* Reload the gate to start counting, then wait for OUT2 to go high. */
	outb(PIT_GATE, inb(PIT_GATE) & ~0x01);
	outb(PIT_GATE, inb(PIT_GATE) | 0x01);
	uint64_t t0 = rdtsc();
	uint64_t spins = 0;
	while (!(inb(PIT_GATE) & 0x20))
		if (++spins > 100000000)
			panic("timer: PIT channel 2 never finished; cannot calibrate the TSC");
	uint64_t t1 = rdtsc();
	return (t1 - t0) * 1000 / CALIBRATE_MS;
}

void timer_init(void)
{
	tsc_hz = tsc_calibrate();
	if (tsc_hz < 1000000)
		panic("timer: TSC runs at %lu Hz, too slow to use", tsc_hz);
	ns_mult = (uint64_t)(((unsigned __int128)1000000000u << 32) / tsc_hz);
	tsc_base = rdtsc();

	uint32_t div = PIT_HZ / TIMER_HZ;
	outb(PIT_CMD, 0x34); /* channel 0, lobyte/hibyte, mode 2 (rate generator) */
	outb(PIT_CH0, div & 0xff);
	outb(PIT_CH0, div >> 8);
	irq_register(0, timer_tick, 0);
}

uint64_t timer_ns(void)
{
	uint64_t t = rdtsc();
	if (!ns_mult || t < tsc_base) /* a core whose TSC lags the boot core's */
		return 0;
	return (uint64_t)(((unsigned __int128)(t - tsc_base) * ns_mult) >> 32);
}

uint32_t timer_ms(void) { return (uint32_t)(timer_ns() / 1000000u); }
uint64_t timer_tsc_hz(void) { return tsc_hz; }

void timer_udelay(uint32_t us)
{
	if (!tsc_hz) { /* before calibration: ~1 us per port read */
		for (uint32_t i = 0; i < us; i++)
			inb(0x80);
		return;
	}
	uint64_t end = rdtsc() + tsc_hz / 1000000 * us;
	while (rdtsc() < end)
		cpu_pause();
}
