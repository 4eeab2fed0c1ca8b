/* vga.c - the VGA text screen (80x25 at physical 0xB8000): a fixed status
 * panel at the top (console_panel) and the log scrolling below it. */
#include <stdint.h>
#include <string.h>

#include "console.h"
#include "cpu.h"
#include "mm.h"

#define VGA_COLS 80
#define VGA_ROWS 25
#define VGA_ATTR 0x0700       /* light grey on black: the log */
#define VGA_PANEL_ATTR 0x1f00 /* bright white on blue: the panel */
#define VGA_RULE_ATTR 0x0100  /* blue on black: the line under it */
#define VGA_CRTC_INDEX 0x3d4
#define VGA_CRTC_DATA 0x3d5

static volatile uint16_t *vga_buf;
static int vga_row, vga_col;
static int vga_top; /* first row of the log; rows above belong to the panel */

void vga_init(void)
{
	vga_buf = phys_to_virt(0xb8000);
	for (int i = 0; i < VGA_COLS * VGA_ROWS; i++)
		vga_buf[i] = VGA_ATTR | ' ';
	vga_row = vga_col = vga_top = 0;
}

static void vga_scroll(void)
{
	for (int i = VGA_COLS * vga_top; i < VGA_COLS * (VGA_ROWS - 1); i++)
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

void vga_panel(const char *const *lines, int n)
{
	if (!vga_buf || n < 0 || n + 2 > VGA_ROWS)
		return;
	int shift = n + 1 - vga_top;
	if (shift > 0) {
		/* Make room: the log moves down before the panel covers its top,
		 * losing its oldest lines only if the screen is full. */
		while (vga_row + shift >= VGA_ROWS) {
			vga_scroll();
			vga_row--;
		}
		for (int r = vga_row; r >= vga_top; r--)
			for (int c = 0; c < VGA_COLS; c++)
				vga_buf[(r + shift) * VGA_COLS + c] = vga_buf[r * VGA_COLS + c];
		vga_row += shift;
	}
	for (int r = 0; r < n; r++) {
		size_t len = strlen(lines[r]);
		for (int c = 0; c < VGA_COLS; c++)
			vga_buf[r * VGA_COLS + c] = VGA_PANEL_ATTR | (uint8_t)((size_t)c < len ? lines[r][c] : ' ');
	}
	for (int c = 0; c < VGA_COLS; c++) /* CP437 0xC4: a horizontal rule */
		vga_buf[n * VGA_COLS + c] = VGA_RULE_ATTR | 0xc4;
	vga_top = n + 1;
	if (vga_row < vga_top) {
		vga_row = vga_top;
		vga_col = 0;
	}
}
