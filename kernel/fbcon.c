/* fbcon.c - text console on a linear 32-bpp framebuffer (UEFI GOP), drawn
 * with a PSF bitmap font that the build takes from Debian's psf-unifont.
 *
 * The screen's characters are kept in a shadow array: scrolling redraws only
 * the cells whose character changed, and the framebuffer (mapped uncached
 * through the device window) is only ever written, never read back. */
#include <stdint.h>
#include <string.h>

#include "bootinfo.h"
#include "console.h"
#include "mm.h"

#define FBCON_MAX_COLS 256
#define FBCON_MAX_ROWS 128
#define FBCON_MAX_BYTES (256UL << 20) /* a larger framebuffer is not believed */
#define FBCON_FG 0x00aaaaaa /* light grey: the same in RGB and BGR order, so
                              * bi->fb_bgr does not matter for these two */
#define FBCON_BG 0x00000000
/* The panel: white on a blue that reads the same in RGB and BGR order. */
#define FBCON_PANEL_FG 0x00ffffff
#define FBCON_PANEL_BG 0x00300030

/* PSF1 and PSF2 as kbd's font-formats documentation describes them. */
#define PSF1_MAGIC 0x0436 /* bytes 36 04 */
#define PSF1_MODE512 0x01
#define PSF1_MODEHASTAB 0x02
#define PSF1_MODESEQ 0x04
#define PSF1_SEPARATOR 0xffff
#define PSF1_STARTSEQ 0xfffe
#define PSF2_MAGIC 0x864ab572
#define PSF2_HAS_UNICODE_TABLE 0x01
#define PSF2_SEPARATOR 0xff
#define PSF2_STARTSEQ 0xfe

struct psf2_header {
	uint32_t magic, version, headersize, flags;
	uint32_t length, charsize, height, width;
};

/* The font file, linked in by the Makefile (objcopy -I binary). */
extern const uint8_t fbcon_font_psf[], fbcon_font_psf_end[];

static struct {
	const uint8_t *glyphs;   /* first glyph's bitmap */
	uint32_t nglyphs, charsize, width, height, row_bytes;
	uint16_t ascii[128];     /* ASCII code -> glyph index */
} font;

static volatile uint8_t *fb;
static uint32_t fb_pitch;
static int cols, rows, cur_row, cur_col;
static char text[FBCON_MAX_ROWS][FBCON_MAX_COLS];
static int top; /* first row of the log; the panel is above it */

static uint32_t rd16(const uint8_t *p) { return p[0] | (uint32_t)p[1] << 8; }

/* Maps the code points of the font's Unicode table that are ASCII to their
 * glyphs. Entries are per glyph, ended by a separator; a sequence marker
 * starts combining sequences, which we skip. */
static void font_unicode_table(const uint8_t *p, const uint8_t *end, int psf2)
{
	for (uint32_t g = 0; g < font.nglyphs && p < end; g++) {
		int in_seq = 0;
		while (p < end) {
			uint32_t cp;
			if (!psf2) {
				if (end - p < 2)
					return;
				cp = rd16(p);
				p += 2;
				if (cp == PSF1_SEPARATOR)
					break;
				if (cp == PSF1_STARTSEQ) {
					in_seq = 1;
					continue;
				}
			} else {
				cp = *p++;
				if (cp == PSF2_SEPARATOR)
					break;
				if (cp == PSF2_STARTSEQ) {
					in_seq = 1;
					continue;
				}
				/* UTF-8: only single bytes can be ASCII; skip the rest. */
				if (cp >= 0x80) {
					while (p < end && (*p & 0xc0) == 0x80)
						p++;
					continue;
				}
			}
			if (!in_seq && cp < 128 && font.ascii[cp] == 0)
				font.ascii[cp] = (uint16_t)g;
		}
	}
}

/* Parses the linked-in PSF file; 0 on success, -1 if it is not one we can
 * draw with. Every size comes from the file, so each is checked against it. */
