/* pcb_stream.h - an om_stream (migrate/stream.h) over an lwIP raw TCP pcb.
 *
 * lwIP pushes received data at us from its recv callback; the stream keeps
 * those pbufs and lets the reader pull bytes when it has room, calling
 * tcp_recved() only for bytes actually pulled. So the TCP window, not our
 * memory, absorbs a fast sender. send() takes what tcp_sndbuf() allows,
 * copied (TCP_WRITE_FLAG_COPY), and pushes it out. Main-loop context only. */
#ifndef OM_PCB_STREAM_H
#define OM_PCB_STREAM_H

#include "lwip/pbuf.h"
#include "lwip/tcp.h"

#include "stream.h"

struct pcb_stream {
	struct tcp_pcb *pcb;   /* NULL once detached */
	struct pbuf *pending;  /* received, not yet pulled (not yet recved) */
	int eof;               /* the peer sent FIN */
	err_t err;             /* the tcp_write error that killed send */
};

extern const struct om_stream_ops pcb_stream_ops;

void pcb_stream_init(struct pcb_stream *s, struct tcp_pcb *pcb);
/* From the tcp_recv callback: takes ownership of p; p == NULL marks FIN. */
void pcb_stream_input(struct pcb_stream *s, struct pbuf *p);
/* Frees pending data. If the pcb is still there, the data is first
 * acknowledged to lwIP (tcp_recved), so that a following tcp_close is an
 * orderly FIN and not the RST lwIP sends when unread data remains. */
void pcb_stream_detach(struct pcb_stream *s);

#endif
