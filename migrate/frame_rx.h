/* frame_rx.h - reassembles om frames from a byte stream into a fixed,
 * caller-provided buffer. Portable C99, no allocation; used by the node's
 * agent link and by every om-agent connection.
 *
 * Usage: append received bytes (frame_rx_feed, or frame_rx_room followed by
 * frame_rx_commit to receive in place), then call frame_rx_next until it
 * returns OM_E_SHORT.
 *
 * Errors are sticky: once frame_rx_next has returned anything other than
 * OM_OK or OM_E_SHORT, the stream is out of step and every later call
 * returns the same error; the caller MUST close the connection. A frame
 * longer than the buffer can hold (OM_HDR_SIZE + length > cap) is
 * OM_E_TOOBIG even when its length is below OM_MAX_PAYLOAD. */
#ifndef OM_FRAME_RX_H
#define OM_FRAME_RX_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct frame_rx {
	uint8_t *buf;
	size_t cap;    /* bytes at buf */
	size_t start;  /* first byte not yet handed out */
	size_t end;    /* one past the last byte received */
	size_t popped; /* size of the frame last handed out, dropped on the next call */
	int err;       /* sticky enum om_err, OM_OK while usable */
};

/* cap must be at least OM_HDR_SIZE, else every call fails with OM_E_NOSPACE. */
void frame_rx_init(struct frame_rx *rx, void *buf, size_t cap);

/* Returns how many bytes may be appended and sets *where to the place to put
 * them (after making room by discarding consumed bytes). 0 after an error.
 * While no error is set there is always room for the frame being
 * assembled, so 0 with no error does not happen. */
size_t frame_rx_room(struct frame_rx *rx, uint8_t **where);
/* Records that n bytes (n <= the last frame_rx_room) were written there. */
void frame_rx_commit(struct frame_rx *rx, size_t n);
/* Copies up to len bytes in; returns how many were taken (less than len
 * only when the buffer is full or an error is set). */
size_t frame_rx_feed(struct frame_rx *rx, const void *data, size_t len);

/* Pops the next complete frame: OM_OK with *h and *payload set (payload
 * holds h->length bytes and stays valid until the next call on rx);
 * OM_E_SHORT when more bytes are needed; otherwise the sticky error. */
int frame_rx_next(struct frame_rx *rx, struct om_hdr *h, const uint8_t **payload);

/* Bytes received but not yet handed out as frames. */
size_t frame_rx_pending(const struct frame_rx *rx);

#endif
