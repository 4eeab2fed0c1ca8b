/* run_remote.c - a process of the job on its node, as its deputy serves
 * it (remote.h): the process is captured and sent to the node the agent
 * chose; its home process then waits in an injected pause(): signals sent
 * to it (Ctrl-C, kill) stop it, and the deputy passes them to the node;
 * forwarded system calls run inside it, so descriptors, cwd and
 * credentials are the kernel's own. The job ends on the node (the process
 * then ends the same way) or comes home (its image is restored into the
 * process, which life.c then follows at home). */
#include <errno.h>
#include <stdarg.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>
#include <elf.h>

#include "call_limits.h"
#include "capture.h"
#include "cpu_mask.h"
#include "deputy_call.h"
#include "frame_rx.h"
#include "inject.h"
#include "deputy.h"
#include "job_msg.h"
#include "ckpt_home.h"
#include "home_code.h"
#include "node_code.h"
#include "ptrace_start.h"
#include "remote.h"
#include "restore.h"
#include "return_calls.h"
#include "syscall_codec.h"
#include "timers.h"
#include "vdso.h"
#include "vdso_leave.h"

int say(struct remote *r, const char *fmt, ...)
{
	va_list ap;
	if (!r->jc->verbose)
		return 0;
	if (r->root)
		fputs("om-run: ", stderr);
	else
		fprintf(stderr, "om-run: pid %d (%s): ", (int)r->pid, r->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 0;
}

/* ------------------------------------------------------------ frames */

static int send_frame_for(struct remote *r, uint8_t type, uint32_t job, uint32_t seq, const void *p, size_t len)
{
	uint8_t hdr[OM_HDR_SIZE];
	om_hdr_encode(hdr, type, (uint32_t)len, job, seq);
	const uint8_t *parts[2] = { hdr, p };
	size_t lens[2] = { sizeof hdr, len };
	for (int i = 0; i < 2; i++) {
		size_t off = 0;
		while (off < lens[i]) {
			ssize_t n = write(r->jc->ctl_fd, parts[i] + off, lens[i] - off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EPIPE || errno == ECONNRESET) && remote_reattachable(r))
				return 0; /* the next read finds the link gone and makes it again; the claims square what was lost */
			if (n <= 0)
				return -1;
			off += (size_t)n;
		}
	}
	return 0;
}

int remote_send_for(struct remote *r, uint8_t type, uint32_t job, uint32_t seq, const void *p, size_t len)
{
	return send_frame_for(r, type, job, seq, p, len);
}

/* A frame for the job: it names the last call home has had (job_seq.h).
 * While a checkpoint comes in the job waits on its node, which takes no
 * signal meanwhile, and while the node has not claimed the job again on a
 * new link (agent_back.c) it could miss them: they wait here
 * (flush_held_out). */
static int send_frame(struct remote *r, uint8_t type, const void *p, size_t len)
{
	int holding = ckpt_busy(&r->ck) || r->reattaching;
	if (holding && (type == OM_T_SIGNAL || type == OM_T_JOB_CONTINUE) &&
	    r->nout_held < OUT_HELD_MAX && len <= sizeof r->out_held[0].p) {
		r->out_held[r->nout_held].type = type;
		r->out_held[r->nout_held].len = (uint8_t)len;
		memcpy(r->out_held[r->nout_held++].p, p, len);
		return 0;
	}
	if (holding && (type == OM_T_SIGNAL || type == OM_T_JOB_CONTINUE))
		fprintf(stderr, "om-run: pid %d (%s): more than %d signals while its node cannot take them: this one "
			"is lost\n", (int)r->pid, r->prog, OUT_HELD_MAX);
	if (type == OM_T_SIGNAL || type == OM_T_JOB_CONTINUE) {
		call_log_break(&r->log, r->seq.calls + 1); /* a signal is no call: a restart would not see it */
		if (len <= sizeof r->sent_sigs[0].p) { /* kept for a node that misses it (agent_back.c) */
			typeof(r->sent_sigs[0]) *s = &r->sent_sigs[r->sigs_written++ % SENT_SIGS_MAX];
			s->type = type;
			s->len = (uint8_t)len;
			s->stamp = r->seq.calls;
			memcpy(s->p, p, len);
		}
	}
	if (type == OM_T_CHECKPOINT && r->reattaching)
		return 0; /* the node cannot take it now: the next one is asked in time */
	return send_frame_for(r, type, r->job, r->seq.calls, p, len);
}

int remote_send_frame(struct remote *r, uint8_t type, const void *p, size_t len)
{
	return send_frame(r, type, p, len);
}

static int flush_held_out(struct remote *r)
{
	int rc = 0;
	for (int i = 0; i < r->nout_held && rc == 0; i++)
		rc = send_frame(r, r->out_held[i].type, r->out_held[i].p, r->out_held[i].len);
	r->nout_held = 0;
	return rc;
}

/* The job comes home: at home it runs natively, which no log records, so
 * its checkpoint is no use from now on (the next placement takes new
 * ones); one asked for is not coming. The signals held for the node are
 * the process's again, raised at home: they are delivered there once its
 * image is in. */
static void checkpoints_moot(struct remote *r)
{
	ckpt_abort(&r->ck);
	r->ck.count = 0;
	call_log_free(&r->log);
	remote_decisions_reset(r);
	r->ck_calls = r->ck_coming = r->replay_last = 0;
	for (int i = 0; i < r->nout_held; i++) {
		struct om_job_signal s;
		if (r->out_held[i].type == OM_T_SIGNAL &&
		    om_job_signal_decode(r->out_held[i].p, r->out_held[i].len, &s) == OM_OK)
			syscall(SYS_tgkill, r->in.pid, r->in.pid, (int)s.signo);
		r->sigs_sent--; /* counted as sent; the node never saw it */
	}
	r->nout_held = 0;
}

/* The node's answer to CHECKPOINT, and the image that follows: -1 ends
 * the job (a frame it was not asked for). */
static int on_checkpoint_frame(struct remote *r, const struct om_hdr *h, const uint8_t *p)
{
	char err[256];
	int was_image = r->ck.state == CKPT_IMAGE;
	int rc = h->type == OM_T_CHECKPOINT_TAKEN ? ckpt_taken(&r->ck, p, h->length, err, sizeof err)
						   : ckpt_frame(&r->ck, h, p, err, sizeof err);
	/* The node counts its decisions from a checkpoint it took: one
	 * home does not keep leaves them counted from nowhere it knows. */
	if (was_image && r->ck.state != CKPT_IMAGE && !(rc == 1 && h->type == OM_T_IMAGE_END))
		call_log_decided_lost(&r->log);
	if (rc == 0 && h->type == OM_T_CHECKPOINT_TAKEN && ckpt_file(&r->ck) >= 0 &&
	    ckpt_home_write(ckpt_file(&r->ck), r->pid, r->in.scratch, r->in.scratch_len, r->seq.calls, 1, err,
			    sizeof err) != 0)
		ckpt_file_failed(&r->ck); /* said below */
	if (h->type == OM_T_IMAGE_BEGIN)
		r->ck_coming = h->seq; /* its count of calls (job_seq.h) */
	if (rc == 1 && h->type == OM_T_IMAGE_END) { /* kept: the log before it goes */
		r->ck_calls = r->ck_coming;
		call_log_cut(&r->log, r->ck_calls);
	}
	if (rc < 0) {
		fprintf(stderr, "om-run: pid %d (%s): node %u: %s\n", (int)r->pid, r->prog, r->jc->placed.node, err);
		return -1;
	}
	if (err[0])
		fprintf(stderr, "om-run: pid %d (%s): a checkpoint is lost: %s\n", (int)r->pid, r->prog, err);
	if (rc == 1 && h->type == OM_T_IMAGE_END)
		say(r, "checkpoint %u from node %u: %llu bytes%s; the job waited %llu ms", r->ck.count,
		    r->jc->placed.node, (unsigned long long)r->ck.last_bytes,
		    r->ck.last_delta ? " (what changed since the last)" : "", (unsigned long long)r->ck.last_ms);
	return ckpt_busy(&r->ck) ? 0 : flush_held_out(r);
}

/* A frame the node sent names the job's calls (job_seq.h): one out of
 * order is a frame lost, repeated or made up, and the job cannot go on.
 * Frames the agent makes carry no number; a JOB_ERROR (the node's or the
 * agent's) ends the placement whatever it says. */
