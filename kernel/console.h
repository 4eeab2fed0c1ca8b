/* console.h - the node's console: COM1 serial and the screen the machine has
 * (the VGA text screen on BIOS machines, the GOP framebuffer on UEFI ones)
 * get the same lines. Safe from any context, including exception handlers;
 * it never allocates. */
#ifndef OM_CONSOLE_H
#define OM_CONSOLE_H

#include <stddef.h>

struct bootinfo;

/* Starts the serial console. Until console_attach() runs, output also goes to
 * a small buffer (the first CONSOLE_EARLY_MAX bytes) that is replayed on the
 * screens when they attach. */
void console_init(void);
/* Attaches the screens the boot path reported: the VGA text screen when
 * bi->vga_text is set, the framebuffer when bi->fb_base is. Call once, after
 * vm_init (the framebuffer is mapped through the device window). */
void console_attach(const struct bootinfo *bi);
void console_write(const char *s, size_t n);
/* printf-style into a fixed stack buffer (long lines are cut at 256 bytes). */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "panic: ..." and halts this CPU with interrupts off. */
void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Shows lines (at most CONSOLE_PANEL_MAX, each cut to the screen's width)
 * as a fixed panel at the top of the screens, above the scrolling log; the
 * serial console does not get them. Main-loop context. */
#define CONSOLE_PANEL_MAX 6
void console_panel(const char *const *lines, int n);

/* Back ends, each a private pair of the console. */
void serial_init(void);
void serial_write(const char *s, size_t n);
void vga_init(void);
void vga_write(const char *s, size_t n);
void vga_panel(const char *const *lines, int n);
/* 0 when attached; -1 (and stays silent) for a framebuffer or font it cannot
 * use. Needs vm_map_mmio. */
int fbcon_init(const struct bootinfo *bi);
void fbcon_write(const char *s, size_t n);
void fbcon_panel(const char *const *lines, int n);

#endif
