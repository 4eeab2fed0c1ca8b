/* pci.h - PCI configuration space (mechanism #1, ports 0xCF8/0xCFC) and
 * device enumeration. Kernel context, no locking: one CPU, called before the
 * main loop starts. */
#ifndef OM_PCI_H
#define OM_PCI_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_MAX_DEVICES 64

struct pci_dev {
	uint8_t bus, dev, fn;
	uint16_t vendor, device;
	uint8_t class_code, subclass, prog_if, revision;
	uint8_t irq_line;   /* config 0x3C as the firmware left it; 0xff = none */
	uint64_t bar[6];    /* base address (memory or I/O port), 0 if absent */
	uint64_t bar_size[6];
	bool bar_is_io[6];
};

/* Scans every bus and fills the device list; returns how many were found. */
int pci_scan(void);
int pci_count(void);
struct pci_dev *pci_get(int i);

uint8_t pci_read8(const struct pci_dev *d, uint8_t off);
uint16_t pci_read16(const struct pci_dev *d, uint8_t off);
uint32_t pci_read32(const struct pci_dev *d, uint8_t off);
void pci_write16(const struct pci_dev *d, uint8_t off, uint16_t v);
void pci_write32(const struct pci_dev *d, uint8_t off, uint32_t v);

/* Enables memory and I/O decoding and bus mastering (DMA). */
void pci_enable(const struct pci_dev *d);
/* Offset of the first capability with this id at or after 'from' (0 = start
 * of the list), or 0 if there is none. */
uint8_t pci_find_cap(const struct pci_dev *d, uint8_t cap_id, uint8_t from);

#endif
