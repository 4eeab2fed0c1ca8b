/* vga.c - the VGA text screen (80x25 at physical 0xB8000), scrolling. */
#include <stdint.h>
#include <string.h>

#include "console.h"
#include "cpu.h"
#include "mm.h"

#define VGA_COLS 80
#define VGA_ROWS 25
#define VGA_ATTR 0x0700 /* light grey on black */
#define VGA_CRTC_INDEX 0x3d4
#define VGA_CRTC_DATA 0x3d5

static volatile uint16_t *vga_buf;
static int vga_row, vga_col;

void vga_init(void)
{
	vga_buf = phys_to_virt(0xb8000);
	for (int i = 0; i < VGA_COLS * VGA_ROWS; i++)
		vga_buf[i] = VGA_ATTR | ' ';
	vga_row = vga_col = 0;
}

static void vga_scroll(void)
{
	for (int i = 0; i < VGA_COLS * (VGA_ROWS - 1); i++)
		vga_buf[i] = vga_buf[i + VGA_COLS];
	for (int i = 0; i < VGA_COLS; i++)
		vga_buf[VGA_COLS * (VGA_ROWS - 1) + i] = VGA_ATTR | ' ';
	vga_row = VGA_ROWS - 1;
}

static void vga_cursor(void)
{
	uint16_t pos = (uint16_t)(vga_row * VGA_COLS + vga_col);
	outb(VGA_CRTC_INDEX, 0x0f);
	outb(VGA_CRTC_DATA, pos & 0xff);
	outb(VGA_CRTC_INDEX, 0x0e);
	outb(VGA_CRTC_DATA, pos >> 8);
}

void vga_write(const char *s, size_t n)
{
	if (!vga_buf)
		return;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '\n') {
			vga_col = 0;
			vga_row++;
		} else if (c == '\r') {
			vga_col = 0;
		} else {
			vga_buf[vga_row * VGA_COLS + vga_col] = VGA_ATTR | (uint8_t)c;
			if (++vga_col == VGA_COLS) {
				vga_col = 0;
				vga_row++;
			}
		}
		if (vga_row == VGA_ROWS)
			vga_scroll();
	}
	vga_cursor();
}
