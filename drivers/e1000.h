/* e1000.h - private definitions of the Intel 8254x / 82574 driver.
 *
 * Register and bit names are those of the "PCI/PCI-X Family of Gigabit
 * Ethernet Controllers Software Developer's Manual" (8254x SDM, chapter 13)
 * and the "Intel 82574 GbE Controller Family Datasheet" (chapter 10). Where
 * the two differ the per-chip table in e1000.c says so. */
#ifndef OM_E1000_H
#define OM_E1000_H

#include <stdint.h>

#include "nic.h"

#define E1000_VENDOR_INTEL 0x8086

/* Registers, byte offsets into BAR 0 (8254x SDM table 13-2) */
#define E1000_CTRL 0x0000   /**< Device Control */
#define E1000_STATUS 0x0008 /**< Device Status */
#define E1000_EECD 0x0010   /**< EEPROM/Flash Control/Data */
#define E1000_EERD 0x0014   /**< EEPROM Read */
#define E1000_CTRL_EXT 0x0018
#define E1000_FCAL 0x0028   /**< Flow Control Address Low */
#define E1000_FCAH 0x002c   /**< Flow Control Address High */
#define E1000_FCT 0x0030    /**< Flow Control Type */
#define E1000_ICR 0x00c0    /**< Interrupt Cause Read */
#define E1000_ITR 0x00c4    /**< Interrupt Throttling */
#define E1000_IMS 0x00d0    /**< Interrupt Mask Set/Read */
#define E1000_IMC 0x00d8    /**< Interrupt Mask Clear */
#define E1000_RCTL 0x0100   /**< Receive Control */
#define E1000_FCTTV 0x0170  /**< Flow Control Transmit Timer Value */
#define E1000_TCTL 0x0400   /**< Transmit Control */
#define E1000_TIPG 0x0410   /**< Transmit IPG */
#define E1000_RDBAL 0x2800  /**< Receive Descriptor Base Address Low */
#define E1000_RDBAH 0x2804
#define E1000_RDLEN 0x2808  /**< Receive Descriptor Length */
#define E1000_RDH 0x2810    /**< Receive Descriptor Head */
#define E1000_RDT 0x2818    /**< Receive Descriptor Tail */
#define E1000_RDTR 0x2820   /**< Receive Delay Timer */
#define E1000_TDBAL 0x3800  /**< Transmit Descriptor Base Address Low */
#define E1000_TDBAH 0x3804
#define E1000_TDLEN 0x3808
#define E1000_TDH 0x3810
#define E1000_TDT 0x3818
#define E1000_TIDV 0x3820   /**< Transmit Interrupt Delay Value */
#define E1000_MTA 0x5200    /**< Multicast Table Array, 128 dwords */
#define E1000_MTA_LEN 128
#define E1000_RAL0 0x5400   /**< Receive Address Low */
#define E1000_RAH0 0x5404   /**< Receive Address High */

/* CTRL (13.4.1) */
#define E1000_CTRL_FD (1u << 0)    /**< Full duplex */
#define E1000_CTRL_GIO_MASTER_DISABLE (1u << 2) /**< 82574 only */
#define E1000_CTRL_LRST (1u << 3)  /**< Link reset (8254x) */
#define E1000_CTRL_ASDE (1u << 5)  /**< Auto-speed detection enable */
#define E1000_CTRL_SLU (1u << 6)   /**< Set link up */
#define E1000_CTRL_ILOS (1u << 7)  /**< Invert loss-of-signal */
#define E1000_CTRL_FRCSPD (1u << 11) /**< Force speed */
#define E1000_CTRL_FRCDPLX (1u << 12) /**< Force duplex */
#define E1000_CTRL_RST (1u << 26)  /**< Device reset */
#define E1000_CTRL_VME (1u << 30)  /**< VLAN mode enable */
#define E1000_CTRL_PHY_RST (1u << 31) /**< PHY reset */