static int node_frame_in_order(struct remote *r, const struct om_hdr *h)
{
	struct job_seq was = r->seq;
	if (h->job != r->job)
		return 0; /* not this job's (the agent relays a job's frames only to its deputy) */
	switch (h->type) {
	case OM_T_SYSCALL_REQ:
		if (r->resend_ok && h->seq == r->resend_ok && h->seq == r->seq.calls)
			return 0; /* sent again after JOB_REATTACH: not a new call (agent_back.c) */
		if (job_seq_call(&r->seq, h->seq) == 0) {
			if (h->seq == r->call_coming)
				r->call_coming = 0;
			return 0;
		}
		fprintf(stderr, "om-run: pid %d (%s): node %u sent call %u, but call %u was next: a call lost, "
			"repeated or made up; the process is killed\n", (int)r->pid, r->prog, r->jc->placed.node, h->seq,
			was.calls + 1);
		break;
	case OM_T_JOB_STARTED: case OM_T_JOB_STOPPED: case OM_T_SIGNAL_SEEN: case OM_T_CALL_INTERRUPT:
	case OM_T_CHECKPOINT_TAKEN:
	case OM_T_JOB_EXIT: case OM_T_JOB_HOME: case OM_T_IMAGE_BEGIN: case OM_T_IMAGE_THREAD:
	case OM_T_IMAGE_REGION: case OM_T_IMAGE_PAGES: case OM_T_IMAGE_END:
		if (r->call_coming && h->seq == r->call_coming && h->seq == r->seq.calls + 1)
			return 0; /* names the call the node sends again, lost with the old link (agent_back.c) */
		if (job_seq_frame(&r->seq, h->seq) == 0)
			return 0;
		fprintf(stderr, "om-run: pid %d (%s): node %u's %s came after call %u, but call %u is the last it "
			"sent (and %u was named before): a frame lost, repeated or made up; the process is killed\n",
			(int)r->pid, r->prog, r->jc->placed.node, om_type_name(h->type), h->seq, was.calls, was.stamp);
		break;
	default:
		return 0;
	}
	r->out_of_order = 1;
	return -1;
}

/* The next frame from the agent, waiting for it; signals that reach the
 * tracee meanwhile are handled by on_signal. Returns 1 with a frame, 0 at
 * end of stream, -1 on a broken stream. */
static int next_frame(struct remote *r, struct om_hdr *h, const uint8_t **p, int (*on_signal)(struct remote *),
		      int timeout_ms)
{
	free(r->held_now);
	r->held_now = NULL;
	if (r->held_lost) {
		fprintf(stderr, "om-run: the node sent more than %d frames during one call\n", HELD_MAX);
		return -1;
	}
	if (r->out_of_order)
		return -1;
	if (r->nheld) {
		*h = r->held[0].h;
		*p = r->held_now = r->held[0].p;
		memmove(&r->held[0], &r->held[1], (size_t)--r->nheld * sizeof r->held[0]);
		return 1;
	}
	for (;;) {
		int rc = frame_rx_next(&r->rx, h, p);
		if (rc == OM_OK)
			return node_frame_in_order(r, h) == 0 ? 1 : -1;
		if (rc != OM_E_SHORT) {
			fprintf(stderr, "om-run: bad frame from the agent: %s\n", om_strerror(rc));
			return -1;
		}
		struct pollfd pfd[2] = { { r->jc->ctl_fd, POLLIN, 0 }, { r->sigfd, POLLIN, 0 } };
		int ready = poll(pfd, on_signal ? 2 : 1, timeout_ms);
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (ready == 0)
			return -2; /* nothing within timeout_ms */
		if (on_signal && (pfd[1].revents & POLLIN)) {
			struct signalfd_siginfo si;
			while (read(r->sigfd, &si, sizeof si) == (ssize_t)sizeof si)
				;
			if (on_signal(r) < 0)
				return -1;
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			uint8_t *where;
			size_t room = frame_rx_room(&r->rx, &where);
			ssize_t n = read(r->jc->ctl_fd, where, room);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0 && remote_reattachable(r) && remote_reconnect(r) == 0)
				continue;
			if (n <= 0)
				return n == 0 ? 0 : -1;
			frame_rx_commit(&r->rx, (size_t)n);
		}
	}
}

int remote_next_frame(struct remote *r, struct om_hdr *h, const uint8_t **p, int timeout_ms)
{
	return next_frame(r, h, p, NULL, timeout_ms);
}

/* The signal goes to the job with its siginfo (raw: a siginfo_t, 128
 * bytes) as home's kernel filled it; NULL: one the deputy makes up. */
static void forward_signal(struct remote *r, int sig, const uint8_t *raw)
{
	struct om_job_signal s = { .signo = (uint32_t)sig, .code = SI_USER };
	uint8_t buf[64];
	if (raw) {
		memcpy(&s.errnum, raw + 4, 4);
		memcpy(&s.code, raw + 8, 4);
		memcpy(s.fields, raw + 16, sizeof s.fields);
	}
	int n = om_job_signal_encode(&s, buf, sizeof buf);
	say(r, "signal %d (%s) goes to the job on node %u", sig, strsignal(sig), r->jc->placed.node);
	if (n > 0 && send_frame(r, OM_T_SIGNAL, buf, (size_t)n) == 0) {
		r->sigs_sent++;
		if (sig == SIGCONT)
			r->cont_at = r->sigs_sent;
	}
}

static void forward_recorded(struct remote *r, struct inject *in)
{
	static struct inject_sig sigs[INJECT_SIGS_MAX];
	unsigned n = inject_take_signals(in, sigs);
	for (unsigned i = 0; i < n; i++)
		forward_signal(r, sigs[i].sig, sigs[i].info);
}

/* ------------------------------------------------------------ the idle tracee */

void remote_reap_threads(void *ctx)
{
	struct remote *r = ctx;
	if (r->nthreads)
		remote_threads_reap(r, 0);
}

/* Lets the tracee wait in pause() on the scratch stub, where any signal
 * sent to it shows up as a signal-delivery stop. */
static int idle(struct remote *r)
{
	struct user_regs_struct regs;
	int st;
	if (ptrace(PTRACE_GETREGS, r->in.pid, NULL, &regs) == 0) {
		regs.rip = r->in.stub;
		regs.rax = SYS_pause;
		regs.orig_rax = (uint64_t)-1;
		regs.rsp = r->in.data + INJECT_DATA_SIZE - 256;
		if (ptrace(PTRACE_SETREGS, r->in.pid, NULL, &regs) == 0 &&
		    ptrace(PTRACE_CONT, r->in.pid, NULL, NULL) == 0)
			return 0;
	}
	int err = errno;
	/* Killed (SIGKILL) since its last stop: its end is the job's (once
	 * its home threads are collected). */
	if (err == ESRCH)
		remote_threads_reap(r, 1);
	if (err == ESRCH && waitpid(r->in.pid, &st, __WALL) == r->in.pid && (WIFEXITED(st) || WIFSIGNALED(st))) {
		r->in.dead = 1;
		r->in.status = st;
	}
	return -err;
}

/* What a wait status of the idle tracee means: -1 it is gone (status kept),
 * 1 it stopped for our PTRACE_INTERRUPT, 0 anything else, which is dealt
 * with: a signal sent to it goes to the job on the node (never delivered at
 * home), and it waits on. */
static int tracee_event(struct remote *r, int st)
{
	if (WIFEXITED(st) || WIFSIGNALED(st)) {
		r->in.dead = 1;
		r->in.status = st;
		return -1;
	}
	if (!WIFSTOPPED(st))
		return 0;
	if ((st >> 16) == PTRACE_EVENT_STOP) {
		int sig = WSTOPSIG(st);
		if (!r->waking && (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)) {
			/* The stop the job made on its node, made at home too
			 * (stop_home): a real one, for its parent's wait4. */
			ptrace(PTRACE_LISTEN, r->in.pid, NULL, NULL);
			return 0;
		}
		return 1;
	}
	if ((st >> 16) == 0 && r->stop_at_home && WSTOPSIG(st) == r->stop_at_home) {
		ptrace(PTRACE_CONT, r->in.pid, NULL, (void *)(long)r->stop_at_home);
		r->stop_at_home = 0;
		return 0;
	}
	if ((st >> 16) == 0 && WSTOPSIG(st) != SIGTRAP) {
		uint8_t si[INJECT_SIGINFO_SIZE];
		memset(si, 0, sizeof si);
		ptrace(PTRACE_GETSIGINFO, r->in.pid, NULL, si);
		forward_signal(r, WSTOPSIG(st), si);
	}
	ptrace(PTRACE_CONT, r->in.pid, NULL, NULL);
	return 0;
}

/* One wait status of the tracee, its end kept (r->in.dead, status); -1
 * when there is none to wait for. */
static int wait_once(struct remote *r, int *st)
{
	while (waitpid(r->in.pid, st, __WALL) == -1)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(*st) || WIFSIGNALED(*st)) {
		r->in.dead = 1;
		r->in.status = *st;
	}
	return 0;
}

/* A home thread ended: its process did (nothing else ends one, they run
 * no code of their own). The leader's status is the process's, reported
 * once every other thread is collected. */
