/* sock.h - socket helpers for om-agent and the tools: the plain (unencrypted)
 * om_stream over a non-blocking socket, listeners, and address parsing. */
#ifndef OM_SOCK_H
#define OM_SOCK_H

#include <netinet/in.h>
#include <stddef.h>

#include "stream.h"

/* The om_stream for fd. ctx points at an int holding the fd. send uses
 * MSG_NOSIGNAL; both retry EINTR and map EAGAIN to OM_STREAM_AGAIN. On
 * OM_STREAM_ERR errno tells why. */
extern const struct om_stream_ops sock_stream_ops;

/* Parses "A.B.C.D:PORT" (PORT 0 = any free port). Returns 0 or -1. */
int sock_parse_addr(const char *s, struct sockaddr_in *sin);
/* "A.B.C.D:PORT" into buf. */
void sock_addr_str(const struct sockaddr_in *sin, char *buf, size_t len);

/* Non-blocking, close-on-exec TCP listener. Returns the fd or -1 (errno);
 * *sin is updated with the bound address (the real port when it was 0). */
int sock_listen_tcp(struct sockaddr_in *sin);
int sock_set_nonblock(int fd);

#endif
