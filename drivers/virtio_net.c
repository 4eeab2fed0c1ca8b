/* virtio_net.c - virtio-net over the virtio 1.x PCI transport (modern
 * interface only), with one receive and one transmit split virtqueue and
 * the legacy INTx interrupt.
 *
 * Section numbers refer to "Virtual I/O Device (VIRTIO) Version 1.1". The
 * driver negotiates VIRTIO_F_VERSION_1 and VIRTIO_NET_F_MAC only: no
 * checksum offload, no GSO, no mergeable receive buffers, so each receive
 * buffer holds one whole frame and each frame goes out in one descriptor. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "irq.h"
#include "mm.h"
#include "nic.h"
#include "pci.h"
#include "pci_priv.h"
#include "timer.h"
#include "virtio_net.h"

#define VIRTIO_NET_HDR_LEN sizeof(struct virtio_net_hdr)
#define VIRTIO_NET_ETH_HLEN 14

static inline uint8_t vn_common_read8(struct virtio_net *vn, unsigned off)
{
	return mmio_read8(vn->common + off);
}

static inline uint16_t vn_common_read16(struct virtio_net *vn, unsigned off)
{
	return mmio_read16(vn->common + off);
}

static inline uint32_t vn_common_read32(struct virtio_net *vn, unsigned off)
{
	return mmio_read32(vn->common + off);
}

static inline void vn_common_write8(struct virtio_net *vn, unsigned off, uint8_t v)
{
	mmio_write8(vn->common + off, v);
}

static inline void vn_common_write16(struct virtio_net *vn, unsigned off, uint16_t v)
{
	mmio_write16(vn->common + off, v);
}

static inline void vn_common_write32(struct virtio_net *vn, unsigned off, uint32_t v)
{
	mmio_write32(vn->common + off, v);
}

/* 4.1.3.1: 64-bit fields may be written as two 32-bit halves. */
static void vn_common_write64(struct virtio_net *vn, unsigned off, uint64_t v)
{
	vn_common_write32(vn, off, (uint32_t)v);
	vn_common_write32(vn, off + 4, (uint32_t)(v >> 32));
}

static int virtio_net_match(const struct pci_dev *d)
{
	return d->vendor == VIRTIO_PCI_VENDOR &&
	       (d->device == VIRTIO_PCI_DEVICE_NET_MODERN ||
		d->device == VIRTIO_PCI_DEVICE_NET_TRANS);
}

/* Maps 'len' bytes at 'off' into memory BAR 'bar'; vm_map_mmio works in
 * pages, so the page-aligned span around the structure is mapped. */
static volatile uint8_t *virtio_net_map(const struct pci_dev *d, uint8_t bar,
					uint32_t off, uint32_t len)
{
	uint64_t pa, page;
	volatile uint8_t *va;

	if (bar > 5 || d->bar_is_io[bar] || !d->bar[bar] ||
	    (uint64_t)off + len > d->bar_size[bar])
		return NULL;
	pa = d->bar[bar] + off;
	page = pa & ~(PAGE_SIZE - 1);
	va = vm_map_mmio(page, (pa - page + len + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1));
	return va ? va + (pa - page) : NULL;
}

/* 4.1.4: the driver uses the first capability of each cfg_type whose BAR
 * it can use, ignoring the others. Returns the mapped structure or NULL;
 * *cap_out is the capability's offset in configuration space. */
