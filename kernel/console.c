/* console.c - fans console output out to the serial port and the screens.
 * The screens attach only once the boot path has said which exist: writing
 * to 0xB8000 on a UEFI machine without VGA text hits whatever is there. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bootinfo.h"
#include "console.h"
#include "cpu.h"

#define CONSOLE_EARLY_MAX 2048

static int console_ready, console_attached;
static int console_vga, console_fb;
static char early[CONSOLE_EARLY_MAX];
static size_t early_len;

void console_init(void)
{
	if (console_ready)
		return;
	serial_init();
	console_ready = 1;
}

static void console_screens(const char *s, size_t n)
{
	if (console_vga)
		vga_write(s, n);
	if (console_fb)
		fbcon_write(s, n);
}

void console_attach(const struct bootinfo *bi)
{
	if (console_attached)
		return;
	if (bi->vga_text) {
		vga_init();
		console_vga = 1;
	}
	if (bi->fb_base && fbcon_init(bi) == 0)
		console_fb = 1;
	console_attached = 1;
	console_screens(early, early_len); /* serial has had these already */
	if (console_fb)
		kprintf("console: framebuffer %ux%u at %#lx\n", bi->fb_width, bi->fb_height,
			(unsigned long)bi->fb_base);
	else if (bi->fb_base)
		kprintf("console: framebuffer %ux%u at %#lx not usable (font or geometry); serial only\n",
			bi->fb_width, bi->fb_height, (unsigned long)bi->fb_base);
}

void console_panel(const char *const *lines, int n)
{
	if (n > CONSOLE_PANEL_MAX)
		n = CONSOLE_PANEL_MAX;
	if (console_vga)
		vga_panel(lines, n);
	if (console_fb)
		fbcon_panel(lines, n);
}

void console_write(const char *s, size_t n)
{
	if (!console_attached) {
		serial_write(s, n);
		size_t room = sizeof early - early_len;
		if (n > room)
			n = room;
		memcpy(early + early_len, s, n);
		early_len += n;
		return;
	}
	serial_write(s, n);
	console_screens(s, n);
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
