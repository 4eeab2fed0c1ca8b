/* frame_rx.c - stream reassembly of om frames (see frame_rx.h). */
#include <string.h>

#include "frame_rx.h"

void
frame_rx_init(struct frame_rx *rx, void *buf, size_t cap)
{
	rx->buf = buf;
	rx->cap = cap;
	rx->start = rx->end = rx->popped = 0;
	rx->err = cap < OM_HDR_SIZE ? OM_E_NOSPACE : OM_OK;
}

/* Drops the frame handed out last; the caller promised not to use it
 * after calling back into rx. */
static void
rx_release(struct frame_rx *rx)
{
	rx->start += rx->popped;
	rx->popped = 0;
	if (rx->start == rx->end)
		rx->start = rx->end = 0;
}

size_t
frame_rx_room(struct frame_rx *rx, uint8_t **where)
{
	*where = NULL;
	if (rx->err != OM_OK)
		return 0;
	rx_release(rx);
	/* Keep the partial frame at the front so a frame of up to cap bytes
	 * always fits; it is at most one frame, so the move is cheap. */
	if (rx->start > 0) {
		memmove(rx->buf, rx->buf + rx->start, rx->end - rx->start);
		rx->end -= rx->start;
		rx->start = 0;
	}
	*where = rx->buf + rx->end;
	return rx->cap - rx->end;
}

void
frame_rx_commit(struct frame_rx *rx, size_t n)
{
	if (rx->err != OM_OK)
		return;
	if (n > rx->cap - rx->end)
		n = rx->cap - rx->end; /* caller bug; never run past the buffer */
	rx->end += n;
}

size_t
frame_rx_feed(struct frame_rx *rx, const void *data, size_t len)
{
	uint8_t *where;
	size_t room = frame_rx_room(rx, &where);

	if (len > room)
		len = room;
	if (len > 0) {
		memcpy(where, data, len);
		rx->end += len;
	}
	return len;
}

int
frame_rx_next(struct frame_rx *rx, struct om_hdr *h, const uint8_t **payload)
{
	size_t avail;
	int rc;

	*payload = NULL;
	if (rx->err != OM_OK)
		return rx->err;
	rx_release(rx);
	avail = rx->end - rx->start;
	rc = om_frame_check(rx->buf + rx->start, avail, h);
	if (rc == OM_E_SHORT)
		return rc;
	if (rc != OM_OK)
		return rx->err = rc;
	/* Decided from the header alone, before waiting for the payload: a
	 * frame this buffer can never hold must not stall the stream. */
	if (h->length > rx->cap - OM_HDR_SIZE)
		return rx->err = OM_E_TOOBIG;
	if (h->length > avail - OM_HDR_SIZE)
		return OM_E_SHORT;
	*payload = rx->buf + rx->start + OM_HDR_SIZE;
	rx->popped = OM_HDR_SIZE + (size_t)h->length;
	return OM_OK;
}

size_t
frame_rx_pending(const struct frame_rx *rx)
{
	return rx->end - rx->start - rx->popped;
}
