/* homelink.c - jobs from home: the job frames of the agent link on one side,
 * the scheduler on the other, for every job on the node. Outgoing frames
 * wait in a short queue of small control frames (JOB_STARTED, JOB_ERROR,
 * JOB_EXIT, JOB_HOME, acknowledgements) and one large slot shared by all
 * jobs (a forwarded call, or the next frame of an image going home),
 * refilled only when the link has taken the previous one: calls first, in
 * the order they were made, then image frames. Images arrive side by side
 * (their frames interleave); one leaves at a time, and jobs going home
 * wait their turn. What is queued goes out on the main loop's next
 * homelink_poll, never from inside a handler: a poll may send a job home
 * and free it, and a handler holds job pointers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "decision.h"
#include "homelink.h"
#include "job.h"
#include "job_exec.h"
#include "job_fork.h"
#include "job_image.h"
#include "job_thread.h"
#include "job_msg.h"
#include "job_seq.h"
#include "linux_abi.h"
#include "net.h"
#include "reattach_msg.h"
#include "sched.h"
#include "signal.h"
#include "smp.h"
#include "syscall.h"
#include "syscall_codec.h"
#include "sysnr.h"
#include "timer.h"

#define CTL_FRAMES 128 /* a job makes a few: STARTED, HOME, EXIT, ERROR, acknowledgements */
/* Acknowledgements and interrupts, which wait in their job's state when
 * they cannot be queued, leave this many entries to the frames that must
 * not be lost (STARTED, HOME, EXIT, STOPPED, ERROR): 4 per job. */
#define CTL_RESERVE (4 * SCHED_JOBS_MAX)
#define CTL_MAX 256
#define IMAGES_IN SCHED_JOBS_MAX /* images arriving at once */
/* Kept jobs wait for the next link this much longer than the agent's
 * grace: its sweep, not ours, decides (JOB_KILL), unless it is gone. */
#define GRACE_SLACK_MS 5000

struct ctl_frame {
	uint8_t type;
	uint32_t job, seq; /* seq: the job's last call sent (job_seq.h) */
	uint16_t len;
	uint8_t data[CTL_MAX];
};

/* What the link keeps for each job (a process) on the node. Its calls go
 * home one at a time, since its deputy runs one at a time: a thread's call
 * waits while another thread's is out, and one that blocks there is cut
 * short (CALL_INTERRUPT, then made again behind the others) when another
 * thread has waited FAIR_MS for it: a read that waits for another
 * thread's write cannot keep that write from home for ever. A call with
 * a timeout (poll, a timed wait), made again from its start each time,
 * waits twice as long for each cut since its thread last had an answer
 * (FAIR_BACKOFF_MAX doublings), so that it still times out. */
#define FAIR_MS 10
#define FAIR_BACKOFF_MAX 7
#define ENDED_MAX 64 /* tids of ended threads whose home threads may go */
struct hl_job {
	struct job *job;             /* its leader; NULL: a free entry */
	struct job *caller;          /* the thread whose call is out or queued, NULL: none */
	struct job *wait_head, *wait_tail; /* threads whose calls wait for it (job.host_next) */
	uint64_t sent_ns;            /* when the caller's call left */
	uint32_t fair_seq;           /* the call last cut short for the others */
	/* Threads that ended here: their home threads end as the next
	 * thread's clone goes home (one each), so home keeps about as many
	 * as there are live threads. */
	uint32_t ended[ENDED_MAX];
	int nended;
	char home_what[48];          /* going home waits for the caller's answer: why ("": asked) */
	int home_feature;            /* ... for an instruction */
	struct om_sysctx *fwd;       /* the call in flight */
	uint64_t fwd_args[6];        /* as the job made it (before clamping) */
	uint64_t fwd_done;           /* bytes a continued write has moved so far */
	unsigned send_nr;            /* a request waiting for the slot: */
	uint64_t send_args[6];
	int send_waiting;            /* ... queued in send_queue */
	int in_slot;                 /* its request is in the slot, not yet sent */
	int home_after_reply;        /* MIGRATE_HOME arrived while a call was out */
	int filling;                 /* the call out is a pread filling a file mapping */
	uint32_t signals_in;         /* SIGNAL and JOB_CONTINUE frames taken in */
	uint32_t home_stamp;         /* ... the last call number they named (job_seq.h) */
	/* SIGNAL_SEEN counts not queued yet: for when the control queue has
	 * room, and for after the request that is waiting or in the slot */
	uint32_t ack_now, ack_after;
	uint32_t interrupt_seq;      /* the call CALL_INTERRUPT was asked for */
	int interrupt_after;         /* ... to be queued once the call has left */
	int fork_out;                /* its call out is a fork: a job slot is kept for the child */
	int exec_out;                /* its call out is an execve: success ends the job here */
	uint32_t fork_child;         /* the fork call out has its child here (JOB_FORK) */
	uint32_t vfork_child;        /* a vfork's parent waits until this job leaves */
	int64_t vfork_ret;           /* ... and then returns this (the child's pid) */
	int checkpointing;           /* its image goes home, it waits off the run list */
	int ck_delta;                /* ... only what changed since the one home holds */
	int home_after_checkpoint;   /* ... and goes home once it is out */
	int claimed;                 /* JOB_REATTACH sent, JOB_REATTACHED not heard yet */
	int resend;                  /* its call goes again under the number it had */
};

/* The JOB_EXIT frames of the latest jobs that ended here: one the link
 * lost on its way is sent again on the next link (reattach_msg.h). */
#define EXITS_KEPT 8
struct kept_exit {
	uint32_t job, seq, at_ms;    /* job 0: a free entry */
	uint32_t pid, uid;           /* its process at home */
	int claimed;
	uint16_t len;
	uint8_t data[CTL_MAX];
};

static struct {
	struct ctl_frame ctl[CTL_FRAMES];
	unsigned ctl_head, ctl_count;
	uint8_t *slot;               /* OM_MAX_PAYLOAD bytes */
	size_t slot_len;
	uint8_t slot_type;
	uint32_t slot_job, slot_seq;
	int slot_full;
	struct hl_job jobs[SCHED_JOBS_MAX];
	struct hl_job *send_queue[SCHED_JOBS_MAX]; /* requests waiting for the slot, oldest first */
	int nsend;
	struct image_in in[IMAGES_IN];
	uint32_t in_job[IMAGES_IN];
	struct decide in_dec[IMAGES_IN]; /* home's decisions for a job restarting (decide.h) */
	/* MIGRATE_HOME for a job whose image was still arriving (om-migrate
	 * right after it was placed): it goes home once it has started. */
	uint32_t home_on_arrival[IMAGES_IN];
	struct image_out out;
	int out_active;
	struct job *homing[SCHED_JOBS_MAX]; /* jobs waiting to send their image home */
	int nhoming;
	/* Jobs moving to another node through the agent (JOB_MOVE): owned
	 * here, stopped, until the agent says JOB_KILL (they run there) or
	 * JOB_RESUME; their images go out as those going home do. */
	struct { struct job *job; uint32_t signals_in; } moving[SCHED_JOBS_MAX];
	int nmoving;
	/* JOB_ARRIVING: the count of SIGNAL/JOB_CONTINUE frames a job moving
	 * here took in on its last node, until its image is complete. */
	struct { uint32_t job, signals_in; } arriving[IMAGES_IN];
	const char *leaving;         /* homelink_leave's reason; NULL while the node stays */
	/* The link dropped at down_ms (0: it is up): the jobs kept wait for
	 * the next, up to the grace; on it they are claimed (claims_due), and
	 * a job's frames wait until the agent has paired its claim. */
	uint32_t down_ms;
	int claims_due;
	struct kept_exit exits[EXITS_KEPT];
	/* Whose the jobs freed last were, for their exits' claims. */
	struct { uint32_t job, pid, uid; } freed[EXITS_KEPT];
	unsigned nfreed;
} hl;

/* The entry of j's process (any of its threads). */
static struct hl_job *hj_of(const struct job *j)
{
	for (int i = 0; i < SCHED_JOBS_MAX; i++)
		if (j && hl.jobs[i].job && hl.jobs[i].job->p == j->p)
			return &hl.jobs[i];
	return NULL;
}

static struct hl_job *hj_by_id(uint32_t id)
{
	for (int i = 0; i < SCHED_JOBS_MAX; i++)
		if (hl.jobs[i].job && hl.jobs[i].job->id == id)
			return &hl.jobs[i];
	return NULL;
}

static void unsend(struct hl_job *hj)
{
	for (int i = 0; i < hl.nsend; i++)
		if (hl.send_queue[i] == hj) {
			memmove(&hl.send_queue[i], &hl.send_queue[i + 1], (size_t)(hl.nsend - i - 1) * sizeof hj);
			hl.nsend--;
			break;
		}
	hj->send_waiting = 0;
}

static void go_home(struct job *j, uint32_t reason, const char *text, int32_t pending);
static void reply_caller(struct hl_job *hj, int64_t ret);
static void go_home_after(struct hl_job *hj, struct job *j);
static void host_interrupt(struct job *j);
static struct job *moving_take(uint32_t id, uint32_t *signals_in);
static void checkpoint_unqueue(struct job *j);
static void on_reattached(uint32_t id);
static void forget_exit(uint32_t id);

/* Every thread of j's process off the run list (off every core first). */
static void take_process(struct job *j)
{
	for (struct job *t = j->p->threads; t; t = t->sibling)
		sched_take(t);
}

/* j's process is over here (gone home as a new program, killed, lost). */
static void drop_process(struct job *j)
{
	take_process(j);
	job_destroy_process(j);
}

/* A vfork's child has left the node (exited, gone home, killed): its
 * parent's call returns, as Linux's does when the child execs or exits.
 * (The child had a copy of the parent's memory, not the memory itself:
 * what it wrote before it left is its own.) */
static void vfork_release(uint32_t child)
{
	for (int i = 0; i < SCHED_JOBS_MAX; i++) {
		struct hl_job *p = &hl.jobs[i];
		if (!p->job || !p->caller || p->vfork_child != child)
			continue;
		struct job *c = p->caller;
		p->vfork_child = 0;
		reply_caller(p, p->vfork_ret);
		if (p->home_after_reply)
			go_home_after(p, c);
		return;
	}
}