static int font_load(void)
{
	const uint8_t *p = fbcon_font_psf, *end = fbcon_font_psf_end;
	size_t size = (size_t)(end - p);
	const uint8_t *table = NULL;
	int psf2 = 0;

	if (size >= 4 && rd16(p) == PSF1_MAGIC) {
		font.nglyphs = (p[2] & PSF1_MODE512) ? 512 : 256;
		font.charsize = p[3];
		font.width = 8;
		font.height = p[3];
		font.glyphs = p + 4;
		if (p[2] & (PSF1_MODEHASTAB | PSF1_MODESEQ))
			table = font.glyphs + (size_t)font.nglyphs * font.charsize;
	} else if (size >= sizeof(struct psf2_header)) {
		struct psf2_header h;
		memcpy(&h, p, sizeof h);
		if (h.magic != PSF2_MAGIC || h.headersize < sizeof h || h.headersize > size)
			return -1;
		if (h.length == 0 || h.length > 65536 || h.charsize > 4096)
			return -1;
		font.nglyphs = h.length;
		font.charsize = h.charsize;
		font.width = h.width;
		font.height = h.height;
		font.glyphs = p + h.headersize;
		psf2 = 1;
		if (h.flags & PSF2_HAS_UNICODE_TABLE)
			table = font.glyphs + (size_t)font.nglyphs * font.charsize;
	} else {
		return -1;
	}
	font.row_bytes = (font.width + 7) / 8;
	if (font.width == 0 || font.width > 32 || font.height == 0 || font.height > 64 ||
	    font.charsize < font.row_bytes * font.height)
		return -1;
	if ((size_t)(font.glyphs - p) + (size_t)font.nglyphs * font.charsize > size)
		return -1;

	memset(font.ascii, 0, sizeof font.ascii);
	if (table) {
		font_unicode_table(table, end, psf2);
	} else {
		for (uint32_t c = 0; c < 128 && c < font.nglyphs; c++)
			font.ascii[c] = (uint16_t)c;
	}
	return 0;
}

static void fbcon_draw(int row, int col, char c)
{
	uint32_t fg = FBCON_FG, bg = FBCON_BG;
	uint32_t g = font.ascii[(uint8_t)c & 0x7f];
	if ((uint8_t)c >= 0x80 || (c != ' ' && g == 0))
		g = font.ascii['?'];
	const uint8_t *bits = font.glyphs + (size_t)g * font.charsize;
	volatile uint8_t *line = fb + (size_t)row * font.height * fb_pitch + (size_t)col * font.width * 4;
	if (row < top)
		return; /* the panel's rows */
	for (uint32_t y = 0; y < font.height; y++, line += fb_pitch, bits += font.row_bytes) {
		volatile uint32_t *px = (volatile uint32_t *)line;
		for (uint32_t x = 0; x < font.width; x++)
			px[x] = (bits[x / 8] & (0x80 >> (x % 8))) ? fg : bg;
	}
}

static void fbcon_put(int row, int col, char c)
{
	if (text[row][col] != c) {
		text[row][col] = c;
		fbcon_draw(row, col, c);
	}
}

static void fbcon_scroll(void)
{
	for (int r = top; r < rows - 1; r++)
		for (int c = 0; c < cols; c++)
			fbcon_put(r, c, text[r + 1][c]);
	for (int c = 0; c < cols; c++)
		fbcon_put(rows - 1, c, ' ');
	cur_row = rows - 1;
}