static void collect_process(struct remote *r)
{
	int st;
	remote_threads_reap(r, 1);
	while (!r->in.dead && wait_once(r, &st) == 0)
		;
}

/* Handles every stop or exit of the idle tracee (SIGCHLD arrived). */
static int on_tracee(struct remote *r)
{
	int st, ev;
	if (r->nthreads)
		remote_threads_reap(r, 0); /* killed: the leader's end shows once they are collected */
	while (waitpid(r->in.pid, &st, WNOHANG | __WALL) > 0) {
		if ((ev = tracee_event(r, st)) < 0)
			return -1;
		if (ev == 1) /* a PTRACE_INTERRUPT that came after its call ended */
			ptrace(PTRACE_CONT, r->in.pid, NULL, NULL);
	}
	return 0;
}

/* Stops the idle tracee for the deputy's work. */
static int wake(struct remote *r)
{
	int st, ev = 0; /* 'continue' below checks ev */
	if (ptrace(PTRACE_INTERRUPT, r->in.pid, NULL, NULL) == -1)
		return -errno;
	r->waking = 1; /* any PTRACE_EVENT_STOP now is ours, a stopped one's too */
	do {
		pid_t got = waitpid(r->in.pid, &st, __WALL | (r->nthreads ? WNOHANG : 0));
		if (got == 0) { /* killed meanwhile? its threads must be collected first */
			struct pollfd pfd = { r->sigfd, POLLIN, 0 };
			struct signalfd_siginfo si;
			remote_reap_threads(r);
			if (poll(&pfd, 1, 10) > 0) /* SIGCHLD: it stopped, or one ended */
				while (read(r->sigfd, &si, sizeof si) == (ssize_t)sizeof si)
					;
			continue;
		}
		if (got == -1) {
			if (errno == EINTR)
				continue;
			r->waking = 0;
			return -errno;
		}
		if ((ev = tracee_event(r, st)) < 0) {
			r->waking = 0;
			return -ESRCH;
		}
	} while (ev != 1);
	r->waking = 0;
	return 0;
}

/* ------------------------------------------------------------ the job's calls */

/* CTL_MIGRATE for this job: where it goes after this stay (0: home to
 * stay). 0, or -1 for a frame that is not this job's or does not decode. */
static int note_migrate(struct remote *r, const struct om_hdr *h, const uint8_t *p)
{
	struct om_job_migrate m;
	if (h->job != r->job || om_job_migrate_decode(p, h->length, &m) != OM_OK)
		return -1; /* not this job's (the agent sends its own only) */
	r->next_node = m.target;
	if (m.target)
		say(r, "the job moves from node %u to node %u, through home", r->jc->placed.node, m.target);
	else
		say(r, "the job comes home from node %u to stay", r->jc->placed.node);
	return 0;
}

static int note_signal_seen(struct remote *r, const uint8_t *p, size_t len)
{
	struct om_signal_seen m;
	if (om_signal_seen_decode(p, len, &m) != OM_OK)
		return -1;
	if (m.count > r->sigs_seen)
		r->sigs_seen = m.count;
	return 0;
}

/* om-checkpoint PID FILE, through the agent: FILE is the job's checkpoint
 * file from now on, and one is taken as soon as the node can. om-run's
 * own child only (its files are one job's). */
static void checkpoint_asked(struct remote *r, const struct om_hdr *h, const uint8_t *p)
{
	struct om_ctl_checkpoint m;
	if (h->job != r->job || om_ctl_checkpoint_decode(p, h->length, &m) != OM_OK)
		return; /* not this job's: the agent sends its own only */
	if (!r->root) {
		fprintf(stderr, "om-run: pid %d (%s): a checkpoint into %s was asked for: only om-run's own program is "
			"checkpointed\n", (int)r->pid, r->prog, m.path);
		return;
	}
	say(r, "a checkpoint into %s is asked for", m.path);
	ckpt_request(&r->ck, m.path);
}

/* While a forwarded call runs at home the node may speak: a signal came
 * for the job there (CALL_INTERRUPT: the call must end as a signal at home
 * would end it), or it took our signals in (SIGNAL_SEEN). Anything else
 * waits for the deputy's loop. Returns 1 to cut the call short, 0 to let
 * it run, -1 when the stream is over or broken (the loop then says so). */
static int frames_during_call(void *ctx, int readable)
{
	struct remote *r = ctx;
	struct om_hdr h;
	const uint8_t *p;
	uint8_t *where;
	int cut = 0, rc;
	if (readable) {
		size_t room = frame_rx_room(&r->rx, &where);
		ssize_t n = room ? read(r->jc->ctl_fd, where, room) : -1;
		if (n < 0 && errno == EINTR)
			return 0;
		if (n <= 0 && remote_reattachable(r))
			return remote_reconnect(r) == 0 ? 0 : 1; /* the call runs on meanwhile */
		if (n <= 0)
			return 1; /* the agent is gone: the loop finds out, and ends the job */
		frame_rx_commit(&r->rx, (size_t)n);
	}
	while ((rc = frame_rx_next(&r->rx, &h, &p)) == OM_OK) {
		struct om_call_interrupt ci;
		if (node_frame_in_order(r, &h) != 0)
			return 1; /* the loop ends the job */
		if (h.type == OM_T_CTL_CHECKPOINT) {
			checkpoint_asked(r, &h, p); /* it only notes it: the loop asks the node */
			continue;
		}
		if (h.type == OM_T_JOB_REATTACH && h.job == r->job) {
			/* Now: the call the node sends again may follow. */
			if (remote_on_reattach(r, &h, p) != 0 || flush_held_out(r) != 0)
				return 1; /* said; the loop ends the job */
			continue;
		}
		if (h.type == OM_T_SYSCALL_REQ && h.job == r->job && r->resend_ok == h.seq && h.seq == r->call_seq) {
			r->resend_ok = 0; /* the one running: its answer goes when it is done */
			continue;
		}
		if (h.type == OM_T_SYSCALL_REQ && h.job == r->job) {
			/* One call at a time: the node's next waits for this one's answer. */
			fprintf(stderr, "om-run: pid %d (%s): node %u sent call %u while call %u ran: the process is "
				"killed\n", (int)r->pid, r->prog, r->jc->placed.node, h.seq, r->call_seq);
			r->out_of_order = 1;
			return 1;
		}
		/* In order with the frames held before it (a JOB_STOPPED is
		 * judged by the acknowledgements that came before it). */
		if (h.type == OM_T_SIGNAL_SEEN && r->nheld == 0 && note_signal_seen(r, p, h.length) == 0)
			continue;
		if (h.type == OM_T_DECISIONS && h.job == r->job) { /* another thread's: no log keeps them */
			if (remote_on_decisions(r, &h, p) != 0)
				return 1; /* said; the loop ends the job */
			continue;
		}
		if (h.type == OM_T_CALL_INTERRUPT && om_call_interrupt_decode(p, h.length, &ci) == OM_OK) {
			cut |= ci.seq == r->call_seq;
			continue;
		}
		if (r->nheld == HELD_MAX || !(r->held[r->nheld].p = malloc(h.length ? h.length : 1))) {
			r->held_lost = 1;
			return 1; /* the loop ends the job */
		}
		memcpy(r->held[r->nheld].p, p, h.length);
		r->held[r->nheld++].h = h;
		/* The node or the agent gave up on the job: the call can stop. */
		cut |= h.type == OM_T_NODE_LOST || h.type == OM_T_JOB_EXIT;
	}
	return rc == OM_E_SHORT ? cut : 1;
}

/* The restarted job ends or leaves its node before it has made again
 * every call it had made (replay_last): those calls ran at home, the job
 * went another way. Said. */
static int replaying_left(struct remote *r, const struct om_hdr *h)
{
	if (r->seq.calls >= r->replay_last)
		return 0;
	fprintf(stderr, "om-run: pid %d (%s): restarted from its checkpoint, it sent %s after call %u, but it had "
		"made %u calls: it went another way this time; the process is killed\n", (int)r->pid, r->prog,
		om_type_name(h->type), r->seq.calls, r->replay_last);
	return 1;
}

/* A NODE_LOST came while the call ran (it was cut short for it): its
 * answer goes nowhere and is not logged; a restart makes the call anew. */
static int lost_meanwhile(const struct remote *r)
{
	for (int i = 0; i < r->nheld; i++)
		if (r->held[i].h.type == OM_T_NODE_LOST)
			return 1;
	return 0;
}

/* After a restart from a checkpoint (ckpt_restart.c): a call the job made
 * before, answered as it was then, without running it again. It must be
 * the same call: another means the job went another way this time. */
