/* rtl8139.c - Realtek RTL8139 Fast Ethernet (10ec:8139, QEMU "rtl8139"):
 * one receive ring buffer, the four transmit descriptors and the INTx line.
 *
 * "Datasheet" is the RTL8139C(L) datasheet rev. 1.4 (chapter 5, Register
 * Descriptions; chapter 9, Functional Description: 9.1 transmit, 9.2
 * receive); "programming guide" is Realtek's RTL8139(A/B) Programming Guide.
 *
 * Registers are reached through the I/O ports of BAR 0, not the memory BAR 1:
 * every RTL8139 revision and clone decodes the I/O BAR, some early boards
 * are known to have an unreliable memory BAR, and port accesses are neither
 * cached nor posted, so no mapping and no read-back flushes are needed. The
 * chip is a 10/100 part with at most a few thousand register accesses per
 * megabyte moved; the cost of IN/OUT does not matter. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "irq.h"
#include "mm.h"
#include "nic.h"
#include "pci.h"
#include "rtl8139.h"
#include "timer.h"

static inline uint8_t rtl8139_read8(struct rtl8139 *r, uint16_t reg) { return inb(r->io + reg); }
static inline uint16_t rtl8139_read16(struct rtl8139 *r, uint16_t reg) { return inw(r->io + reg); }
static inline uint32_t rtl8139_read32(struct rtl8139 *r, uint16_t reg) { return inl(r->io + reg); }
static inline void rtl8139_write8(struct rtl8139 *r, uint16_t reg, uint8_t v) { outb(r->io + reg, v); }
static inline void rtl8139_write16(struct rtl8139 *r, uint16_t reg, uint16_t v) { outw(r->io + reg, v); }
static inline void rtl8139_write32(struct rtl8139 *r, uint16_t reg, uint32_t v) { outl(r->io + reg, v); }

static int rtl8139_match(const struct pci_dev *d)
{
	return d->vendor == RTL8139_VENDOR_REALTEK && d->device == RTL8139_DEVICE_8139;
}

/* Datasheet CR.RST: the reset disables the transmitter and receiver, clears
 * the FIFOs and sets the buffer pointers back (Tx at TSAD0, Rx empty); IDR
 * and MAR keep their values. RST reads 1 until the reset has completed.
 * IMR is cleared by the reset; mask it first anyway so that nothing fires
 * while it runs, and clear any cause left over afterwards. */
static int rtl8139_reset(struct rtl8139 *r)
{
	uint32_t i;

	rtl8139_write16(r, RTL8139_IMR, 0);
	rtl8139_write8(r, RTL8139_CR, RTL8139_CR_RST);
	for (i = 0; i < RTL8139_RESET_TIMEOUT_US / 10; i++) {
		if (!(rtl8139_read8(r, RTL8139_CR) & RTL8139_CR_RST))
			break;
		timer_udelay(10);
	}
	rtl8139_write16(r, RTL8139_IMR, 0);
	rtl8139_write16(r, RTL8139_ISR, 0xffff);
	if (i == RTL8139_RESET_TIMEOUT_US / 10) {
		printf("rtl8139: reset did not complete\n");
		return -ETIMEDOUT;
	}
	return 0;
}

/* Datasheet IDR0-5: loaded from the EEPROM at power-up; byte reads are
 * allowed (only writes need 32-bit accesses and an unlocked 9346CR). */
static int rtl8139_read_mac(struct rtl8139 *r, uint8_t mac[6])
{
	int i, zero = 1;

	for (i = 0; i < 6; i++) {
		mac[i] = rtl8139_read8(r, RTL8139_IDR0 + i);
		if (mac[i])
			zero = 0;
	}
	if (zero || (mac[0] & 1))
		return -ENODEV;
	return 0;
}

static void rtl8139_irq(void *arg)
{
	struct rtl8139 *r = arg;
	uint16_t isr;

	/* Datasheet ISR: writing 1 to a bit clears it, which deasserts INTx
	 * once no unmasked bit is left. Interrupt context: acknowledge and
	 * record, nothing more; poll does the work. A shared line may fire for
	 * another device (ISR reads 0), a vanished device reads all ones. */
	isr = rtl8139_read16(r, RTL8139_ISR);
	if (isr == 0 || isr == 0xffff)
		return;
	rtl8139_write16(r, RTL8139_ISR, isr);
	__atomic_fetch_or(&r->isr_seen, isr, __ATOMIC_SEQ_CST);
}

