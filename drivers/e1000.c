/* e1000.c - Intel 8254x (82540EM) and 82574L gigabit Ethernet, with legacy
 * descriptors, one receive and one transmit ring and the INTx interrupt.
 *
 * Section numbers without a prefix refer to the 8254x Software Developer's
 * Manual (317453); "82574 x.y" to the 82574 GbE Controller Family datasheet.
 * Initialisation follows 8254x SDM chapter 14 (General Configuration 14.3,
 * Receive 14.4, Transmit 14.5), which the 82574 datasheet repeats for
 * legacy descriptors. Where a section number is not given below, the
 * register named is described under that name in both documents. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "e1000.h"
#include "irq.h"
#include "mm.h"
#include "nic.h"
#include "pci.h"
#include "timer.h"

#define E1000_ETH_HLEN 14

static const struct e1000_chip e1000_chips[] = {
	{
		.device = 0x100e,
		.name = "e1000",
		.model = "Intel 82540EM",
		.flags = E1000_CHIP_ASDE,
		/* TIPG: IEEE 802.3 IPG for copper: IPGT 10, IPGR1 8, IPGR2 6 */
		.tipg = 10 | 8 << E1000_TIPG_IPGR1_SHIFT | 6 << E1000_TIPG_IPGR2_SHIFT,
	},
	{
		.device = 0x10d3,
		.name = "e1000e",
		.model = "Intel 82574L",
		/* 82574 CTRL: speed and duplex come from the PHY, ASDE is
		 * not used. 82574 EERD: DONE and ADDR moved (see e1000.h). */
		.flags = E1000_CHIP_PCIE | E1000_CHIP_EERD_82574,
		/* 82574 TIPG: the datasheet's recommended IPGT is 8 */
		.tipg = 8 | 8 << E1000_TIPG_IPGR1_SHIFT | 6 << E1000_TIPG_IPGR2_SHIFT,
	},
};

#define E1000_NCHIPS (sizeof(e1000_chips) / sizeof(e1000_chips[0]))

static inline uint32_t e1000_read(struct e1000 *e, uint32_t reg)
{
	return mmio_read32(e->regs + reg);
}

static inline void e1000_write(struct e1000 *e, uint32_t reg, uint32_t v)
{
	mmio_write32(e->regs + reg, v);
}

/* A read forces earlier posted writes out to the device. */
static inline void e1000_flush(struct e1000 *e)
{
	(void)e1000_read(e, E1000_STATUS);
}

static void e1000_mdelay(uint32_t ms)
{
	while (ms--)
		timer_udelay(1000);
}

static const struct e1000_chip *e1000_chip_find(const struct pci_dev *d)
{
	unsigned i;

	if (d->vendor != E1000_VENDOR_INTEL)
		return NULL;
	for (i = 0; i < E1000_NCHIPS; i++) {
		if (e1000_chips[i].device == d->device)
			return &e1000_chips[i];
	}
	return NULL;
}

static int e1000_match(const struct pci_dev *d)
{
	return e1000_chip_find(d) != NULL;
}

/* Polls reg until (value & mask) == want, for up to ms milliseconds. */
static int e1000_wait(struct e1000 *e, uint32_t reg, uint32_t mask, uint32_t want,
		      uint32_t ms)
{
	uint32_t i;

	for (i = 0; i <= ms * 10; i++) {
		if ((e1000_read(e, reg) & mask) == want)
			return 0;
		timer_udelay(100);
	}
	return -ETIMEDOUT;
}

/* Software reset through CTRL.RST: quiesce the device first: mask all
 * interrupts, stop receive and transmit, let in-flight DMA finish, and on
 * PCIe parts disable bus mastering (82574 CTRL.GIO Master Disable, then STATUS.GIO Master Enable
 * reads 0)
 * so no request is outstanding when the reset hits. */
