/* arch/cc.h - lwIP's compiler and platform port for the om node.
 *
 * Types come from <stdint.h>/<inttypes.h> (lwIP's defaults); x86-64 is
 * little-endian. Diagnostics go to the console through newlib's printf; a
 * failed assert prints and halts the node, because the stack's state can no
 * longer be trusted. */
#ifndef OM_ARCH_CC_H
#define OM_ARCH_CC_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

/* newlib's <machine/endian.h> already says so; lwIP needs it either way. */
#ifndef BYTE_ORDER
#define BYTE_ORDER LITTLE_ENDIAN
#endif

/* newlib's <sys/types.h> has a 64-bit ssize_t; without SSIZE_MAX lwIP would
 * typedef its own int one and clash. */
#ifndef SSIZE_MAX
#define SSIZE_MAX LONG_MAX
#endif
#define LWIP_NO_UNISTD_H 1

/* lwIP only needs errno for sockets, which are off; newlib's will do. */
#define LWIP_ERRNO_STDINCLUDE 1

#define LWIP_PLATFORM_DIAG(x) do { printf x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) lwip_port_assert((x), __FILE__, __LINE__)

/* Random numbers for DHCP transaction ids, TCP initial sequence numbers and
 * local ports: the TSC mixed through a xorshift generator (lwip_port.c). */
#define LWIP_RAND() lwip_port_rand()

void lwip_port_assert(const char *msg, const char *file, int line) __attribute__((noreturn));
uint32_t lwip_port_rand(void);

#endif
