/* hexkey.h - a 32-byte link key as the 64 hex digits people copy around
 * (om.key=, the key file, om-agent --pubkey). No crypto here: the node's
 * command-line parser uses it without the rest of the link. */
#ifndef OM_HEXKEY_H
#define OM_HEXKEY_H

#include <stddef.h>
#include <stdint.h>

#define HEXKEY_LEN 32

/* s[0..len) as exactly 64 hex digits (either case) into out; out is
 * untouched unless the whole key parses. Returns 0 or -1. */
int hexkey_parse(const char *s, size_t len, uint8_t out[HEXKEY_LEN]);
/* 64 lowercase hex digits and a NUL. */
void hexkey_format(const uint8_t key[HEXKEY_LEN], char out[2 * HEXKEY_LEN + 1]);

#endif
