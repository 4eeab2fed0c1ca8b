/* wire.h - bounds-checked little-endian readers and writers for payloads.
 *
 * Both keep a sticky error: after the first failure every further call is a
 * no-op (reads yield zeros), so a decoder reads all fields and checks once
 * at the end. Errors are enum om_err values from proto.h.
 *
 * Strings on the wire are a u16 byte count followed by that many bytes, no
 * NUL. A string longer than the field allows, or holding any byte outside
 * printable ASCII (0x20-0x7e), is OM_E_RANGE: strings end up in logs,
 * terminals and JSON, so control bytes never get past the decoder. */
#ifndef OM_WIRE_H
#define OM_WIRE_H

#include <stddef.h>
#include <stdint.h>

struct wire_rd {
	const uint8_t *p;
	size_t len;  /* bytes at p */
	size_t pos;  /* next byte to read */
	int err;     /* 0 or the first enum om_err */
};

struct wire_wr {
	uint8_t *p;
	size_t cap;  /* bytes at p */
	size_t pos;  /* next byte to write */
	int err;
};

void wire_rd_init(struct wire_rd *r, const void *buf, size_t len);
uint8_t wire_rd_u8(struct wire_rd *r);
uint16_t wire_rd_u16(struct wire_rd *r);
uint32_t wire_rd_u32(struct wire_rd *r);
uint64_t wire_rd_u64(struct wire_rd *r);
void wire_rd_bytes(struct wire_rd *r, void *out, size_t n);
/* Reads a string of at most max bytes into out[max + 1], NUL-terminated;
 * out is "" on failure. */
void wire_rd_str(struct wire_rd *r, char *out, size_t max);
/* Marks the reader failed with err unless it already failed. */
void wire_rd_fail(struct wire_rd *r, int err);
/* The sticky error, else OM_E_TRAILING if bytes are left, else OM_OK. */
int wire_rd_end(const struct wire_rd *r);

void wire_wr_init(struct wire_wr *w, void *buf, size_t cap);
void wire_wr_u8(struct wire_wr *w, uint8_t v);
void wire_wr_u16(struct wire_wr *w, uint16_t v);
void wire_wr_u32(struct wire_wr *w, uint32_t v);
void wire_wr_u64(struct wire_wr *w, uint64_t v);
void wire_wr_bytes(struct wire_wr *w, const void *src, size_t n);
/* Writes the NUL-terminated string held in a char field[fieldsize]. No NUL
 * inside the field, or a byte outside printable ASCII, is OM_E_RANGE. */
void wire_wr_str(struct wire_wr *w, const char *field, size_t fieldsize);
/* Bytes written, or the sticky error (negative). */
int wire_wr_end(const struct wire_wr *w);
/* n bytes in place: the next n of the payload (NULL and OM_E_TRUNC when
 * fewer are left), or room for n more (NULL and OM_E_NOSPACE). Sticky like
 * the typed calls. */
const uint8_t *wire_rd_take(struct wire_rd *r, size_t n);
uint8_t *wire_wr_take(struct wire_wr *w, size_t n);

/* Record lists (a u32 count, then the records, read one at a time):
 * wire_list_count reads the count, refusing more than max records or more
 * than the remaining bytes can hold at min_record bytes each, and sets *pos
 * to the first record; wire_list_end checks the last record ended the
 * payload. Both return OM_OK or a negative enum om_err. */
int wire_list_count(const void *buf, size_t len, uint32_t max, size_t min_record, uint32_t *count,
    size_t *pos);
int wire_list_end(size_t len, size_t pos);

#endif