static void rtl8139_dma_free(struct rtl8139 *r)
{
	if (r->tx_pa)
		pmm_free(r->tx_pa, r->tx_pages);
	if (r->rx_pa)
		pmm_free(r->rx_pa, r->rx_pages);
	r->tx_pa = r->rx_pa = 0;
	r->tx_buf = r->rx_ring = NULL;
}

/* The chip has 32-bit address registers (RBSTART, TSADn): its buffers must
 * lie below 4 GiB. */
static int rtl8139_dma_alloc(struct rtl8139 *r)
{
	r->rx_pages = (RTL8139_RX_ALLOC + PAGE_SIZE - 1) / PAGE_SIZE;
	r->tx_pages = (RTL8139_TX_DESCS * RTL8139_TX_BUF_SIZE + PAGE_SIZE - 1) / PAGE_SIZE;
	r->rx_pa = pmm_alloc(r->rx_pages);
	r->tx_pa = pmm_alloc(r->tx_pages);
	if (!r->rx_pa || !r->tx_pa) {
		rtl8139_dma_free(r);
		return -ENOMEM;
	}
	if (r->rx_pa + r->rx_pages * PAGE_SIZE > RTL8139_DMA_LIMIT ||
	    r->tx_pa + r->tx_pages * PAGE_SIZE > RTL8139_DMA_LIMIT) {
		printf("rtl8139: DMA memory at %#lx/%#lx is above 4 GiB, which this "
		       "32-bit device cannot reach\n", (unsigned long)r->rx_pa,
		       (unsigned long)r->tx_pa);
		rtl8139_dma_free(r);
		return -ENOMEM;
	}
	r->rx_ring = phys_to_virt(r->rx_pa);
	r->tx_buf = phys_to_virt(r->tx_pa);
	return 0;
}

/* Starts (or restarts) the receiver on an empty ring: RBSTART before RE so
 * the chip never sees a stale address; RCR after RE (the receive
 * configuration is only taken while the receiver is enabled on some
 * revisions); CAPR 16 bytes behind offset 0. Broadcast, our own address and
 * multicast (all groups: MAR0-7 all ones, nic.h has no group API) are
 * accepted; runts and error frames are not (RCR.AR = AER = 0), so the chip
 * drops them itself. */
static void rtl8139_rx_start(struct rtl8139 *r)
{
	r->rx_off = 0;
	r->rx_waiting = 0;
	rtl8139_write32(r, RTL8139_RBSTART, (uint32_t)r->rx_pa);
	rtl8139_write32(r, RTL8139_MAR0, 0xffffffff);
	rtl8139_write32(r, RTL8139_MAR4, 0xffffffff);
	rtl8139_write8(r, RTL8139_CR, RTL8139_CR_RE | RTL8139_CR_TE);
	rtl8139_write32(r, RTL8139_RCR,
			RTL8139_RCR_AB | RTL8139_RCR_APM | RTL8139_RCR_AM |
			RTL8139_RCR_MXDMA_UNLIMITED << RTL8139_RCR_MXDMA_SHIFT |
			RTL8139_RCR_RBLEN_32K << RTL8139_RCR_RBLEN_SHIFT |
			RTL8139_RCR_RXFTH_NONE << RTL8139_RCR_RXFTH_SHIFT);
	rtl8139_write16(r, RTL8139_CAPR, (uint16_t)(0 - RTL8139_CAPR_OFFSET));
}

/* A packet header that makes no sense (status without ROK or with an error
 * bit, a length no frame can have, a frame the chip never finished) means the
 * ring can no longer be followed. The programming guide's recovery: stop the
 * receiver (clear CR.RE and wait for it to read back 0), then enable it again
 * and program the receive registers afresh, which empties the ring. Frames in
 * it are lost; the transmitter is left running. */
static void rtl8139_rx_reset(struct nic *nic, struct rtl8139 *r, const char *why,
			     uint32_t hdr)
{
	uint32_t i;

	nic->rx_dropped++;
	if (r->rx_resets++ < 8)
		printf("rtl8139: %s (header %08x at %#x), receiver reset\n", why, hdr, r->rx_off);
	rtl8139_write8(r, RTL8139_CR, RTL8139_CR_TE);
	for (i = 0; i < RTL8139_RE_TIMEOUT_US / 10; i++) {
		if (!(rtl8139_read8(r, RTL8139_CR) & RTL8139_CR_RE))
			break;
		timer_udelay(10);
	}
	rtl8139_rx_start(r);
}

