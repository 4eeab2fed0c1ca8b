/* nic.c - the table of network drivers and the search for a NIC. */
#include <stdio.h>

#include "e1000.h"
#include "nic.h"
#include "pci.h"
#include "rtl8139.h"
#include "virtio_net.h"

/* Tried in this order on each device; a device matches at most one. */
static const struct nic_driver *const nic_drivers[] = {
	&virtio_net_driver,
	&e1000_driver,
	&rtl8139_driver,
};

#define NIC_NDRIVERS (sizeof(nic_drivers) / sizeof(nic_drivers[0]))

struct nic *nic_find(void)
{
	struct pci_dev *d;
	struct nic *nic;
	unsigned j;
	int i, rc;

	for (i = 0; (d = pci_get(i)) != NULL; i++) {
		for (j = 0; j < NIC_NDRIVERS; j++) {
			if (!nic_drivers[j]->match(d))
				continue;
			rc = nic_drivers[j]->probe(d, &nic);
			if (rc != 0) {
				printf("nic: %s at pci %02x:%02x.%x failed to probe (%d)\n",
				       nic_drivers[j]->name, d->bus, d->dev, d->fn, rc);
				continue;
			}
			printf("nic: %s %02x:%02x:%02x:%02x:%02x:%02x at pci %02x:%02x.%x ",
			       nic->name, nic->mac[0], nic->mac[1], nic->mac[2],
			       nic->mac[3], nic->mac[4], nic->mac[5], d->bus, d->dev, d->fn);
			if (nic->irq >= 0)
				printf("irq %d (%s)\n", nic->irq, nic->model);
			else
				printf("polled (%s)\n", nic->model);
			return nic;
		}
	}
	return NULL;
}