/* STATUS (13.4.2) */
#define E1000_STATUS_FD (1u << 0)  /**< Full duplex */
#define E1000_STATUS_LU (1u << 1)  /**< Link up */
#define E1000_STATUS_SPEED_SHIFT 6
#define E1000_STATUS_SPEED_MASK 3
#define E1000_STATUS_GIO_MASTER_ENABLE (1u << 19) /**< 82574 only */

/* EECD (13.4.3) */
#define E1000_EECD_AUTO_RD (1u << 9) /**< EEPROM auto-read done */

/* EERD (13.4.4; 82574 EERD): the fields move on the 82574. */
#define E1000_EERD_START (1u << 0)
#define E1000_EERD_DONE_8254X (1u << 4)
#define E1000_EERD_ADDR_SHIFT_8254X 8
#define E1000_EERD_DONE_82574 (1u << 1)
#define E1000_EERD_ADDR_SHIFT_82574 2
#define E1000_EERD_DATA_SHIFT 16
#define E1000_EEPROM_MAC 0 /**< words 0-2: Ethernet address */

/* Interrupt causes, ICR/IMS/IMC (13.4.17) */
#define E1000_ICR_TXDW (1u << 0)   /**< Transmit descriptor written back */
#define E1000_ICR_TXQE (1u << 1)   /**< Transmit queue empty */
#define E1000_ICR_LSC (1u << 2)    /**< Link status change */
#define E1000_ICR_RXSEQ (1u << 3)  /**< Receive sequence error */
#define E1000_ICR_RXDMT0 (1u << 4) /**< Receive descriptor minimum threshold */
#define E1000_ICR_RXO (1u << 6)    /**< Receiver overrun */
#define E1000_ICR_RXT0 (1u << 7)   /**< Receiver timer interrupt */
#define E1000_IMS_ENABLE (E1000_ICR_TXDW | E1000_ICR_LSC | E1000_ICR_RXSEQ | \
			  E1000_ICR_RXDMT0 | E1000_ICR_RXO | E1000_ICR_RXT0)

/* RCTL, Receive Control */
#define E1000_RCTL_EN (1u << 1)    /**< Receiver enable */
#define E1000_RCTL_SBP (1u << 2)   /**< Store bad packets */
#define E1000_RCTL_UPE (1u << 3)   /**< Unicast promiscuous */
#define E1000_RCTL_MPE (1u << 4)   /**< Multicast promiscuous */
#define E1000_RCTL_LPE (1u << 5)   /**< Long packet enable */
#define E1000_RCTL_RDMTS_HALF (0u << 8) /**< Free buffer threshold 1/2 RDLEN */
#define E1000_RCTL_BAM (1u << 15)  /**< Broadcast accept mode */
#define E1000_RCTL_BSIZE_2048 (0u << 16) /**< with BSEX = 0 */
#define E1000_RCTL_SECRC (1u << 26) /**< Strip Ethernet CRC */

/* TCTL, Transmit Control */
#define E1000_TCTL_EN (1u << 1)    /**< Transmit enable */
#define E1000_TCTL_PSP (1u << 3)   /**< Pad short packets */
#define E1000_TCTL_CT_SHIFT 4      /**< Collision threshold */
#define E1000_TCTL_CT_DEFAULT 0x0f /**< 14.5: 15 */
#define E1000_TCTL_COLD_SHIFT 12   /**< Collision distance */
#define E1000_TCTL_COLD_FD 0x40    /**< 14.5: 64 byte times, full duplex */

/* TIPG, Transmit IPG: IPGT | IPGR1 << 10 | IPGR2 << 20 */
#define E1000_TIPG_IPGR1_SHIFT 10
#define E1000_TIPG_IPGR2_SHIFT 20

#define E1000_RAH_AV (1u << 31) /**< Address valid */