/* Datasheet TCR, 9.1: standard interframe gap, 1 KiB DMA bursts, the chip
 * appends the FCS, no loopback. TCR is written after CR.TE, which some
 * revisions (and QEMU) require. TSADn point at the four 2 KiB buffers. */
static void rtl8139_tx_start(struct rtl8139 *r)
{
	unsigned i;

	for (i = 0; i < RTL8139_TX_DESCS; i++)
		rtl8139_write32(r, RTL8139_TSAD(i),
				(uint32_t)(r->tx_pa + (uint64_t)i * RTL8139_TX_BUF_SIZE));
	r->tx_next = r->tx_dirty = r->tx_inflight = 0;
	rtl8139_write32(r, RTL8139_TCR,
			RTL8139_TCR_IFG_STD << RTL8139_TCR_IFG_SHIFT |
			RTL8139_TCR_MXDMA_1024 << RTL8139_TCR_MXDMA_SHIFT);
}

static void rtl8139_link_report(struct rtl8139 *r)
{
	uint8_t msr = rtl8139_read8(r, RTL8139_MSR);

	if (msr & RTL8139_MSR_LINKB)
		printf("rtl8139: link down\n");
	else
		printf("rtl8139: link up, %d Mb/s\n", msr & RTL8139_MSR_SPEED_10 ? 10 : 100);
}

static int rtl8139_open(struct nic *nic)
{
	struct rtl8139 *r = nic->priv;
	int rc;

	if (r->opened)
		return 0;
	if ((rc = rtl8139_reset(r)) != 0)
		goto err_reset;
	if ((rc = rtl8139_dma_alloc(r)) != 0)
		goto err_dma;
	rtl8139_rx_start(r); /* sets CR.RE | CR.TE */
	rtl8139_tx_start(r);
	rtl8139_write32(r, RTL8139_MPC, 0);
	if (nic->irq >= 0 && !r->irq_registered) {
		/* Never removed (irq.h has no unregister); after close the
		 * handler reads an ISR that stays 0 under IMR 0. */
		if (irq_register(nic->irq, rtl8139_irq, r) == 0)
			r->irq_registered = 1;
		else
			nic->irq = -1;
	}
	r->isr_seen = 0;
	rtl8139_write16(r, RTL8139_ISR, 0xffff);
	if (nic->irq >= 0)
		rtl8139_write16(r, RTL8139_IMR, RTL8139_IMR_ENABLE);
	r->opened = 1;
	if (!(rtl8139_read8(r, RTL8139_MSR) & RTL8139_MSR_LINKB))
		rtl8139_link_report(r);
	return 0;

err_dma:
	rtl8139_reset(r);
err_reset:
	printf("rtl8139: open failed (%d)\n", rc);
	return rc;
}

/* Mirror of open: mask interrupts and stop both DMA engines with a reset,
 * then free the buffers the chip no longer owns. */
static void rtl8139_close(struct nic *nic)
{
	struct rtl8139 *r = nic->priv;

	if (!r->opened)
		return;
	r->opened = 0;
	rtl8139_reset(r);
	rtl8139_dma_free(r);
}

/* 9.1: a descriptor is done once the chip has set OWN (its DMA is over)
 * and one of TOK, TUN or TABT. A transmit abort (excessive collisions, half
 * duplex only) is answered with TCR.CLRABT, which makes the chip retry the
 * same descriptor; it stays in flight until it ends otherwise. */
static void rtl8139_tx_reap(struct nic *nic, struct rtl8139 *r)
{
	uint32_t tsd;

	while (r->tx_inflight) {
		tsd = rtl8139_read32(r, RTL8139_TSD(r->tx_dirty));
		if (tsd & RTL8139_TSD_TABT) {
			nic->tx_dropped++;
			rtl8139_write32(r, RTL8139_TCR,
					rtl8139_read32(r, RTL8139_TCR) | RTL8139_TCR_CLRABT);
			return;
		}
		if (!(tsd & RTL8139_TSD_OWN) || !(tsd & (RTL8139_TSD_TOK | RTL8139_TSD_TUN)))
			return;
		if (tsd & RTL8139_TSD_TUN)
			nic->tx_dropped++; /* sent truncated: the peer drops it */
		r->tx_dirty = (r->tx_dirty + 1) % RTL8139_TX_DESCS;
		r->tx_inflight--;
	}
}

/* 9.1 and the programming guide: the descriptors are used strictly in turn
 * (0, 1, 2, 3, 0, ...). Copy the frame into the descriptor's buffer, pad it
 * to the 60-byte minimum (the chip does not pad), then write its size with
 * OWN = 0 to TSDn, which starts the DMA. ERTXTH at its maximum makes the chip
 * wait for the whole frame before sending, so a slow bus cannot underrun. */
