/* pic.c - the two cascaded 8259A PICs: ISA IRQs 0-15 on vectors 32-47.
 * The firmware leaves PCI INTx routed through them and programs each
 * device's interrupt line register to match. */
#include <stdint.h>

#include "console.h"
#include "cpu.h"
#include "irq.h"
#include "trap.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1
#define PIC_EOI 0x20
#define PIC_READ_ISR 0x0b
#define IRQ_HANDLERS_PER_LINE 4

struct irq_slot {
	irq_handler_fn fn;
	void *arg;
};

volatile int irq_work_pending;
static struct irq_slot irq_table[16][IRQ_HANDLERS_PER_LINE];
static uint16_t irq_mask = 0xffff & ~(1u << 2); /* cascade line stays open */

static void pic_write_mask(void)
{
	outb(PIC1_DATA, irq_mask & 0xff);
	outb(PIC2_DATA, irq_mask >> 8);
}

void pic_init(void)
{
	/* ICW1-4 (8259A datasheet): edge triggered, cascade, 8086 mode. */
	outb(PIC1_CMD, 0x11);
	outb(PIC2_CMD, 0x11);
	outb(PIC1_DATA, T_PIC_BASE);
	outb(PIC2_DATA, T_PIC_BASE + 8);
	outb(PIC1_DATA, 1 << 2); /* slave on IRQ2 */
	outb(PIC2_DATA, 2);      /* slave identity */
	outb(PIC1_DATA, 0x01);
	outb(PIC2_DATA, 0x01);
	pic_write_mask();
}

int irq_register(int irq, irq_handler_fn fn, void *arg)
{
	if (irq < 0 || irq > 15 || irq == 2 || !fn)
		return -1;
	for (int i = 0; i < IRQ_HANDLERS_PER_LINE; i++) {
		if (!irq_table[irq][i].fn) {
			irq_table[irq][i] = (struct irq_slot){ fn, arg };
			irq_mask &= ~(1u << irq);
			pic_write_mask();
			return 0;
		}
	}
	return -1;
}

/* IRQ 7 and 15 also arrive spuriously; the in-service register tells. */
static int pic_spurious(int irq)
{
	uint16_t cmd = irq == 7 ? PIC1_CMD : PIC2_CMD;
	outb(cmd, PIC_READ_ISR);
	if (inb(cmd) & 0x80)
		return 0;
	if (irq == 15)
		outb(PIC1_CMD, PIC_EOI); /* the master did see the cascade */
	return 1;
}

void pic_dispatch(int irq)
{
	if ((irq == 7 || irq == 15) && pic_spurious(irq))
		return;
	for (int i = 0; i < IRQ_HANDLERS_PER_LINE && irq_table[irq][i].fn; i++)
		irq_table[irq][i].fn(irq_table[irq][i].arg);
	irq_work_pending = 1;
	if (irq >= 8)
		outb(PIC2_CMD, PIC_EOI);
	outb(PIC1_CMD, PIC_EOI);
}
