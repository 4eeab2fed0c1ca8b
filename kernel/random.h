/* random.h - the node's random numbers for its link keys.
 *
 * An HMAC-DRBG (SHA-256, BearSSL's) seeded at boot from the CPU's
 * generator when it has one (RDSEED, RDRAND) and always from timing
 * jitter: thousands of TSC readings around work whose duration varies
 * with caches, memory, interrupts and, in a virtual machine, the host's
 * scheduling. More is mixed in as it comes (each connection's TSC). A PC
 * without RDRAND (before 2012, or QEMU's default CPU) depends on the
 * jitter alone: docs/security.md says what that means. Main-loop context
 * only. */
#ifndef OM_RANDOM_H
#define OM_RANDOM_H

#include <stddef.h>
#include <stdint.h>

/* Seeds the generator; say what it used on the console. */
void random_init(void);
/* Mixes in bytes that an attacker may not know (never lowers quality). */
void random_add(const void *data, size_t len);
void random_bytes(void *out, size_t len);

/* The CPU's own generator: whether it has RDRAND, and one 64-bit value
 * from it (0, or -1 when it failed ten times). */
int random_have_rdrand(void);
int random_rdrand64(uint64_t *v);

#endif
