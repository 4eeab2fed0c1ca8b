/* panel.c - composes the status panel from the network, job and memory
 * state, and hands it to the console when it changed. */
#include <stdio.h>
#include <string.h>

#include "console.h"
#include "job.h"
#include "mm.h"
#include "net.h"
#include "panel.h"
#include "sched.h"
#include "timer.h"

#define PANEL_LINES 4
#define PANEL_WIDTH 80
#define PANEL_EVERY_MS 250

static const struct nic *panel_nic;
static const char *panel_notice_text;
static uint32_t panel_speed, panel_next;
static char panel_text[PANEL_LINES][PANEL_WIDTH + 1];

void panel_init(const struct nic *nic, uint32_t speed)
{
	panel_nic = nic;
	panel_speed = speed;
	panel_update();
}

void panel_notice(const char *text)
{
	panel_notice_text = text;
	panel_next = timer_ms(); /* now, not at the next quarter second */
	panel_update();
}

static void ip_str(uint32_t be, char *out, size_t len)
{
	const uint8_t *b = (const uint8_t *)&be;
	snprintf(out, len, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
}

static void agent_line(const struct net_status *st, char *out, size_t len)
{
	char a[16];
	ip_str(st->agent_ip, a, sizeof a);
	switch (st->agent) {
	case AGENT_REGISTERED:
		snprintf(out, len, " om compute node %u   in the cluster: agent %s:%u", st->node_id, a, st->agent_port);
		break;
	case AGENT_CONNECTING:
	case AGENT_HELLO_SENT:
	case AGENT_BACKOFF:
		if (st->not_admitted)
			snprintf(out, len, " om compute node   waiting for the admin: om-ctl admit %s", st->key_fp);
		else if (st->agent != AGENT_BACKOFF)
			snprintf(out, len, " om compute node   joining: connecting to agent %s:%u", a, st->agent_port);
		else if (st->key_refused)
			snprintf(out, len, " om compute node   NOT in the cluster: agent %s:%u refused us (om.key= wrong?)",
				 a, st->agent_port);
		else
			snprintf(out, len, " om compute node   NOT in the cluster: agent %s:%u does not answer", a,
				 st->agent_port);
		break;
	case AGENT_NO_KEY:
		snprintf(out, len, " om compute node   NOT in the cluster: no om.key= on the command line");
		break;
	default:
		snprintf(out, len, " om compute node   waiting for a network address (DHCP)");
		break;
	}
}

void panel_update(void)
{
	if ((int32_t)(timer_ms() - panel_next) < 0)
		return;
	panel_next = timer_ms() + PANEL_EVERY_MS;

	struct net_status st;
	char lines[PANEL_LINES][PANEL_WIDTH + 1], ip[16];
	net_get_status(&st);
	if (panel_notice_text)
		snprintf(lines[0], sizeof lines[0], " %s", panel_notice_text);
	else
		agent_line(&st, lines[0], sizeof lines[0]);
	ip_str(st.ip, ip, sizeof ip);
	const uint8_t *m = panel_nic ? panel_nic->mac : (const uint8_t[6]){ 0 };
	snprintf(lines[1], sizeof lines[1], " address %s   card %s %02x:%02x:%02x:%02x:%02x:%02x", st.ip ? ip : "none yet",
		 panel_nic ? panel_nic->name : "none", m[0], m[1], m[2], m[3], m[4], m[5]);
	struct job *j = sched_job(0);
	int procs = sched_processes();
	if (j && procs > 1)
		snprintf(lines[2], sizeof lines[2], " %d jobs: pid %ld and %d more from home", procs,
			 (long)j->p->ident.pid, procs - 1);
	else if (j)
		snprintf(lines[2], sizeof lines[2], " job %u: pid %ld from home, %s %lu s, %lu forwarded calls", j->id,
			 (long)j->p->ident.pid, j->p->stopped ? "stopped after" : "running",
			 (unsigned long)((timer_ns() - j->p->node_ns_base) / 1000000000u),
			 (unsigned long)j->syscalls_forwarded);
	else
		snprintf(lines[2], sizeof lines[2], " jobs: none, idle");
	uint32_t up = timer_ms() / 1000;
	/* The key last, whole within 80 columns: an admin pairing the node
	 * reads it off this line. */
	snprintf(lines[3], sizeof lines[3], " up %u:%02u:%02u  mem %lu/%lu MiB free  speed %u  key %s", up / 3600,
		 up / 60 % 60, up % 60, (unsigned long)(pmm_free_bytes() >> 20), (unsigned long)(pmm_total_bytes() >> 20),
		 panel_speed, st.key_fp);
	if (!memcmp(lines, panel_text, sizeof lines))
		return;
	memcpy(panel_text, lines, sizeof lines);
	const char *ptr[PANEL_LINES];
	for (int i = 0; i < PANEL_LINES; i++)
		ptr[i] = panel_text[i];
	console_panel(ptr, PANEL_LINES);
}
