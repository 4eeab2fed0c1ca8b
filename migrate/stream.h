/* stream.h - the byte stream frames travel over.
 *
 * Message code sends and receives bytes only through these two operations,
 * so a later authenticated or encrypted channel replaces the implementation
 * without touching any codec or state machine. The plain implementations
 * are a TCP socket on the server (server-agent/agent/sock.c) and an lwIP pcb on
 * the node.
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
};

struct om_stream {
	const struct om_stream_ops *ops;
	void *ctx;
};

#endif