static volatile uint8_t *virtio_net_find_cap(const struct pci_dev *d, uint8_t cfg_type,
					     uint32_t min_len, uint32_t *len_out,
					     uint8_t *cap_out)
{
	uint8_t cap, next, bar;
	uint32_t off, len;
	volatile uint8_t *va;
	int guard = 0;

	/* pci_find_cap(from = 0) means "from the start", so the walk stops
	 * itself when a capability's next pointer is 0. */
	for (cap = pci_find_cap(d, PCI_CAP_ID_VNDR, 0); cap && guard < PCI_CAP_MAX;
	     cap = next ? pci_find_cap(d, PCI_CAP_ID_VNDR, next) : 0, guard++) {
		next = pci_read8(d, cap + PCI_CAP_NEXT);
		if (pci_read8(d, cap + VIRTIO_PCI_CAP_CFG_TYPE) != cfg_type)
			continue;
		bar = pci_read8(d, cap + VIRTIO_PCI_CAP_BAR);
		off = pci_read32(d, cap + VIRTIO_PCI_CAP_OFFSET);
		len = pci_read32(d, cap + VIRTIO_PCI_CAP_LENGTH);
		if (len < min_len)
			continue;
		va = virtio_net_map(d, bar, off, len);
		if (!va)
			continue;
		*len_out = len;
		if (cap_out)
			*cap_out = cap;
		return va;
	}
	return NULL;
}

/* 4.1.4.3.2: writing 0 to device_status resets the device; the driver
 * must wait until a read returns 0 before reinitialising it. */
static int virtio_net_reset(struct virtio_net *vn)
{
	uint32_t i;

	vn_common_write8(vn, VIRTIO_PCI_COMMON_STATUS, 0);
	/* Busy-wait with timer_udelay: this also runs before interrupts
	 * are enabled. */
	for (i = 0; i < VIRTIO_NET_RESET_TIMEOUT_MS * 10; i++) {
		if (vn_common_read8(vn, VIRTIO_PCI_COMMON_STATUS) == 0)
			return 0;
		timer_udelay(100);
	}
	printf("virtio-net: device did not complete its reset\n");
	return -ETIMEDOUT;
}

static void virtio_net_set_status(struct virtio_net *vn, uint8_t bits)
{
	vn_common_write8(vn, VIRTIO_PCI_COMMON_STATUS,
			 vn_common_read8(vn, VIRTIO_PCI_COMMON_STATUS) | bits);
}