static int replay(struct remote *r, uint32_t seq, const struct om_sysreq *req, uint64_t req_hash, int again)
{
	const struct call_log_entry *e = call_log_find(&r->log, seq);
	/* Before the call, what the node decided went another way? (Checked
	 * once: a call sent again on a new link comes with no new ones.) */
	if (e && !again && !remote_decisions_match(r, e))
		return -1;
	if (again)
		remote_decisions_reset(r);
	if (e && e->nr == req->nr && memcmp(e->args, req->args, sizeof e->args) == 0 && e->req_hash != req_hash) {
		fprintf(stderr, "om-run: pid %d (%s): restarted from its checkpoint, its call %u is %s as the first "
			"time, but with other bytes (a path, what it writes): it went another way this time; the "
			"process is killed\n", (int)r->pid, r->prog, seq, om_syscall_name(req->nr));
		return -1;
	}
	if (!e || e->nr != req->nr || memcmp(e->args, req->args, sizeof e->args) != 0) {
		fprintf(stderr, "om-run: pid %d (%s): restarted from its checkpoint, its call %u is %s(%#llx, %#llx, "
			"%#llx, ...), but was %s(%#llx, %#llx, %#llx, ...): it went another way this time; the "
			"process is killed\n", (int)r->pid, r->prog, seq, om_syscall_name(req->nr),
			(unsigned long long)req->args[0], (unsigned long long)req->args[1],
			(unsigned long long)req->args[2], e ? om_syscall_name(e->nr) : "?",
			(unsigned long long)(e ? e->args[0] : 0), (unsigned long long)(e ? e->args[1] : 0),
			(unsigned long long)(e ? e->args[2] : 0));
		return -1;
	}
	/* What it decided before the next call, ahead of this answer. */
	if (seq < r->replay_last && remote_send_decisions(r, seq + 1) != 0)
		return -1;
	return send_frame_for(r, OM_T_SYSCALL_REP, r->job, seq, e->reply, e->len) == 0 ? 0 : -1;
}

/* A call that would reach outside the job (call_limits.h): not run, and
 * said on stderr, since a node asked for it. An existence probe (signal
 * 0), which programs make of the pids in lock files and which EPERM
 * answers "it exists" as well, is said only with -v. 0 when it may run,
 * else its result. */
int remote_limited(struct remote *r, const struct inject *in, const struct om_sysreq *req)
{
	struct call_world w;
	char why[128], call[160];
	int rc;
	call_limits_proc(&w, &r->jc->job, r->pid, in->pid);
	if ((rc = call_limits_check(&w, req, why, sizeof why)) == 0)
		return 0;
	call_limits_describe(req, call, sizeof call);
	if (call_limits_signal(req) == 0)
		say(r, "refused %s from node %u: %s", call, r->jc->placed.node, why);
	else if (r->root)
		fprintf(stderr, "om-run: refused %s from node %u: %s\n", call, r->jc->placed.node, why);
	else
		fprintf(stderr, "om-run: pid %d (%s): refused %s from node %u: %s\n", (int)r->pid, r->prog, call,
			r->jc->placed.node, why);
	return rc;
}

static int on_syscall(struct remote *r, const struct om_hdr *h, const uint8_t *p)
{
	struct om_sysreq req;
	int64_t ret;
	int rc = om_sysreq_decode(p, h->length, &req);
	if (rc != OM_OK) {
		fprintf(stderr, "om-run: the node sent a bad system call request (%s)\n", om_strerror(rc));
		return -1;
	}
	/* Now: frames that come while the call runs may reuse p's buffer. */
	uint64_t req_hash = r->ck.path[0] || h->seq <= r->replay_last ? call_log_hash(p, h->length) : 0;
	if (r->resend_ok && h->seq == r->resend_ok && h->seq <= r->replay_last) {
		r->resend_ok = 0; /* its answer came from the log: it does again, its decisions checked */
		return replay(r, h->seq, &req, req_hash, 1);
	}
	if (r->resend_ok && h->seq == r->resend_ok)
		return remote_answer_again(r, h->seq, &req);
	if (h->seq <= r->replay_last)
		return replay(r, h->seq, &req, req_hash, 0);
	if ((rc = wake(r)) != 0)
		return -1;
	/* What the node decided before this call; those that come while it
	 * runs (another thread's) are the next call's. */
	uint8_t *dec;
	size_t dec_len;
	call_log_decided_take(&r->log, &dec, &dec_len);
	/* The call runs in the calling thread's home thread. */
	struct inject *in = req.tid == 0 || req.tid == (uint32_t)r->pid ? &r->in : remote_thread_in(r, (pid_t)req.tid);
	int fork = om_syscall_is_fork(req.nr, req.args), outs = !fork;
	if (!in) {
		say(r, "the node's call %s came from thread %u, which home does not have", om_syscall_name(req.nr),
		    req.tid);
		in = &r->in;
		ret = -ESRCH;
		outs = 0;
	} else if (om_syscall_is_thread(req.nr, req.args)) {
		if (req.args[1] && req.args[1] != req.tid) /* a node thread that ended: its home thread goes */
			remote_thread_end(r, (pid_t)req.args[1]);
		ret = remote_thread_new(r); /* its tid is the node thread's */
		outs = 0;
	} else if (fork) {
		ret = remote_fork(r, h->seq, req.args[5]); /* no buffers: dout.outs is not read */
	} else if (req.nr == SYS_execve && in != &r->in) {
		ret = -EINVAL; /* the node sends a threaded process's execve home */
		outs = 0;
	} else if (req.nr == SYS_execve && r->sigs_seen < r->sigs_sent) {
		/* A signal is on its way to the node: the job takes it there
		 * first, as Linux would before the exec, then calls again. */
		ret = -RESTART_NOINTR;
		outs = 0;
	} else if ((ret = remote_limited(r, in, &req)) != 0) {
		outs = 0; /* nothing ran */
	} else {
		/* A call the node made before it knew of a signal we sent must
		 * not block, as it would not with the signal pending in Linux. */
		if (req.nr == SYS_execve)
			remote_threads_end(r); /* those of node threads that ended: exec would end them */
		in->interrupt_next = r->sigs_seen < r->sigs_sent;
		r->call_seq = h->seq;
		/* From here frames_during_call may read on, and the receive
		 * buffer the request's payload (req's buffers) lies in may be
		 * reused: deputy_call has placed them in the tracee before it
		 * waits, and the reply below takes only req's numbers and kinds. */
		in->chld_fd = r->sigfd;
		in->watch = frames_during_call;
		in->watch_ctx = r;
		in->interruptible = 1;
		in->watch_fd = r->jc->ctl_fd;
		r->calling = 1;
		rc = deputy_call(in, &req, &ret, &r->dout);
		r->calling = 0;
		in->watch_fd = -1;
		if (rc == 0)
			node_code_note(r->pid, &req, ret);
		if (rc == INJECT_EXECED) { /* the process at home is the new program */
			r->execed = 1;
			node_code_forget(); /* a new address space */
			r->exec_blocked = req.args[3];
			r->exec_ignored = req.args[4];
			say(r, "its execve ran at home");
			rc = 0;
			outs = 0;
		}
	}
	if (in->dead && in != &r->in)
		collect_process(r);
	if (r->in.dead) {
		free(dec);
		return -1;
	}
	int n = rc == 0 ? om_sysrep_encode(&req, ret, outs ? r->dout.outs : NULL, r->txbuf, OM_MAX_PAYLOAD)
			: om_sysrep_encode(&req, rc == -E2BIG ? -ENOMEM : rc, NULL, r->txbuf, OM_MAX_PAYLOAD);
	if (n < 0) {
		fprintf(stderr, "om-run: the reply to %s does not encode (%s)\n", om_syscall_name(req.nr),
			om_strerror(n));
		n = om_sysrep_encode(&req, -EIO, NULL, r->txbuf, OM_MAX_PAYLOAD);
	}
	if (!r->execed) { /* else they are the new program's (remote_exec_settle) */
		forward_recorded(r, in);
		if (in != &r->in)
			forward_recorded(r, &r->in); /* caught while it made the thread, say */
	}
	if (r->ck.path[0] && n >= 0 && !lost_meanwhile(r)) { /* for a restart from the last checkpoint */
		if (fork || om_syscall_is_thread(req.nr, req.args) || req.nr == SYS_execve || r->execed || r->nthreads) {
			call_log_break(&r->log, h->seq); /* it made something at home, or cannot restart */
		} else {
			call_log_add(&r->log, h->seq, req.nr, req.args, req_hash, r->txbuf, (size_t)n, dec, dec_len);
			dec = NULL; /* the entry's now */
		}
	}
	free(dec);
	if (r->fork_home) { /* before the reply, which restarts the fork */
		r->fork_home = 0;
		if (send_frame(r, OM_T_MIGRATE_HOME, NULL, 0) < 0)
			return -1;
	}
	/* While the node has not claimed the job on a new link, the answer
	 * waits in txbuf: its claim says it waits for it (agent_back.c). */
	if (n < 0 || (!r->reattaching && send_frame_for(r, OM_T_SYSCALL_REP, r->job, h->seq, r->txbuf, (size_t)n) < 0))
		return -1;
	/* Kept in txbuf until the next call: the link may lose it (agent_back.c). */
	r->last_rep_seq = h->seq;
	r->last_rep_len = (size_t)n;
	r->last_nr = req.nr;
	memcpy(r->last_args, req.args, sizeof r->last_args);
	return r->execed || idle(r) == 0 ? 0 : -1;
}