static void e1000_reset(struct e1000 *e)
{
	e1000_write(e, E1000_IMC, 0xffffffff);
	e1000_write(e, E1000_RCTL, 0);
	e1000_write(e, E1000_TCTL, E1000_TCTL_PSP);
	e1000_flush(e);
	e1000_mdelay(E1000_DISABLE_DMA_DELAY_MS);

	if (e->chip->flags & E1000_CHIP_PCIE) {
		e1000_write(e, E1000_CTRL, e1000_read(e, E1000_CTRL) | E1000_CTRL_GIO_MASTER_DISABLE);
		if (e1000_wait(e, E1000_STATUS, E1000_STATUS_GIO_MASTER_ENABLE, 0,
			       E1000_MASTER_DISABLE_TIMEOUT_MS))
			printf("%s: master disable timed out, resetting anyway\n", e->chip->name);
	}

	/* CTRL.RST resets everything but the PCI configuration and reloads
	 * the EEPROM; it clears itself. Registers must not be touched for a
	 * while afterwards (13.4.1 CTRL.RST; we give it 1 ms). */
	e1000_write(e, E1000_CTRL, e1000_read(e, E1000_CTRL) | E1000_CTRL_RST);
	timer_udelay(E1000_RESET_DELAY_US);
	if (e1000_wait(e, E1000_CTRL, E1000_CTRL_RST, 0, E1000_AUTO_RD_TIMEOUT_MS))
		printf("%s: reset did not complete\n", e->chip->name);
	if (e->chip->flags & E1000_CHIP_PCIE) {
		/* 82574 EEC.Auto_RD is set once the NVM has been
		 * read after the reset. */
		if (e1000_wait(e, E1000_EECD, E1000_EECD_AUTO_RD, E1000_EECD_AUTO_RD,
			       E1000_AUTO_RD_TIMEOUT_MS))
			printf("%s: NVM auto-read not done\n", e->chip->name);
	} else {
		/* The 8254x has no completion bit here; its EEPROM
		 * reload is done well within 5 ms. */
		e1000_mdelay(5);
	}

	/* The reset leaves interrupts masked; clear any cause left over. */
	e1000_write(e, E1000_IMC, 0xffffffff);
	(void)e1000_read(e, E1000_ICR);
}

/* 13.4.4 EERD: start a read of one 16-bit word and wait for DONE. */
static int e1000_read_eeprom(struct e1000 *e, uint8_t word, uint16_t *out)
{
	uint32_t done, shift, v, i;

	if (e->chip->flags & E1000_CHIP_EERD_82574) {
		done = E1000_EERD_DONE_82574;
		shift = E1000_EERD_ADDR_SHIFT_82574;
	} else {
		done = E1000_EERD_DONE_8254X;
		shift = E1000_EERD_ADDR_SHIFT_8254X;
	}
	e1000_write(e, E1000_EERD, E1000_EERD_START | (uint32_t)word << shift);
	for (i = 0; i < E1000_EERD_TIMEOUT_US / 10; i++) {
		v = e1000_read(e, E1000_EERD);
		if (v & done) {
			*out = v >> E1000_EERD_DATA_SHIFT;
			return 0;
		}
		timer_udelay(10);
	}
	return -ETIMEDOUT;
}

/* After a reset the hardware loads RAL0/RAH0 from the EEPROM (RAL/RAH,
 * "Receive Address"); fall back to reading EEPROM words 0-2 if it did not. */
static int e1000_read_mac(struct e1000 *e, uint8_t mac[6])
{
	uint32_t ral = e1000_read(e, E1000_RAL0), rah = e1000_read(e, E1000_RAH0);
	uint16_t w;
	int i, rc;

	if ((rah & E1000_RAH_AV) && (ral || (rah & 0xffff))) {
		for (i = 0; i < 4; i++)
			mac[i] = ral >> (8 * i);
		mac[4] = rah;
		mac[5] = rah >> 8;
		return 0;
	}
	for (i = 0; i < 3; i++) {
		if ((rc = e1000_read_eeprom(e, E1000_EEPROM_MAC + i, &w)) != 0)
			return rc;
		mac[2 * i] = w;
		mac[2 * i + 1] = w >> 8;
	}
	return 0;
}

static void e1000_irq(void *arg)
{
	struct e1000 *e = arg;

	/* 13.4.17: reading ICR returns and clears the causes, which
	 * deasserts INTx. A shared line may fire for another device: then
	 * the read returns 0 and changes nothing. */
	__atomic_fetch_or(&e->icr_seen, e1000_read(e, E1000_ICR), __ATOMIC_SEQ_CST);
}

static void e1000_rings_free(struct e1000 *e)
{
	if (e->buf_pa)
		pmm_free(e->buf_pa, e->buf_pages);
	if (e->ring_pa)
		pmm_free(e->ring_pa, e->ring_pages);
	e->buf_pa = e->ring_pa = 0;
	e->rx = NULL;
	e->tx = NULL;
	e->buf = NULL;
}

