/* fuzz_keys.h - the fixed keys of the link harnesses (fuzz_link,
 * fuzz_agent) and of gen_seeds.c, which records sessions with them.
 *
 * With every private key and ephemeral fixed, a handshake is the same
 * bytes each run: a seed that holds a real session (the node's messages
 * made against the agent's fixed ephemeral, and back) replays, so the
 * fuzzer starts past the handshake and mutates authenticated records.
 * The agent's own ephemeral in fuzz_agent is random (conn.c asks
 * getrandom): there the harness does the node's side itself. Test keys,
 * for nothing else. */
#ifndef OM_FUZZ_KEYS_H
#define OM_FUZZ_KEYS_H

#include <string.h>

#include "noise.h"

/* Private keys are any 32 bytes (X25519 clamps them). */
#define FUZZ_KEY_AGENT 0x11  /* the agent's static key */
#define FUZZ_KEY_NODE 0x22   /* a node's static key (made at its boot) */
#define FUZZ_KEY_NODE_E 0x33 /* the node's ephemeral */
#define FUZZ_KEY_AGENT_E 0x44 /* the agent's ephemeral (fuzz_link only) */
#define FUZZ_KEY_NODE2 0x55  /* a second node, for fuzz_agent */

static inline void
fuzz_key(uint8_t k[NOISE_KEY], int fill)
{
	memset(k, fill, NOISE_KEY);
}

#endif