/* The job stopped on the node (a stop signal with its default action):
 * om-run stops with the same signal, so the user's shell sees its job
 * stopped. When om-run goes on (fg, bg, SIGCONT), so does the job; the
 * SIGCONT the shell sent the program as well reaches it the usual way. */
static int on_stopped(struct remote *r, const uint8_t *p, size_t len)
{
	struct om_job_stopped m;
	if (om_job_stopped_decode(p, len, &m) != OM_OK)
		return -1;
	r->node_stop = m.signo;
	if (m.signo == 0) {
		say(r, "the job goes on");
		return 0;
	}
	if (r->sigs_seen < r->cont_at) {
		/* It stopped before our SIGCONT reached it, which ends the stop. */
		say(r, "the job stopped on node %u (%s) before it was continued", r->jc->placed.node,
		    strsignal((int)m.signo));
		return 0;
	}
	if (!r->root) {
		/* Its parent watches the home process: that one stops, with the
		 * same signal, delivered at home (tracee_event). A SIGCONT for
		 * it later goes to the node like any signal. */
		say(r, "the job stopped on node %u (%s)", r->jc->placed.node, strsignal((int)m.signo));
		r->stop_at_home = (int)m.signo;
		return syscall(SYS_tgkill, r->in.pid, r->in.pid, (int)m.signo) == 0 ? 0 : -1;
	}
	say(r, "the job stopped on node %u (%s)", r->jc->placed.node, strsignal((int)m.signo));
	job_stop_like((int)m.signo);
	if (send_frame(r, OM_T_JOB_CONTINUE, NULL, 0) != 0)
		return -1;
	r->cont_at = ++r->sigs_sent;
	return 0;
}

int remote_node_stopped(struct remote *r, uint32_t signo)
{
	struct om_job_stopped m = { .signo = signo };
	uint8_t buf[8];
	int n = om_job_stopped_encode(&m, buf, sizeof buf);
	return n < 0 ? -1 : on_stopped(r, buf, (size_t)n);
}

/* The job ended on the node: the process ends the same way at home. */
static int on_exit_frame(struct remote *r, const uint8_t *p, size_t len)
{
	struct om_job_exit e;
	int64_t ret;
	if (om_job_exit_decode(p, len, &e) != OM_OK)
		return -1;
	if (e.kind == OM_EXIT_EXECED) {
		fprintf(stderr, "om-run: node %u says %s execed, which it did not\n", r->jc->placed.node, r->prog);
		return -1;
	}
	if (!r->homing && wake(r) != 0)
		return -1;
	r->stats.node_cpu_ns += e.cpu_ns;
	r->stats.home_cpu_ms = stats_home_cpu_ms(r->in.pid); /* its calls, run at home */
	remote_threads_end(r); /* the leader's end is reported only after theirs */
	if (e.kind == OM_EXIT_EXITED) {
		uint64_t args[6] = { e.status };
		inject_syscall(&r->in, SYS_exit_group, args, &ret);
	} else {
		/* Default action, unblocked, then delivered. */
		inject_sigaction(&r->in, (int)e.status, (uint64_t)(uintptr_t)SIG_DFL, 0, r->in.data);
		inject_sigmask(&r->in, SIG_UNBLOCK, 1ULL << (e.status - 1), r->in.data);
		if (!r->in.dead)
			kill(r->in.pid, (int)e.status);
		int st;
		while (!r->in.dead && ptrace(PTRACE_CONT, r->in.pid, NULL, (void *)(long)e.status) == 0 &&
		       wait_once(r, &st) == 0)
			;
	}
	while (!r->in.dead) { /* exit_group ran: collect it */
		int st;
		if (wait_once(r, &st) != 0)
			return -1;
		if (!r->in.dead)
			ptrace(PTRACE_CONT, r->in.pid, NULL, NULL);
	}
	return 0;
}

/* ------------------------------------------------------------ coming home */

static int on_home_frame(struct remote *r, const struct om_hdr *h, const uint8_t *p)
{
	char err[256];
	r->rs.thread_in = remote_thread_restore_in;
	r->rs.thread_ctx = r;
	r->rs.file_code = node_code_check;
	r->rs.home_file = home_code_check;
	int rc = restore_frame(&r->rs, &r->in, h->type, p, h->length, err, sizeof err);
	if (rc == 0 && h->type == OM_T_IMAGE_BEGIN && r->rs.hdr->calls != r->seq.calls) {
		snprintf(err, sizeof err, "it says the process made %u calls, home answered %u", r->rs.hdr->calls,
			 r->seq.calls);
		rc = -1;
	}
	if (rc != 0) {
		fprintf(stderr, "om-run: the job's image from node %u does not restore: %s\n",
			r->jc->placed.node, err);
		return -1;
	}
	if (h->type != OM_T_IMAGE_END)
		return 0;
	return return_calls_check(r) == 0 ? 1 : -1;
}

/* The image is in: the call to run again (JOB_HOME's pending) and the
 * image's pending signals now belong to the process as it stands. */
static void settle_home(struct remote *r)
{
	struct user_regs_struct regs;
	if (r->pending_nr >= 0 && ptrace(PTRACE_GETREGS, r->in.pid, NULL, &regs) == 0) {
		regs.rip -= 2; /* back over SYSCALL: the call runs again, here */
		regs.rax = (uint64_t)r->pending_nr;
		regs.orig_rax = (uint64_t)-1;
		ptrace(PTRACE_SETREGS, r->in.pid, NULL, &regs);
	}
	r->pending_nr = -1;
	restore_raise_pending(&r->rs, r->in.pid);
	r->rs.pending = 0;
	r->rs.nsigq = 0;
	restore_free(&r->rs);
}

/* The image is in and settled: the process stays in its ptrace stop, for
 * follow.c, without the scratch region. */
/* A process that came home stopped inside a vDSO trampoline of its
 * node's copy (vdso.h) would run on in the middle of the real vDSO's code:
 * before the trampoline's syscall it calls the real function again, at its
 * ret it returns to its caller with the result it has in rax. */
static void leave_trampoline(struct remote *r, pid_t tid, struct user_regs_struct *regs)
{
	uint64_t base;
	const uint8_t *img;
	size_t len;
	long entry, ret;
	if (vdso_range(r->in.pid, &base, &img, &len) != 0 || regs->rip < base || regs->rip - base >= len)
		return;
	if ((entry = vdso_trampoline_entry(img, len, regs->rip - base)) < 0)
		return;
	if (regs->rip - base - (uint64_t)entry < VDSO_RET_AT) {
		regs->rip = base + (uint64_t)entry;
		return;
	}
	errno = 0;
	ret = ptrace(PTRACE_PEEKDATA, tid, (void *)regs->rsp, NULL);
	if (errno == 0) {
		regs->rip = (uint64_t)ret;
		regs->rsp += 8;
	}
}

static void back_home(struct remote *r)
{
	struct user_regs_struct regs;
	settle_home(r);
	ptrace(PTRACE_SETOPTIONS, r->in.pid, NULL, (void *)follow_options());
	/* Home threads of threads that ended on the node end (they need the
	 * scratch region); the others stay stopped until the leader is ready:
	 * teardown writes its stub over the code at the leader's rip, which a
	 * running thread could be passing. */
	remote_threads_end_unrestored(r);
	/* Registers first: teardown injects munmap at the current rip. */
	if (ptrace(PTRACE_GETREGS, r->in.pid, NULL, &regs) == 0) {
		inject_teardown(&r->in);
		leave_trampoline(r, r->in.pid, &regs);
		ptrace(PTRACE_SETREGS, r->in.pid, NULL, &regs);
	}
	remote_threads_release(r, leave_trampoline); /* they run on as its own */
	/* Signals that came during the restore's own injected calls (a timer
	 * that went off meanwhile, a Ctrl-C) are the program's too. */
	static struct inject_sig late[INJECT_SIGS_MAX];
	unsigned n = inject_take_signals(&r->in, late);
	for (unsigned i = 0; i < n; i++)
		inject_raise(r->in.pid, &late[i]);
	say(r, "running at home");
}

/* ------------------------------------------------------------ start */

/* A thread that went out in an interrupted call (code): the image's
 * registers g end it as Linux would with the signals pending (restart.h),
 * since it goes on on the node. */