/* 3.1.1 Driver Requirements: Device Initialization, steps 1 to 6. */
static int virtio_net_negotiate(struct virtio_net *vn)
{
	uint64_t offered, wanted;
	int rc;

	/* 1. Reset the device. */
	if ((rc = virtio_net_reset(vn)) != 0)
		return rc;
	/* 2. Set ACKNOWLEDGE: the guest OS has noticed the device. */
	virtio_net_set_status(vn, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	/* 3. Set DRIVER: the guest OS knows how to drive it. */
	virtio_net_set_status(vn, VIRTIO_CONFIG_S_DRIVER);
	/* 4. Read the device feature bits, write the subset we understand. */
	vn_common_write32(vn, VIRTIO_PCI_COMMON_DFSELECT, 0);
	offered = vn_common_read32(vn, VIRTIO_PCI_COMMON_DF);
	vn_common_write32(vn, VIRTIO_PCI_COMMON_DFSELECT, 1);
	offered |= (uint64_t)vn_common_read32(vn, VIRTIO_PCI_COMMON_DF) << 32;
	if (!(offered & (1ull << VIRTIO_F_VERSION_1))) {
		/* 6.1: a modern driver must not accept a device without it. */
		rc = -ENOTSUP;
		goto err;
	}
	wanted = offered & ((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_MAC));
	vn_common_write32(vn, VIRTIO_PCI_COMMON_GFSELECT, 0);
	vn_common_write32(vn, VIRTIO_PCI_COMMON_GF, (uint32_t)wanted);
	vn_common_write32(vn, VIRTIO_PCI_COMMON_GFSELECT, 1);
	vn_common_write32(vn, VIRTIO_PCI_COMMON_GF, (uint32_t)(wanted >> 32));
	/* 5. Set FEATURES_OK; no new feature bits after this. */
	virtio_net_set_status(vn, VIRTIO_CONFIG_S_FEATURES_OK);
	/* 6. Re-read: if FEATURES_OK is clear the device refused our subset
	 * (it may require a feature we do not handle, e.g.
	 * VIRTIO_F_ACCESS_PLATFORM behind an IOMMU). */
	if (!(vn_common_read8(vn, VIRTIO_PCI_COMMON_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK)) {
		rc = -ENOTSUP;
		goto err;
	}
	vn->features = wanted;
	return 0;

err:
	virtio_net_set_status(vn, VIRTIO_CONFIG_S_FAILED);
	return rc;
}

/* 2.5.1 / 4.1.4.3.1: a multi-byte configuration read is consistent only if
 * config_generation is the same before and after it. */
static void virtio_net_read_mac(struct virtio_net *vn, uint8_t mac[6])
{
	uint8_t gen;
	int i, tries = 0;

	/* Bounded: a device whose generation never settles gets the last
	 * read rather than hanging the boot. */
	do {
		gen = vn_common_read8(vn, VIRTIO_PCI_COMMON_CFGGEN);
		for (i = 0; i < 6; i++)
			mac[i] = mmio_read8(vn->device + VIRTIO_NET_CONFIG_MAC + i);
	} while (gen != vn_common_read8(vn, VIRTIO_PCI_COMMON_CFGGEN) && ++tries < 100);
}

/* 5.1.5: without VIRTIO_NET_F_MAC the driver makes up a random address;
 * locally administered, unicast. */
static void virtio_net_random_mac(uint8_t mac[6])
{
	uint64_t r = rdtsc() * 6364136223846793005ull + 1442695040888963407ull;
	int i;

	for (i = 0; i < 6; i++, r >>= 8)
		mac[i] = (uint8_t)r;
	mac[0] = (mac[0] & 0xfe) | 0x02;
}

static void virtio_net_queue_free(struct virtio_net_queue *q)
{
	if (q->buf_pa)
		pmm_free(q->buf_pa, q->buf_pages);
	if (q->ring_pa)
		pmm_free(q->ring_pa, q->ring_pages);
	memset(q, 0, sizeof(*q));
}

static size_t virtio_net_pages(size_t bytes)
{
	return (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
}

/* 4.1.5.1.3 Virtqueue Configuration: select the queue, read its size,
 * allocate and zero the descriptor table, available and used rings (2.6:
 * alignment 16, 2 and 4; each part here starts on its own page), write
 * their addresses, find the notify address, then enable the queue. */
static int virtio_net_queue_setup(struct virtio_net *vn, struct virtio_net_queue *q,
				  uint16_t index)
{
	size_t desc_pages, avail_pages, used_pages;
	uint16_t dev_size, size, noff;
	uint64_t notify_off;
	uint8_t *ring;

	memset(q, 0, sizeof(*q));
	q->index = index;
	vn_common_write16(vn, VIRTIO_PCI_COMMON_Q_SELECT, index);
	dev_size = vn_common_read16(vn, VIRTIO_PCI_COMMON_Q_SIZE);
	if (dev_size == 0 || vn_common_read16(vn, VIRTIO_PCI_COMMON_Q_ENABLE)) {
		printf("virtio-net: queue %u unavailable\n", index);
		return -ENODEV;
	}
	/* 4.1.4.3.2: the driver may pick a smaller size; keep a power of two
	 * so the 16-bit ring indexes wrap onto the ring cleanly. */
	size = dev_size < VIRTIO_NET_QSIZE_MAX ? dev_size : VIRTIO_NET_QSIZE_MAX;
	while (size & (size - 1))
		size &= size - 1;
	q->size = size;

	desc_pages = virtio_net_pages(sizeof(struct virtio_net_desc) * size);
	avail_pages = virtio_net_pages(sizeof(struct virtio_net_avail) + 2 * size + 2);
	used_pages = virtio_net_pages(sizeof(struct virtio_net_used) +
				      sizeof(struct virtio_net_used_elem) * size + 2);
	q->ring_pages = desc_pages + avail_pages + used_pages;
	q->ring_pa = pmm_alloc(q->ring_pages);
	q->buf_pages = virtio_net_pages((size_t)size * VIRTIO_NET_BUF_SIZE);
	q->buf_pa = pmm_alloc(q->buf_pages);
	if (!q->ring_pa || !q->buf_pa) {
		virtio_net_queue_free(q);
		return -ENOMEM;
	}
	ring = phys_to_virt(q->ring_pa);
	q->desc = (volatile struct virtio_net_desc *)ring;
	q->avail = (volatile struct virtio_net_avail *)(ring + desc_pages * PAGE_SIZE);
	q->used = (volatile struct virtio_net_used *)(ring + (desc_pages + avail_pages) * PAGE_SIZE);
	q->buf = phys_to_virt(q->buf_pa);

	/* 4.1.4.4: notify address = cap.offset + queue_notify_off *
	 * notify_off_multiplier, within the notify structure. */
	noff = vn_common_read16(vn, VIRTIO_PCI_COMMON_Q_NOFF);
	notify_off = (uint64_t)noff * vn->notify_mult;
	if (notify_off + 2 > vn->notify_len) {
		printf("virtio-net: queue %u notify offset %#llx outside its region\n",
		       index, (unsigned long long)notify_off);
		virtio_net_queue_free(q);
		return -EIO;
	}
	q->notify = (volatile uint16_t *)(vn->notify_base + notify_off);

	vn_common_write16(vn, VIRTIO_PCI_COMMON_Q_SIZE, size);
	/* No MSI-X: the queue interrupt goes to INTx and the ISR register. */
	vn_common_write16(vn, VIRTIO_PCI_COMMON_Q_MSIX, VIRTIO_MSI_NO_VECTOR);
	vn_common_write64(vn, VIRTIO_PCI_COMMON_Q_DESCLO, q->ring_pa);
	vn_common_write64(vn, VIRTIO_PCI_COMMON_Q_AVAILLO,
			  q->ring_pa + desc_pages * PAGE_SIZE);
	vn_common_write64(vn, VIRTIO_PCI_COMMON_Q_USEDLO,
			  q->ring_pa + (desc_pages + avail_pages) * PAGE_SIZE);
	vn_common_write16(vn, VIRTIO_PCI_COMMON_Q_ENABLE, 1);
	return 0;
}

static uint64_t virtio_net_buf_pa(const struct virtio_net_queue *q, uint16_t id)
{
	return q->buf_pa + (uint64_t)id * VIRTIO_NET_BUF_SIZE;
}

static uint8_t *virtio_net_buf(const struct virtio_net_queue *q, uint16_t id)
{
	return q->buf + (size_t)id * VIRTIO_NET_BUF_SIZE;
}

/* 2.6.13 Supplying Buffers to the Device: place the head in the next
 * available ring slot; the index is published by virtio_net_kick. */
static void virtio_net_queue_add(struct virtio_net_queue *q, uint16_t id)
{
	q->avail->ring[q->avail_idx & (q->size - 1)] = id;
	q->avail_idx++;
}

/* 2.6.13.3/4: the descriptors and ring entries must be visible before the
 * new idx, and idx before the notification; 2.6.10.1: the notification
 * may be skipped while the device sets VIRTQ_USED_F_NO_NOTIFY. */
static void virtio_net_kick(struct virtio_net_queue *q)
{
	wmb();
	q->avail->idx = q->avail_idx;
	mb();
	if (!(q->used->flags & VIRTQ_USED_F_NO_NOTIFY))
		mmio_write16(q->notify, q->index);
}

/* 5.1.6.3: every receive descriptor is device-writable and holds the
 * 12-byte header followed by a whole frame. */
static void virtio_net_rx_fill(struct virtio_net *vn)
{
	struct virtio_net_queue *q = &vn->rxq;
	uint16_t i;

	for (i = 0; i < q->size; i++) {
		q->desc[i].addr = virtio_net_buf_pa(q, i);
		q->desc[i].len = VIRTIO_NET_BUF_SIZE;
		q->desc[i].flags = VIRTQ_DESC_F_WRITE;
		q->desc[i].next = 0;
		q->inflight[i] = 1;
		virtio_net_queue_add(q, i);
	}
	wmb();
	q->avail->idx = q->avail_idx;
}

static void virtio_net_irq(void *arg)
{
	struct virtio_net *vn = arg;

	/* 4.1.4.5: reading the ISR status clears it and deasserts INTx. */
	__atomic_fetch_or(&vn->isr_seen, mmio_read8(vn->isr), __ATOMIC_SEQ_CST);
}

static int virtio_net_open(struct nic *nic)
{
	struct virtio_net *vn = nic->priv;
	int rc;

	if (vn->opened)
		return 0;
	/* 3.1.1 steps 1-6 */
	if ((rc = virtio_net_negotiate(vn)) != 0)
		goto err_negotiate;
	/* 7. Device-specific setup: 5.1.5 Device Initialization, receiveq1
	 * and transmitq1 (no control queue, no multiqueue). */
	if ((rc = virtio_net_queue_setup(vn, &vn->rxq, VIRTIO_NET_RX_QUEUE)) != 0)
		goto err_rxq;
	if ((rc = virtio_net_queue_setup(vn, &vn->txq, VIRTIO_NET_TX_QUEUE)) != 0)
		goto err_txq;
	vn->txq.nfree = vn->txq.size;
	for (uint16_t i = 0; i < vn->txq.size; i++)
		vn->txq.free[i] = i;
	/* 5.1.5: fill the receive queue before the device goes live. */
	virtio_net_rx_fill(vn);
	if (nic->irq >= 0 && !vn->irq_registered) {
		/* Never removed (irq.h has no unregister): the handler only
		 * reads the ISR of a mapping that stays valid. */
		if (irq_register(nic->irq, virtio_net_irq, vn) == 0)
			vn->irq_registered = 1;
		else
			nic->irq = -1;
	}
	vn->isr_seen = 0;
	/* 8. Set DRIVER_OK: the device is live. */
	virtio_net_set_status(vn, VIRTIO_CONFIG_S_DRIVER_OK);
	if (vn_common_read8(vn, VIRTIO_PCI_COMMON_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET) {
		rc = -EIO;
		goto err_live;
	}
	/* 3.1.1: buffers may be offered before DRIVER_OK, but the device is
	 * only told about them after it. */
	mb();
	mmio_write16(vn->rxq.notify, vn->rxq.index);
	vn->opened = 1;
	return 0;

err_live:
	virtio_net_set_status(vn, VIRTIO_CONFIG_S_FAILED);
	virtio_net_reset(vn);
	virtio_net_queue_free(&vn->txq);
err_txq:
	virtio_net_reset(vn);
	virtio_net_queue_free(&vn->rxq);
err_rxq:
	virtio_net_set_status(vn, VIRTIO_CONFIG_S_FAILED);
err_negotiate:
	virtio_net_reset(vn);
	printf("virtio-net: open failed (%d)\n", rc);
	return rc;
}

/* Mirror of open: a reset stops the device's DMA and interrupts (4.1.4.3.2
 * makes the queues unusable until reinitialised), then rings are freed. */
static void virtio_net_close(struct nic *nic)
{
	struct virtio_net *vn = nic->priv;

	if (!vn->opened)
		return;
	vn->opened = 0;
	virtio_net_reset(vn);
	virtio_net_queue_free(&vn->txq);
	virtio_net_queue_free(&vn->rxq);
}

/* Reads the device's used index. 2.6.8: the device can have returned at
 * most the queue size beyond what we consumed; a larger step means a broken
 * device, whose ring is then left alone (the caller sees nothing new). */
static uint16_t virtio_net_used_idx(struct virtio_net_queue *q)
{
	uint16_t idx = q->used->idx;

	rmb();
	if ((uint16_t)(idx - q->used_idx) > q->size) {
		printf("virtio-net: queue %u used index jumped from %u to %u, ignored\n",
		       q->index, q->used_idx, idx);
		return q->used_idx;
	}
	return idx;
}

/* 2.6.14 Receiving Used Buffers: collect finished transmit descriptors. An
 * id that is out of range or not in flight is ignored. */
static void virtio_net_tx_reap(struct virtio_net *vn)
{
	struct virtio_net_queue *q = &vn->txq;
	uint16_t used_idx = virtio_net_used_idx(q);
	uint32_t id;

	while (q->used_idx != used_idx) {
		id = q->used->ring[q->used_idx & (q->size - 1)].id;
		q->used_idx++;
		if (id >= q->size || !q->inflight[id])
			continue;
		q->inflight[id] = 0;
		q->free[q->nfree++] = (uint16_t)id;
	}
}

static int virtio_net_transmit(struct nic *nic, const void *buf, size_t len)
{
	struct virtio_net *vn = nic->priv;
	struct virtio_net_queue *q = &vn->txq;
	struct virtio_net_hdr *hdr;
	uint16_t id;

	if (!vn->opened || len < VIRTIO_NET_ETH_HLEN || len > NIC_FRAME_MAX) {
		nic->tx_dropped++;
		return -1;
	}
	if (q->nfree == 0)
		virtio_net_tx_reap(vn);
	if (q->nfree == 0) {
		nic->tx_dropped++;
		return -1;
	}
	id = q->free[--q->nfree];
	q->inflight[id] = 1;
	hdr = (struct virtio_net_hdr *)virtio_net_buf(q, id);
	/* 5.1.6.2: no offload requested: flags 0, GSO_NONE. */
	memset(hdr, 0, VIRTIO_NET_HDR_LEN);
	hdr->gso_type = VIRTIO_NET_HDR_GSO_NONE;
	memcpy((uint8_t *)hdr + VIRTIO_NET_HDR_LEN, buf, len);
	q->desc[id].addr = virtio_net_buf_pa(q, id);
	q->desc[id].len = VIRTIO_NET_HDR_LEN + len;
	q->desc[id].flags = 0;
	q->desc[id].next = 0;
	virtio_net_queue_add(q, id);
	virtio_net_kick(q);
	nic->tx_frames++;
	return 0;
}

static int virtio_net_poll(struct nic *nic)
{
	struct virtio_net *vn = nic->priv;
	struct virtio_net_queue *q = &vn->rxq;
	uint16_t used_idx, reposted = 0;
	uint32_t id, len, isr;
	int frames = 0;

	if (!vn->opened)
		return 0;
	isr = __atomic_exchange_n(&vn->isr_seen, 0, __ATOMIC_SEQ_CST);
	if ((isr & VIRTIO_PCI_ISR_CONFIG) &&
	    (vn_common_read8(vn, VIRTIO_PCI_COMMON_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET))
		printf("virtio-net: device needs reset\n");

	virtio_net_tx_reap(vn);

	/* Frames that arrive while we work wait for the next poll, so one
	 * poll handles at most a ring's worth. */
	used_idx = virtio_net_used_idx(q);
	while (q->used_idx != used_idx) {
		id = q->used->ring[q->used_idx & (q->size - 1)].id;
		len = q->used->ring[q->used_idx & (q->size - 1)].len;
		q->used_idx++;
		/* Never trust the device: the id must be one of ours that it
		 * owns, and the length must fit the buffer we gave it. */
		if (id >= q->size || !q->inflight[id]) {
			nic->rx_dropped++;
			continue;
		}
		if (len < VIRTIO_NET_HDR_LEN + VIRTIO_NET_ETH_HLEN || len > VIRTIO_NET_BUF_SIZE ||
		    !nic->rx) {
			nic->rx_dropped++;
		} else {
			nic->rx_frames++;
			frames++;
			nic->rx(nic, virtio_net_buf(q, id) + VIRTIO_NET_HDR_LEN,
				len - VIRTIO_NET_HDR_LEN);
		}
		/* Give the same buffer straight back. */
		q->desc[id].len = VIRTIO_NET_BUF_SIZE;
		q->desc[id].flags = VIRTQ_DESC_F_WRITE;
		virtio_net_queue_add(q, (uint16_t)id);
		reposted++;
	}
	if (reposted)
		virtio_net_kick(q);
	return frames;
}

static const struct nic_ops virtio_net_ops = {
	.open = virtio_net_open,
	.transmit = virtio_net_transmit,
	.poll = virtio_net_poll,
	.close = virtio_net_close,
};

static int virtio_net_probe(struct pci_dev *d, struct nic **out)
{
	struct virtio_net *vn;
	struct nic *nic;
	uint32_t len;
	uint8_t notify_cap;
	int rc;

	vn = calloc(1, sizeof(*vn));
	nic = calloc(1, sizeof(*nic));
	if (!vn || !nic) {
		rc = -ENOMEM;
		goto err_alloc;
	}
	vn->pci = d;
	pci_enable(d);

	/* 4.1.4: locate the modern transport's structures. A transitional
	 * device without them is legacy-only, which this driver does not
	 * drive. */
	vn->common = virtio_net_find_cap(d, VIRTIO_PCI_CAP_COMMON_CFG,
					 VIRTIO_PCI_COMMON_LEN, &len, NULL);
	vn->notify_base = virtio_net_find_cap(d, VIRTIO_PCI_CAP_NOTIFY_CFG, 2,
					      &vn->notify_len, &notify_cap);
	vn->isr = virtio_net_find_cap(d, VIRTIO_PCI_CAP_ISR_CFG, 1, &len, NULL);
	vn->device = virtio_net_find_cap(d, VIRTIO_PCI_CAP_DEVICE_CFG, 6,
					 &vn->device_len, NULL);
	if (!vn->common || !vn->notify_base || !vn->isr || !vn->device) {
		printf("virtio-net: pci %02x:%02x.%x lacks the virtio 1.x%s%s%s%s "
		       "structure (legacy-only device?), not supported\n",
		       d->bus, d->dev, d->fn, vn->common ? "" : " common",
		       vn->notify_base ? "" : " notify", vn->isr ? "" : " isr",
		       vn->device ? "" : " device");
		rc = -ENODEV;
		goto err_caps;
	}
	vn->notify_mult = pci_read32(d, notify_cap + VIRTIO_PCI_CAP_NOTIFY_OFF_MULTIPLIER);

	/* Negotiate once to learn whether the MAC field is valid and read
	 * it, then leave the device reset until open. */
	if ((rc = virtio_net_negotiate(vn)) != 0) {
		printf("virtio-net: pci %02x:%02x.%x feature negotiation failed (%d)\n",
		       d->bus, d->dev, d->fn, rc);
		goto err_negotiate;
	}
	if (vn->features & (1ull << VIRTIO_NET_F_MAC))
		virtio_net_read_mac(vn, nic->mac);
	else
		virtio_net_random_mac(nic->mac);
	virtio_net_reset(vn);

	nic->name = "virtio-net";
	nic->model = "virtio 1.x network device";
	nic->pci = d;
	nic->irq = d->irq_line >= 1 && d->irq_line <= 15 ? d->irq_line : -1;
	nic->ops = &virtio_net_ops;
	nic->priv = vn;
	*out = nic;
	return 0;

err_negotiate:
	virtio_net_reset(vn);
err_caps:
	/* The BAR mappings are never removed (mm.h); nothing to undo. */
err_alloc:
	free(nic);
	free(vn);
	return rc;
}

const struct nic_driver virtio_net_driver = {
	.name = "virtio-net",
	.match = virtio_net_match,
	.probe = virtio_net_probe,
};
