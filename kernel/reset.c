/* reset.c - machine reset (see reset.h). Boot services are gone under UEFI
 * too, so the ways are the hardware's own, the ones every PC firmware and
 * OS fall back on. */
#include <stdint.h>

#include "console.h"
#include "cpu.h"
#include "reset.h"
#include "timer.h"

/* Reset Control Register (Intel PIIX3/PIIX4 and ICH/PCH datasheets, I/O
 * port 0xCF9): SYS_RST selects a full (hard) reset, setting RST_CPU then
 * starts it. QEMU's PIIX3 and ICH9 both implement it. */
#define RCR_PORT 0xcf9
#define RCR_SYS_RST 0x02
#define RCR_RST_CPU 0x04

/* 8042: command 0xFE pulses output port bit 0, the CPU reset line. */
#define I8042_STATUS 0x64 /* read */
#define I8042_CMD 0x64    /* write */
#define I8042_STR_IBF 0x02
#define I8042_PULSE_RESET 0xfe

#define RESET_WAIT_US 100000

void machine_reset(void)
{
	cpu_cli();
	kprintf("leave: restarting the PC\n");
	outb(RCR_PORT, RCR_SYS_RST);
	outb(RCR_PORT, RCR_SYS_RST | RCR_RST_CPU);
	timer_udelay(RESET_WAIT_US);

	for (int i = 0; i < 100000 && (inb(I8042_STATUS) & I8042_STR_IBF); i++)
		cpu_pause();
	outb(I8042_CMD, I8042_PULSE_RESET);
	timer_udelay(RESET_WAIT_US);

	/* Triple fault (Intel SDM vol. 3A, 6.15 "Double Fault Exception"):
	 * with an empty IDT the breakpoint cannot be delivered, nor the
	 * double fault that follows, and the processor shuts down, which a
	 * PC's chipset turns into a reset. */
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} none = { 0, 0 };
	__asm__ volatile("lidt %0; int3" ::"m"(none));
	for (;;)
		cpu_hlt();
}
