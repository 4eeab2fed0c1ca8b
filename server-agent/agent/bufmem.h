/* bufmem.h - the agent's buffer memory in all, under one cap (agent.conf
 * buffer_mib).
 *
 * Each queue the agent keeps is bounded on its own (a connection's
 * receive buffer and output queue, its link's records, the frames held
 * for a moving job); this bounds their sum, so that many peers each
 * within their bounds cannot exhaust the server. Counted is what is
 * allocated (capacities, not bytes in use): what conn.c and move_relay.c
 * take here they give back when they free it. A new connection that would
 * not fit is refused, a buffer that would grow past the cap is not grown
 * (conn.h says what its owner does then), each logged naming the cap. */
#ifndef OM_BUFMEM_H
#define OM_BUFMEM_H

#include <stddef.h>
#include <stdint.h>

/* The default cap: every connection that carries a job holds about 1 MiB
 * to receive one IMAGE frame, so this leaves room for some 900 jobs on
 * nodes at once beside the idle connections (about 100 KiB each). */
#define BUFMEM_DEFAULT_MIB 1024
#define BUFMEM_MAX_MIB 1048576 /* buffer_mib's largest value: 1 TiB */

/* Sets the cap, in MiB (1..BUFMEM_MAX_MIB), before any connection. */
void bufmem_set_cap_mib(uint32_t mib);
uint32_t bufmem_cap_mib(void);
/* Whether n bytes more would fit under the cap. */
int bufmem_fits(size_t n);
/* Counts n bytes more: 0, or -1 (nothing counted) when they would not fit. */
int bufmem_take(size_t n);
/* n bytes taken earlier are freed. */
void bufmem_give(size_t n);
/* Bytes counted now. */
size_t bufmem_used(void);
/* The cap's name for refusals: "buffer memory (buffer_mib N)". */
const char *bufmem_cap_name(void);

#endif