/* The job is no longer ours (ended, gone home, killed): forget its state. */
static void hj_free(struct hl_job *hj)
{
	if (!hj)
		return;
	if (hj->checkpointing) /* its image stops; it is listed again, for its caller to take */
		checkpoint_unqueue(hj->job);
	uint32_t id = hj->job ? hj->job->id : 0;
	if (id) {
		typeof(hl.freed[0]) *f = &hl.freed[hl.nfreed++ % EXITS_KEPT];
		f->job = id;
		f->pid = (uint32_t)hj->job->p->ident.pid;
		f->uid = (uint32_t)hj->job->p->ident.uid;
	}
	unsend(hj);
	if (hl.slot_full && hj->in_slot)
		hl.slot_full = 0; /* a request nobody waits for any more */
	struct om_sysctx *fwd = hj->fwd;
	memset(hj, 0, sizeof *hj);
	hj->fwd = fwd;
	if (id)
		vfork_release(id);
}

/* ------------------------------------------------------------ control frames */

static struct ctl_frame *ctl_add(int spare)
{
	if (hl.ctl_count >= CTL_FRAMES - (spare ? CTL_RESERVE : 0))
		return NULL;
	return &hl.ctl[(hl.ctl_head + hl.ctl_count++) % CTL_FRAMES];
}

/* A JOB_EXIT, kept for a link that may lose it (reattach_msg.h). */
static void keep_exit(uint32_t job, uint32_t seq, const void *data, int len)
{
	struct kept_exit *k = &hl.exits[0];
	for (int i = 1; i < EXITS_KEPT; i++) /* a free entry, else the oldest */
		if (k->job && (!hl.exits[i].job || (int32_t)(hl.exits[i].at_ms - k->at_ms) < 0))
			k = &hl.exits[i];
	*k = (struct kept_exit){ .job = job, .seq = seq, .at_ms = timer_ms(), .len = (uint16_t)len };
	memcpy(k->data, data, (size_t)len);
	for (int i = 0; i < EXITS_KEPT; i++)
		if (hl.freed[i].job == job) {
			k->pid = hl.freed[i].pid;
			k->uid = hl.freed[i].uid;
		}
}

/* seq: what the frame says of the job's calls (job_seq.h), p->sent. */
static void ctl_send(uint8_t type, uint32_t job, uint32_t seq, const void *data, int len)
{
	struct ctl_frame *f;
	if (type == OM_T_JOB_EXIT && hl.down_ms && len >= 0 && len <= CTL_MAX) {
		keep_exit(job, seq, data, len); /* the next link claims it (an agent there may not know the job) */
		return;
	}
	if (len < 0 || len > CTL_MAX || !(f = ctl_add(0))) {
		kprintf("job %u: cannot queue a %s frame\n", job, om_type_name(type));
		return;
	}
	f->type = type;
	f->job = job;
	f->seq = seq;
	f->len = (uint16_t)len;
	memcpy(f->data, data, (size_t)len);
	if (type == OM_T_JOB_EXIT)
		keep_exit(job, seq, data, len);
}

static void send_error(uint32_t job, uint32_t code, const char *why)
{
	struct om_error e = { .code = code };
	uint8_t buf[CTL_MAX];
	snprintf(e.msg, sizeof e.msg, "%s", why);
	for (char *c = e.msg; *c; c++) /* the codec takes printable ASCII only */
		if (*c < 0x20 || *c > 0x7e)
			*c = '?';
	kprintf("job %u: refused: %s\n", job, e.msg);
	ctl_send(OM_T_JOB_ERROR, job, 0, buf, om_error_encode(&e, buf, sizeof buf));
}

/* Moves hj's pending acknowledgement into the control queue, in order with
 * the frames there: into the last one when that is the same job's
 * acknowledgement too (the newer count stands for both), else as a new
 * frame if there is room (else later: ctl_drain tries again). */
static void queue_ack(struct hl_job *hj)
{
	struct om_signal_seen m = { .count = hj->ack_now };
	struct ctl_frame *last = hl.ctl_count ? &hl.ctl[(hl.ctl_head + hl.ctl_count - 1) % CTL_FRAMES] : NULL;
	if (!hj->ack_now)
		return;
	if (last && last->type == OM_T_SIGNAL_SEEN && last->job == hj->job->id) {
		om_signal_seen_encode(&m, last->data, sizeof last->data);
		last->seq = hj->job->p->sent;
	} else {
		struct ctl_frame *f = ctl_add(1);
		if (!f)
			return;
		f->type = OM_T_SIGNAL_SEEN;
		f->job = hj->job->id;
		f->seq = hj->job->p->sent;
		f->len = (uint16_t)om_signal_seen_encode(&m, f->data, sizeof f->data);
	}
	hj->ack_now = 0;
}

static void queue_interrupt(struct hl_job *hj)
{
	struct om_call_interrupt m = { .seq = hj->interrupt_seq };
	struct ctl_frame *f = ctl_add(1);
	if (!f)
		return; /* full: host_interrupt tries again on the next step */
	f->type = OM_T_CALL_INTERRUPT;
	f->job = hj->job->id;
	f->seq = hj->job->p->sent;
	f->len = (uint16_t)om_call_interrupt_encode(&m, f->data, sizeof f->data);
	hj->interrupt_after = 0;
}

/* hj's request has left the slot: what had to follow it may go. */
static void request_sent(struct hl_job *hj)
{
	hj->in_slot = 0;
	hj->job->p->sent = hl.slot_seq;
	hj->sent_ns = timer_ns();
	if (hj->ack_after) {
		hj->ack_now = hj->ack_after;
		hj->ack_after = 0;
		queue_ack(hj);
	}
	if (hj->interrupt_after)
		queue_interrupt(hj);
}

/* ------------------------------------------------------------ the job's host */

static int read_user(void *ctx, uint64_t addr, uint32_t len, void *dst)
{
	return uvm_read(&((struct job *)ctx)->p->uvm, addr, dst, len) < 0 ? -LX_EFAULT : 0;
}

static int write_user(void *ctx, uint64_t addr, uint32_t len, const void *src)
{
	return uvm_write(&((struct job *)ctx)->p->uvm, addr, src, len, 0) < 0 ? -LX_EFAULT : 0;
}

/* A file mapping's own contents land even where the program may not write. */
static int write_fill(void *ctx, uint64_t addr, uint32_t len, const void *src)
{
	return uvm_write(&((struct job *)ctx)->p->uvm, addr, src, len, 1) < 0 ? -LX_EFAULT : 0;
}

static void fill_reply(struct hl_job *hj, int64_t ret);
static void fill_next(struct job *j);

/* hj's request never left (its arguments did not read): the job has its
 * answer at once, as if home had given it, and what waited for the call
 * goes on. */
static void answer_now(struct hl_job *hj, int64_t ret)
{
	struct job *j = hj->caller;
	hj->interrupt_after = 0; /* nothing at home to cut short */
	if (hj->ack_after) {
		hj->ack_now = hj->ack_after;
		hj->ack_after = 0;
		queue_ack(hj);
	}
	if (hj->filling) {
		fill_reply(hj, ret);
	} else {
		if (hj->fwd_done) /* a continued write moved this much: Linux says so */
			ret = (int64_t)hj->fwd_done;
		reply_caller(hj, ret);
	}
	if (hj->home_after_reply && j->state == JOB_RUNNABLE)
		go_home_after(hj, j);
}

/* Encodes hj's waiting request into the (free) slot. */
static void request_encode(struct hl_job *hj)
{
	struct job *j = hj->caller;
	int uerr = 0;
	int n = om_sysreq_encode(hj->fwd, hj->send_nr, (uint32_t)hj->caller->tid, hj->send_args, read_user, j, hl.slot, OM_MAX_PAYLOAD, &uerr);
	if (n == OM_SC_EUSER) {
		answer_now(hj, -uerr);
		return;
	}
	if (n == OM_E_RANGE || n == OM_E_NOSPACE) { /* not forwardable with these arguments */
		go_home(j, OM_HOME_SYSCALL, om_syscall_name(hj->send_nr), (int32_t)hj->send_nr);
		return;
	}
	if (n < 0) {
		kprintf("job %u: system call %u does not encode (%s)\n", j->id, hj->send_nr, om_strerror(n));
		answer_now(hj, -LX_ENOSYS);
		return;
	}
	hl.slot_len = (size_t)n;
	hl.slot_type = OM_T_SYSCALL_REQ;
	hl.slot_job = j->id;
	hl.slot_seq = hj->resend ? j->p->seq : ++j->p->seq;
	hj->resend = 0;
	hl.slot_full = 1;
	hj->in_slot = 1;
}

/* Queues the call with these arguments for the slot; the job waits. */
static void forward_send(struct job *j, unsigned nr, const uint64_t args[6])
{
	struct hl_job *hj = hj_of(j);
	if (!hj)
		return;
	hj->send_nr = nr;
	memcpy(hj->send_args, args, sizeof hj->send_args);
	if (!hj->send_waiting) {
		hl.send_queue[hl.nsend++] = hj;
		hj->send_waiting = 1;
	}
}

/* j's call goes home now: it is the caller. nr -1: a file mapping's fill. */
static void call_begin(struct hl_job *hj, struct job *j, int nr, const uint64_t args[6])
{
	hj->caller = j;
	if (nr < 0) {
		fill_next(j);
		return;
	}
	memcpy(hj->fwd_args, args, sizeof hj->fwd_args);
	hj->fwd_done = 0;
	hj->fork_out = om_syscall_is_fork((unsigned)nr, args);
	hj->exec_out = nr == NR_execve;
	uint64_t a[6];
	memcpy(a, args, sizeof a);
	if (hj->exec_out)
		job_exec_sigstate(j, &a[3], &a[4]);
	if (hj->fork_out)
		a[5] = job_fork_sigchld(j);
	forward_send(j, (unsigned)nr, a);
}

/* j's call goes home, or waits in line behind the one out. */
static void call_queue(struct job *j, int nr, const uint64_t args[6])
{
	struct hl_job *hj = hj_of(j);
	if (!hj)
		return;
	if (!hj->caller) {
		call_begin(hj, j, nr, args);
		return;
	}
	j->host_nr = nr;
	if (args)
		memcpy(j->host_args, args, sizeof j->host_args);
	j->host_next = NULL;
	if (hj->wait_tail)
		hj->wait_tail->host_next = j;
	else
		hj->wait_head = j;
	hj->wait_tail = j;
}

/* Takes t out of the line; 1 if it was in it. */
static int call_unqueue(struct hl_job *hj, struct job *t)
{
	for (struct job **pp = &hj->wait_head, *prev = NULL; *pp; prev = *pp, pp = &(*pp)->host_next)
		if (*pp == t) {
			*pp = t->host_next;
			if (hj->wait_tail == t)
				hj->wait_tail = prev;
			t->host_next = NULL;
			return 1;
		}
	return 0;
}