/* 3.2.3 legacy receive descriptor */
struct e1000_rx_desc {
	uint64_t addr;
	uint16_t length;
	uint16_t csum;
	uint8_t status;
	uint8_t errors;
	uint16_t special;
} __attribute__((packed));
#define E1000_RXD_STAT_DD (1u << 0)  /**< Descriptor done */
#define E1000_RXD_STAT_EOP (1u << 1) /**< End of packet */
#define E1000_RXD_ERR_CE (1u << 0)   /**< CRC or alignment error */
#define E1000_RXD_ERR_SE (1u << 1)   /**< Symbol error */
#define E1000_RXD_ERR_SEQ (1u << 2)  /**< Sequence error */
#define E1000_RXD_ERR_CXE (1u << 4)  /**< Carrier extension error */
#define E1000_RXD_ERR_RXE (1u << 7)  /**< RX data error */
#define E1000_RXD_ERR_FRAME (E1000_RXD_ERR_CE | E1000_RXD_ERR_SE | \
			     E1000_RXD_ERR_SEQ | E1000_RXD_ERR_CXE | E1000_RXD_ERR_RXE)

/* 3.3.3 legacy transmit descriptor */
struct e1000_tx_desc {
	uint64_t addr;
	uint16_t length;
	uint8_t cso;
	uint8_t cmd;
	uint8_t status;
	uint8_t css;
	uint16_t special;
} __attribute__((packed));
#define E1000_TXD_CMD_EOP (1u << 0)  /**< End of packet */
#define E1000_TXD_CMD_IFCS (1u << 1) /**< Insert FCS */
#define E1000_TXD_CMD_RS (1u << 3)   /**< Report status */
#define E1000_TXD_STAT_DD (1u << 0)  /**< Descriptor done */

/* Rings: lengths are multiples of 128 bytes (RDLEN/TDLEN), i.e. of 8 descriptors. */
#define E1000_RX_RING 128
#define E1000_TX_RING 64
#define E1000_BUF_SIZE 2048 /**< RCTL.BSIZE 2048: one buffer holds a frame */

/* Delays around CTRL.RST: let DMA finish before a reset; the
 * reset itself completes within microseconds, then the EEPROM reloads. */
#define E1000_DISABLE_DMA_DELAY_MS 10
#define E1000_RESET_DELAY_US 1000
#define E1000_AUTO_RD_TIMEOUT_MS 10
#define E1000_MASTER_DISABLE_TIMEOUT_MS 10
#define E1000_EERD_TIMEOUT_US 10000

/* Per-chip differences. */
#define E1000_CHIP_PCIE (1u << 0)       /**< GIO master disable before reset */
#define E1000_CHIP_EERD_82574 (1u << 1) /**< EERD layout of the 82574 */
#define E1000_CHIP_ASDE (1u << 2)       /**< set CTRL.ASDE with SLU */

struct e1000_chip {
	uint16_t device;
	const char *name;
	const char *model;
	uint32_t flags;
	uint32_t tipg;
};

struct e1000 {
	const struct e1000_chip *chip;
	struct pci_dev *pci;
	volatile uint8_t *regs;
	volatile struct e1000_rx_desc *rx;
	volatile struct e1000_tx_desc *tx;
	uint64_t ring_pa;       /**< rx ring, then tx ring */
	uint64_t tx_ring_pa;
	size_t ring_pages;
	uint64_t buf_pa;        /**< rx buffers, then tx buffers */
	size_t buf_pages;
	uint8_t *buf;
	unsigned rx_next;       /**< next rx descriptor to look at */
	int rx_discard;         /**< dropping the rest of a multi-buffer frame */
	unsigned tx_tail;       /**< next tx descriptor to fill (TDT) */
	unsigned tx_clean;      /**< oldest tx descriptor not yet reaped */
	volatile uint32_t icr_seen; /**< causes collected by the IRQ handler */
	int irq_registered;
	int opened;
};

extern const struct nic_driver e1000_driver;

#endif
