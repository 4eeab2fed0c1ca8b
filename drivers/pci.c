/* pci.c - PCI configuration space through configuration mechanism #1 and a
 * brute-force scan of every bus, device and function.
 *
 * References: PCI Local Bus Specification 3.0, 3.2.2.3.2 (configuration
 * mechanism #1), 6.1 (configuration header), 6.2.5.1 (BAR sizing), 6.7
 * (capabilities list). */
#include <stdio.h>

#include "cpu.h"
#include "pci.h"
#include "pci_priv.h"

static struct pci_dev pci_devs[PCI_MAX_DEVICES];
static int pci_ndevs;

/* 3.2.2.3.2: bit 31 enables the cycle, then bus[23:16] device[15:11]
 * function[10:8] register[7:2]; the data port is 0xCFC + (offset & 3). */
static uint32_t pci_cfg_addr(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off)
{
	return PCI_CONFIG_ENABLE | ((uint32_t)bus << 16) | ((uint32_t)(dev & 31) << 11) |
	       ((uint32_t)(fn & 7) << 8) | (off & 0xfc);
}

static uint32_t pci_raw_read32(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off)
{
	outl(PCI_CONFIG_ADDRESS, pci_cfg_addr(bus, dev, fn, off));
	return inl(PCI_CONFIG_DATA);
}

static uint16_t pci_raw_read16(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off)
{
	outl(PCI_CONFIG_ADDRESS, pci_cfg_addr(bus, dev, fn, off));
	return inw(PCI_CONFIG_DATA + (off & 2));
}

static uint8_t pci_raw_read8(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off)
{
	outl(PCI_CONFIG_ADDRESS, pci_cfg_addr(bus, dev, fn, off));
	return inb(PCI_CONFIG_DATA + (off & 3));
}

uint8_t pci_read8(const struct pci_dev *d, uint8_t off)
{
	return pci_raw_read8(d->bus, d->dev, d->fn, off);
}

uint16_t pci_read16(const struct pci_dev *d, uint8_t off)
{
	return pci_raw_read16(d->bus, d->dev, d->fn, off);
}

uint32_t pci_read32(const struct pci_dev *d, uint8_t off)
{
	return pci_raw_read32(d->bus, d->dev, d->fn, off);
}

void pci_write16(const struct pci_dev *d, uint8_t off, uint16_t v)
{
	outl(PCI_CONFIG_ADDRESS, pci_cfg_addr(d->bus, d->dev, d->fn, off));
	outw(PCI_CONFIG_DATA + (off & 2), v);
}

void pci_write32(const struct pci_dev *d, uint8_t off, uint32_t v)
{
	outl(PCI_CONFIG_ADDRESS, pci_cfg_addr(d->bus, d->dev, d->fn, off));
	outl(PCI_CONFIG_DATA, v);
}

/* 6.2.5.1: write all ones to a BAR, read back the writable bits, restore.
 * Decoding is switched off meanwhile so the device never answers at the
 * transient all-ones address. Returns the number of BAR slots consumed
 * (2 for a 64-bit memory BAR). */
static int pci_size_bar(struct pci_dev *d, int i)
{
	uint8_t off = PCI_BAR0 + 4 * i;
	uint32_t lo = pci_read32(d, off), lo_mask, hi = 0, hi_mask = 0;
	uint64_t base, mask;
	int used = 1;

	pci_write32(d, off, 0xffffffff);
	lo_mask = pci_read32(d, off);
	pci_write32(d, off, lo);

	if (lo & PCI_BAR_IO) {
		d->bar_is_io[i] = true;
		base = lo & PCI_BAR_IO_MASK;
		/* I/O BARs decode 16 bits on x86 even if more bits read back. */
		mask = (lo_mask & PCI_BAR_IO_MASK) | 0xffff0000u;
		d->bar[i] = base;
		d->bar_size[i] = lo_mask ? (uint32_t)(~mask + 1) : 0;
		return used;
	}

	base = lo & PCI_BAR_MEM_MASK;
	mask = (lo_mask & PCI_BAR_MEM_MASK) | 0xffffffff00000000ull;
	if ((lo & PCI_BAR_MEM_TYPE) == PCI_BAR_MEM_TYPE_64 && i < 5) {
		hi = pci_read32(d, off + 4);
		pci_write32(d, off + 4, 0xffffffff);
		hi_mask = pci_read32(d, off + 4);
		pci_write32(d, off + 4, hi);
		base |= (uint64_t)hi << 32;
		mask = ((uint64_t)hi_mask << 32) | (lo_mask & PCI_BAR_MEM_MASK);
		used = 2;
	}
	d->bar[i] = base;
	d->bar_size[i] = (lo_mask & PCI_BAR_MEM_MASK) || hi_mask ? ~mask + 1 : 0;
	return used;
}