/* The caller has its answer: the next thread in line makes its call. A
 * call cut short for the others (a restart code) keeps its backoff; any
 * other answer resets it. */
static void reply_caller(struct hl_job *hj, int64_t ret)
{
	struct job *c = hj->caller, *next = hj->wait_head;
	if (ret < LX_ERESTART_MIN || ret > LX_ERESTART_MAX)
		c->host_cuts = 0;
	hj->caller = NULL;
	sched_reply(c, ret);
	if (next && !hj->home_after_reply) {
		call_unqueue(hj, next);
		call_begin(hj, next, next->host_nr, next->host_args);
	}
}

static void host_forward(struct job *j, const struct sys_call *sc)
{
	decide_anchor(j, 0); /* the node's decisions count from this call */
	if (j->cloning) { /* home makes a thread of its own for it: its tid is the answer */
		struct hl_job *hj = hj_of(j);
		uint64_t a[6] = { j->clone.flags, 0, 0, 0, 0, OM_THREAD_CLONE_MARK };
		if (hj && hj->nended)
			a[1] = hj->ended[--hj->nended];
		call_queue(j, NR_clone, a);
		return;
	}
	call_queue(j, (int)sc->nr, sc->a);
}

/* The next pread of a file mapping's contents (OM_SYSCALL_MAX_BUF at most
 * each; the codec cuts longer ones). */
static void fill_next(struct job *j)
{
	uint64_t args[6] = { (uint64_t)j->fill.fd, j->fill.addr + j->fill.done, j->fill.len - j->fill.done,
			     j->fill.off + j->fill.done, 0, 0 };
	hj_of(j)->filling = 1;
	forward_send(j, NR_pread64, args);
}

static void host_fill(struct job *j)
{
	call_queue(j, -1, NULL);
}

/* A fill read came back: go on, or finish mmap with the address or the
 * error (the mapping then goes again). */
static void fill_reply(struct hl_job *hj, int64_t ret)
{
	struct job *j = hj->caller;
	if (ret > 0 && j->fill.done + (uint64_t)ret < j->fill.len) {
		j->fill.done += (uint64_t)ret;
		fill_next(j);
		return;
	}
	hj->filling = 0;
	if (ret < 0) {
		uvm_unmap(&j->p->uvm, j->fill.addr, j->fill.addr + j->fill.len);
		reply_caller(hj, ret == -29 /* ESPIPE */ ? -19 /* ENODEV, as mmap of a pipe */ : ret);
		return;
	}
	reply_caller(hj, (int64_t)j->fill.addr); /* a short file: the rest reads as zero */
}

/* The process goes home for j's call (or an instruction). While another
 * thread's call is out at home it goes once that one is answered (cut
 * short: made again at home), j waiting in its call, which it makes again
 * there: a call must not run at home twice, nor be left behind. */
static void host_go_home(struct job *j, int feature, int32_t pending, const char *what)
{
	struct hl_job *hj = hj_of(j);
	/* (A long write or a fill partly done at home counts as out: it
	 * finishes first, and is not made again at home.) */
	if (hj && hj->caller && hj->caller != j && (!hj->send_waiting || hj->fwd_done || hj->filling)) {
		if (!hj->home_after_reply) {
			hj->home_after_reply = 1;
			snprintf(hj->home_what, sizeof hj->home_what, "%s", what ? what : "");
			hj->home_feature = feature;
		}
		host_interrupt(hj->caller);
		return;
	}
	go_home(j, feature ? OM_HOME_FEATURE : OM_HOME_SYSCALL, what, pending);
}

/* home_after_reply: the caller has its answer, the process goes. */
static void go_home_after(struct hl_job *hj, struct job *j)
{
	char what[sizeof hj->home_what];
	uint32_t reason = hj->home_feature ? OM_HOME_FEATURE : hj->home_what[0] ? OM_HOME_SYSCALL : OM_HOME_REQUESTED;
	memcpy(what, hj->home_what, sizeof what); /* go_home forgets hj */
	go_home(j, reason, what[0] ? what : hl.leaving ? hl.leaving : "requested", -1);
}

/* Fork calls out whose child is not made yet, each holding a job slot
 * for it (a child made is counted as a job). */
static int forks_out(void)
{
	int n = 0;
	for (int i = 0; i < SCHED_JOBS_MAX; i++)
		n += hl.jobs[i].job && hl.jobs[i].fork_out && !hl.jobs[i].fork_child;
	return n;
}

/* Jobs here, on their way, or about to be made by a fork: never more
 * than SCHED_JOBS_MAX (hl.homing has room for all). */
static int slots_taken(void)
{
	return sched_processes() + homelink_jobs_in_transit() + forks_out();
}

static int moving_index(uint32_t id)
{
	for (int i = 0; i < hl.nmoving; i++)
		if (hl.moving[i].job->id == id)
			return i;
	return -1;
}

/* Whether j waits to send its image, or sends it now. */
static int job_streaming(const struct job *j)
{
	for (int i = 0; i < hl.nhoming; i++)
		if (hl.homing[i] == j)
			return 1;
	return hl.out_active && hl.out.job == j;
}

/* Moving jobs whose image is out: they wait for the agent's word. */
static int moved_out(void)
{
	int n = 0;
	for (int i = 0; i < hl.nmoving; i++)
		n += !job_streaming(hl.moving[i].job);
	return n;
}

/* A fork made here needs a copy of the job, and a job slot. */
static int host_fork_ok(struct job *j)
{
	return !hl.leaving && slots_taken() < SCHED_JOBS_MAX && job_fork_fits(j);
}

static void host_exited(struct job *j)
{
	struct om_job_exit e = { .cpu_ns = j->cpu_ns };
	uint8_t buf[CTL_MAX];
	if ((j->exit_code & 0x7f) == 0) {
		e.kind = OM_EXIT_EXITED;
		e.status = (j->exit_code >> 8) & 0xff;
		kprintf("job %u: exited with status %u\n", j->id, e.status);
	} else {
		e.kind = OM_EXIT_SIGNALED;
		e.status = j->exit_code & 0x7f;
		e.core = (j->exit_code & 0x80) != 0;
		kprintf("job %u: killed by signal %u\n", j->id, e.status);
	}
	hj_free(hj_of(j));
	ctl_send(OM_T_JOB_EXIT, j->id, j->p->sent, buf, om_job_exit_encode(&e, buf, sizeof buf));
}

/* The job's execve ran at home: its process there is the new program,
 * which its deputy places again; the job here is over. */
static void execed(struct hl_job *hj)
{
	struct job *j = hj->job;
	struct om_job_exit e = { .kind = OM_EXIT_EXECED, .cpu_ns = job_ran_ns(j->p) };
	uint8_t buf[CTL_MAX];
	kprintf("job %u: its execve ran at home\n", j->id);
	hj_free(hj);
	ctl_send(OM_T_JOB_EXIT, j->id, j->p->sent, buf, om_job_exit_encode(&e, buf, sizeof buf));
	drop_process(j);
}

/* Home stops om-run (and so the user's shell sees the job stopped) on
 * signo != 0 and lets it go on with 0. */
static void send_stopped(struct job *j, int signo)
{
	struct om_job_stopped m = { .signo = (uint32_t)signo };
	uint8_t buf[CTL_MAX];
	if (signo)
		kprintf("job %u: stopped by signal %d\n", j->id, signo);
	else
		kprintf("job %u: continues\n", j->id);
	ctl_send(OM_T_JOB_STOPPED, j->id, j->p->sent, buf, om_job_stopped_encode(&m, buf, sizeof buf));
}

/* Every SIGNAL and JOB_CONTINUE for a job is acknowledged as it arrives
 * (malformed ones too, or home would wait for the acknowledgement): home
 * then knows which of the job's calls were made before it knew of a
 * signal. So the acknowledgement must not overtake a request of the job's
 * that waits for the slot or is in it; one carrying the latest count
 * stands for all before it. */
static void ack_signal(struct hl_job *hj)
{
	hj->signals_in++;
	if (hj->send_waiting || hj->in_slot) {
		hj->ack_after = hj->signals_in;
	} else {
		hj->ack_now = hj->signals_in;
		queue_ack(hj); /* now: before what this signal makes us send */
	}
}

static void host_stopped(struct job *j)
{
	send_stopped(j, j->p->stopped);
}

/* A signal came for the job while its call is at home: ask home, once per
 * call, to cut the call short if it blocks (a read of a terminal, a
 * sleep). It must follow the call itself, so it waits while the call has
 * not left. A file mapping's reads are not cut short. */
static void host_interrupt(struct job *j)
{
	struct hl_job *hj = hj_of(j);
	/* A call waiting in line has not begun: it is made again once the
	 * signal is seen to (a file mapping's fill waits on). */
	if (hj && j != hj->caller) {
		if (j->host_nr >= 0 && call_unqueue(hj, j)) {
			if (j->cloning && j->host_args[1] && hj->nended < ENDED_MAX)
				hj->ended[hj->nended++] = (uint32_t)j->host_args[1]; /* for the next clone */
			sched_reply(j, LX_ERESTARTNOINTR);
		}
		return;
	}
	/* A vfork's parent waits for its child, not for home; as in Linux
	 * (TASK_KILLABLE) only a signal that kills it ends the wait, and it
	 * kills it there and then (no handler or stop of a lower signal
	 * first: Linux makes it a SIGKILL of the process). */
	int fatal;
	if (hj && hj->vfork_child) {
		if ((fatal = signal_fatal_ready(j)) != 0) {
			hj->vfork_child = 0;
			signal_die(j, fatal);
		}
		return;
	}
	/* A call still waiting for the slot has no number yet (j->p->seq is
	 * the previous call's): ask once it has one. */
	if (!hj || hj->filling || hj->send_waiting)
		return;
	if (hj->interrupt_seq != j->p->seq) {
		hj->interrupt_seq = j->p->seq;
		hj->interrupt_after = 1;
	}
	if (hj->interrupt_after && !hj->in_slot)
		queue_interrupt(hj);
}

/* A thread's clone goes home for a thread of its own there (its tid). */
static int host_thread_ok(struct job *j)
{
	return !hl.leaving && hj_of(j) != NULL;
}

/* j is about to be freed: out of the line; if its call is out (its
 * process is dying: nothing else ends a thread waiting for home), the
 * answer finds nobody and is dropped. Its home thread may go. */
