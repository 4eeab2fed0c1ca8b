/* leave.c - the node leaves (see leave.h).
 *
 * In order: the screen says why; NODE_LEAVING tells the agent, which tells
 * each job's om-run where to go on to (a free core elsewhere, else home);
 * every job goes home the way MIGRATE_HOME sends it; once nothing is left
 * to send, BYE; once the agent has closed the link (it has read
 * everything), the PC restarts. If that takes longer than LEAVE_MAX_MS
 * (a link that stalls) the PC restarts anyway: the owner comes first, and
 * home is told the node was lost. */
#include <stdio.h>

#include "homelink.h"
#include "i8042.h"
#include "leave.h"
#include "net.h"
#include "panel.h"
#include "proto.h"
#include "reset.h"
#include "timer.h"

#define LEAVE_MAX_MS 60000 /* images of a few hundred MiB over a slow link */
#define LEAVE_BYE_MS 3000  /* for the agent to close after BYE */

enum leave_state { LEAVE_NO, LEAVE_TELL, LEAVE_EMPTYING, LEAVE_BYE };

static struct {
	enum leave_state state;
	uint8_t reason;            /* enum om_leave_reason */
	uint32_t since, bye_at;
	int restart_asked;         /* NODE_RESTART arrived (inside net_poll) */
} lv;

static void on_restart(void)
{
	lv.restart_asked = 1;
}

void leave_init(void)
{
	i8042_init();
	agent_set_restart_handler(on_restart);
}

static int registered(void)
{
	struct net_status st;
	net_get_status(&st);
	return st.agent == AGENT_REGISTERED;
}

static void start(uint8_t reason)
{
	lv.state = LEAVE_TELL;
	lv.reason = reason;
	lv.since = timer_ms();
	const char *why = reason == OM_LEAVE_OWNER ? "owner is back" : "the agent asks for a restart";
	printf("leave: %s: sending jobs away, then restarting\n", why);
	panel_notice(reason == OM_LEAVE_OWNER ? "owner is back: sending jobs away, then restarting"
					      : "restart asked (om-ctl reboot): sending jobs away, then restarting");
}

/* NODE_LEAVING goes before any JOB_HOME, so that the agent can tell each
 * job's om-run where it goes on to before its image comes. */
static int tell(void)
{
	struct om_node_leaving m = { .reason = lv.reason };
	uint8_t buf[2 + 2 + OM_STR_MAX];
	snprintf(m.text, sizeof m.text, "%s",
		 lv.reason == OM_LEAVE_OWNER ? "a key was pressed or the mouse moved" : "om-ctl reboot");
	int n = om_node_leaving_encode(&m, buf, sizeof buf);
	int rc = n < 0 ? -2 : agent_job_send(OM_T_NODE_LEAVING, 0, 0, buf, (size_t)n);
	return rc == -1 ? -1 : 0; /* -2: no link, so no jobs either */
}

void leave_poll(void)
{
	int input = i8042_input_seen();
	if (lv.state == LEAVE_NO) {
		if (input)
			start(OM_LEAVE_OWNER);
		else if (lv.restart_asked)
			start(OM_LEAVE_RESTART);
		else
			return;
	}
	if (timer_ms() - lv.since > LEAVE_MAX_MS) {
		printf("leave: jobs still here after %u s; restarting anyway\n", LEAVE_MAX_MS / 1000);
		machine_reset();
	}
	switch (lv.state) {
	case LEAVE_TELL:
		if (tell() < 0)
			return; /* no room in the send queue yet */
		homelink_leave(lv.reason == OM_LEAVE_OWNER ? "the owner is back" : "the node restarts");
		lv.state = LEAVE_EMPTYING;
		/* fall through */
	case LEAVE_EMPTYING:
		if (!homelink_idle() && registered())
			return;
		if (!registered() || agent_job_send(OM_T_BYE, 0, 0, NULL, 0) == -2)
			machine_reset(); /* no link: nothing more to say */
		lv.state = LEAVE_BYE;
		lv.bye_at = timer_ms();
		printf("leave: jobs gone, said goodbye to the agent\n");
		return;
	case LEAVE_BYE:
		if (!registered() || timer_ms() - lv.bye_at > LEAVE_BYE_MS)
			machine_reset();
		return;
	default:
		return;
	}
}
