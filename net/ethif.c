/* ethif.c - glue between lwIP's netif and the node's NIC drivers: whole
 * Ethernet frames (no FCS) in both directions, copied, because the drivers
 * own their DMA buffers and lwIP owns its pbufs. */
#include <string.h>

#include "lwip/etharp.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "netif/ethernet.h"

#include "ethif.h"

#define ETHIF_MIN_FRAME 60 /* 802.3 minimum without FCS */

/* One transmit staging buffer is enough: transmit copies before returning,
 * and lwIP is never re-entered while we are in linkoutput. */
static uint8_t ethif_txbuf[NIC_FRAME_MAX];

/* netif->linkoutput: flattens the pbuf chain into one frame. Frames are padded
 * to the Ethernet minimum here because not every NIC pads short frames itself
 * (rtl8139 does not). */
static err_t ethif_linkoutput(struct netif *netif, struct pbuf *p)
{
	struct nic *nic = netif->state;
	size_t len = p->tot_len;

	if (len > sizeof(ethif_txbuf)) {
		nic->tx_dropped++;
		return ERR_BUF;
	}
	if (pbuf_copy_partial(p, ethif_txbuf, (u16_t)len, 0) != len) {
		nic->tx_dropped++;
		return ERR_BUF;
	}
	if (len < ETHIF_MIN_FRAME) {
		memset(ethif_txbuf + len, 0, ETHIF_MIN_FRAME - len);
		len = ETHIF_MIN_FRAME;
	}
	/* A full ring drops the frame as a wire would; TCP retransmits. Reporting
	 * ERR_OK keeps lwIP from treating a congested NIC as a hard error. */
	(void)nic->ops->transmit(nic, ethif_txbuf, len); /* the driver counts drops */
	return ERR_OK;
}

/* nic->rx: called by the driver inside ops->poll, i.e. in main-loop context,
 * so handing the frame straight to lwIP is allowed. */
static void ethif_rx(struct nic *nic, const void *frame, size_t len)
{
	struct netif *netif = nic->rx_arg;
	struct pbuf *p;

	(void)nic;
	if (len < SIZEOF_ETH_HDR || len > NIC_FRAME_MAX) {
		LINK_STATS_INC(link.lenerr);
		return;
	}
	p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
	if (p == NULL) {
		LINK_STATS_INC(link.memerr); /* pool exhausted: TCP will resend */
		return;
	}
	if (pbuf_take(p, frame, (u16_t)len) != ERR_OK || netif->input(p, netif) != ERR_OK) {
		pbuf_free(p);
		LINK_STATS_INC(link.drop);
	}
}

err_t ethif_init(struct netif *netif)
{
	struct nic *nic = netif->state;

	if (nic == NULL)
		return ERR_ARG;
	netif->name[0] = 'e';
	netif->name[1] = 'n';
	netif->hwaddr_len = ETH_HWADDR_LEN;
	memcpy(netif->hwaddr, nic->mac, ETH_HWADDR_LEN);
	netif->mtu = NIC_MTU;
	netif->flags = NETIF_FLAG_ETHARP | NETIF_FLAG_BROADCAST | NETIF_FLAG_LINK_UP;
	netif->output = etharp_output;
	netif->linkoutput = ethif_linkoutput;
	nic->rx = ethif_rx;
	nic->rx_arg = netif;
	return ERR_OK;
}
