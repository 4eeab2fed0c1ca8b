/* lapic.c - the local APIC, xAPIC mode (SDM vol. 3, 11.4-11.6). */
#include <stdint.h>

#include "console.h"
#include "cpu.h"
#include "lapic.h"
#include "mm.h"
#include "timer.h"

#define LAPIC_ID 0x20
#define LAPIC_EOI 0x0b0
#define LAPIC_SVR 0x0f0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_COUNT 0x390
#define LAPIC_TIMER_DIV 0x3e0

#define SVR_ENABLE 0x100
#define LVT_MASKED 0x10000
#define LVT_EXTINT 0x700
#define LVT_NMI 0x400
#define TIMER_PERIODIC 0x20000
#define ICR_INIT 0x500
#define ICR_STARTUP 0x600
#define ICR_LEVEL_ASSERT 0x4000
#define ICR_PENDING 0x1000
#define CALIBRATE_US 10000

static volatile uint8_t *regs;
static uint32_t ticks_per_period; /* the timer's count for 1 / TIMER_HZ s */

static uint32_t rd(uint32_t r) { return mmio_read32(regs + r); }
static void wr(uint32_t r, uint32_t v) { mmio_write32(regs + r, v); }

static void enable(int boot)
{
	wr(LAPIC_SVR, SVR_ENABLE | T_LAPIC_SPURIOUS);
	wr(LAPIC_LVT_LINT0, boot ? LVT_EXTINT : LVT_MASKED);
	wr(LAPIC_LVT_LINT1, LVT_NMI);
}

void lapic_init_boot(uint64_t pa)
{
	regs = vm_map_mmio(pa, 4096);
	enable(1);
	/* The timer's rate, once: it counts the bus clock / 16 on every core. */
	wr(LAPIC_LVT_TIMER, LVT_MASKED | T_LAPIC_TIMER);
	wr(LAPIC_TIMER_DIV, 0x3);
	wr(LAPIC_TIMER_INIT, 0xffffffffu);
	timer_udelay(CALIBRATE_US);
	uint32_t counted = 0xffffffffu - rd(LAPIC_TIMER_COUNT);
	wr(LAPIC_TIMER_INIT, 0);
	ticks_per_period = (uint32_t)((uint64_t)counted * (1000000 / CALIBRATE_US) / TIMER_HZ);
	if (ticks_per_period == 0)
		ticks_per_period = 1;
}

void lapic_init_ap(void)
{
	enable(0);
	wr(LAPIC_TIMER_DIV, 0x3);
	wr(LAPIC_LVT_TIMER, TIMER_PERIODIC | T_LAPIC_TIMER);
	wr(LAPIC_TIMER_INIT, ticks_per_period);
}

uint32_t lapic_id(void) { return rd(LAPIC_ID) >> 24; }
void lapic_eoi(void) { wr(LAPIC_EOI, 0); }

static int icr_send(uint32_t apic_id, uint32_t lo)
{
	wr(LAPIC_ICR_HI, apic_id << 24);
	wr(LAPIC_ICR_LO, lo);
	for (int i = 0; i < 100000; i++) {
		if (!(rd(LAPIC_ICR_LO) & ICR_PENDING))
			return 0;
		cpu_pause();
	}
	return -1;
}

int lapic_start_ap(uint32_t apic_id, uint8_t vector)
{
	if (icr_send(apic_id, ICR_INIT | ICR_LEVEL_ASSERT) < 0)
		return -1;
	timer_udelay(10000);
	for (int i = 0; i < 2; i++) {
		if (icr_send(apic_id, ICR_STARTUP | vector) < 0)
			return -1;
		timer_udelay(200);
	}
	return 0;
}

void lapic_send(uint32_t apic_id, uint8_t vector)
{
	/* Only kernel-lock holders send, never interrupt handlers: nobody
	 * writes this core's ICR between our two writes. */
	icr_send(apic_id, vector);
}