int fbcon_init(const struct bootinfo *bi)
{
	fb = NULL;
	if (!bi->fb_base || !bi->fb_width || !bi->fb_height || bi->fb_pitch / 4 < bi->fb_width)
		return -1;
	uint64_t bytes = (uint64_t)bi->fb_pitch * bi->fb_height;
	if (bytes > FBCON_MAX_BYTES)
		return -1;
	if (font_load() < 0)
		return -1;
	cols = (int)(bi->fb_width / font.width);
	rows = (int)(bi->fb_height / font.height);
	if (cols > FBCON_MAX_COLS)
		cols = FBCON_MAX_COLS;
	if (rows > FBCON_MAX_ROWS)
		rows = FBCON_MAX_ROWS;
	if (cols < 1 || rows < 1)
		return -1;
	fb_pitch = bi->fb_pitch;
	fb = vm_map_mmio(bi->fb_base, bytes);
	/* Clear the whole framebuffer once (the firmware's logo and text). */
	for (uint32_t y = 0; y < bi->fb_height; y++) {
		volatile uint32_t *px = (volatile uint32_t *)(fb + (size_t)y * fb_pitch);
		for (uint32_t x = 0; x < bi->fb_width; x++)
			px[x] = FBCON_BG;
	}
	memset(text, ' ', sizeof text);
	cur_row = cur_col = 0;
	return 0;
}

void fbcon_write(const char *s, size_t n)
{
	if (!fb)
		return;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '\n') {
			cur_col = 0;
			cur_row++;
		} else if (c == '\r') {
			cur_col = 0;
		} else {
			fbcon_put(cur_row, cur_col, c);
			if (++cur_col == cols) {
				cur_col = 0;
				cur_row++;
			}
		}
		if (cur_row == rows)
			fbcon_scroll();
	}
}


/* Panel characters are drawn at twice the font's size where the screen is
 * wide enough for 80 of them: it is read from across the room. */
static char ptext[CONSOLE_PANEL_MAX][FBCON_MAX_COLS];
static int pscale = 1;

static void fbcon_draw_panel(int prow, int pcol, char c)
{
	uint32_t g = font.ascii[(uint8_t)c & 0x7f];
	if ((uint8_t)c >= 0x80 || (c != ' ' && g == 0))
		g = font.ascii['?'];
	const uint8_t *bits = font.glyphs + (size_t)g * font.charsize;
	uint32_t s = (uint32_t)pscale;
	volatile uint8_t *line = fb + (size_t)prow * font.height * s * fb_pitch + (size_t)pcol * font.width * s * 4;
	for (uint32_t y = 0; y < font.height * s; y++, line += fb_pitch) {
		const uint8_t *b = bits + (y / s) * font.row_bytes;
		volatile uint32_t *px = (volatile uint32_t *)line;
		for (uint32_t x = 0; x < font.width * s; x++)
			px[x] = (b[x / s / 8] & (0x80 >> (x / s % 8))) ? FBCON_PANEL_FG : FBCON_PANEL_BG;
	}
}

void fbcon_panel(const char *const *lines, int n)
{
	int scale = cols >= 160 ? 2 : 1;
	if (!fb || n < 0 || n > CONSOLE_PANEL_MAX || n * scale + 2 > rows)
		return;
	if (top != n * scale) {
		/* The log moves down to make room (its oldest lines drop off the
		 * bottom only if it was full), then every row is drawn again. */
		int shift = n * scale - top;
		if (shift > 0) {
			int drop = cur_row + shift >= rows ? cur_row + shift - rows + 1 : 0;
			int keep = cur_row + 1 - top - drop; /* log rows that stay */
			memmove(text[top + shift], text[top + drop], sizeof text[0] * (size_t)keep);
			cur_row = top + shift + keep - 1;
			for (int r = cur_row + 1; r < rows; r++)
				memset(text[r], ' ', sizeof text[r]);
		}
		pscale = scale;
		top = n * scale;
		memset(ptext, 0, sizeof ptext);
		for (int r = top; r < rows; r++)
			for (int c = 0; c < cols; c++)
				fbcon_draw(r, c, text[r][c]);
	}
	for (int r = 0; r < n; r++) {
		size_t len = strlen(lines[r]);
		for (int c = 0; c < cols / scale; c++) {
			char ch = (size_t)c < len ? lines[r][c] : ' ';
			if (ptext[r][c] != ch) {
				ptext[r][c] = ch;
				fbcon_draw_panel(r, c, ch);
			}
		}
	}
	if (cur_row < top) {
		cur_row = top;
		cur_col = 0;
	}
}
