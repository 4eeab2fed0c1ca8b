/* agent_key.h - om-agent's static key: the X25519 key nodes authenticate
 * the agent by (their om.key= names its public half, docs/security.md).
 *
 * The file holds the private key as 64 hex digits and a newline, nothing
 * else; it must belong to the user the agent runs as and be readable by
 * nobody else. */
#ifndef OM_AGENT_KEY_H
#define OM_AGENT_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "noise.h"

#define AGENT_KEY_DEFAULT_PATH "/etc/om/agent.key"

/* Reads and checks path. Returns 0, or -1 with the reason in err. */
int agent_key_load(const char *path, uint8_t priv[NOISE_KEY], uint8_t pub[NOISE_KEY],
    char *err, size_t errlen);
/* Makes a new key at path (which must not exist), mode 0600. Returns 0 or
 * -1 with the reason in err. */
int agent_key_generate(const char *path, uint8_t pub[NOISE_KEY], char *err, size_t errlen);

#endif