static int rtl8139_transmit(struct nic *nic, const void *buf, size_t len)
{
	struct rtl8139 *r = nic->priv;
	uint8_t *dst;
	size_t n;

	if (!r->opened || len < RTL8139_ETH_HLEN || len > NIC_FRAME_MAX) {
		nic->tx_dropped++;
		return -1;
	}
	if (r->tx_inflight == RTL8139_TX_DESCS)
		rtl8139_tx_reap(nic, r);
	if (r->tx_inflight == RTL8139_TX_DESCS) {
		nic->tx_dropped++;
		return -1;
	}
	dst = r->tx_buf + (size_t)r->tx_next * RTL8139_TX_BUF_SIZE;
	memcpy(dst, buf, len);
	n = len;
	if (n < RTL8139_ETH_ZLEN) {
		memset(dst + n, 0, RTL8139_ETH_ZLEN - n);
		n = RTL8139_ETH_ZLEN;
	}
	/* The buffer must be in memory before the chip is told to read it. */
	wmb();
	rtl8139_write32(r, RTL8139_TSD(r->tx_next),
			(uint32_t)n | RTL8139_TSD_ERTXTH_MAX << RTL8139_TSD_ERTXTH_SHIFT);
	r->tx_next = (r->tx_next + 1) % RTL8139_TX_DESCS;
	r->tx_inflight++;
	nic->tx_frames++;
	return 0;
}

/* Bytes the chip has written past offset 'from' (CBR is its write offset). */
static unsigned rtl8139_rx_avail(struct rtl8139 *r, unsigned from)
{
	unsigned cbr = rtl8139_read16(r, RTL8139_CBR) % RTL8139_RX_RING_LEN;

	return (cbr + RTL8139_RX_RING_LEN - from) % RTL8139_RX_RING_LEN;
}

/* Returns 1 to wait for a frame the chip has not finished writing, 0 when
 * it has waited too long (the caller resets the receiver). */
static int rtl8139_rx_wait(struct rtl8139 *r)
{
	uint32_t now = timer_ms();

	if (!r->rx_waiting) {
		r->rx_waiting = 1;
		r->rx_wait_since = now;
		return 1;
	}
	return now - r->rx_wait_since < RTL8139_RX_EARLY_TIMEOUT_MS;
}

/* 9.2 and the programming guide: while CR.BUFE is clear the ring holds a
 * packet at rx_off: a 4-byte header (Receive Status Register, then the
 * length including the CRC), the frame, its CRC, padding to 4 bytes. RCR.WRAP
 * is 0, so a frame that reaches the end of the ring continues at its start
 * and is copied out in two pieces. Nothing in the header is trusted: the
 * status must say ROK and no error, the length must be that of an Ethernet
 * frame, and the chip's own write offset (CBR) must be at or beyond its end. */
static int rtl8139_rx(struct nic *nic, struct rtl8139 *r)
{
	unsigned n, off, first, need;
	uint32_t hdr;
	uint16_t status, len;
	const uint8_t *frame;
	int frames = 0;

	for (n = 0; n < RTL8139_RX_BUDGET; n++) {
		if (rtl8139_read8(r, RTL8139_CR) & RTL8139_CR_BUFE)
			break;
		off = r->rx_off;
		rmb();
		hdr = *(volatile uint32_t *)(r->rx_ring + off);
		status = hdr & 0xffff;
		len = hdr >> 16;
		need = RTL8139_RX_HDR_LEN + len;
		if (len == RTL8139_RX_LEN_EARLY ||
		    (len <= NIC_FRAME_MAX + RTL8139_CRC_LEN && rtl8139_rx_avail(r, off) < need)) {
			/* The chip is still moving this frame: come back on
			 * the next poll, but not forever. */
			if (rtl8139_rx_wait(r))
				break;
			rtl8139_rx_reset(nic, r, "frame never completed", hdr);
			break;
		}
		r->rx_waiting = 0;
		if (!(status & RTL8139_RSR_ROK) || (status & RTL8139_RSR_ERRORS)) {
			rtl8139_rx_reset(nic, r, "bad receive status", hdr);
			break;
		}
		if (len < RTL8139_ETH_HLEN + RTL8139_CRC_LEN || len > NIC_FRAME_MAX + RTL8139_CRC_LEN) {
			rtl8139_rx_reset(nic, r, "bad receive length", hdr);
			break;
		}
		len -= RTL8139_CRC_LEN;
		off = (off + RTL8139_RX_HDR_LEN) % RTL8139_RX_RING_LEN;
		if (off + len <= RTL8139_RX_RING_LEN) {
			frame = r->rx_ring + off;
		} else {
			first = RTL8139_RX_RING_LEN - off;
			memcpy(r->rx_bounce, r->rx_ring + off, first);
			memcpy(r->rx_bounce + first, r->rx_ring, len - first);
			frame = r->rx_bounce;
		}
		if (nic->rx) {
			nic->rx_frames++;
			frames++;
			nic->rx(nic, frame, len);
		} else {
			nic->rx_dropped++;
		}
		/* Next header: past the frame and its CRC, 4-byte aligned.
		 * CAPR trails it by 16 bytes (programming guide). */
		r->rx_off = (r->rx_off + need + 3) & ~3u;
		r->rx_off %= RTL8139_RX_RING_LEN;
		rtl8139_write16(r, RTL8139_CAPR,
				(uint16_t)(r->rx_off - RTL8139_CAPR_OFFSET));
	}
	return frames;
}