static void host_thread_gone(struct job *j)
{
	struct hl_job *hj = hj_of(j);
	if (!hj)
		return;
	call_unqueue(hj, j);
	if (hj->caller == j) {
		unsend(hj);
		hj->caller = NULL;
		hj->filling = hj->fork_out = hj->exec_out = 0;
		hj->fork_child = hj->vfork_child = 0;
		hj->interrupt_after = 0;
	}
	if (!j->p->dying && hj->nended < ENDED_MAX)
		hj->ended[hj->nended++] = (uint32_t)j->tid;
}

static const struct job_host home_host = {
	.thread_ok = host_thread_ok,
	.thread_gone = host_thread_gone,
	.forward = host_forward,
	.fill = host_fill,
	.go_home = host_go_home,
	.stopped = host_stopped,
	.interrupt = host_interrupt,
	.exited = host_exited,
	.fork_ok = host_fork_ok,
};

/* The job leaves: JOB_HOME, then its image, from the main loop, after the
 * images already on their way. */
static void go_home(struct job *j, uint32_t reason, const char *text, int32_t pending)
{
	struct om_job_home m = { .reason = reason, .pending = pending };
	uint8_t buf[CTL_MAX];
	if (j->p->dying) { /* it ends here (its threads on their next step): nothing goes home */
		struct hl_job *hj = hj_of(j);
		if (hj)
			hj->home_after_reply = 0;
		for (struct job *t = j->p->threads; t; t = t->sibling)
			sched_ready(t);
		return;
	}
	take_process(j); /* off every core first: its CPU time is whole */
	hj_free(hj_of(j));
	signal_settle_restart(j);
	/* JOB_HOME's call is the header thread's: j's own, or the one the
	 * header waits in (the image makes every other thread's again). */
	job_threads_reap(j);
	struct job *hd = job_image_header(job_thread_leader(j));
	if (hd != j) {
		signal_settle_restart(hd);
		m.pending = (hd->state == JOB_WAIT_HOME && !hd->home_fault) || hd->state == JOB_SLEEPING ?
				    (int32_t)hd->regs.rax : -1;
	}
	j = job_thread_leader(j);
	m.cpu_ns = job_ran_ns(j->p);
	snprintf(m.text, sizeof m.text, "%s", text ? text : "");
	kprintf("job %u: going home (%s)\n", j->id, m.text);
	ctl_send(OM_T_JOB_HOME, j->id, j->p->sent, buf, om_job_home_encode(&m, buf, sizeof buf));
	if (hl.nhoming == SCHED_JOBS_MAX) { /* slots_taken keeps this from happening */
		struct om_job_exit e = { .kind = OM_EXIT_SIGNALED, .status = LX_SIGKILL };
		uint32_t id = j->id, sent = j->p->sent;
		kprintf("job %u: no room to send it home; it is lost\n", id);
		job_destroy_process(j);
		ctl_send(OM_T_JOB_EXIT, id, sent, buf, om_job_exit_encode(&e, buf, sizeof buf));
		return;
	}
	hl.homing[hl.nhoming++] = j;
}

/* ------------------------------------------------------------ frames from home */

/* Every thread of j's process on the run list, or none (-1). */
static int start_process(struct job *j)
{
	for (struct job *t = j->p->threads; t; t = t->sibling)
		if (job_thread_live(t) && sched_start(t, &home_host) < 0) {
			take_process(j);
			return -1;
		}
	return 0;
}

static void job_arrived(struct job *j)
{
	struct hl_job *hj = NULL;
	for (int i = 0; i < SCHED_JOBS_MAX && !hj; i++)
		if (!hl.jobs[i].job)
			hj = &hl.jobs[i];
	if (!hj || start_process(j) < 0) {
		send_error(j->id, OM_E_BUSY, "node is busy: it runs all the jobs it can");
		job_destroy_process(j);
		return;
	}
	hj_free(hj);
	hj->job = job_thread_leader(j);
	for (int i = 0; i < IMAGES_IN; i++)
		if (hl.arriving[i].job == j->id) {
			hj->signals_in = hl.arriving[i].signals_in;
			hl.arriving[i].job = 0;
		}
	int threads = 1 + job_threads_live(j); /* j and its other live threads */
	if (threads > 1)
		kprintf("job %u: arrived (pid %ld, %u regions, %lu pages, %d threads), running\n", j->id,
			j->p->ident.pid, j->p->uvm.nregions, j->p->uvm.pages, threads);
	else
		kprintf("job %u: arrived (pid %ld, %u regions, %lu pages), running\n", j->id, j->p->ident.pid,
			j->p->uvm.nregions, j->p->uvm.pages);
	ctl_send(OM_T_JOB_STARTED, j->id, j->p->sent, NULL, 0);
	int asked = 0;
	for (int i = 0; i < IMAGES_IN; i++)
		if (hl.home_on_arrival[i] == j->id) {
			hl.home_on_arrival[i] = 0;
			asked = 1;
		}
	if (hl.leaving) /* it was on its way when the node began to leave */
		go_home(j, OM_HOME_REQUESTED, hl.leaving, -1);
	else if (asked)
		go_home(j, OM_HOME_REQUESTED, "requested", -1);
}

/* The image arriving for job id (its slot), or NULL. */
static struct image_in *image_for(uint32_t id)
{
	for (int i = 0; i < IMAGES_IN; i++)
		if (image_in_busy(&hl.in[i]) && hl.in_job[i] == id)
			return &hl.in[i];
	return NULL;
}

/* Whether job id is on its way home (waiting, or its image streaming). */
static int job_leaving(uint32_t id)
{
	for (int i = 0; i < hl.nhoming; i++)
		if (hl.homing[i]->id == id)
			return 1;
	return hl.out_active && hl.out.job->id == id;
}

static int images_arriving(void)
{
	int n = 0;
	for (int i = 0; i < IMAGES_IN; i++)
		n += image_in_busy(&hl.in[i]);
	return n;
}

static void on_image(const struct om_hdr *h, const uint8_t *p)
{
	struct image_in *in = image_for(h->job);
	int rc = 0;
	if (h->type == OM_T_IMAGE_BEGIN) {
		int slot = -1;
		if (in || sched_find(h->job) || job_leaving(h->job)) {
			send_error(h->job, OM_E_STATE, "that job is here already");
			return;
		}
		for (int i = 0; i < IMAGES_IN && slot < 0; i++)
			if (!image_in_busy(&hl.in[i]))
				slot = i;
		if (hl.leaving) {
			send_error(h->job, OM_E_BUSY, "node is leaving: it takes no new jobs");
			return;
		}
		if (slot < 0 || slots_taken() >= SCHED_JOBS_MAX) {
			send_error(h->job, OM_E_BUSY, "node is busy: it takes all the jobs it can");
			return;
		}
		in = &hl.in[slot];
		in->threads_ok = 1;
		hl.in_job[slot] = h->job;
		decide_free(&hl.in_dec[slot]);
		rc = image_in_begin(in, h->job, p, h->length);
	} else if (!in) {
		kprintf("job %u: %s for no image in progress, ignored\n", h->job, om_type_name(h->type));
		return;
	} else if (h->type == OM_T_IMAGE_THREAD) {
		rc = image_in_thread(in, p, h->length);
	} else if (h->type == OM_T_IMAGE_REGION) {
		rc = image_in_region(in, p, h->length);
	} else if (h->type == OM_T_IMAGE_PAGES) {
		rc = image_in_pages(in, p, h->length);
	} else {
		struct decide *dec = &hl.in_dec[in - hl.in];
		struct job *j = image_in_end(in, p, h->length);
		if (!j) {
			rc = -1;
			decide_free(dec);
		} else {
			j->p->dec = *dec; /* before it runs: its first decisions may be home's */
			memset(dec, 0, sizeof *dec);
			job_arrived(j);
		}
	}
	if (rc < 0)
		send_error(h->job, OM_E_RANGE, in->why);
}

/* A write cut to OM_SYSCALL_MAX_BUF goes on until done or short: 1 if
 * the next part was sent, 0 if ret (adjusted) is the call's result. */
static int write_continues(struct hl_job *hj, int64_t *ret)
{
	unsigned nr = hj->fwd->nr;
	if (hj->fwd->clamped && (nr == NR_write || nr == NR_pwrite64) && *ret > 0 &&
	    (uint64_t)*ret == hj->fwd->args[2] && hj->fwd_done + (uint64_t)*ret < hj->fwd_args[2]) {
		hj->fwd_done += (uint64_t)*ret;
		uint64_t args[6];
		memcpy(args, hj->fwd_args, sizeof args);
		args[1] += hj->fwd_done;
		args[2] -= hj->fwd_done;
		if (nr == NR_pwrite64)
			args[3] += hj->fwd_done;
		forward_send(hj->caller, nr, args);
		return 1;
	}
	if (hj->fwd_done)
		*ret = *ret < 0 ? (int64_t)hj->fwd_done : (int64_t)hj->fwd_done + *ret;
	return 0;
}

/* Home ran the fork: ret is the child's pid there, whose job (JOB_FORK)
 * came first, or the call's error. The parent returns, but a vfork's
 * parent waits while its child is here. Returns 1 if it waits. */
static int fork_replied(struct hl_job *hj, int64_t ret)
{
	struct job *j = hj->caller;
	uint32_t child = hj->fork_child;
	int vfork = hj->fwd->nr == NR_vfork;
	hj->fork_child = 0;
	hj->fork_out = 0;
	if (ret > 0 && !child)
		kprintf("job %u: home forked pid %ld, but no child was made here\n", j->id, (long)ret);
	job_fork_parent_done(j, ret, hj->fwd->nr == NR_clone ? hj->fwd_args[0] : 0, hj->fwd_args[2]);
	if (ret <= 0 && child && hj_by_id(child)) {
		/* Made here, but home gave up on it (its deputy failed): the
		 * fork did not happen, and the parent may make it again. */
		struct hl_job *ch = hj_by_id(child);
		struct om_job_exit e = { .kind = OM_EXIT_SIGNALED, .status = LX_SIGKILL, .cpu_ns = job_ran_ns(ch->job->p) };
		struct job *cj = ch->job;
		uint32_t sent = cj->p->sent;
		uint8_t buf[CTL_MAX];
		kprintf("job %u: its parent's fork failed at home; it ends\n", child);
		hj_free(ch);
		drop_process(cj);
		ctl_send(OM_T_JOB_EXIT, child, sent, buf, om_job_exit_encode(&e, buf, sizeof buf));
	}
	if (vfork && ret > 0 && child && hj_by_id(child)) {
		hj->vfork_child = child;
		hj->vfork_ret = ret;
		return 1;
	}
	reply_caller(hj, ret);
	return 0;
}

