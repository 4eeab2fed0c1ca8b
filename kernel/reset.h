/* reset.h - restarting the PC, so that its firmware boots again (PXE, the
 * boot menu, its default entry). */
#ifndef OM_RESET_H
#define OM_RESET_H

/* Resets the machine. Tries, in order, the chipset's reset control
 * register, the keyboard controller's reset line and a triple fault. */
void __attribute__((noreturn)) machine_reset(void);

#endif
