/* rtl8139.h - private definitions of the Realtek RTL8139 driver.
 *
 * Register and bit names are those of the "RTL8139C(L) Single-Chip Fast
 * Ethernet Controller" datasheet (rev. 1.4), chapter 5 "Register
 * Descriptions" (offsets from the I/O base in BAR 0), and of Realtek's
 * "RTL8139(A/B) Programming Guide", which describes the receive ring and the
 * four transmit descriptors. The RTL8139, -A, -B, -C and -D share this
 * register set for everything used here. */
#ifndef OM_RTL8139_H
#define OM_RTL8139_H

#include <stdint.h>

#include "nic.h"

#define RTL8139_VENDOR_REALTEK 0x10ec
#define RTL8139_DEVICE_8139 0x8139

#define RTL8139_IO_SIZE 0x100 /**< BAR 0: 256 bytes of I/O ports */

/* Registers, offsets into the I/O space */
#define RTL8139_IDR0 0x00    /**< ID registers 0-5: the Ethernet address */
#define RTL8139_MAR0 0x08    /**< Multicast registers 0-7 (32-bit access) */
#define RTL8139_MAR4 0x0c
#define RTL8139_TSD0 0x10    /**< Transmit Status of Descriptor 0-3 */
#define RTL8139_TSAD0 0x20   /**< Transmit Start Address of Descriptor 0-3 */
#define RTL8139_RBSTART 0x30 /**< Receive (Rx) Buffer Start Address */
#define RTL8139_CR 0x37      /**< Command Register */
#define RTL8139_CAPR 0x38    /**< Current Address of Packet Read */
#define RTL8139_CBR 0x3a     /**< Current Buffer Address (receive) */
#define RTL8139_IMR 0x3c     /**< Interrupt Mask Register */
#define RTL8139_ISR 0x3e     /**< Interrupt Status Register */
#define RTL8139_TCR 0x40     /**< Transmit (Tx) Configuration Register */
#define RTL8139_RCR 0x44     /**< Receive (Rx) Configuration Register */
#define RTL8139_MPC 0x4c     /**< Missed Packet Counter (24 bits) */
#define RTL8139_MSR 0x58     /**< Media Status Register */

#define RTL8139_TSD(i) (RTL8139_TSD0 + 4 * (i))
#define RTL8139_TSAD(i) (RTL8139_TSAD0 + 4 * (i))

/* CR, Command Register */
#define RTL8139_CR_BUFE (1u << 0) /**< Buffer Empty: no packet in the Rx ring */
#define RTL8139_CR_TE (1u << 2)   /**< Transmitter Enable */
#define RTL8139_CR_RE (1u << 3)   /**< Receiver Enable */
#define RTL8139_CR_RST (1u << 4)  /**< Reset; reads 1 until the reset is done */

/* ISR / IMR: the same bits */
#define RTL8139_ISR_ROK (1u << 0)     /**< Receive OK */
#define RTL8139_ISR_RER (1u << 1)     /**< Receive Error */
#define RTL8139_ISR_TOK (1u << 2)     /**< Transmit OK */
#define RTL8139_ISR_TER (1u << 3)     /**< Transmit Error */
#define RTL8139_ISR_RXOVW (1u << 4)   /**< Rx Buffer Overflow */
#define RTL8139_ISR_LINKCHG (1u << 5) /**< Packet Underrun / Link Change */
#define RTL8139_ISR_FOVW (1u << 6)    /**< Rx FIFO Overflow */
#define RTL8139_IMR_ENABLE (RTL8139_ISR_ROK | RTL8139_ISR_RER | RTL8139_ISR_TOK | \
			    RTL8139_ISR_TER | RTL8139_ISR_RXOVW | RTL8139_ISR_LINKCHG | \
			    RTL8139_ISR_FOVW)

/* TCR, Transmit Configuration Register */
#define RTL8139_TCR_CLRABT (1u << 0)    /**< Clear Abort: retransmit after TABT */
#define RTL8139_TCR_MXDMA_SHIFT 8       /**< Max DMA Burst Size per Tx DMA */
#define RTL8139_TCR_MXDMA_1024 6        /**< 1024 bytes */
#define RTL8139_TCR_IFG_SHIFT 24        /**< Interframe Gap Time */
#define RTL8139_TCR_IFG_STD 3           /**< 9.6 us / 960 ns (IEEE 802.3) */
/* TCR.CRC (bit 16) = 0: the chip appends the FCS. TCR.LBK = 00: normal. */

/* RCR, Receive Configuration Register */
#define RTL8139_RCR_AAP (1u << 0)     /**< Accept All Packets (promiscuous) */
#define RTL8139_RCR_APM (1u << 1)     /**< Accept Physical Match packets */
#define RTL8139_RCR_AM (1u << 2)      /**< Accept Multicast packets */
#define RTL8139_RCR_AB (1u << 3)      /**< Accept Broadcast packets */
#define RTL8139_RCR_AR (1u << 4)      /**< Accept Runt packets */
#define RTL8139_RCR_AER (1u << 5)     /**< Accept Error packets */
#define RTL8139_RCR_WRAP (1u << 7)    /**< 1: no wrap, frames run past the end */
#define RTL8139_RCR_MXDMA_SHIFT 8     /**< Max DMA Burst Size per Rx DMA */
#define RTL8139_RCR_MXDMA_UNLIMITED 7
#define RTL8139_RCR_RBLEN_SHIFT 11    /**< Rx Buffer Length: 8K << RBLEN, + 16 */
#define RTL8139_RCR_RBLEN_32K 2
#define RTL8139_RCR_RXFTH_SHIFT 13    /**< Rx FIFO Threshold */
#define RTL8139_RCR_RXFTH_NONE 7      /**< whole packet in the FIFO before DMA */