/* JOB_FORK: the agent gives the child of the fork call a parent has out a
 * job id (its deputy at home has the home process): the child is made
 * from the parent now, which waits in the call, so it is the parent as it
 * was at the fork. Refused (JOB_ERROR) when no such call is out. */
static void on_fork(const struct om_hdr *h, const uint8_t *p)
{
	struct om_job_fork m;
	if (om_job_fork_decode(p, h->length, &m) != OM_OK) {
		send_error(h->job, OM_E_RANGE, "bad JOB_FORK");
		return;
	}
	struct hl_job *ph = hj_by_id(m.parent);
	struct job *pj = ph ? ph->caller : NULL; /* the thread that forks */
	if (hj_by_id(h->job) || image_for(h->job) || job_leaving(h->job)) {
		send_error(h->job, OM_E_STATE, "that job is here already");
		return;
	}
	if (!pj || pj->state != JOB_WAIT_HOME || pj->p->seq != m.seq || ph->in_slot || ph->send_waiting ||
	    ph->filling || ph->fork_child || ph->vfork_child || !ph->fork_out) {
		send_error(h->job, OM_E_STATE, "its parent has no fork in flight here");
		return;
	}
	if (hl.leaving) {
		send_error(h->job, OM_E_BUSY, "node is leaving: it takes no new jobs");
		return;
	}
	if (slots_taken() - 1 >= SCHED_JOBS_MAX) { /* its own slot is among them */
		send_error(h->job, OM_E_BUSY, "node is busy: it runs all the jobs it can");
		return;
	}
	int clone = ph->fwd->nr == NR_clone;
	/* The child is the process's memory as it is: no thread writes it
	 * while it is copied. */
	for (struct job *t = pj->p->threads; t; t = t->sibling)
		sched_park(t);
	struct job *c = job_fork(pj, h->job, m.pid, clone ? ph->fwd_args[0] : 0, ph->fwd_args[3]);
	if (!c) {
		send_error(h->job, OM_E_BUSY, "node is out of memory for the child");
		return;
	}
	ph->fork_child = h->job;
	kprintf("job %u: forked job %u (pid %u)\n", pj->id, h->job, m.pid);
	job_arrived(c);
}

static void on_reply(struct hl_job *hj, const struct om_hdr *h, const uint8_t *p)
{
	struct job *j = hj ? hj->caller : NULL;
	int64_t ret;
	if (!j || j->state != JOB_WAIT_HOME || h->seq != j->p->seq || hj->in_slot || hj->send_waiting ||
	    hj->vfork_child) {
		kprintf("job %u: SYSCALL_REP seq %u matches no call in flight, ignored\n", h->job, h->seq);
		return;
	}
	if (hj->interrupt_seq == h->seq)
		hj->interrupt_after = 0; /* answered: nothing left to cut short */
	j->p->dec.in_flight = 0; /* home had the call, so what went before it */
	int rc = om_sysrep_decode(hj->fwd, p, h->length, hj->filling ? write_fill : write_user, j, &ret);
	if (rc != OM_OK) {
		kprintf("job %u: bad SYSCALL_REP (%s); the call fails with EIO\n", j->id, om_strerror(rc));
		ret = -5; /* EIO */
	}
	/* Cut short by the node (for the other threads, to go home) with no
	 * signal for it, a call Linux ends with EINTR whatever the handler
	 * (epoll_wait, a timed-out socket read) saw none: it is made again. */
	if ((h->seq == hj->fair_seq || h->seq == hj->interrupt_seq) && ret == -LX_EINTR && !signal_ready(j))
		ret = LX_ERESTARTNOINTR;
	if (hj->filling) {
		fill_reply(hj, ret);
	} else if (hj->fork_out) {
		if (fork_replied(hj, ret))
			return; /* a vfork's parent waits for its child */
	} else if (hj->exec_out && ret == 0) {
		execed(hj);
		return;
	} else if (!write_continues(hj, &ret)) { /* an EIO stops a long write too */
		reply_caller(hj, ret);
	}
	/* A MIGRATE_HOME that came while the call was out can go now. */
	if (hj->home_after_reply && j->state == JOB_RUNNABLE)
		go_home_after(hj, j);
}

static void on_signal(struct hl_job *hj, const struct om_hdr *h, const uint8_t *p)
{
	struct om_job_signal s;
	struct job *j = hj ? hj->job : NULL;
	if (j)
		ack_signal(hj);
	if (!j || om_job_signal_decode(p, h->length, &s) != OM_OK) {
		kprintf("job %u: SIGNAL for no job here or malformed, ignored\n", h->job);
		return;
	}
	struct job_siginfo info = { .code = s.code, .errnum = s.errnum };
	memcpy(info.fields, s.fields, sizeof info.fields);
	int was_stopped = j->p->stopped;
	if (signal_raise(j, (int)s.signo, &info) == -LX_EAGAIN) {
		/* Home's kernel took it: it comes, as from kill() if it must. */
		struct job_siginfo bare = { .code = LX_SI_USER };
		signal_raise(j, (int)s.signo, &bare);
	}
	if (was_stopped && !j->p->stopped && s.signo != LX_SIGKILL)
		send_stopped(j, 0);
}

/* Home's deputy is gone: the job goes, wherever it is on the node. */
static void on_kill(uint32_t id)
{
	struct hl_job *hj = hj_by_id(id);
	uint32_t signals_in;
	struct job *moved = hj ? NULL : moving_take(id, &signals_in);
	for (int i = 0; i < IMAGES_IN; i++)
		if (hl.arriving[i].job == id)
			hl.arriving[i].job = 0;
	if (moved) { /* it runs on its new node now, or its deputy is gone */
		job_destroy_process(moved);
		return;
	}
	if (hj) {
		kprintf("job %u: killed (its deputy is gone)\n", id);
		struct job *j = hj->job;
		hj_free(hj);
		drop_process(j);
		return;
	}
	for (int i = 0; i < hl.nhoming; i++)
		if (hl.homing[i]->id == id) {
			job_destroy_process(hl.homing[i]);
			memmove(&hl.homing[i], &hl.homing[i + 1], (size_t)(hl.nhoming - i - 1) * sizeof hl.homing[0]);
			hl.nhoming--;
			return;
		}
	if (hl.out_active && hl.out.job->id == id) {
		job_destroy_process(hl.out.job);
		hl.out_active = 0;
		if (hl.slot_full && hl.slot_job == id)
			hl.slot_full = 0;
	} else if (image_for(id)) {
		image_in_abort(image_for(id));
	}
}

/* MIGRATE_HOME, or the node leaving: now, or after the call in flight.
 * A node that leaves does not wait for a call that may block for ever (a
 * read of a terminal): it cuts the call short as a signal would, and the
 * call, restarted, goes home with the job and runs on there. */
static void send_home(struct hl_job *hj, const char *why)
{
	struct job *j = hj->job;
	if (hj->checkpointing) {
		hj->home_after_checkpoint = 1;
		return;
	}
	if (hj->caller) {
		hj->home_after_reply = 1;
		/* Leaving, or other threads' calls would wait behind it: cut. */
		if (hl.leaving || j->p->nthreads > 1)
			host_interrupt(hj->caller);
	} else
		go_home(j, OM_HOME_REQUESTED, why, j->state == JOB_SLEEPING ? (int32_t)j->regs.rax : -1);
}

/* ------------------------------------------------------------ to another node */

static void refuse_move(uint32_t id, const char *why)
{
	struct om_error e = { .code = OM_E_STATE };
	uint8_t buf[CTL_MAX];
	snprintf(e.msg, sizeof e.msg, "%s", why);
	kprintf("job %u: it cannot move to another node now (%s)\n", id, why);
	ctl_send(OM_T_JOB_MOVE_REFUSED, id, 0, buf, om_error_encode(&e, buf, sizeof buf));
}

/* Why the job cannot leave as it stands (NULL: it can): only a job that
 * runs in user mode, with nothing of its own out or queued, travels
 * without home; any other goes through home, which knows what to do with
 * a call in flight. */
static const char *move_blocker(struct hl_job *hj)
{
	struct job *j = hj->job;
	if (hl.leaving)
		return "the node is leaving";
	if (hj->checkpointing)
		return "a checkpoint of it is on its way home";
	if (j->p->nthreads > 1)
		return "it has threads";
	if (decide_replaying(j->p))
		return "it makes its calls again from its checkpoint"; /* the replay is this node's */
	if (j->state == JOB_SLEEPING)
		return "it sleeps in a call";
	if (j->state != JOB_RUNNABLE || hj->vfork_child || hj->fork_out)
		return "a call of its is at home";
	if (j->p->stopped)
		return "it is stopped";
	if (hj->send_waiting || hj->in_slot || hj->home_after_reply || hj->interrupt_after)
		return "a frame of its waits to be sent";
	if (hj->ack_now || hj->ack_after)
		return "an acknowledgement of its waits to be sent";
	return NULL;
}

/* JOB_MOVE: JOB_MOVING, then the image, which the agent relays to the
 * target; the job stays here, stopped, until the agent's word. */
static void on_move(struct hl_job *hj, uint32_t id)
{
	const char *why = hj ? move_blocker(hj) : "no such job here";
	if (why) {
		refuse_move(id, why);
		return;
	}
	struct job *j = hj->job;
	struct om_job_moving m = { .cpu_ns = j->cpu_ns, .signals_in = hj->signals_in };
	uint8_t buf[CTL_MAX];
	sched_take(j);
	hj_free(hj);
	signal_settle_restart(j);
	kprintf("job %u: moving to another node\n", id);
	ctl_send(OM_T_JOB_MOVING, id, j->p->sent, buf, om_job_moving_encode(&m, buf, sizeof buf));
	hl.moving[hl.nmoving].job = j; /* fewer than SCHED_JOBS_MAX: j was in hl.jobs */
	hl.moving[hl.nmoving++].signals_in = m.signals_in;
	hl.homing[hl.nhoming++] = j;   /* slots_taken keeps room for it */
}

/* Takes a moving job off every list; NULL if id is not moving. */
static struct job *moving_take(uint32_t id, uint32_t *signals_in)
{
	int i = moving_index(id);
	if (i < 0)
		return NULL;
	struct job *j = hl.moving[i].job;
	*signals_in = hl.moving[i].signals_in;
	hl.moving[i] = hl.moving[--hl.nmoving];
	for (int k = 0; k < hl.nhoming; k++)
		if (hl.homing[k] == j) {
			memmove(&hl.homing[k], &hl.homing[k + 1], (size_t)(hl.nhoming - k - 1) * sizeof j);
			hl.nhoming--;
			break;
		}
	if (hl.out_active && hl.out.job == j) {
		hl.out_active = 0; /* the agent drops what it still gets of the image */
		if (hl.slot_full && hl.slot_job == id && !hj_by_id(id))
			hl.slot_full = 0;
	}
	return j;
}

