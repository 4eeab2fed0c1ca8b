/* ethif.h - an lwIP netif on top of a struct nic (drivers/nic.h).
 * Main-loop context only, like all of net/. */
#ifndef OM_ETHIF_H
#define OM_ETHIF_H

#include "lwip/netif.h"

#include "nic.h"

/* netif_add() init callback; netif->state must be the struct nic. Sets the
 * hardware address, MTU, flags and output functions, and hooks nic->rx so that
 * frames received during nic->ops->poll go to netif->input. Does not open the
 * NIC. Returns ERR_OK, or ERR_ARG if the state is missing. */
err_t ethif_init(struct netif *netif);

#endif