static enum restart_how restart_regs(struct remote *r, int code, uint64_t pending, uint64_t blocked, uint64_t *g)
{
	enum restart_how how = restart_decide(code, pending, blocked, r->rs_caught, r->rs_sa_restart);
	if (how == RESTART_EINTR) {
		g[OM_REG_RAX] = (uint64_t)-EINTR;
	} else { /* move_out sends no RESTART_KERNEL */
		g[OM_REG_RIP] -= 2; /* back over SYSCALL */
		g[OM_REG_RAX] = g[OM_REG_ORIG_RAX];
	}
	g[OM_REG_ORIG_RAX] = (uint64_t)-1; /* no call to restart on the node */
	return how;
}

/* The header: the process's handlers decide for every thread; the leader's
 * call (r->restart) by its pending signals. */
static void restart_in_image(struct remote *r, struct om_image_hdr *h)
{
	r->rs_caught = r->rs_sa_restart = 0;
	for (int i = 0; i < OM_NSIG; i++) {
		if (h->sigact[i].handler > 1) /* neither SIG_DFL nor SIG_IGN */
			r->rs_caught |= 1ull << i;
		if (h->sigact[i].flags & SA_RESTART)
			r->rs_sa_restart |= 1ull << i;
	}
	r->nthread_again = 0;
	if (!r->restart)
		return;
	r->rs_pending = h->sig_pending;
	r->rs_blocked = h->sig_blocked;
	r->restart_how = restart_regs(r, r->restart, r->rs_pending, r->rs_blocked, h->regs);
}

/* Another thread: by its pending signals (its own, and those of the
 * process it takes: capture.c). Those whose call runs again are kept for
 * restart_too_late. */
static int restart_thread(struct remote *r, struct om_image_thread *t)
{
	uint64_t *g = t->regs;
	int code = restart_code(g[OM_REG_RAX], g[OM_REG_ORIG_RAX]);
	if (!code || restart_regs(r, code, t->sig_pending, t->sig_blocked, g) != RESTART_AGAIN)
		return 0;
	if (r->nthread_again == r->thread_again_cap) {
		int cap = r->thread_again_cap ? 2 * r->thread_again_cap : 8;
		struct thread_again *grown = realloc(r->thread_again, (size_t)cap * sizeof *grown);
		if (!grown)
			return -1;
		r->thread_again = grown;
		r->thread_again_cap = cap;
	}
	r->thread_again[r->nthread_again++] = (struct thread_again){ (pid_t)t->tid, code, t->sig_pending,
								       t->sig_blocked };
	return 0;
}

/* Before the image ends (and the process goes on on the node): a signal
 * that came since its header and that would have ended a call with EINTR
 * at home, where it was meanwhile, cannot change the image sent. */
static int restart_too_late(struct remote *r)
{
	uint64_t recorded = 0;
	for (unsigned i = 0; i < r->in.nsigs; i++)
		recorded |= 1ull << (r->in.sigs[i].sig - 1);
	if (r->restart && r->restart_how == RESTART_AGAIN &&
	    restart_decide(r->restart, r->rs_pending | recorded | restart_pending_now(r->pid, 1), r->rs_blocked,
		r->rs_caught, r->rs_sa_restart) == RESTART_EINTR)
		return 1;
	for (int i = 0; i < r->nthread_again; i++) {
		const struct thread_again *t = &r->thread_again[i];
		if (restart_decide(t->code, t->pending | restart_pending_now(t->tid, 0), t->blocked, r->rs_caught,
			r->rs_sa_restart) == RESTART_EINTR)
			return 1;
	}
	return 0;
}

static int emit(int type, const void *payload, size_t len, void *ctx)
{
	struct remote *r = ctx;
	r->last_rep_seq = 0; /* txbuf is the image's now */
	if (type == OM_T_IMAGE_END && restart_too_late(r)) {
		r->restart_late = 1;
		return 1; /* the capture stops; the node drops what it got */
	}
	if (type == OM_T_IMAGE_BEGIN) {
		/* The image may use what home and node share, no more. */
		struct om_image_hdr *h = malloc(sizeof *h);
		int n;
		if (!h || om_image_hdr_decode(payload, len, h) != OM_OK) {
			free(h);
			return -1;
		}
		h->cpu = r->need;
		h->calls = r->seq.calls; /* the node numbers its calls on from there */
		restart_in_image(r, h);
		n = om_image_hdr_encode(h, r->txbuf, OM_MAX_PAYLOAD);
		free(h);
		return n < 0 ? -1 : send_frame(r, (uint8_t)type, r->txbuf, (size_t)n);
	}
	if (type == OM_T_IMAGE_THREAD) {
		struct om_image_thread *t = malloc(sizeof *t);
		int n = -1;
		if (t && om_image_thread_decode(payload, len, t) == OM_OK && restart_thread(r, t) == 0)
			n = om_image_thread_encode(t, r->txbuf, OM_MAX_PAYLOAD);
		free(t);
		return n < 0 ? -1 : send_frame(r, (uint8_t)type, r->txbuf, (size_t)n);
	}
	return send_frame(r, (uint8_t)type, payload, len);
}

/* An entry for ld.so (GLIBC_TUNABLES) did its work while it ran (at
 * home): the program itself must not see it. At the
 * entry point envp is the array above argv on the stack, which environ
 * points at; our entry is dropped from it (a second NULL then ends it,
 * before auxv, which libc already found), or, if the user had one of that
 * name, the string is put back to theirs (never longer than ours). */
int remote_hide_env(struct remote *r, const char *name, const char *user_entry)
{
	struct user_regs_struct regs;
	uint64_t argc, at, ptr, next;
	size_t nlen = strlen(name);
	char head[32];
	if (nlen >= sizeof head)
		return -1;
	if (ptrace(PTRACE_GETREGS, r->in.pid, NULL, &regs) == -1 ||
	    inject_read(&r->in, regs.rsp, &argc, 8) != 0 || argc > (1u << 20))
		return -1;
	at = regs.rsp + 8 * (argc + 2); /* first envp slot */
	for (int i = 0; i < (1 << 20); i++, at += 8) {
		if (inject_read(&r->in, at, &ptr, 8) != 0)
			return -1;
		if (ptr == 0)
			return 0;
		if (inject_read(&r->in, ptr, head, nlen) != 0 || memcmp(head, name, nlen) != 0)
			continue;
		if (user_entry)
			return inject_write(&r->in, ptr, user_entry, strlen(user_entry) + 1);
		do { /* shift the rest down, NULL included */
			if (inject_read(&r->in, at + 8, &next, 8) != 0 || inject_write(&r->in, at, &next, 8) != 0)
				return -1;
			at += 8;
		} while (next != 0);
		return 0;
	}
	return -1;
}

/* The node's answer to a job sent or forked there (JOB_STARTED):
 * SENT_RUNS, SENT_REFUSED or SENT_NOT_STARTED. */
static int started(struct remote *r, int timeout_ms)
{
	struct job_ctx *jc = r->jc;
	struct om_hdr h;
	const uint8_t *p;
	int got = next_frame(r, &h, &p, NULL, timeout_ms);
	/* A move asked for before the node's word came (om-migrate right
	 * after the placement). */
	while (got > 0 && h.type == OM_T_CTL_MIGRATE && note_migrate(r, &h, p) == 0)
		got = next_frame(r, &h, &p, NULL, timeout_ms);
	if (got > 0 && h.type == OM_T_JOB_ERROR) {
		struct om_error e;
		if (om_error_decode(p, h.length, &e) == OM_OK)
			say(r, "node %u refused the job (%s): running at home", jc->placed.node, e.msg);
		return SENT_REFUSED;
	}
	if (got > 0 && h.type == OM_T_NODE_LOST)
		return SENT_REFUSED;
	if (got <= 0 || h.type != OM_T_JOB_STARTED) {
		fprintf(stderr, "om-run: node %u (%s) did not start %s\n", jc->placed.node, jc->placed.addr,
			r->prog);
		return SENT_NOT_STARTED;
	}
	say(r, "running on node %u (%s)", jc->placed.node, jc->placed.addr);
	return SENT_RUNS;
}

/* Its image, then the node's answer. SENT_REFUSED: the node refused it or
 * was lost first; SENT_NOT_STARTED: no answer; SENT_BROKEN: the capture
 * failed (or a signal came too late for an interrupted call, r->restart).
 * Unless it runs, the signals recorded meanwhile are still recorded. */