/* JOB_RESUME: its move failed (the target refused it, or was lost). */
static void on_resume(uint32_t id)
{
	uint32_t signals_in;
	struct job *j = moving_take(id, &signals_in);
	struct hl_job *hj = NULL;
	if (!j) {
		kprintf("job %u: JOB_RESUME for no job moving from here, ignored\n", id);
		return;
	}
	for (int i = 0; i < SCHED_JOBS_MAX && !hj; i++)
		if (!hl.jobs[i].job)
			hj = &hl.jobs[i];
	if (!hj || sched_start(j, &home_host) < 0) { /* cannot be: its slot was kept */
		struct om_job_exit e = { .kind = OM_EXIT_SIGNALED, .status = LX_SIGKILL };
		uint8_t buf[CTL_MAX];
		uint32_t sent = j->p->sent;
		kprintf("job %u: no room to take it back; it is lost\n", id);
		job_destroy_process(j);
		ctl_send(OM_T_JOB_EXIT, id, sent, buf, om_job_exit_encode(&e, buf, sizeof buf));
		return;
	}
	hj_free(hj);
	hj->job = j;
	hj->signals_in = signals_in;
	kprintf("job %u: its move failed; it goes on here\n", id);
	if (hl.leaving)
		go_home(j, OM_HOME_REQUESTED, hl.leaving, -1);
}

static void on_arriving(const struct om_hdr *h, const uint8_t *p)
{
	struct om_job_moving m;
	int slot = -1;
	if (om_job_moving_decode(p, h->length, &m) != OM_OK) {
		kprintf("job %u: bad JOB_ARRIVING, ignored\n", h->job);
		return;
	}
	/* Its own entry, else a free one (each is freed by the job's arrival
	 * or the JOB_KILL of a move that failed), else the first. */
	for (int i = 0; i < IMAGES_IN && slot < 0; i++)
		if (hl.arriving[i].job == h->job)
			slot = i;
	for (int i = 0; i < IMAGES_IN && slot < 0; i++)
		if (!hl.arriving[i].job)
			slot = i;
	slot = slot < 0 ? 0 : slot;
	hl.arriving[slot].job = h->job;
	hl.arriving[slot].signals_in = m.signals_in;
}

/* ------------------------------------------------------------ checkpoints */

/* Why the job cannot be imaged as it stands and go on (NULL: it can):
 * its threads must be in user mode or asleep in a call of the node's own
 * (imaged as making it again), with nothing out at home, pending or
 * queued; home asks again later. */
static const char *checkpoint_blocker(struct hl_job *hj)
{
	struct job *j = hj->job;
	if (hl.leaving)
		return "the node is leaving";
	if (hj->checkpointing)
		return "one is on its way";
	if (hj->caller || hj->send_waiting || hj->in_slot || hj->home_after_reply || hj->interrupt_after ||
	    hj->fork_out || hj->exec_out || hj->vfork_child)
		return "a call of its is at home";
	if (hj->ack_now || hj->ack_after)
		return "an acknowledgement of its waits to be sent";
	if (j->p->stopped || j->p->dying)
		return "it is stopped or ending";
	for (struct job *t = j->p->threads; t; t = t->sibling) {
		if (!job_thread_live(t))
			continue;
		if (t->state != JOB_RUNNABLE && t->state != JOB_SLEEPING)
			return "a thread of its waits";
		if (t->restart_pending || signal_pending(t))
			return "a signal of its is pending";
	}
	return NULL;
}

static void checkpoint_answer(uint32_t id, uint32_t sent, int code, const char *why)
{
	struct om_error e = { .code = (uint32_t)code };
	uint8_t buf[CTL_MAX];
	snprintf(e.msg, sizeof e.msg, "%s", why);
	ctl_send(OM_T_CHECKPOINT_TAKEN, id, sent, buf, om_error_encode(&e, buf, sizeof buf));
}

/* The calls sent of job id, wherever it is here (a job on its way home
 * answers a CHECKPOINT that crossed its JOB_HOME): 0 if it is not. */
static uint32_t sent_of(uint32_t id)
{
	struct hl_job *hj = hj_by_id(id);
	if (hj)
		return hj->job->p->sent;
	for (int i = 0; i < hl.nhoming; i++)
		if (hl.homing[i]->id == id)
			return hl.homing[i]->p->sent;
	if (hl.out_active && hl.out.job->id == id)
		return hl.out.job->p->sent;
	int m = moving_index(id);
	return m >= 0 ? hl.moving[m].job->p->sent : 0;
}

/* CHECKPOINT: CHECKPOINT_TAKEN, then the job's image as it stands, which
 * home keeps; meanwhile its threads are off the run list, and then they
 * go on where they were. */
static void on_checkpoint(struct hl_job *hj, uint32_t id, const uint8_t *p, uint32_t len)
{
	struct om_checkpoint ask;
	if (om_checkpoint_decode(p, len, &ask) != OM_OK) {
		checkpoint_answer(id, sent_of(id), OM_E_RANGE, "a malformed CHECKPOINT");
		return;
	}
	if (hj)
		hj->job->p->dec.on = 1; /* home keeps a log for it: what the node decides goes there */
	const char *why = hj ? checkpoint_blocker(hj) : "it is leaving";
	if (why) {
		checkpoint_answer(id, sent_of(id), OM_E_BUSY, why);
		return;
	}
	struct job *j = hj->job;
	decide_anchor(j, j->state == JOB_SLEEPING); /* where a restart from it begins */
	take_process(j);
	hj->checkpointing = 1;
	hj->ck_delta = ask.base != 0 && ask.base == j->p->uvm.ck_seq;
	checkpoint_answer(id, j->p->sent, 0, "");
	hl.homing[hl.nhoming++] = j; /* its slot is counted once: it left the run list */
}

/* Every thread of j's process on the run list again in the state it was
 * taken off in (one asleep sleeps on; sched_start would wake it). 0, or
 * -1 when one found no room. */
static int relist_as_they_were(struct job *j)
{
	int rc = 0;
	for (struct job *t = j->p->threads; t; t = t->sibling) {
		int state = t->state;
		if (sched_start(t, &home_host) == 0)
			t->state = state;
		else
			rc = -1;
	}
	return rc;
}

/* Off the image queue, its image not (all) sent: killed, or the link lost. */
static void checkpoint_unqueue(struct job *j)
{
	for (int k = 0; k < hl.nhoming; k++)
		if (hl.homing[k] == j) {
			memmove(&hl.homing[k], &hl.homing[k + 1], (size_t)(hl.nhoming - k - 1) * sizeof j);
			hl.nhoming--;
		}
	if (hl.out_active && hl.out.job == j) {
		hl.out_active = 0;
		if (hl.slot_full && hl.slot_job == j->id && hl.slot_type != OM_T_SYSCALL_REQ)
			hl.slot_full = 0;
	}
	hj_of(j)->checkpointing = 0;
	(void)relist_as_they_were(j); /* to be taken by the caller */
}

/* Its image is out (rc 0), or does not encode (rc < 0): it goes on. */
static void checkpoint_done(struct job *j, int rc)
{
	struct hl_job *hj = hj_of(j);
	uint32_t id = j->id;
	hj->checkpointing = 0;
	if (relist_as_they_were(j) != 0) { /* cannot be: its slot was counted */
		struct om_job_exit e = { .kind = OM_EXIT_SIGNALED, .status = LX_SIGKILL };
		uint8_t buf[CTL_MAX];
		uint32_t sent = j->p->sent;
		kprintf("job %u: no room to take it back after its checkpoint; it is lost\n", id);
		hj_free(hj);
		drop_process(j);
		ctl_send(OM_T_JOB_EXIT, id, sent, buf, om_job_exit_encode(&e, buf, sizeof buf));
		return;
	}
	if (rc < 0) {
		kprintf("job %u: its checkpoint does not encode (%s)\n", id, om_strerror(rc));
		checkpoint_answer(id, j->p->sent, rc, om_strerror(rc));
		j->p->dec.out_lost = 1; /* counted from a checkpoint home will not have */
	}
	if (hj->home_after_checkpoint) {
		hj->home_after_checkpoint = 0;
		send_home(hj, hl.leaving ? hl.leaving : "requested");
	}
	smp_wake_idle();
}

/* A SIGNAL or JOB_CONTINUE from home names the last call home has
 * answered: none the node has not sent, none before the previous one's. */
static int home_in_order(struct hl_job *hj, const struct om_hdr *h)
{
	struct job_seq s = { hj->job->p->sent, hj->home_stamp };
	if (job_seq_frame(&s, h->seq) != 0) {
		kprintf("job %u: %s from home after call %u, but call %u is the last sent (and %u was named): ignored\n",
			h->job, om_type_name(h->type), h->seq, s.calls, s.stamp);
		return 0;
	}
	hj->home_stamp = s.stamp;
	return 1;
}

/* Home's decisions for a job restarting from a checkpoint (decide.h):
 * for its process here, or the one whose image is arriving. */
static void on_decisions(struct hl_job *hj, const struct om_hdr *h, const uint8_t *p)
{
	struct image_in *in = image_for(h->job);
	if (om_decisions_check(p, h->length, NULL) != OM_OK || (!hj && !in)) {
		kprintf("job %u: DECISIONS malformed or for no job here, ignored\n", h->job);
		return;
	}
	decide_feed(hj ? &hj->job->p->dec : &hl.in_dec[in - hl.in], p, h->length);
}

