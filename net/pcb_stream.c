/* pcb_stream.c - om_stream operations on an lwIP TCP pcb (pcb_stream.h). */
#include "pcb_stream.h"

void pcb_stream_init(struct pcb_stream *s, struct tcp_pcb *pcb)
{
	s->pcb = pcb;
	s->pending = NULL;
	s->eof = 0;
	s->err = ERR_OK;
}

void pcb_stream_input(struct pcb_stream *s, struct pbuf *p)
{
	if (p == NULL) {
		s->eof = 1;
		return;
	}
	/* Pending bytes are never recved, so they stay below TCP_WND (< 64 KiB)
	 * and the chain's u16 tot_len cannot overflow. */
	if (s->pending == NULL)
		s->pending = p;
	else
		pbuf_cat(s->pending, p);
}

void pcb_stream_detach(struct pcb_stream *s)
{
	if (s->pending != NULL) {
		if (s->pcb != NULL)
			tcp_recved(s->pcb, s->pending->tot_len);
		pbuf_free(s->pending);
		s->pending = NULL;
	}
	s->pcb = NULL;
}

static long pcb_stream_send(void *ctx, const void *buf, size_t len)
{
	struct pcb_stream *s = ctx;
	u16_t room;
	err_t err;

	if (s->pcb == NULL || s->err != ERR_OK)
		return OM_STREAM_ERR;
	room = tcp_sndbuf(s->pcb);
	if (room == 0 || tcp_sndqueuelen(s->pcb) >= TCP_SND_QUEUELEN)
		return OM_STREAM_AGAIN;
	if (len > room)
		len = room;
	err = tcp_write(s->pcb, buf, (u16_t)len, TCP_WRITE_FLAG_COPY);
	if (err == ERR_MEM) /* segments or heap short: the sent callback retries */
		return OM_STREAM_AGAIN;
	if (err == ERR_OK)
		err = tcp_output(s->pcb);
	if (err != ERR_OK) {
		s->err = err;
		return OM_STREAM_ERR;
	}
	return (long)len;
}

static long pcb_stream_recv(void *ctx, void *buf, size_t len)
{
	struct pcb_stream *s = ctx;
	u16_t n;

	if (s->pcb == NULL)
		return OM_STREAM_ERR;
	if (s->pending == NULL)
		return s->eof ? 0 : OM_STREAM_AGAIN;
	if (len == 0)
		return OM_STREAM_AGAIN;
	n = s->pending->tot_len < len ? s->pending->tot_len : (u16_t)len;
	pbuf_copy_partial(s->pending, buf, n, 0);
	s->pending = pbuf_free_header(s->pending, n);
	tcp_recved(s->pcb, n);
	return n;
}

const struct om_stream_ops pcb_stream_ops = {
	.send = pcb_stream_send,
	.recv = pcb_stream_recv,
};
