/* fnv.h - FNV-1a, 64 bits: a cheap hash to tell two byte strings apart
 * (not against an adversary), for the node and home alike. */
#ifndef OM_FNV_H
#define OM_FNV_H

#include <stddef.h>
#include <stdint.h>

#define OM_FNV1A_INIT 0xcbf29ce484222325ull

/* h (OM_FNV1A_INIT to begin) carried on over len bytes at p. */
static inline uint64_t om_fnv1a(uint64_t h, const void *p, size_t len)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

#endif
