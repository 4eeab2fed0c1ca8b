/* cpu_wire.h - the om_cpu record on the wire (docs/protocol.md, "cpu"),
 * one codec for HELLO, node records, job placement and images. A record
 * with cores == 0 fails with OM_E_RANGE (sticky in w or r). */
#ifndef OM_CPU_WIRE_H
#define OM_CPU_WIRE_H

#include "proto.h"
#include "wire.h"

void om_cpu_put(struct wire_wr *w, const struct om_cpu *c);
void om_cpu_get(struct wire_rd *r, struct om_cpu *c);

#endif
