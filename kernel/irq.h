/* irq.h - hardware interrupt lines (legacy PIC, ISA IRQ 0-15).
 *
 * Handlers run in interrupt context with interrupts off: they must only
 * acknowledge the device and record work for the main loop, never enter lwIP. */
#ifndef OM_IRQ_H
#define OM_IRQ_H

typedef void (*irq_handler_fn)(void *arg);

/* Installs fn for line irq (0-15) and unmasks it. Shared lines are allowed:
 * every handler registered on a line runs. Returns 0, or -1 if irq is out of
 * range or the table is full. */
int irq_register(int irq, irq_handler_fn fn, void *arg);

/* Set by any IRQ; the main loop clears it before polling devices. */
extern volatile int irq_work_pending;

#endif
