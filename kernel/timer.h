/* timer.h - time since boot. The PIT ticks at TIMER_HZ for preemption and
 * wake-ups; the TSC, calibrated against the PIT at boot, gives fine time. */
#ifndef OM_TIMER_H
#define OM_TIMER_H

#include <stdint.h>

#define TIMER_HZ 100

void timer_init(void);
uint64_t timer_ns(void); /* monotonic nanoseconds since timer_init */
uint32_t timer_ms(void); /* wraps after 49 days, as lwIP's sys_now expects */
uint64_t timer_tsc_hz(void);
void timer_udelay(uint32_t us); /* busy-waits; usable before interrupts are on */

#endif
