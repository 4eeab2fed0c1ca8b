/* i8042.c - PS/2 controller (IBM PS/2 Hardware Interface Technical
 * Reference, "Keyboard/Auxiliary Device Controller"): ports 0x60 (data) and
 * 0x64 (status / command); keyboard on IRQ 1, auxiliary device (mouse) on
 * IRQ 12. The firmware (SeaBIOS, OVMF) may leave it in any state, so it is
 * set up from scratch with its interrupts off, and only then unmasked. */
#include <stdint.h>
#include <stdio.h>

#include "cpu.h"
#include "i8042.h"
#include "irq.h"
#include "timer.h"

#define I8042_DATA 0x60
#define I8042_STATUS 0x64 /* read */
#define I8042_CMD 0x64    /* write */

#define I8042_STR_OBF 0x01  /**< Output buffer full: a byte waits at 0x60 */
#define I8042_STR_IBF 0x02  /**< Input buffer full: controller busy */
#define I8042_STR_AUXB 0x20 /**< The waiting byte is the auxiliary device's */

#define I8042_CMD_READ_CTR 0x20
#define I8042_CMD_WRITE_CTR 0x60
#define I8042_CMD_AUX_DISABLE 0xa7
#define I8042_CMD_AUX_ENABLE 0xa8
#define I8042_CMD_KBD_DISABLE 0xad
#define I8042_CMD_KBD_ENABLE 0xae
#define I8042_CMD_WRITE_AUX 0xd4

#define I8042_CTR_KBDINT 0x01 /**< Keyboard interrupt enable */
#define I8042_CTR_AUXINT 0x02 /**< Auxiliary interrupt enable */
#define I8042_CTR_KBDDIS 0x10 /**< Keyboard clock disabled */
#define I8042_CTR_AUXDIS 0x20 /**< Auxiliary clock disabled */
#define I8042_CTR_XLATE 0x40  /**< Translate the keyboard's scan codes to set 1 */

#define PS2_AUX_ENABLE_REPORTING 0xf4
#define PS2_ACK 0xfa
#define PS2_BAT_OK 0xaa

#define I8042_WAIT_MS 50
#define I8042_FLUSH_MAX 64

static volatile int i8042_seen;
static int i8042_aux;

static int wait_status(uint8_t mask, uint8_t want)
{
	for (uint32_t t = timer_ms(); timer_ms() - t < I8042_WAIT_MS;)
		if ((inb(I8042_STATUS) & mask) == want)
			return 0;
	return -1;
}

static int cmd(uint8_t c)
{
	if (wait_status(I8042_STR_IBF, 0) < 0)
		return -1;
	outb(I8042_CMD, c);
	return 0;
}

static int write_data(uint8_t v)
{
	if (wait_status(I8042_STR_IBF, 0) < 0)
		return -1;
	outb(I8042_DATA, v);
	return 0;
}

static int read_data(uint8_t *v)
{
	if (wait_status(I8042_STR_OBF, I8042_STR_OBF) < 0)
		return -1;
	*v = inb(I8042_DATA);
	return 0;
}

static void flush(void)
{
	for (int i = 0; i < I8042_FLUSH_MAX && (inb(I8042_STATUS) & I8042_STR_OBF); i++)
		(void)inb(I8042_DATA);
}

/* Scan code set 1 (translation is switched on in i8042_init): a byte below
 * 0x80 is a key going down; releases have bit 7 set, and so do the
 * keyboard's answers (ACK 0xfa, self-test 0xaa). A key held since the
 * boot menu only sends its release, so it does not count. */
static void on_kbd(void *arg)
{
	(void)arg;
	uint8_t st = inb(I8042_STATUS);
	if (!(st & I8042_STR_OBF) || (st & I8042_STR_AUXB))
		return;
	uint8_t b = inb(I8042_DATA);
	if (b != 0 && b < 0x80)
		i8042_seen = 1;
}

/* Every mouse packet is a movement or a button; its answers are not. */
static void on_aux(void *arg)
{
	(void)arg;
	uint8_t st = inb(I8042_STATUS);
	if (!(st & I8042_STR_OBF) || !(st & I8042_STR_AUXB))
		return;
	uint8_t b = inb(I8042_DATA);
	if (b != PS2_ACK && b != PS2_BAT_OK && b != 0)
		i8042_seen = 1;
}

int i8042_init(void)
{
	uint8_t ctr, ack = 0;

	/* No controller: the bus floats and the status reads all ones. */
	if (inb(I8042_STATUS) == 0xff) {
		printf("keyboard: no PS/2 controller; this node does not notice its keyboard\n");
		return -1;
	}
	if (cmd(I8042_CMD_KBD_DISABLE) < 0 || cmd(I8042_CMD_AUX_DISABLE) < 0)
		goto fail;
	flush();
	if (cmd(I8042_CMD_READ_CTR) < 0 || read_data(&ctr) < 0)
		goto fail;
	ctr &= (uint8_t)~(I8042_CTR_KBDINT | I8042_CTR_AUXINT);
	if (cmd(I8042_CMD_WRITE_CTR) < 0 || write_data(ctr) < 0)
		goto fail;
	if (cmd(I8042_CMD_KBD_ENABLE) < 0)
		goto fail;
	/* The mouse reports only once told to; its ACK is read here, with
	 * interrupts off, so that it is not taken for a movement. */
	if (cmd(I8042_CMD_AUX_ENABLE) == 0 && cmd(I8042_CMD_WRITE_AUX) == 0 &&
	    write_data(PS2_AUX_ENABLE_REPORTING) == 0 && read_data(&ack) == 0 && ack == PS2_ACK)
		i8042_aux = 1;
	flush();
	/* Set 1 whatever the firmware chose: there a release is one byte
	 * with bit 7 set, in set 2 it is 0xf0 and then the key's own code. */
	ctr |= I8042_CTR_KBDINT | I8042_CTR_XLATE | (i8042_aux ? I8042_CTR_AUXINT : 0);
	ctr &= (uint8_t)~(I8042_CTR_KBDDIS | (i8042_aux ? I8042_CTR_AUXDIS : 0));
	if (cmd(I8042_CMD_WRITE_CTR) < 0 || write_data(ctr) < 0)
		goto fail;
	irq_register(1, on_kbd, NULL);
	if (i8042_aux)
		irq_register(12, on_aux, NULL);
	printf("keyboard: watching the PS/2 keyboard%s: a key pressed sends the jobs away and restarts the PC\n",
	       i8042_aux ? " and mouse" : "");
	return 0;
fail:
	printf("keyboard: the PS/2 controller does not answer; this node does not notice its keyboard\n");
	return -1;
}

int i8042_input_seen(void)
{
	if (!i8042_seen)
		return 0;
	i8042_seen = 0;
	return 1;
}
