/* i8042.h - the PS/2 keyboard and mouse controller, watched for one thing:
 * someone is at the node's own keyboard or mouse (kernel/leave.c).
 *
 * The node reads no text from it: any key pressed or mouse movement counts.
 * PCs without a legacy controller (USB only, no legacy emulation) are not
 * watched; i8042_init says so. */
#ifndef OM_I8042_H
#define OM_I8042_H

/* Sets the controller up (keyboard, and the mouse when it answers) and
 * unmasks IRQ 1 and 12. Returns 0, or -1 when there is no controller.
 * Interrupts on; once, at boot. */
int i8042_init(void);
/* Whether a key was pressed or the mouse moved since the last call.
 * Main-loop context. */
int i8042_input_seen(void);

#endif
