/* console.h - the node's console: COM1 serial and the VGA text screen get
 * the same lines. Safe from any context, including exception handlers; it
 * never allocates. */
#ifndef OM_CONSOLE_H
#define OM_CONSOLE_H

#include <stddef.h>

void console_init(void);
void console_write(const char *s, size_t n);
/* printf-style into a fixed stack buffer (long lines are cut at 256 bytes). */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "panic: ..." and halts this CPU with interrupts off. */
void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Back ends, each a private pair of the console. */
void serial_init(void);
void serial_write(const char *s, size_t n);
void vga_init(void);
void vga_write(const char *s, size_t n);

#endif
