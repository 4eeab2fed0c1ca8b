/* lapic.h - each core's local APIC (xAPIC, memory-mapped; SDM vol. 3,
 * ch. 11): its id, end of interrupt, inter-processor interrupts and the
 * per-core timer that preempts jobs on the other cores. Any context. */
#ifndef OM_LAPIC_H
#define OM_LAPIC_H

#include <stdint.h>

#define T_LAPIC_TIMER 48  /* the per-core tick */
#define T_IPI_KICK 49     /* a core: look at your job now */
#define T_LAPIC_SPURIOUS 255

/* Maps the registers at pa (the MADT's address) and enables the boot
 * core's APIC with the PIC still delivering through LINT0 (virtual wire). */
void lapic_init_boot(uint64_t pa);
/* Enables an application core's APIC (LINT0 masked: the PIC is the boot
 * core's) and starts its timer at TIMER_HZ. */
void lapic_init_ap(void);
uint32_t lapic_id(void);
void lapic_eoi(void);
/* INIT, then two STARTUPs at page vector (SDM vol. 3, 9.4.4.1). Returns
 * -1 when the APIC never accepted one. */
int lapic_start_ap(uint32_t apic_id, uint8_t vector);
void lapic_send(uint32_t apic_id, uint8_t vector);

#endif