static void on_frame(const struct om_hdr *h, const uint8_t *p)
{
	struct hl_job *hj = hj_by_id(h->job);
	struct job *j = hj ? hj->job : NULL;
	/* A frame for a job is seen to as on one core: with the job off every
	 * other core, before any call it has made since and no core has seen
	 * to yet (that call is made again). Its other threads run on: what
	 * the frame changes of them is their memory (a reply's buffers, as
	 * Linux copies out while they run) or their process's signals. */
	if (j)
		sched_park(j);
	if (hj && hj->caller && hj->caller != j)
		sched_park(hj->caller);
	switch (h->type) {
	case OM_T_IMAGE_BEGIN:
	case OM_T_IMAGE_THREAD:
	case OM_T_IMAGE_REGION:
	case OM_T_IMAGE_PAGES:
	case OM_T_IMAGE_END:
		on_image(h, p);
		return;
	case OM_T_SYSCALL_REP:
		on_reply(hj, h, p);
		return;
	case OM_T_SIGNAL:
	case OM_T_JOB_CONTINUE:
		/* Ignored, but acknowledged: home counts what it sent. */
		if (hj && hj->checkpointing) { /* home holds them until the image is in */
			kprintf("job %u: %s during its checkpoint, ignored\n", h->job, om_type_name(h->type));
			ack_signal(hj);
			return;
		}
		if (hj && !home_in_order(hj, h)) {
			ack_signal(hj);
			return;
		}
		if (h->type == OM_T_SIGNAL) {
			on_signal(hj, h, p);
			return;
		}
		if (j)
			ack_signal(hj);
		if (!j || h->length != 0) {
			kprintf("job %u: JOB_CONTINUE for no job here or malformed, ignored\n", h->job);
			return;
		}
		if (signal_continue(j))
			send_stopped(j, 0);
		smp_wake_idle();
		return;
	case OM_T_MIGRATE_HOME:
		if (!j && image_for(h->job)) {
			for (int i = 0; i < IMAGES_IN; i++)
				/* a slot whose image never completed is free again */
				if (hl.home_on_arrival[i] == 0 || hl.home_on_arrival[i] == h->job ||
				    !image_for(hl.home_on_arrival[i])) {
					hl.home_on_arrival[i] = h->job;
					return;
				}
		}
		if (!j) {
			kprintf("job %u: MIGRATE_HOME for no job here, ignored\n", h->job);
			return;
		}
		send_home(hj, "requested");
		return;
	case OM_T_JOB_KILL:
		forget_exit(h->job);
		on_kill(h->job);
		return;
	case OM_T_JOB_REATTACHED:
		on_reattached(h->job);
		return;
	case OM_T_JOB_FORK:
		on_fork(h, p);
		return;
	case OM_T_JOB_MOVE:
		on_move(hj, h->job);
		return;
	case OM_T_JOB_RESUME:
		on_resume(h->job);
		return;
	case OM_T_JOB_ARRIVING:
		on_arriving(h, p);
		return;
	case OM_T_CHECKPOINT:
		on_checkpoint(hj, h->job, p, h->length);
		return;
	case OM_T_DECISIONS:
		on_decisions(hj, h, p);
		return;
	default:
		return;
	}
}

/* ------------------------------------------------------------ a new link */

/* Whether hj can wait for the next link and go on there: it runs, or
 * waits for the answer to a plain call. One in the middle of something
 * more with home (a fork or exec out, on its way home) cannot: home's
 * side of that is gone with the link. */
static int keepable(const struct hl_job *hj)
{
	return !hj->fork_out && !hj->exec_out && !hj->vfork_child && !hj->home_after_reply &&
	       !hj->home_after_checkpoint && !hj->home_what[0] && !hl.leaving && !hj->job->p->dying;
}

/* The call hj waits an answer for, having sent it (or as good as: it
 * was in the slot when the link dropped): 0 for none. */
static uint32_t waiting_call(const struct hl_job *hj)
{
	return hj->caller && ((!hj->send_waiting && !hj->in_slot) || hj->resend) ? hj->job->p->seq : 0;
}

static void drop_kept(const char *why)
{
	for (int i = 0; i < SCHED_JOBS_MAX; i++)
		if (hl.jobs[i].job) {
			struct job *j = hl.jobs[i].job;
			kprintf("job %u: dropped, %s\n", j->id, why);
			hj_free(&hl.jobs[i]);
			drop_process(j);
		}
	memset(hl.exits, 0, sizeof hl.exits);
	hl.down_ms = 0;
	hl.claims_due = 0;
}

/* The link is back (WELCOME): the kept jobs are claimed on the next poll. */
static void on_link_back(void)
{
	hl.claims_due = hl.down_ms != 0;
}

/* Claims every kept job and every exit the link may have lost; 0 once
 * all are sent. Frames of the jobs wait until each claim is answered. */
static int send_claims(void)
{
	uint8_t buf[32];
	for (int i = 0; i < SCHED_JOBS_MAX; i++) {
		struct hl_job *hj = &hl.jobs[i];
		if (!hj->job || hj->claimed)
			continue;
		struct job *j = hj->job;
		struct om_job_reattach r = { .pid = (uint32_t)j->p->ident.pid, .uid = (uint32_t)j->p->ident.uid,
					     .waiting = waiting_call(hj), .signals_in = hj->signals_in,
					     .stopped = (uint32_t)j->p->stopped };
		int n = om_job_reattach_encode(&r, buf, sizeof buf);
		if (n < 0 || agent_job_send(OM_T_JOB_REATTACH, j->id, j->p->sent, buf, (size_t)n) != 0)
			return -1;
		kprintf("job %u: claimed on the new link (call %u sent, waiting for %u)\n", j->id, j->p->sent,
			r.waiting);
		hj->claimed = 1;
	}
	for (int i = 0; i < EXITS_KEPT; i++) {
		struct kept_exit *k = &hl.exits[i];
		if (!k->job || k->claimed)
			continue;
		if ((int32_t)(timer_ms() - k->at_ms) > (int32_t)agent_grace_ms()) { /* home gave the job up long ago */
			k->job = 0;
			continue;
		}
		struct om_job_reattach r = { .pid = k->pid, .uid = k->uid, .exited = 1 };
		int n = om_job_reattach_encode(&r, buf, sizeof buf);
		if (n < 0 || agent_job_send(OM_T_JOB_REATTACH, k->job, k->seq, buf, (size_t)n) != 0)
			return -1;
		k->claimed = 1;
	}
	return 0;
}

/* JOB_REATTACHED: home has the job again; what it waited to send goes,
 * the call it waits for first, under its number. */
static void on_reattached(uint32_t id)
{
	struct hl_job *hj = hj_by_id(id);
	if (hj && hj->claimed) {
		hj->claimed = 0;
		if (waiting_call(hj)) {
			unsend(hj); /* queued already, when the last link dropped before it went */
			hj->resend = 1;
			memmove(&hl.send_queue[1], &hl.send_queue[0], (size_t)hl.nsend * sizeof hj);
			hl.send_queue[0] = hj;
			hl.nsend++;
			hj->send_waiting = 1;
			if (hj->interrupt_seq == hj->job->p->seq)
				hj->interrupt_after = 1; /* asked before: again, after the call */
		}
		return;
	}
	for (int i = 0; i < EXITS_KEPT; i++)
		if (hl.exits[i].job == id && hl.exits[i].claimed) {
			struct kept_exit k = hl.exits[i];
			hl.exits[i].job = 0;
			ctl_send(OM_T_JOB_EXIT, k.job, k.seq, k.data, k.len); /* kept again: the link may drop again */
			return;
		}
	kprintf("job %u: JOB_REATTACHED for no claim of ours, ignored\n", id);
}

/* JOB_KILL for an exit kept: home has it, or gave the job up. */
static void forget_exit(uint32_t id)
{
	for (int i = 0; i < EXITS_KEPT; i++)
		if (hl.exits[i].job == id)
			hl.exits[i].job = 0;
}

/* The link dropped. The jobs that can wait for the next one do, up to the
 * agent's grace (it keeps them as long); the rest, and every image on its
 * way, are dropped: home hears they were lost. What was queued is gone:
 * the claims on the next link say where each job stands instead. */
static void on_link_lost(void)
{
	for (int i = 0; i < SCHED_JOBS_MAX; i++)
		if (hl.jobs[i].job && hl.jobs[i].checkpointing) {
			checkpoint_unqueue(hl.jobs[i].job); /* its threads back, as they were */
			hl.jobs[i].job->p->dec.out_lost = 1; /* counted from a checkpoint home will not have */
		}
	for (int i = 0; i < SCHED_JOBS_MAX; i++) {
		struct hl_job *hj = &hl.jobs[i];
		if (!hj->job)
			continue;
		if (!keepable(hj)) {
			struct job *j = hj->job;
			kprintf("job %u: dropped, the agent link is gone\n", j->id);
			hj_free(hj);
			drop_process(j);
			continue;
		}
		hj->in_slot = 0; /* its request never left: it goes again on the next link */
		struct decide *dec = &hj->job->p->dec;
		if (decide_replaying(hj->job->p)) {
			if (hj->caller) /* home sends again those after the call out, with its answer */
				decide_unfed(dec);
		} else if (dec->in_flight ||
			   (hl.slot_full && hl.slot_type == OM_T_DECISIONS && hl.slot_job == hj->job->id)) {
			dec->out_lost = 1; /* home may not have them: it takes no restart from before */
		}
		hj->claimed = 0;
		hj->ack_now = hj->ack_after = 0; /* the claim carries the count */
		if (hj->caller && !hj->send_waiting)
			hj->interrupt_after = 0;
		kprintf("job %u: kept for the next link\n", hj->job->id);
	}
	for (int i = 0; i < EXITS_KEPT; i++)
		hl.exits[i].claimed = 0;
	hl.claims_due = 0;
	hl.down_ms = timer_ms() | 1;
	for (int i = 0; i < IMAGES_IN; i++) {
		if (image_in_busy(&hl.in[i]))
			image_in_abort(&hl.in[i]);
		decide_free(&hl.in_dec[i]);
	}
	for (int i = 0; i < hl.nmoving; i++)
		if (!job_streaming(hl.moving[i].job))
			job_destroy_process(hl.moving[i].job); /* the others go below */
	hl.nmoving = 0;
	memset(hl.arriving, 0, sizeof hl.arriving);
	for (int i = 0; i < hl.nhoming; i++)
		job_destroy_process(hl.homing[i]);
	hl.nhoming = 0;
	if (hl.out_active) {
		job_destroy_process(hl.out.job);
		hl.out_active = 0;
	}
	hl.ctl_count = 0;
	hl.slot_full = 0;
}

/* ------------------------------------------------------------ sending */

/* A frame of a job claimed on a new link, whose answer has not come: it
 * waits, and the job's later frames behind it. */
static int ctl_waits(const struct ctl_frame *f)
{
	struct hl_job *of = hj_by_id(f->job);
	return of && of->claimed;
}

/* The queue's head waits: the frames of other jobs behind it go, in their
 * order; the waiting ones stay, in theirs. 0 (some wait, or no room). */