int remote_send_out(struct remote *r)
{
	struct job_ctx *jc = r->jc;
	struct capture_stats cs;
	char err[256];
	int rc;
	r->in.chld_fd = r->sigfd;
	r->in.watch = frames_during_call;
	r->in.watch_ctx = r;
	r->restart_late = 0;
	r->in.reap = remote_reap_threads; /* a SIGKILL meanwhile: the held threads end first */
	r->in.reap_ctx = r;
	struct inject **threads = r->nthreads ? malloc((size_t)r->nthreads * sizeof *threads) : NULL;
	if (r->nthreads && !threads) {
		fprintf(stderr, "om-run: capture failed: out of memory\n");
		return SENT_BROKEN;
	}
	remote_threads_sort(r);
	for (int i = 0; i < r->nthreads; i++)
		threads[i] = &r->threads[i]->in;
	home_code_leaving(r->pid);
	rc = capture_image(&r->in, threads, (unsigned)r->nthreads, emit, r, &cs, err, sizeof err);
	free(threads);
	if (rc != 0) {
		if (r->restart_late)
			say(r, "a signal it handles came while its image was taken: it stays at home, "
			       "where the call it was in ends as Linux ends it");
		else
			fprintf(stderr, "om-run: capture failed: %s\n", rc < 0 ? err : "the agent went away");
		return SENT_BROKEN;
	}
	say(r, "image sent to node %u: %u regions, %lu pages", jc->placed.node, cs.regions, (unsigned long)cs.pages);
	if ((rc = started(r, -1)) != SENT_RUNS)
		return rc;
	stats_move(&r->stats, jc->placed.node);
	if (r->restart && r->restart_how == RESTART_EINTR)
		say(r, "the call it was in returns EINTR there: a signal it handles came");
	inject_drop_signals(&r->in, cs.sigs); /* they went with the image */
	for (int i = 0; i < r->nthreads; i++) {
		r->threads[i]->in.nsigs = 0; /* theirs too */
		r->threads[i]->restored = 0; /* until an image brings it home again */
		r->threads[i]->anew_undo = 0;
	}
	r->anew_undo = 0;
	/* Its timers went with it: home's would fire a second time. */
	if (timers_disarm(&r->in, err, sizeof err) != 0)
		say(r, "home's timers could not be stopped: %s", err);
	forward_recorded(r, &r->in); /* what reached the program while it was captured */
	return SENT_RUNS;
}

int remote_adopted(struct remote *r)
{
	r->in.chld_fd = r->sigfd;
	r->in.watch = frames_during_call;
	r->in.watch_ctx = r;
	int rc = started(r, HOMING_QUIET_MS);
	if (rc == SENT_RUNS)
		stats_born_on(&r->stats, r->jc->placed.node); /* not a move */
	return rc;
}

int remote_place(struct remote *r, const struct om_cpu *need, uint32_t node, uint32_t flags)
{
	struct om_job_submit s;
	uint8_t buf[OM_JOB_SUBMIT_MAX];
	struct om_hdr h;
	const uint8_t *p;
	job_submit_fill((uint32_t)r->pid, r->cmd, need, node, &s);
	s.cpu.cores = r->cores;
	s.flags = flags;
	if (flags & OM_JOB_F_FORK) {
		s.fork_job = r->fork_job;
		s.fork_seq = r->fork_seq;
	}
	int n = om_job_submit_encode(&s, buf, sizeof buf);
	if (n < 0 || send_frame_for(r, OM_T_CTL_JOB_SUBMIT, 0, 0, buf, (size_t)n) < 0)
		return -1;
	for (;;) { /* an earlier job's last frames may come first */
		if (next_frame(r, &h, &p, NULL, HOMING_QUIET_MS) <= 0)
			return -1;
		if (h.type == OM_T_CTL_JOB_PLACED)
			break;
		if (h.type == OM_T_ERROR)
			return -1;
	}
	if (om_job_placed_decode(p, h.length, &r->jc->placed) != OM_OK)
		return -1;
	if (flags & OM_JOB_F_HOME)
		r->home_job = r->jc->placed.job;
	else if (r->jc->placed.node != 0) {
		r->home_job = 0; /* the placement ended the record */
		r->job = r->jc->placed.job;
		r->homing = 0;
		r->sigs_sent = r->sigs_seen = r->cont_at = r->sigs_written = 0;
		r->node_stop = 0;
	}
	return 0;
}

/* The job came home on its way to node r->next_node (om-migrate): it is
 * placed there as it stands and sent out again. 1: it runs there, and the
 * deputy goes on with its new job id; 0: no such luck, it is at home
 * (said with -v); -1: the agent went away. */
static int move_on(struct remote *r)
{
	uint32_t target = r->next_node;
	r->next_node = 0;
	remote_threads_end_unrestored(r); /* those of threads that ended on the node */
	settle_home(r);
	if (remote_place(r, &r->need, target, 0) != 0)
		return -1;
	if (r->jc->placed.node == 0) {
		say(r, "node %u will not take it (%s): it goes on at home", target, r->jc->placed.reason);
		return 0;
	}
	say(r, "job %u placed on node %u (%s)", r->job, r->jc->placed.node, r->jc->placed.addr);
	r->in.interruptible = 0; /* as at the start: nothing may cut the capture's calls short */
	int rc = remote_send_out(r);
	r->in.interruptible = 1;
	if (rc != SENT_RUNS)
		return rc == SENT_REFUSED ? 0 : -1;
	return idle(r) == 0 ? 1 : -1;
}

/* After its execve ran at home (r->execed) the job on the node is over:
 * the node says so with JOB_EXIT (OM_EXIT_EXECED), and its CPU time counts.
 * A node that says anything else about it, or goes, changes nothing for
 * the process, which is the new program at home now. */
static int after_exec(struct remote *r, int got, const struct om_hdr *h, const uint8_t *p)
{
	struct om_job_exit e;
	if (got > 0 && h->type == OM_T_JOB_EXIT && om_job_exit_decode(p, h->length, &e) == OM_OK &&
	    e.kind == OM_EXIT_EXECED) {
		r->stats.node_cpu_ns += e.cpu_ns;
		return NODE_EXECED;
	}
	if (got > 0 && (h->type == OM_T_SIGNAL_SEEN || h->type == OM_T_CALL_INTERRUPT || h->type == OM_T_CTL_MIGRATE))
		return -1; /* crossed the exec: moot */
	if (got > 0 && h->type != OM_T_NODE_LOST) {
		fprintf(stderr, "om-run: node %u sent %s for %s after its exec\n", r->jc->placed.node,
			om_type_name(h->type), r->prog);
		if (h->type != OM_T_JOB_EXIT)
			send_frame(r, OM_T_JOB_KILL, NULL, 0); /* the agent forgets it */
	}
	if (got == -2) { /* its JOB_EXIT never came: the agent forgets the job */
		say(r, "node %u did not say the job ended after its exec", r->jc->placed.node);
		send_frame(r, OM_T_JOB_KILL, NULL, 0);
	}
	return NODE_EXECED;
}

/* The node lost, or the deputy failed: the process goes. why, if not
 * NULL, is the frame the deputy could not serve (nothing said it yet). */
static int give_up(struct remote *r, int how, const struct om_hdr *why)
{
	if (!r->in.dead) /* first: saying why may wait on a slow stderr */
		kill(r->in.pid, SIGKILL);
	if (why)
		fprintf(stderr, "om-run: pid %d (%s): the deputy could not serve node %u's %s: the process is killed\n",
			(int)r->pid, r->prog, r->jc->placed.node, om_type_name(why->type));
	remote_threads_reap(r, 1);
	return how;
}

