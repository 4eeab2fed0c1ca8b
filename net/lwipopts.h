/* lwipopts.h - lwIP 2.1.3 configuration for the om node.
 *
 * One CPU, NO_SYS=1, raw API only. lwIP is entered from main-loop context
 * only (net.h), never from an interrupt, so it needs no locking at all.
 * Sized for a node that receives multi-MiB process images over one TCP
 * connection: a 64 KiB-class window both ways and enough pbufs to hold it. */
#ifndef OM_LWIPOPTS_H
#define OM_LWIPOPTS_H

/* ---- platform */
#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0 /* no IRQ-context callers, no threads */
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define LWIP_NETIF_API 0
#define MEM_ALIGNMENT 8        /* x86-64: pointers inside pooled structs */

/* ---- memory
 * MEM_SIZE is lwIP's own heap (a static array): PBUF_RAM buffers, above all
 * the segments tcp_write(COPY) builds, up to TCP_SND_BUF plus headers.
 * PBUF_POOL holds received frames, one frame per pbuf: a full receive window
 * (TCP_WND / TCP_MSS = 44) plus out-of-order data plus NIC bursts. */
#define MEM_SIZE (256 * 1024)
#define MEMP_NUM_PBUF 32
#define MEMP_NUM_RAW_PCB 2
#define MEMP_NUM_UDP_PCB 4
#define MEMP_NUM_TCP_PCB 8     /* our link, plus old ones in TIME_WAIT */
#define MEMP_NUM_TCP_PCB_LISTEN 2
#define MEMP_NUM_TCP_SEG 192   /* >= TCP_SND_QUEUELEN, plus ooseq segments */
#define MEMP_NUM_ARP_QUEUE 16
#define PBUF_POOL_SIZE 128

/* ---- protocols: IPv4 only */
#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define ETHARP_SUPPORT_STATIC_ENTRIES 0
#define LWIP_ICMP 1            /* answers ping: the benchmarks compare against it */
#define LWIP_RAW 0
#define LWIP_UDP 1             /* DHCP only */
#define LWIP_TCP 1
#define LWIP_DNS 0
#define LWIP_IGMP 0
#define LWIP_AUTOIP 0
#define IP_FORWARD 0
#define IP_REASSEMBLY 1
#define IP_FRAG 1

#define LWIP_DHCP 1
/* The ARP probe after an offer costs a second per boot; lab DHCP servers
 * (dnsmasq) ping-check addresses before offering them. */
#define DHCP_DOES_ARP_CHECK 0
#define LWIP_NETIF_HOSTNAME 1  /* "om-node" shows up in the DHCP server's log */

/* ---- TCP: window and send buffer just under 64 KiB, so no window scaling is
 * needed (tcpwnd_size_t stays 16 bit). 44 * 1460 = 64240. */
#define TCP_MSS 1460
#define TCP_WND (44 * TCP_MSS)
#define TCP_SND_BUF (44 * TCP_MSS)
#define TCP_SND_QUEUELEN ((4 * TCP_SND_BUF + (TCP_MSS - 1)) / TCP_MSS)
#define TCP_QUEUE_OOSEQ 1
#define LWIP_TCP_SACK_OUT 0
#define LWIP_TCP_KEEPALIVE 0   /* the agent link has its own liveness checks */
#define LWIP_CALLBACK_API 1
#define LWIP_RANDOMIZE_INITIAL_LOCAL_PORTS 1 /* a rebooted node must not reuse the old 4-tuple */

/* ---- checksums: all in software; no driver offloads them yet */
#define CHECKSUM_GEN_IP 1
#define CHECKSUM_GEN_UDP 1
#define CHECKSUM_GEN_TCP 1
#define CHECKSUM_GEN_ICMP 1
#define CHECKSUM_CHECK_IP 1
#define CHECKSUM_CHECK_UDP 1
#define CHECKSUM_CHECK_TCP 1
#define CHECKSUM_CHECK_ICMP 1

/* ---- netif */
#define LWIP_SINGLE_NETIF 1
#define LWIP_NETIF_STATUS_CALLBACK 0
#define LWIP_NETIF_LINK_CALLBACK 0
#define ETH_PAD_SIZE 0

/* ---- diagnostics: no debug output, but every assert prints and halts
 * (arch/cc.h). Statistics cost memory and are not read by anyone yet. */
#define LWIP_STATS 0
#define LWIP_STATS_DISPLAY 0
/* LWIP_DEBUG stays undefined; LWIP_NOASSERT stays undefined. */

#endif