static int rtl8139_poll(struct nic *nic)
{
	struct rtl8139 *r = nic->priv;
	uint16_t isr;
	uint32_t missed;

	if (!r->opened)
		return 0;
	isr = __atomic_exchange_n(&r->isr_seen, 0, __ATOMIC_SEQ_CST);
	if (nic->irq < 0) {
		/* Polled: no handler acknowledges, so poll does. */
		uint16_t now = rtl8139_read16(r, RTL8139_ISR);
		if (now && now != 0xffff) {
			rtl8139_write16(r, RTL8139_ISR, now);
			isr |= now;
		}
	}
	if (isr & RTL8139_ISR_LINKCHG)
		rtl8139_link_report(r);
	if (isr & RTL8139_ISR_RER)
		nic->rx_dropped++; /* a bad frame the chip discarded itself */
	if (isr & (RTL8139_ISR_RXOVW | RTL8139_ISR_FOVW)) {
		/* Datasheet MPC: frames lost for lack of room; any write
		 * clears it. */
		missed = rtl8139_read32(r, RTL8139_MPC) & 0xffffff;
		rtl8139_write32(r, RTL8139_MPC, 0);
		nic->rx_dropped += missed ? missed : 1;
	}
	rtl8139_tx_reap(nic, r);
	return rtl8139_rx(nic, r);
}

static const struct nic_ops rtl8139_ops = {
	.open = rtl8139_open,
	.transmit = rtl8139_transmit,
	.poll = rtl8139_poll,
	.close = rtl8139_close,
};

static int rtl8139_probe(struct pci_dev *d, struct nic **out)
{
	struct rtl8139 *r;
	struct nic *nic;
	int rc;

	if (!rtl8139_match(d))
		return -ENODEV;
	/* BAR 0: the 256 I/O ports (datasheet chapter 7, PCI configuration
	 * space: IOAR). */
	if (!d->bar_is_io[0] || !d->bar[0] || d->bar[0] > 0xffff - RTL8139_IO_SIZE + 1 ||
	    d->bar_size[0] < RTL8139_IO_SIZE) {
		printf("rtl8139: pci %02x:%02x.%x has no I/O BAR\n", d->bus, d->dev, d->fn);
		return -ENODEV;
	}
	r = calloc(1, sizeof(*r));
	nic = calloc(1, sizeof(*nic));
	if (!r || !nic) {
		rc = -ENOMEM;
		goto err_alloc;
	}
	r->pci = d;
	r->io = (uint16_t)d->bar[0];
	pci_enable(d);
	/* Whatever firmware (a PXE ROM) left running is stopped here. */
	if ((rc = rtl8139_reset(r)) != 0)
		goto err_reset;
	if ((rc = rtl8139_read_mac(r, nic->mac)) != 0) {
		printf("rtl8139: no valid Ethernet address in IDR0-5\n");
		goto err_mac;
	}

	nic->name = "rtl8139";
	nic->model = "Realtek RTL8139";
	nic->pci = d;
	nic->irq = d->irq_line >= 1 && d->irq_line <= 15 ? d->irq_line : -1;
	nic->ops = &rtl8139_ops;
	nic->priv = r;
	*out = nic;
	return 0;

err_mac:
err_reset:
err_alloc:
	free(nic);
	free(r);
	return rc;
}

const struct nic_driver rtl8139_driver = {
	.name = "rtl8139",
	.match = rtl8139_match,
	.probe = rtl8139_probe,
};