static int e1000_rings_alloc(struct e1000 *e)
{
	size_t rx_bytes = E1000_RX_RING * sizeof(struct e1000_rx_desc);
	size_t tx_bytes = E1000_TX_RING * sizeof(struct e1000_tx_desc);
	uint8_t *ring;

	e->ring_pages = (rx_bytes + PAGE_SIZE - 1) / PAGE_SIZE +
			(tx_bytes + PAGE_SIZE - 1) / PAGE_SIZE;
	e->buf_pages = (size_t)(E1000_RX_RING + E1000_TX_RING) * E1000_BUF_SIZE / PAGE_SIZE;
	e->ring_pa = pmm_alloc(e->ring_pages);
	e->buf_pa = pmm_alloc(e->buf_pages);
	if (!e->ring_pa || !e->buf_pa) {
		e1000_rings_free(e);
		return -ENOMEM;
	}
	ring = phys_to_virt(e->ring_pa);
	e->rx = (volatile struct e1000_rx_desc *)ring;
	e->tx_ring_pa = e->ring_pa + (rx_bytes + PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE;
	e->tx = phys_to_virt(e->tx_ring_pa);
	e->buf = phys_to_virt(e->buf_pa);
	return 0;
}

static uint64_t e1000_rx_buf_pa(struct e1000 *e, unsigned i)
{
	return e->buf_pa + (uint64_t)i * E1000_BUF_SIZE;
}

static uint64_t e1000_tx_buf_pa(struct e1000 *e, unsigned i)
{
	return e->buf_pa + (uint64_t)(E1000_RX_RING + i) * E1000_BUF_SIZE;
}

/* 14.3 General Configuration: link, flow control, address filters. */
static void e1000_configure_link(struct e1000 *e, const uint8_t mac[6])
{
	uint32_t ctrl;
	int i;

	/* Auto-negotiation through the internal PHY: set link up, let the
	 * MAC follow the PHY's resolved speed and duplex, nothing forced,
	 * no link or PHY reset held, no VLAN processing. */
	ctrl = e1000_read(e, E1000_CTRL);
	ctrl &= ~(E1000_CTRL_LRST | E1000_CTRL_PHY_RST | E1000_CTRL_ILOS |
		  E1000_CTRL_FRCSPD | E1000_CTRL_FRCDPLX | E1000_CTRL_VME |
		  E1000_CTRL_GIO_MASTER_DISABLE);
	ctrl |= E1000_CTRL_SLU;
	if (e->chip->flags & E1000_CHIP_ASDE)
		ctrl |= E1000_CTRL_ASDE;
	e1000_write(e, E1000_CTRL, ctrl);

	/* 14.3: without flow control, FCAL, FCAH, FCT and FCTTV are 0. */
	e1000_write(e, E1000_FCAL, 0);
	e1000_write(e, E1000_FCAH, 0);
	e1000_write(e, E1000_FCT, 0);
	e1000_write(e, E1000_FCTTV, 0);

	/* 14.4: our unicast address in RAL0/RAH0, multicast table cleared. */
	e1000_write(e, E1000_RAL0, mac[0] | mac[1] << 8 | mac[2] << 16 | (uint32_t)mac[3] << 24);
	e1000_write(e, E1000_RAH0, mac[4] | mac[5] << 8 | E1000_RAH_AV);
	for (i = 0; i < E1000_MTA_LEN; i++)
		e1000_write(e, E1000_MTA + 4 * i, 0);
}

/* 14.4 Receive Initialization. */
static void e1000_rx_init(struct e1000 *e)
{
	unsigned i;

	for (i = 0; i < E1000_RX_RING; i++) {
		e->rx[i].addr = e1000_rx_buf_pa(e, i);
		e->rx[i].status = 0;
	}
	e->rx_next = 0;
	e->rx_discard = 0;
	e1000_write(e, E1000_RDBAL, (uint32_t)e->ring_pa);
	e1000_write(e, E1000_RDBAH, (uint32_t)(e->ring_pa >> 32));
	e1000_write(e, E1000_RDLEN, E1000_RX_RING * sizeof(struct e1000_rx_desc));
	/* The hardware owns descriptors from head up to, not including,
	 * tail: all but one are given to it. */
	e1000_write(e, E1000_RDH, 0);
	e1000_write(e, E1000_RDT, E1000_RX_RING - 1);
	e1000_write(e, E1000_RDTR, 0);
	/* Broadcasts accepted, 2048-byte buffers, CRC stripped so the
	 * length is the frame's; no long packets (a frame always fits one
	 * buffer), no promiscuous modes. */
	wmb();
	e1000_write(e, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_RDMTS_HALF |
				       E1000_RCTL_BSIZE_2048 | E1000_RCTL_SECRC);
}

/* 14.5 Transmit Initialization. */
static void e1000_tx_init(struct e1000 *e)
{
	unsigned i;

	for (i = 0; i < E1000_TX_RING; i++) {
		e->tx[i].addr = e1000_tx_buf_pa(e, i);
		e->tx[i].cmd = 0;
		e->tx[i].status = E1000_TXD_STAT_DD;
	}
	e->tx_tail = 0;
	e->tx_clean = 0;
	e1000_write(e, E1000_TDBAL, (uint32_t)e->tx_ring_pa);
	e1000_write(e, E1000_TDBAH, (uint32_t)(e->tx_ring_pa >> 32));
	e1000_write(e, E1000_TDLEN, E1000_TX_RING * sizeof(struct e1000_tx_desc));
	e1000_write(e, E1000_TDH, 0);
	e1000_write(e, E1000_TDT, 0);
	e1000_write(e, E1000_TIDV, 0);
	e1000_write(e, E1000_TIPG, e->chip->tipg);
	wmb();
	e1000_write(e, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP |
				       E1000_TCTL_CT_DEFAULT << E1000_TCTL_CT_SHIFT |
				       E1000_TCTL_COLD_FD << E1000_TCTL_COLD_SHIFT);
}

static void e1000_link_report(struct e1000 *e)
{
	static const int speeds[] = { 10, 100, 1000, 1000 };
	uint32_t status = e1000_read(e, E1000_STATUS);

	if (status & E1000_STATUS_LU)
		printf("%s: link up, %d Mb/s %s duplex\n", e->chip->name,
		       speeds[(status >> E1000_STATUS_SPEED_SHIFT) & E1000_STATUS_SPEED_MASK],
		       status & E1000_STATUS_FD ? "full" : "half");
	else
		printf("%s: link down\n", e->chip->name);
}

static int e1000_open(struct nic *nic)
{
	struct e1000 *e = nic->priv;
	int rc;

	if (e->opened)
		return 0;
	e1000_reset(e);
	if ((rc = e1000_rings_alloc(e)) != 0)
		goto err_rings;
	e1000_configure_link(e, nic->mac);
	e1000_rx_init(e);
	e1000_tx_init(e);
	if (nic->irq >= 0 && !e->irq_registered) {
		/* Never removed (irq.h has no unregister); the handler only
		 * reads ICR through a mapping that stays valid. */
		if (irq_register(nic->irq, e1000_irq, e) == 0)
			e->irq_registered = 1;
		else
			nic->irq = -1;
	}
	e->icr_seen = 0;
	(void)e1000_read(e, E1000_ICR);
	/* 14.4/14.5: unmask the causes we handle; LSC reports the link. */
	e1000_write(e, E1000_IMS, E1000_IMS_ENABLE);
	e1000_flush(e);
	e->opened = 1;
	/* On real hardware auto-negotiation takes seconds: the link usually
	 * comes up later and is reported on LSC. */
	if (e1000_read(e, E1000_STATUS) & E1000_STATUS_LU)
		e1000_link_report(e);
	return 0;

err_rings:
	e1000_reset(e);
	printf("%s: open failed (%d)\n", e->chip->name, rc);
	return rc;
}

/* Mirror of open: stop interrupts and DMA with a reset, then free. */
static void e1000_close(struct nic *nic)
{
	struct e1000 *e = nic->priv;

	if (!e->opened)
		return;
	e->opened = 0;
	e1000_reset(e);
	e1000_rings_free(e);
}

static void e1000_tx_reap(struct e1000 *e)
{
	while (e->tx_clean != e->tx_tail && (e->tx[e->tx_clean].status & E1000_TXD_STAT_DD))
		e->tx_clean = (e->tx_clean + 1) % E1000_TX_RING;
}

/* 3.3.3: one legacy descriptor per frame; IFCS appends the FCS, RS asks for
 * the DD write-back that frees the slot, TCTL.PSP pads short frames. */
static int e1000_transmit(struct nic *nic, const void *buf, size_t len)
{
	struct e1000 *e = nic->priv;
	volatile struct e1000_tx_desc *d;
	unsigned next;

	if (!e->opened || len < E1000_ETH_HLEN || len > NIC_FRAME_MAX) {
		nic->tx_dropped++;
		return -1;
	}
	next = (e->tx_tail + 1) % E1000_TX_RING;
	if (next == e->tx_clean)
		e1000_tx_reap(e);
	if (next == e->tx_clean) {
		nic->tx_dropped++;
		return -1;
	}
	d = &e->tx[e->tx_tail];
	memcpy(e->buf + (size_t)(E1000_RX_RING + e->tx_tail) * E1000_BUF_SIZE, buf, len);
	d->addr = e1000_tx_buf_pa(e, e->tx_tail);
	d->length = len;
	d->cso = 0;
	d->css = 0;
	d->special = 0;
	d->status = 0;
	d->cmd = E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS;
	e->tx_tail = next;
	/* The descriptor must be in memory before the tail moves. */
	wmb();
	e1000_write(e, E1000_TDT, e->tx_tail);
	nic->tx_frames++;
	return 0;
}

static int e1000_poll(struct nic *nic)
{
	struct e1000 *e = nic->priv;
	volatile struct e1000_rx_desc *d;
	unsigned n, last = E1000_RX_RING;
	uint32_t icr;
	uint16_t len;
	uint8_t status, errors;
	int frames = 0;

	if (!e->opened)
		return 0;
	icr = __atomic_exchange_n(&e->icr_seen, 0, __ATOMIC_SEQ_CST);
	if (nic->irq < 0)
		icr |= e1000_read(e, E1000_ICR);
	if (icr & E1000_ICR_LSC)
		e1000_link_report(e);

	e1000_tx_reap(e);

	/* 3.2.3: a descriptor is ours once DD is set; at most one ring's
	 * worth per poll. */
	for (n = 0; n < E1000_RX_RING; n++) {
		d = &e->rx[e->rx_next];
		status = d->status;
		if (!(status & E1000_RXD_STAT_DD))
			break;
		rmb();
		len = d->length;
		errors = d->errors;
		if (!(status & E1000_RXD_STAT_EOP)) {
			/* Cannot happen with LPE off and 2048-byte buffers;
			 * drop the whole frame if it does. */
			if (!e->rx_discard)
				nic->rx_dropped++;
			e->rx_discard = 1;
		} else if (e->rx_discard) {
			e->rx_discard = 0;
		} else if ((errors & E1000_RXD_ERR_FRAME) || len < E1000_ETH_HLEN ||
			   len > E1000_BUF_SIZE || !nic->rx) {
			nic->rx_dropped++;
		} else {
			nic->rx_frames++;
			frames++;
			nic->rx(nic, e->buf + (size_t)e->rx_next * E1000_BUF_SIZE, len);
		}
		d->status = 0;
		last = e->rx_next;
		e->rx_next = (e->rx_next + 1) % E1000_RX_RING;
	}
	if (last != E1000_RX_RING) {
		/* Hand the processed descriptors back: the tail goes to the
		 * last one we cleaned, which the hardware may now fill. */
		wmb();
		e1000_write(e, E1000_RDT, last);
	}
	return frames;
}

static const struct nic_ops e1000_ops = {
	.open = e1000_open,
	.transmit = e1000_transmit,
	.poll = e1000_poll,
	.close = e1000_close,
};

static int e1000_probe(struct pci_dev *d, struct nic **out)
{
	const struct e1000_chip *chip = e1000_chip_find(d);
	struct e1000 *e;
	struct nic *nic;
	int rc;

	if (!chip)
		return -ENODEV;
	/* PCI BAR 0 is the 128 KiB memory-mapped register space. */
	if (d->bar_is_io[0] || !d->bar[0] || d->bar_size[0] < 0x20000) {
		printf("%s: pci %02x:%02x.%x has no register BAR\n", chip->name,
		       d->bus, d->dev, d->fn);
		return -ENODEV;
	}
	e = calloc(1, sizeof(*e));
	nic = calloc(1, sizeof(*nic));
	if (!e || !nic) {
		rc = -ENOMEM;
		goto err_alloc;
	}
	e->chip = chip;
	e->pci = d;
	pci_enable(d);
	e->regs = vm_map_mmio(d->bar[0], 0x20000);
	if (!e->regs) {
		rc = -ENOMEM;
		goto err_map;
	}
	/* Whatever firmware (iPXE) left running is stopped here. */
	e1000_reset(e);
	if ((rc = e1000_read_mac(e, nic->mac)) != 0) {
		printf("%s: cannot read the MAC address (%d)\n", chip->name, rc);
		goto err_mac;
	}

	nic->name = chip->name;
	nic->model = chip->model;
	nic->pci = d;
	nic->irq = d->irq_line >= 1 && d->irq_line <= 15 ? d->irq_line : -1;
	nic->ops = &e1000_ops;
	nic->priv = e;
	*out = nic;
	return 0;

err_mac:
err_map:
	/* The BAR mapping is never removed (mm.h). */
err_alloc:
	free(nic);
	free(e);
	return rc;
}

const struct nic_driver e1000_driver = {
	.name = "e1000",
	.match = e1000_match,
	.probe = e1000_probe,
};
