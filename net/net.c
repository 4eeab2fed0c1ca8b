/* net.c - brings up lwIP on the node's NIC, gets an address (DHCP or static)
 * and points the agent link at om-agent. Every state change is printed, and
 * a missing DHCP answer is reported every few seconds: a node in a lab must
 * never sit there silently. */
#include <stdio.h>
#include <string.h>

#include "lwip/dhcp.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include "agent_link.h"
#include "ethif.h"
#include "net.h"
#include "timer.h"

#define NET_DHCP_NOTE_MS 5000   /* "no DHCP answer yet" this often */
/* lwIP's own DISCOVER backoff doubles from 2 s to 60 s; restarting DHCP
 * every 10 s keeps the gap between DISCOVERs at 4 s or less, so a node that
 * booted before its server (a lab after a power cut) joins within seconds. */
#define NET_DHCP_RESTART_NOTES 2

static struct netif net_if;
static struct nic *net_nic;
static struct net_config net_cfg;
static int net_started;
static uint32_t net_bound_ip;   /* address last reported, 0 = none */
static uint32_t net_note_at;    /* next "no DHCP answer" note */
static unsigned net_notes;

static void net_ntoa(uint32_t ip, char *buf, int len)
{
	ip4_addr_t a;

	ip4_addr_set_u32(&a, ip);
	ip4addr_ntoa_r(&a, buf, len);
}

static int net_prefix_len(uint32_t mask)
{
	return __builtin_popcount(mask);
}

/* The agent is where the configuration says, or else the DHCP server (in a
 * lab the server that boots the clients also runs om-agent), or with a
 * static address and no agent given, the gateway. */
static uint32_t net_agent_ip(void)
{
	struct dhcp *d;

	if (net_cfg.agent_ip != 0)
		return net_cfg.agent_ip;
	if (!net_cfg.use_dhcp)
		return net_cfg.gw;
	d = netif_dhcp_data(&net_if);
	return d != NULL ? ip4_addr_get_u32(ip_2_ip4(&d->server_ip_addr)) : 0;
}

static void net_report_bound(void)
{
	char ip[16], gw[16], ag[16];
	uint32_t a = net_agent_ip();
	uint16_t port = net_cfg.agent_port ? net_cfg.agent_port : OM_DEFAULT_PORT;

	net_ntoa(ip4_addr_get_u32(netif_ip4_addr(&net_if)), ip, sizeof(ip));
	net_ntoa(ip4_addr_get_u32(netif_ip4_gw(&net_if)), gw, sizeof(gw));
	net_ntoa(a, ag, sizeof(ag));
	printf("net: %s %s/%d gw %s\n", net_cfg.use_dhcp ? "dhcp bound" : "static", ip,
	       net_prefix_len(ip4_addr_get_u32(netif_ip4_netmask(&net_if))), gw);
	if (a == 0) {
		printf("net: no agent address (none given, none from DHCP); waiting\n");
		return;
	}
	printf("net: agent at %s:%u%s\n", ag, port,
	       net_cfg.agent_ip ? "" : net_cfg.use_dhcp ? " (the DHCP server)" : " (the gateway)");
	agent_set_peer(a, port);
}

/* Follows DHCP: reports a new lease, a lost one, and a long silence. */
static void net_watch_dhcp(void)
{
	uint32_t now = timer_ms();
	uint32_t ip = 0;

	if (dhcp_supplied_address(&net_if))
		ip = ip4_addr_get_u32(netif_ip4_addr(&net_if));
	if (ip != net_bound_ip) {
		net_bound_ip = ip;
		if (ip != 0) {
			net_notes = 0;
			net_report_bound();
		} else {
			printf("net: dhcp lease lost, asking again\n");
			agent_set_peer(0, 0);
			net_note_at = now + NET_DHCP_NOTE_MS;
		}
		return;
	}
	if (ip == 0 && (int32_t)(now - net_note_at) >= 0) {
		net_note_at = now + NET_DHCP_NOTE_MS;
		printf("net: no DHCP answer yet, retrying\n");
		if (++net_notes % NET_DHCP_RESTART_NOTES == 0)
			dhcp_start(&net_if);
	}
}

int net_start(struct nic *nic, const struct net_config *cfg, const struct node_identity *id)
{
	ip4_addr_t ip, mask, gw;
	int rc;

	if (net_started)
		return -1;
	net_cfg = *cfg;
	net_nic = nic;
	lwip_init();

	ip4_addr_set_u32(&ip, cfg->use_dhcp ? 0 : cfg->ip);
	ip4_addr_set_u32(&mask, cfg->use_dhcp ? 0 : cfg->netmask);
	ip4_addr_set_u32(&gw, cfg->use_dhcp ? 0 : cfg->gw);
	/* ethif_init sets nic->rx, which nic.h requires before ops->open. */
	if (netif_add(&net_if, &ip, &mask, &gw, nic, ethif_init, ethernet_input) == NULL) {
		printf("net: cannot add the network interface\n");
		return -1;
	}
	netif_set_hostname(&net_if, "om-node");
	netif_set_default(&net_if);
	rc = nic->ops->open(nic);
	if (rc != 0) {
		printf("net: %s: open failed (%d)\n", nic->name, rc);
		goto err_remove;
	}
	printf("net: %s %02x:%02x:%02x:%02x:%02x:%02x up\n", nic->name, nic->mac[0], nic->mac[1],
	       nic->mac[2], nic->mac[3], nic->mac[4], nic->mac[5]);
	netif_set_up(&net_if);
	agent_init(id, nic, cfg->have_agent_key ? cfg->agent_key : NULL);
	net_started = 1;

	if (!cfg->use_dhcp) {
		net_bound_ip = cfg->ip;
		net_report_bound();
		return 0;
	}
	if (dhcp_start(&net_if) != ERR_OK) {
		printf("net: dhcp_start failed\n");
		rc = -1;
		goto err_close;
	}
	printf("net: dhcp started\n");
	net_note_at = timer_ms() + NET_DHCP_NOTE_MS;
	return 0;

err_close:
	net_started = 0;
	nic->ops->close(nic);
err_remove:
	netif_remove(&net_if);
	return rc;
}

void net_poll(void)
{
	if (!net_started)
		return;
	net_nic->ops->poll(net_nic);
	sys_check_timeouts();
	if (net_cfg.use_dhcp)
		net_watch_dhcp();
	agent_poll();
}

void net_get_status(struct net_status *st)
{
	memset(st, 0, sizeof(*st));
	if (net_started)
		st->ip = net_bound_ip;
	agent_get_status(st);
}