static int serve(struct remote *r)
{
	struct job_ctx *jc = r->jc;
	struct om_hdr h;
	const uint8_t *p;
	int rc;

	/* Its home process exits only when the deputy makes it, now. */
	ptrace(PTRACE_SETOPTIONS, r->in.pid, NULL, (void *)follow_options_away());
	r->in.reap = remote_reap_threads;
	r->in.reap_ctx = r;
	/* A signal for the job ends a forwarded call it is blocked in; the node
	 * then restarts it or fails it with EINTR as the program's handler says. */
	r->in.interruptible = 1;
	if ((rc = idle(r)) != 0 && !r->in.dead)
		fprintf(stderr, "om-run: pid %d (%s): its home process cannot be held while it runs on node %u (%s): "
			"the process is killed\n", (int)r->pid, r->prog, jc->placed.node, strerror(rc < 0 ? -rc : EIO));
	if (rc != 0)
		return r->in.dead ? NODE_EXITED : give_up(r, NODE_FAIL, NULL);
	/* Only now: until the program has started, om-run may be blocked
	 * where it could not follow a stop of the program, and stops with it
	 * (the defaults) instead. */
	job_catch_stops(1);
	r->serving = 1;

	/* The deputy's loop. */
	for (;;) {
		/* A node sending the job home streams its image without pause:
		 * if it stops for HOMING_QUIET_MS the job is as good as lost.
		 * Before the image begins it may wait behind other jobs' images
		 * for as long as the link takes (a lost node is NODE_LOST). */
		int quiet = r->homing == HOMING_IMAGE || r->execed ? HOMING_QUIET_MS : -1;
		/* None while it makes its calls again: the node's count of its
		 * decisions would start anew in the middle (decide.h). */
		int due = r->homing || r->execed || r->seq.calls < r->replay_last ? -1 : ckpt_wait_ms(&r->ck);
		if (due == 0) {
			struct om_checkpoint ask = { ckpt_base(&r->ck) };
			uint8_t pl[8];
			if (send_frame(r, OM_T_CHECKPOINT, pl, (size_t)om_checkpoint_encode(&ask, pl, sizeof pl)) != 0)
				return give_up(r, NODE_LOST, NULL);
			ckpt_asked(&r->ck);
			continue;
		}
		int got = next_frame(r, &h, &p, r->homing || r->execed ? NULL : on_tracee, quiet < 0 ? due : quiet);
		if (got == -2 && quiet < 0) /* a checkpoint is due */
			continue;
		if (r->in.dead) /* killed at home (SIGKILL): the job is over */
			return NODE_EXITED;
		if (r->execed && (rc = after_exec(r, got, &h, p)) >= 0)
			return rc;
		if (r->execed)
			continue;
		if (got == -2) {
			fprintf(stderr, "om-run: node %u (%s) stopped sending %s home\n", jc->placed.node,
				jc->placed.addr, r->prog);
			return give_up(r, NODE_LOST, NULL);
		}
		if (got <= 0 && r->out_of_order) /* said */
			return give_up(r, NODE_FAIL, NULL);
		if (got <= 0) {
			fprintf(stderr, "om-run: the agent went away while %s ran on node %u\n", r->prog,
				jc->placed.node);
			return give_up(r, NODE_LOST, NULL);
		}
		if (r->homing && (h.type == OM_T_SYSCALL_REQ || h.type == OM_T_JOB_HOME || h.type == OM_T_JOB_STOPPED)) {
			fprintf(stderr, "om-run: node %u sent %s while it sent %s home\n", jc->placed.node,
				om_type_name(h.type), r->prog);
			return give_up(r, NODE_LOST, NULL);
		}
		switch (h.type) {
		case OM_T_SYSCALL_REQ:
			if (on_syscall(r, &h, p) < 0)
				return r->in.dead ? NODE_EXITED : r->execed ? NODE_EXECED : give_up(r, NODE_FAIL, &h);
			break;
		case OM_T_JOB_STOPPED:
			if (on_stopped(r, p, h.length) < 0)
				return give_up(r, NODE_FAIL, &h);
			break;
		case OM_T_SIGNAL_SEEN:
			if (note_signal_seen(r, p, h.length) < 0)
				return give_up(r, NODE_FAIL, &h);
			break;
		case OM_T_JOB_EXIT:
			if (replaying_left(r, &h))
				return give_up(r, NODE_FAIL, NULL);
			if (on_exit_frame(r, p, h.length) < 0)
				return give_up(r, NODE_FAIL, &h);
			return NODE_EXITED;
		case OM_T_JOB_HOME: {
			struct om_job_home m;
			if (replaying_left(r, &h))
				return give_up(r, NODE_FAIL, NULL);
			if (om_job_home_decode(p, h.length, &m) != OM_OK || wake(r) != 0)
				return give_up(r, NODE_FAIL, &h);
			say(r, "the job comes home from node %u (%s)", jc->placed.node, m.text);
			r->stats.node_cpu_ns += m.cpu_ns;
			checkpoints_moot(r);
			r->homing = HOMING_ANNOUNCED;
			r->pending_nr = m.pending;
			r->home_reason = m.reason;
			break;
		}
		case OM_T_CHECKPOINT_TAKEN:
			if (on_checkpoint_frame(r, &h, p) < 0)
				return give_up(r, NODE_FAIL, NULL);
			break;
		case OM_T_DECISIONS:
			if (remote_on_decisions(r, &h, p) < 0)
				return give_up(r, NODE_FAIL, &h);
			break;
		case OM_T_CTL_CHECKPOINT:
			checkpoint_asked(r, &h, p);
			break;
		case OM_T_JOB_REATTACH:
			if (remote_on_reattach(r, &h, p) < 0)
				return give_up(r, NODE_FAIL, NULL);
			if (flush_held_out(r) != 0)
				return give_up(r, NODE_LOST, NULL);
			break;
		case OM_T_IMAGE_BEGIN:
		case OM_T_IMAGE_THREAD:
		case OM_T_IMAGE_REGION:
		case OM_T_IMAGE_PAGES:
		case OM_T_IMAGE_END:
			if (!r->homing && ckpt_busy(&r->ck)) {
				if (on_checkpoint_frame(r, &h, p) < 0)
					return give_up(r, NODE_FAIL, NULL);
				break;
			}
			if (!r->homing)
				return give_up(r, NODE_FAIL, &h);
			r->homing = HOMING_IMAGE;
			if ((rc = on_home_frame(r, &h, p)) < 0)
				return give_up(r, NODE_FAIL, &h);
			if (rc == 0)
				break;
			stats_move(&r->stats, 0);
			/* A job that came home for a call of its own (fork, execve, one
			 * the node lacks) would only bounce back: it stays. One asked to
			 * come home in a call makes it again where it goes. */
			if (r->next_node && r->pending_nr >= 0 && r->home_reason != OM_HOME_REQUESTED) {
				say(r, "the job came home for a call of its own: it stays");
				r->next_node = 0;
			}
			if (r->next_node) {
				if ((rc = move_on(r)) == 1)
					break;
				if (r->in.dead)
					return NODE_EXITED;
				if (rc < 0) {
					fprintf(stderr, "om-run: the agent went away while %s moved on\n", r->prog);
					return give_up(r, NODE_LOST, NULL);
				}
				back_home(r);
				return NODE_HOME;
			}
			back_home(r);
			return NODE_HOME;
		case OM_T_CTL_MIGRATE:
			(void)note_migrate(r, &h, p);
			break;
		case OM_T_JOB_MOVED: {
			struct om_job_moved m;
			if (om_job_moved_decode(p, h.length, &m) != OM_OK || h.job != r->job || m.to.job != r->job)
				break; /* not this job's (the agent sends its own only) */
			say(r, "the job moved from node %u to node %u, through the agent", jc->placed.node, m.to.node);
			r->stats.node_cpu_ns += m.cpu_ns;
			r->next_node = 0; /* a move through home asked earlier is moot */
			jc->placed = m.to;
			ckpt_new_node(&r->ck);
			if (r->ck.path[0]) { /* what it decided just before it left is not all home's */
				call_log_decided_lost(&r->log);
				ckpt_soon(&r->ck);
			}
			stats_move(&r->stats, m.to.node);
			say(r, "running on node %u (%s)", jc->placed.node, jc->placed.addr);
			break;
		}
		case OM_T_NODE_LOST: {
			struct om_node_lost nl;
			om_node_lost_decode(p, h.length, &nl);
			fprintf(stderr, "om-run: node %u (%s) was lost while running %s\n", jc->placed.node,
				jc->placed.addr, r->prog);
			r->reattaching = 0; /* the agent gave up waiting for the node */
			if (!r->ck.path[0] || !remote_restartable(r))
				return give_up(r, NODE_LOST, NULL);
			ckpt_abort(&r->ck); /* one coming from the lost node */
			if (remote_restart(r) != SENT_RUNS)
				return give_up(r, NODE_LOST, NULL);
			/* The held signals go to the new node, counted anew. */
			for (int i = 0; i < r->nout_held; i++)
				if (r->out_held[i].type == OM_T_JOB_CONTINUE)
					r->cont_at = r->sigs_sent + (uint32_t)i + 1;
			r->sigs_sent += (uint32_t)r->nout_held;
			if (flush_held_out(r) != 0)
				return give_up(r, NODE_LOST, NULL);
			break;
		}
		default:
			break; /* nothing else is ours; the agent checked the rest */
		}
	}
}

int remote_serve(struct remote *r)
{
	/* om-run's own child only: the file is one job's. */
	ckpt_init(&r->ck, r->root ? r->jc->checkpoint_path : NULL, r->root ? r->jc->checkpoint_ms : 0,
		  r->jc->checkpoint_max_pct);
	int rc = serve(r);
	r->serving = r->reattaching = 0;
	r->resend_ok = r->call_coming = r->last_rep_seq = 0;
	ckpt_abort(&r->ck);
	call_log_free(&r->log);
	remote_decisions_reset(r);
	r->ck_calls = r->ck_coming = r->replay_last = 0;
	r->out_of_order = 0; /* said, and that placement is over */
	r->nout_held = 0; /* the job is not on that node any more */
	return rc;
}

int remote_started(struct remote *r, int timeout_ms)
{
	return started(r, timeout_ms);
}