static void pci_read_bars(struct pci_dev *d, int nbars)
{
	uint16_t cmd = pci_read16(d, PCI_COMMAND);
	int i;

	pci_write16(d, PCI_COMMAND, cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	for (i = 0; i < nbars;)
		i += pci_size_bar(d, i);
	pci_write16(d, PCI_COMMAND, cmd);
}

static void pci_add(uint8_t bus, uint8_t dev, uint8_t fn)
{
	struct pci_dev *d;
	uint32_t class;
	uint8_t hdr;

	if (pci_ndevs == PCI_MAX_DEVICES) {
		printf("pci: more than %d functions, %02x:%02x.%x ignored\n",
		       PCI_MAX_DEVICES, bus, dev, fn);
		return;
	}
	d = &pci_devs[pci_ndevs++];
	d->bus = bus;
	d->dev = dev;
	d->fn = fn;
	d->vendor = pci_read16(d, PCI_VENDOR_ID);
	d->device = pci_read16(d, PCI_DEVICE_ID);
	class = pci_read32(d, PCI_CLASS_REVISION);
	d->revision = class & 0xff;
	d->prog_if = (class >> 8) & 0xff;
	d->subclass = (class >> 16) & 0xff;
	d->class_code = class >> 24;
	hdr = pci_read8(d, PCI_HEADER_TYPE) & PCI_HEADER_TYPE_MASK;
	/* 6.2.4: 0xff means "unknown or not connected" on x86. */
	d->irq_line = hdr == PCI_HEADER_TYPE_NORMAL || hdr == PCI_HEADER_TYPE_BRIDGE ?
		pci_read8(d, PCI_INTERRUPT_LINE) : 0xff;
	if (hdr == PCI_HEADER_TYPE_NORMAL)
		pci_read_bars(d, 6);
	else if (hdr == PCI_HEADER_TYPE_BRIDGE)
		pci_read_bars(d, 2);
}

/* Every bus is probed rather than following bridges: 256 x 32 reads cost
 * a few milliseconds and also find devices behind bridges firmware left
 * unusual. A function 0 that reads 0xffff means no device (6.2.1); the
 * multifunction bit of function 0's header type says whether to look at
 * functions 1-7. */
int pci_scan(void)
{
	unsigned bus, dev, fn, nfn;

	pci_ndevs = 0;
	for (bus = 0; bus < 256; bus++) {
		for (dev = 0; dev < 32; dev++) {
			if (pci_raw_read16(bus, dev, 0, PCI_VENDOR_ID) == PCI_VENDOR_NONE)
				continue;
			nfn = pci_raw_read8(bus, dev, 0, PCI_HEADER_TYPE) & PCI_HEADER_TYPE_MULTI ? 8 : 1;
			for (fn = 0; fn < nfn; fn++) {
				if (pci_raw_read16(bus, dev, fn, PCI_VENDOR_ID) != PCI_VENDOR_NONE)
					pci_add(bus, dev, fn);
			}
		}
	}
	return pci_ndevs;
}

int pci_count(void)
{
	return pci_ndevs;
}

struct pci_dev *pci_get(int i)
{
	return i >= 0 && i < pci_ndevs ? &pci_devs[i] : NULL;
}

void pci_enable(const struct pci_dev *d)
{
	uint16_t cmd = pci_read16(d, PCI_COMMAND);

	/* Drivers here use the legacy INTx line, so never leave it disabled. */
	cmd |= PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	cmd &= ~PCI_COMMAND_INTX_DISABLE;
	pci_write16(d, PCI_COMMAND, cmd);
}

/* 6.7: the list starts at 0x34 when status bit 4 is set; each entry is
 * id, next. Pointers are dword aligned and lie above the 64-byte header; the
 * walk is bounded so a looping list cannot hang the kernel. */
uint8_t pci_find_cap(const struct pci_dev *d, uint8_t cap_id, uint8_t from)
{
	uint8_t off;
	int guard;

	if (!(pci_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	off = from ? from : pci_read8(d, PCI_CAPABILITY_LIST);
	for (guard = 0; guard < PCI_CAP_MAX && off >= 0x40; guard++) {
		off &= 0xfc;
		if (pci_read8(d, off + PCI_CAP_ID) == cap_id)
			return off;
		off = pci_read8(d, off + PCI_CAP_NEXT);
	}
	return 0;
}