/* TSD, Transmit Status of Descriptor */
#define RTL8139_TSD_SIZE_MASK 0x1fffu /**< Descriptor Size (bytes) */
#define RTL8139_TSD_OWN (1u << 13)    /**< 1: DMA done, the buffer is the host's */
#define RTL8139_TSD_TUN (1u << 14)    /**< Transmit FIFO Underrun */
#define RTL8139_TSD_TOK (1u << 15)    /**< Transmit OK */
#define RTL8139_TSD_ERTXTH_SHIFT 16   /**< Early Tx Threshold, 32-byte units */
#define RTL8139_TSD_ERTXTH_MAX 0x3fu  /**< 2016 bytes: whole frame first */
#define RTL8139_TSD_TABT (1u << 30)   /**< Transmit Abort */
#define RTL8139_TSD_SIZE_MAX 1792     /**< largest Descriptor Size allowed */

/* MSR, Media Status Register */
#define RTL8139_MSR_LINKB (1u << 2)    /**< Inverse of Link Status: 0 = link OK */
#define RTL8139_MSR_SPEED_10 (1u << 3) /**< 1: 10 Mb/s, 0: 100 Mb/s */

/* Receive Status Register in the Rx packet header: the first 16 bits of the
 * 4-byte header the chip writes before each frame; the next 16 bits are the
 * frame length including its 4-byte CRC. */
#define RTL8139_RSR_ROK (1u << 0)  /**< Receive OK */
#define RTL8139_RSR_FAE (1u << 1)  /**< Frame Alignment Error */
#define RTL8139_RSR_CRC (1u << 2)  /**< CRC Error */
#define RTL8139_RSR_LONG (1u << 3) /**< Long Packet (over 4 KiB) */
#define RTL8139_RSR_RUNT (1u << 4) /**< Runt Packet (under 64 bytes) */
#define RTL8139_RSR_ISE (1u << 5)  /**< Invalid Symbol Error (100BASE-TX) */
#define RTL8139_RSR_ERRORS (RTL8139_RSR_FAE | RTL8139_RSR_CRC | RTL8139_RSR_LONG | \
			    RTL8139_RSR_RUNT | RTL8139_RSR_ISE)
#define RTL8139_RX_HDR_LEN 4
#define RTL8139_RX_LEN_EARLY 0xfff0 /**< header not final: DMA still under way */
#define RTL8139_CRC_LEN 4

/* The receive ring: RCR.RBLEN 32K. RBSTART is followed by 16 bytes the chip
 * may write past the ring (the datasheet's "+16"). RCR.WRAP stays 0, so the
 * chip wraps frames to the start of the ring and never writes further; the
 * allocation is rounded up to pages all the same. */
#define RTL8139_RX_RING_LEN (32 * 1024)
#define RTL8139_RX_ALLOC (RTL8139_RX_RING_LEN + 16)
/* CAPR is written 16 bytes behind the read offset (programming guide). */
#define RTL8139_CAPR_OFFSET 16
/* Frames at most one ring's worth per poll: the smallest slot is a 64-byte
 * frame plus its header. */
#define RTL8139_RX_BUDGET (RTL8139_RX_RING_LEN / 64)

#define RTL8139_TX_DESCS 4        /**< TSAD0-3 / TSD0-3, used in turn */
#define RTL8139_TX_BUF_SIZE 2048  /**< one buffer per descriptor */
#define RTL8139_ETH_ZLEN 60       /**< minimum frame without FCS */
#define RTL8139_ETH_HLEN 14

#define RTL8139_DMA_LIMIT (1ull << 32) /**< RBSTART and TSAD are 32 bits */

#define RTL8139_RESET_TIMEOUT_US 10000  /**< CR.RST clears within this */
#define RTL8139_RE_TIMEOUT_US 1000      /**< CR.RE reads 0 after a clear */
#define RTL8139_RX_EARLY_TIMEOUT_MS 50  /**< a frame DMA takes microseconds */

struct rtl8139 {
	struct pci_dev *pci;
	uint16_t io;              /**< I/O base from BAR 0 */
	uint64_t rx_pa;           /**< receive ring, RTL8139_RX_ALLOC bytes */
	size_t rx_pages;
	uint8_t *rx_ring;
	unsigned rx_off;          /**< offset of the next packet header */
	uint32_t rx_wait_since;   /**< timer_ms when a frame was first seen
				       incomplete, 0 when not waiting */
	int rx_waiting;
	uint8_t rx_bounce[NIC_FRAME_MAX + RTL8139_CRC_LEN]; /**< a frame that wraps */
	uint64_t tx_pa;           /**< RTL8139_TX_DESCS buffers of 2 KiB */
	size_t tx_pages;
	uint8_t *tx_buf;
	unsigned tx_next;         /**< next descriptor to fill */
	unsigned tx_dirty;        /**< oldest descriptor not yet reaped */
	unsigned tx_inflight;     /**< descriptors given to the chip */
	volatile uint16_t isr_seen; /**< causes collected by the IRQ handler */
	uint64_t rx_resets;       /**< receiver resets after a bad header */
	int irq_registered;
	int opened;
};

extern const struct nic_driver rtl8139_driver;

#endif
