/* virtio_net.h - private definitions of the virtio-net driver: the virtio 1.x
 * PCI transport (Virtual I/O Device Version 1.1, 4.1), split virtqueues
 * (2.6) and the network device (5.1). Names follow the specification. */
#ifndef OM_VIRTIO_NET_H
#define OM_VIRTIO_NET_H

#include <stdint.h>

#include "nic.h"

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_NET_TRANS 0x1000  /**< 4.1.2.3 transitional net */
#define VIRTIO_PCI_DEVICE_NET_MODERN 0x1041 /**< 4.1.2.1 0x1040 + ID 1 */

/* 4.1.4 struct virtio_pci_cap, in PCI configuration space */
#define VIRTIO_PCI_CAP_CFG_TYPE 3
#define VIRTIO_PCI_CAP_BAR 4
#define VIRTIO_PCI_CAP_OFFSET 8
#define VIRTIO_PCI_CAP_LENGTH 12
#define VIRTIO_PCI_CAP_NOTIFY_OFF_MULTIPLIER 16 /**< 4.1.4.4 notify cap only */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4

/* 4.1.4.3 struct virtio_pci_common_cfg, byte offsets */
#define VIRTIO_PCI_COMMON_DFSELECT 0  /**< device_feature_select, le32 */
#define VIRTIO_PCI_COMMON_DF 4        /**< device_feature, le32 */
#define VIRTIO_PCI_COMMON_GFSELECT 8  /**< driver_feature_select, le32 */
#define VIRTIO_PCI_COMMON_GF 12       /**< driver_feature, le32 */
#define VIRTIO_PCI_COMMON_MSIX 16     /**< config_msix_vector, le16 */
#define VIRTIO_PCI_COMMON_NUMQ 18     /**< num_queues, le16 */
#define VIRTIO_PCI_COMMON_STATUS 20   /**< device_status, u8 */
#define VIRTIO_PCI_COMMON_CFGGEN 21   /**< config_generation, u8 */
#define VIRTIO_PCI_COMMON_Q_SELECT 22 /**< queue_select, le16 */
#define VIRTIO_PCI_COMMON_Q_SIZE 24   /**< queue_size, le16 */
#define VIRTIO_PCI_COMMON_Q_MSIX 26   /**< queue_msix_vector, le16 */
#define VIRTIO_PCI_COMMON_Q_ENABLE 28 /**< queue_enable, le16 */
#define VIRTIO_PCI_COMMON_Q_NOFF 30   /**< queue_notify_off, le16 */
#define VIRTIO_PCI_COMMON_Q_DESCLO 32 /**< queue_desc, le64 */
#define VIRTIO_PCI_COMMON_Q_DESCHI 36
#define VIRTIO_PCI_COMMON_Q_AVAILLO 40 /**< queue_driver, le64 */
#define VIRTIO_PCI_COMMON_Q_AVAILHI 44
#define VIRTIO_PCI_COMMON_Q_USEDLO 48 /**< queue_device, le64 */
#define VIRTIO_PCI_COMMON_Q_USEDHI 52
#define VIRTIO_PCI_COMMON_LEN 56 /**< smallest common_cfg a 1.0 device has */
#define VIRTIO_MSI_NO_VECTOR 0xffff

/* 4.1.4.5 ISR status */
#define VIRTIO_PCI_ISR_QUEUE 0x1
#define VIRTIO_PCI_ISR_CONFIG 0x2

/* 2.1 device status field */
#define VIRTIO_CONFIG_S_ACKNOWLEDGE 1
#define VIRTIO_CONFIG_S_DRIVER 2
#define VIRTIO_CONFIG_S_DRIVER_OK 4
#define VIRTIO_CONFIG_S_FEATURES_OK 8
#define VIRTIO_CONFIG_S_NEEDS_RESET 0x40
#define VIRTIO_CONFIG_S_FAILED 0x80

/* Feature bits: 6 (reserved) and 5.1.3 */
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_F_VERSION_1 32

/* 5.1.4 struct virtio_net_config */
#define VIRTIO_NET_CONFIG_MAC 0

/* 2.6.5 struct virtq_desc */
struct virtio_net_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
} __attribute__((packed));
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2

/* 2.6.6 struct virtq_avail (ring[] is queue size long, then used_event) */
struct virtio_net_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
} __attribute__((packed));
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

/* 2.6.8 struct virtq_used */
struct virtio_net_used_elem {
	uint32_t id;
	uint32_t len;
} __attribute__((packed));
struct virtio_net_used {
	uint16_t flags;
	uint16_t idx;
	struct virtio_net_used_elem ring[];
} __attribute__((packed));
#define VIRTQ_USED_F_NO_NOTIFY 1

/* 5.1.6 struct virtio_net_hdr; 12 bytes once VIRTIO_F_VERSION_1 is
 * negotiated (num_buffers is always present). */
struct virtio_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
} __attribute__((packed));
#define VIRTIO_NET_HDR_GSO_NONE 0

#define VIRTIO_NET_RX_QUEUE 0 /**< 5.1.2 receiveq1 */
#define VIRTIO_NET_TX_QUEUE 1 /**< 5.1.2 transmitq1 */
#define VIRTIO_NET_QSIZE_MAX 128 /**< entries we use per queue, at most */
/* One buffer per descriptor: header plus the largest frame. 5.1.6.3.1 asks
 * for at least 1526 bytes per receive buffer without mergeable buffers. */
#define VIRTIO_NET_BUF_SIZE 2048

#define VIRTIO_NET_RESET_TIMEOUT_MS 1000

struct virtio_net_queue {
	uint16_t index;  /**< virtqueue number */
	uint16_t size;   /**< entries, a power of two */
	volatile struct virtio_net_desc *desc;
	volatile struct virtio_net_avail *avail;
	volatile struct virtio_net_used *used;
	uint64_t ring_pa;
	size_t ring_pages;
	uint8_t *buf;    /**< size * VIRTIO_NET_BUF_SIZE bytes, buffer i for desc i */
	uint64_t buf_pa;
	size_t buf_pages;
	volatile uint16_t *notify;
	uint16_t avail_idx;  /**< our copy of avail->idx */
	uint16_t used_idx;   /**< next used entry to consume */
	uint16_t nfree;      /**< free descriptors (transmit only) */
	uint16_t free[VIRTIO_NET_QSIZE_MAX];   /**< stack of free ids (transmit) */
	uint8_t inflight[VIRTIO_NET_QSIZE_MAX]; /**< 1 while the device owns id */
};

struct virtio_net {
	struct pci_dev *pci;
	volatile uint8_t *common;
	volatile uint8_t *isr;
	volatile uint8_t *device;
	volatile uint8_t *notify_base;
	uint32_t notify_len;
	uint32_t notify_mult;
	uint32_t device_len;
	uint64_t features;       /**< negotiated */
	struct virtio_net_queue rxq, txq;
	volatile uint32_t isr_seen; /**< ISR bits collected by the IRQ handler */
	int irq_registered;
	int opened;
};

extern const struct nic_driver virtio_net_driver;

#endif
