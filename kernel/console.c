/* console.c - fans console output out to the serial port and the screen. */
#include <stdarg.h>
#include <stdio.h>

#include "console.h"
#include "cpu.h"

static int console_ready;

void console_init(void)
{
	if (console_ready)
		return;
	serial_init();
	vga_init();
	console_ready = 1;
}

void console_write(const char *s, size_t n)
{
	serial_write(s, n);
	vga_write(s, n);
}

static void console_vprintf(const char *fmt, va_list ap)
{
	char buf[256];
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	if (n < 0)
		return;
	console_write(buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	console_vprintf(fmt, ap);
	va_end(ap);
}

void panic(const char *fmt, ...)
{
	va_list ap;
	cpu_cli();
	console_write("panic: ", 7);
	va_start(ap, fmt);
	console_vprintf(fmt, ap);
	va_end(ap);
	console_write("\n", 1);
	for (;;)
		cpu_hlt();
}
