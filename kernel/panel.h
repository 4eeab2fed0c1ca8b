/* panel.h - the status panel at the top of the node's screen: what a
 * person walking past needs to know (is it in the cluster, with which
 * address and card, what is it running). Main-loop context. */
#ifndef OM_PANEL_H
#define OM_PANEL_H

#include <stdint.h>

#include "nic.h"

void panel_init(const struct nic *nic, uint32_t speed);
/* Redraws the panel when something in it changed (at most a few times a
 * second; cheap to call every loop). */
void panel_update(void);
/* Shows text in place of the cluster line from now on (the node leaves). */
void panel_notice(const char *text);

#endif
