/* stream.h - the byte stream frames travel over.
 *
 * Message code sends and receives bytes only through these operations, so
 * the encrypted link (link_stream.c) wraps a plain stream without touching
 * any codec or state machine. The plain implementations are a TCP socket on
 * the server (server-agent/agent/sock.c) and an lwIP pcb on the node.
 *
 * Both operations are non-blocking: they move what they can and return the
 * byte count (> 0), OM_STREAM_AGAIN when nothing can move now, or
 * OM_STREAM_ERR (the stream is dead; the implementation keeps the reason).
 * recv returns 0 at an orderly end of stream. */
#ifndef OM_STREAM_H
#define OM_STREAM_H

#include <stddef.h>

#define OM_STREAM_AGAIN (-1L)
#define OM_STREAM_ERR (-2L)

struct om_stream_ops {
	long (*send)(void *ctx, const void *buf, size_t len);
	long (*recv)(void *ctx, void *buf, size_t len);
	/* The rest are optional (NULL for a plain stream), for a stream that
	 * keeps bytes of its own between calls, as the encrypted one keeps a
	 * record. flush pushes what it holds for sending: 0 when nothing is
	 * left, OM_STREAM_AGAIN (call again when the transport can take more)
	 * or OM_STREAM_ERR. A caller whose own queue is empty still flushes. */
	long (*flush)(void *ctx);
	/* Received bytes held, which recv returns without new input arriving:
	 * the transport will not signal them again. */
	size_t (*held)(void *ctx);
	/* Why the stream died (after OM_STREAM_ERR), or NULL. */
	const char *(*why)(void *ctx);
};

struct om_stream {
	const struct om_stream_ops *ops;
	void *ctx;
};

#endif