static int ctl_pass_waiting(void)
{
	unsigned n = hl.ctl_count, kept = 0;
	int full = 0;
	for (unsigned k = 0; k < n; k++) {
		struct ctl_frame *f = &hl.ctl[(hl.ctl_head + k) % CTL_FRAMES];
		/* After one that found no room, none goes: a job's frames keep their order. */
		if (full || ctl_waits(f) || (full = agent_job_send(f->type, f->job, f->seq, f->data, f->len) != 0)) {
			if (k != kept) /* compacted towards the head */
				hl.ctl[(hl.ctl_head + kept) % CTL_FRAMES] = *f;
			kept++;
		}
	}
	hl.ctl_count = kept;
	return 0;
}

/* Whether every frame queued waits for its job's claim to be answered. */
static int ctl_only_waiting(void)
{
	for (unsigned k = 0; k < hl.ctl_count; k++)
		if (!ctl_waits(&hl.ctl[(hl.ctl_head + k) % CTL_FRAMES]))
			return 0;
	return 1;
}

/* Sends the queued control frames (pending acknowledgements join them
 * first); 0 while some must wait for room, or the link is down
 * (on_link_lost empties the queue). */
static int ctl_drain(void)
{
	for (;;) {
		for (int i = 0; i < SCHED_JOBS_MAX; i++)
			if (hl.jobs[i].job && hl.jobs[i].ack_now)
				queue_ack(&hl.jobs[i]); /* the queue may have room now */
		if (!hl.ctl_count)
			return 1;
		struct ctl_frame *f = &hl.ctl[hl.ctl_head];
		if (ctl_waits(f))
			return ctl_pass_waiting();
		if (agent_job_send(f->type, f->job, f->seq, f->data, f->len) != 0)
			return 0;
		hl.ctl_head = (hl.ctl_head + 1) % CTL_FRAMES;
		hl.ctl_count--;
	}
}

/* What j's process decided on its own goes home in the slot, ahead of
 * its next call or image (decide.h): 1 if it took the slot. */
static int slot_decisions(struct job *j)
{
	if (!decide_pending(j->p))
		return 0;
	hl.slot_len = decide_take(j->p, hl.slot, OM_MAX_PAYLOAD);
	hl.slot_type = OM_T_DECISIONS;
	hl.slot_job = j->id;
	hl.slot_seq = j->p->sent;
	hl.slot_full = hl.slot_len > 0;
	return hl.slot_full;
}

/* Fills the free slot: the oldest waiting call (the decisions before it
 * first), else the next frame of the image going home (starting the
 * next one when one is done). */
static void slot_fill(void)
{
	while (!hl.slot_full && hl.nsend) {
		int i = 0;
		while (i < hl.nsend && hl.send_queue[i]->claimed)
			i++; /* waits for its claim's answer */
		if (i == hl.nsend)
			break;
		struct hl_job *hj = hl.send_queue[i];
		if (slot_decisions(hj->job))
			break; /* the call goes next, behind them */
		memmove(&hl.send_queue[i], &hl.send_queue[i + 1], (size_t)(--hl.nsend - i) * sizeof hl.send_queue[0]);
		hj->send_waiting = 0;
		request_encode(hj); /* may instead answer the job at once, or send it home */
	}
	for (int i = 0; i < SCHED_JOBS_MAX && !hl.slot_full; i++)
		if (hl.jobs[i].job && !hl.jobs[i].claimed &&
		    decide_pending(hl.jobs[i].job->p) >= DECIDE_OUT_CAP / 2)
			slot_decisions(hl.jobs[i].job); /* too many to wait for a call */
	while (!hl.slot_full && (hl.out_active || hl.nhoming)) {
		if (!hl.out_active) {
			struct hl_job *next = hj_of(hl.homing[0]);
			/* A checkpoint's or a move's decisions go before its
			 * image (home keeps them, should the move fail); a job
			 * going home has a log no more. */
			int keep = (next && next->checkpointing) || moving_index(hl.homing[0]->id) >= 0;
			if (keep && slot_decisions(hl.homing[0]))
				break;
			decide_drop(hl.homing[0]->p);
			image_out_start(&hl.out, hl.homing[0]);
			memmove(&hl.homing[0], &hl.homing[1], (size_t)--hl.nhoming * sizeof hl.homing[0]);
			hl.out_active = 1;
			struct hl_job *ck = hj_of(hl.out.job);
			hl.out.checkpoint = ck && ck->checkpointing;
			hl.out.delta = hl.out.checkpoint && ck->ck_delta;
			hl.out.keep = moving_index(hl.out.job->id) >= 0 || hl.out.checkpoint;
		}
		uint8_t type;
		uint32_t id = hl.out.job->id;
		struct job *oj = hl.out.job; /* image_out_next lets go of it at the end */
		int n = image_out_next(&hl.out, &type, hl.slot, OM_MAX_PAYLOAD);
		if (n <= 0 && hl.out.checkpoint) {
			hl.out_active = 0;
			checkpoint_done(oj, n);
			continue;
		}
		if (n <= 0 && hl.out.keep) {
			/* It waits here, whole, for the agent's word; an
			 * image that does not encode is a move that fails. */
			hl.out_active = 0;
			if (n < 0)
				refuse_move(id, om_strerror(n));
			else
				kprintf("job %u: image sent on to its next node\n", id);
			continue;
		}
		if (n <= 0) {
			hl.out_active = 0;
			if (n < 0) {
				/* Home waits for the image: say the job is gone,
				 * killed, so that it does not wait forever. */
				struct om_job_exit e = { .kind = OM_EXIT_SIGNALED, .status = LX_SIGKILL };
				uint8_t buf[CTL_MAX];
				uint32_t sent = hl.out.job->p->sent;
				kprintf("job %u: its image does not encode (%s); it is lost\n", id, om_strerror(n));
				job_destroy_process(hl.out.job);
				ctl_send(OM_T_JOB_EXIT, id, sent, buf, om_job_exit_encode(&e, buf, sizeof buf));
			} else {
				kprintf("job %u: image sent home\n", id);
			}
			continue;
		}
		hl.slot_type = type;
		hl.slot_len = (size_t)n;
		hl.slot_job = id;
		hl.slot_seq = hl.out.job->p->sent;
		hl.slot_full = 1;
	}
}

/* A call whose timeout starts again when it is made again: cut short for
 * the others it waits longer each time, so that it still times out. */
static int timed_call(unsigned nr)
{
	switch (nr) {
	case NR_poll: case NR_ppoll: case NR_select: case NR_pselect6: case NR_epoll_wait:
	case NR_epoll_pwait: case NR_epoll_pwait2: case NR_nanosleep: case NR_clock_nanosleep:
	case NR_semtimedop: case NR_io_getevents: case NR_io_pgetevents: case NR_mq_timedreceive:
	case NR_mq_timedsend: case NR_recvmmsg: case NR_futex:
		return 1;
	default:
		return 0;
	}
}

/* A call out while other threads of its process wait in line, for
 * longer than its turn (FAIR_MS; for a call with a timeout doubled for
 * each cut of its thread's since its last answer), is cut short: it comes
 * back with a restart code and is made again behind them (a call that
 * does not block has its answer first). */
static void fair_turns(void)
{
	uint64_t now = timer_ns();
	for (int i = 0; i < SCHED_JOBS_MAX; i++) {
		struct hl_job *hj = &hl.jobs[i];
		struct job *c = hj->caller;
		if (hj->job && c && hj->interrupt_after && !hj->in_slot && !hj->send_waiting)
			queue_interrupt(hj); /* asked for when the control queue was full */
		if (!hj->job || !c || !hj->wait_head || hj->send_waiting || hj->in_slot || hj->filling ||
		    hj->fork_out || hj->vfork_child || hj->exec_out || hj->home_after_reply ||
		    hj->interrupt_seq == c->p->seq)
			continue;
		unsigned shift = !timed_call(hj->fwd->nr) ? 0 : c->host_cuts < FAIR_BACKOFF_MAX ? c->host_cuts
												: FAIR_BACKOFF_MAX;
		if (now - hj->sent_ns < ((uint64_t)FAIR_MS * 1000000u << shift))
			continue;
		c->host_cuts++;
		hj->fair_seq = hj->interrupt_seq = c->p->seq;
		hj->interrupt_after = 1;
		queue_interrupt(hj);
	}
}

void homelink_poll(void)
{
	static int busy;
	if (busy)
		return; /* called again from what it calls: the outer loop goes on */
	busy = 1;
	fair_turns();
	/* Signed: down_ms is made odd (non-zero), so it may be a tick ahead. */
	if (hl.down_ms && !hl.claims_due && (int32_t)(timer_ms() - hl.down_ms) > (int32_t)(agent_grace_ms() + GRACE_SLACK_MS))
		drop_kept("the agent link stayed down past the grace");
	if (hl.claims_due && send_claims() == 0) {
		hl.claims_due = 0;
		hl.down_ms = 0;
	}
	for (;;) {
		if (hl.down_ms)
			break; /* the jobs' frames wait for the next link */
		if (!ctl_drain() && !ctl_only_waiting())
			break;
		slot_fill();
		/* What filling the slot queued (a JOB_HOME before its image)
		 * goes first. */
		if ((!ctl_drain() && !ctl_only_waiting()) || !hl.slot_full)
			break;
		if (agent_job_send(hl.slot_type, hl.slot_job, hl.slot_seq, hl.slot, hl.slot_len) != 0)
			break; /* no room yet, or the link is down (on_link_lost cleans up) */
		hl.slot_full = 0;
		struct hl_job *hj = hj_by_id(hl.slot_job);
		if (hj && hj->in_slot)
			request_sent(hj);
		if (hj && hl.slot_type == OM_T_DECISIONS)
			hj->job->p->dec.in_flight = 1; /* until an answer says home has them */
	}
	busy = 0;
}

int homelink_jobs_in_transit(void)
{
	return images_arriving() + hl.nhoming + hl.out_active + moved_out();
}

void homelink_leave(const char *why)
{
	if (hl.leaving)
		return;
	hl.leaving = why;
	for (int i = 0; i < SCHED_JOBS_MAX; i++)
		if (hl.jobs[i].job)
			send_home(&hl.jobs[i], why); /* again for one asked home already: now its call is cut */
}

int homelink_idle(void)
{
	return sched_count() == 0 && homelink_jobs_in_transit() == 0 && hl.ctl_count == 0 && !hl.slot_full;
}

int homelink_init(void)
{
	hl.slot = malloc(OM_MAX_PAYLOAD);
	if (!hl.slot)
		return -1;
	for (int i = 0; i < SCHED_JOBS_MAX; i++)
		if (!(hl.jobs[i].fwd = malloc(sizeof *hl.jobs[i].fwd)))
			return -1;
	agent_set_job_handlers(on_frame, on_link_lost, on_link_back);
	return 0;
}
