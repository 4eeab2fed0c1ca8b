/* agent_back.c - the deputy's side of a job carried across a new agent
 * link (reattach_msg.h): the agent restarted, or the node's link dropped
 * for less than the grace. The deputy connects again and claims the job;
 * the node claims it too and says where it stands (JOB_REATTACH). What
 * either side sent that the old link lost is sent again: the node's call
 * under its number (answered again from txbuf if home had run it), home's
 * signals the node did not take in. Nothing runs twice. */
#define _GNU_SOURCE /* dup3 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "reattach_msg.h"
#include "remote.h"

#define RECONNECT_EVERY_MS 200

int remote_reattachable(const struct remote *r)
{
	return r->serving && !r->homing && !r->execed && r->jc->connect != NULL;
}

int remote_reconnect(struct remote *r)
{
	struct job_ctx *jc = r->jc;
	uint64_t until = ckpt_now_ms() + OM_IMAGE_QUIET_MS;
	struct timespec nap = { 0, RECONNECT_EVERY_MS * 1000000L };
	int fd;

	say(r, "the agent went away while the job ran on node %u: waiting up to %u s for it", jc->placed.node,
	    OM_IMAGE_QUIET_MS / 1000);
	while ((fd = jc->connect(jc->control)) < 0) {
		if (ckpt_now_ms() >= until) {
			fprintf(stderr, "om-run: pid %d (%s): the agent went away and did not come back within %u s\n",
				(int)r->pid, r->prog, OM_IMAGE_QUIET_MS / 1000);
			return -1;
		}
		nanosleep(&nap, NULL);
	}
	/* The same descriptor: whoever watches it (a call's wait) goes on. */
	if (dup3(fd, jc->ctl_fd, O_CLOEXEC) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	frame_rx_init(&r->rx, r->rx.buf, r->rx.cap); /* a frame cut by the old link is gone */
	struct om_ctl_reattach m = { .job = r->job };
	memcpy(m.key, jc->placed.key, sizeof m.key);
	job_submit_fill((uint32_t)r->pid, r->cmd, &r->need, 0, &m.s);
	m.s.cpu.cores = r->cores;
	uint8_t buf[4 + OM_KEY_LEN + OM_JOB_SUBMIT_MAX];
	int n = om_ctl_reattach_encode(&m, buf, sizeof buf);
	if (n < 0 || remote_send_for(r, OM_T_CTL_JOB_REATTACH, 0, 0, buf, (size_t)n) != 0)
		return -1;
	r->reattaching = 1;
	say(r, "connected to the agent again; job %u waits for node %u to claim it", r->job, jc->placed.node);
	return 0;
}

/* The signal frames the node did not take in, in their order, as they were. */
static int signals_again(struct remote *r, uint32_t taken)
{
	if (r->sigs_written - taken > SENT_SIGS_MAX) {
		fprintf(stderr, "om-run: pid %d (%s): node %u missed %u signals, more than the %d kept: the process is "
			"killed\n", (int)r->pid, r->prog, r->jc->placed.node, r->sigs_written - taken, SENT_SIGS_MAX);
		return -1;
	}
	for (uint32_t k = taken; k < r->sigs_written; k++) {
		const typeof(r->sent_sigs[0]) *s = &r->sent_sigs[k % SENT_SIGS_MAX];
		if (remote_send_for(r, s->type, r->job, s->stamp, s->p, s->len) != 0)
			return -1;
	}
	if (taken < r->sigs_written)
		say(r, "%u signal frames sent again to node %u", r->sigs_written - taken, r->jc->placed.node);
	return 0;
}

static int refuse(struct remote *r, const char *why)
{
	fprintf(stderr, "om-run: pid %d (%s): node %u claimed the job again, but %s: the process is killed\n",
		(int)r->pid, r->prog, r->jc->placed.node, why);
	r->out_of_order = 1;
	return -1;
}

int remote_on_reattach(struct remote *r, const struct om_hdr *h, const uint8_t *p)
{
	struct om_job_reattach m;
	uint32_t calls = r->seq.calls;
	char why[160];

	if (om_job_reattach_decode(p, h->length, &m) != OM_OK || h->job != r->job)
		return refuse(r, "its JOB_REATTACH is malformed");
	/* Its call sent last may be one the old link lost: then it names it. */
	if (h->seq > calls + (m.waiting == calls + 1)) {
		snprintf(why, sizeof why, "it names call %u, and home has had %u", h->seq, calls);
		return refuse(r, why);
	}
	r->jc->placed.node = m.node;
	if (m.waiting == calls + 1 && !r->calling) {
		r->call_coming = m.waiting; /* it never came: it comes now */
	} else if (m.waiting != 0 && m.waiting == calls &&
		   (r->calling || r->last_rep_seq == calls || calls <= r->replay_last)) {
		r->resend_ok = calls; /* running, or answered: the node's copy is not run again */
	} else if (m.waiting != 0) {
		snprintf(why, sizeof why, "it waits for the answer to call %u, and home %s call %u", m.waiting,
			 r->calling ? "runs" : "answered", calls);
		return refuse(r, why);
	}
	if (m.signals_in > r->sigs_written) {
		snprintf(why, sizeof why, "it took in %u signal frames of the %u sent", m.signals_in, r->sigs_written);
		return refuse(r, why);
	}
	if (m.signals_in > r->sigs_seen)
		r->sigs_seen = m.signals_in;
	if (ckpt_busy(&r->ck)) {
		say(r, "the old link lost the checkpoint on its way");
		ckpt_abort(&r->ck);
		call_log_decided_lost(&r->log); /* the node counts its decisions from it */
	}
	r->reattaching = 0;
	say(r, "node %u holds the job again (%s)", m.node,
	    m.exited ? "it ended" : m.waiting ? "waiting for a call's answer" : m.stopped ? "stopped" : "running");
	if (signals_again(r, m.signals_in) != 0)
		return -1;
	if (!m.exited && m.stopped != r->node_stop)
		return remote_node_stopped(r, m.stopped);
	return 0;
}

int remote_answer_again(struct remote *r, uint32_t seq, const struct om_sysreq *req)
{
	r->resend_ok = 0;
	if (seq != r->last_rep_seq || req->nr != r->last_nr || memcmp(req->args, r->last_args, sizeof r->last_args)) {
		fprintf(stderr, "om-run: pid %d (%s): node %u sent call %u again as %s, but it was %s: the process is "
			"killed\n", (int)r->pid, r->prog, r->jc->placed.node, seq, om_syscall_name(req->nr),
			om_syscall_name(r->last_nr));
		return -1;
	}
	say(r, "call %u (%s) answered again: the old link lost its answer", seq, om_syscall_name(req->nr));
	return remote_send_for(r, OM_T_SYSCALL_REP, r->job, seq, r->txbuf, r->last_rep_len);
}
