/* nic.h - the contract between network drivers and the network stack.
 *
 * A driver probes a PCI device and returns a struct nic whose ops move whole
 * Ethernet frames (no FCS). The stack sets nic->rx before calling open.
 * Every op runs in kernel (main-loop) context, never in interrupt context,
 * except irq_ack which the driver's own IRQ handler may call. */
#ifndef OM_NIC_H
#define OM_NIC_H

#include <stddef.h>
#include <stdint.h>

#include "pci.h"

#define NIC_MTU 1500
#define NIC_FRAME_MAX 1518 /* 14 header + 1500 + 4 VLAN tag */

struct nic;

struct nic_ops {
	/* Resets the device, sets up rings, enables receive and transmit and
	 * its interrupt line. Returns 0 or a negative error; on error the device
	 * is left reset. */
	int (*open)(struct nic *nic);
	/* Queues one frame (copied; the caller keeps buf). Returns 0, or -1 when
	 * the transmit ring is full (the frame is dropped, as on a wire). */
	int (*transmit)(struct nic *nic, const void *buf, size_t len);
	/* Reaps transmit completions and hands every received frame to nic->rx,
	 * then gives the buffers back to the device. Returns frames received. */
	int (*poll)(struct nic *nic);
	/* Stops DMA and interrupts; mirror of open. */
	void (*close)(struct nic *nic);
};

struct nic {
	const char *name;   /* "virtio-net", "e1000", "e1000e", ... */
	const char *model;  /* human model, e.g. "Intel 82540EM" */
	uint8_t mac[6];
	struct pci_dev *pci;
	int irq;            /* ISA line in use, -1 if polled */
	const struct nic_ops *ops;
	void *priv;         /* driver state */
	/* Set by the stack: called from poll for each received frame. */
	void (*rx)(struct nic *nic, const void *frame, size_t len);
	void *rx_arg;
	/* Counted by the driver, at the device: frames handed to rx, frames
	 * queued for transmit, and frames it had to drop either way. The stack
	 * keeps its own statistics (lwIP's). */
	uint64_t rx_frames, tx_frames, rx_dropped, tx_dropped;
};

struct nic_driver {
	const char *name;
	/* Returns 1 if this driver handles the device. */
	int (*match)(const struct pci_dev *d);
	/* Maps the device and reads the MAC; does not start it. Returns 0 and
	 * sets *out, or a negative error. */
	int (*probe)(struct pci_dev *d, struct nic **out);
};

/* Tries every known driver on every PCI device, in bus order; returns the
 * first NIC that probes, or NULL. */
struct nic *nic_find(void);

#endif
