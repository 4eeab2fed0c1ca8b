/* homelink.c - jobs from home: the job frames of the agent link on one side,
 * the scheduler on the other. Outgoing frames wait in a short queue of
 * small control frames (JOB_STARTED, JOB_ERROR, JOB_EXIT, JOB_HOME) and one
 * large slot (a forwarded call, or the next frame of an image going home),
 * refilled only when the link has taken the previous one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "homelink.h"
#include "job.h"
#include "job_image.h"
#include "job_msg.h"
#include "linux_abi.h"
#include "net.h"
#include "sched.h"
#include "signal.h"
#include "syscall.h"
#include "syscall_codec.h"
#include "sysnr.h"

#define CTL_FRAMES 32 /* one job makes at most a few: STARTED, HOME, EXIT, ERRORs */
#define CTL_MAX 256

struct ctl_frame {
	uint8_t type;
	uint32_t job;
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
	struct image_in in;
	uint32_t in_job;
	struct image_out out;
	int out_active;
	struct om_sysctx *fwd;       /* the call in flight */
	uint64_t fwd_args[6];        /* as the job made it (before clamping) */
	uint64_t fwd_done;           /* bytes a continued write has moved so far */
	int home_after_reply;        /* MIGRATE_HOME arrived while a call was out */
	int filling;                 /* the call out is a pread filling a file mapping */
	uint32_t signals_in;         /* SIGNAL and JOB_CONTINUE frames taken in for the job */
	/* SIGNAL_SEEN counts not queued yet: for when the queue has room, and
	 * for after the frame now in the slot (0: none) */
	uint32_t ack_now, ack_after, ack_job;
	uint32_t interrupt_seq, interrupt_job; /* the call CALL_INTERRUPT was asked for (0: none) */
	int interrupt_after;         /* ... to be queued once the call has left the slot */
} hl;

static void ctl_send(uint8_t type, uint32_t job, const void *data, int len)
{
	if (len < 0 || len > CTL_MAX || hl.ctl_count == CTL_FRAMES) {
		kprintf("job %u: cannot queue a %s frame\n", job, om_type_name(type));
		return;
	}
	struct ctl_frame *f = &hl.ctl[(hl.ctl_head + hl.ctl_count++) % CTL_FRAMES];
	f->type = type;
	f->job = job;
	f->len = (uint16_t)len;
	memcpy(f->data, data, (size_t)len);
	homelink_poll();
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
	ctl_send(OM_T_JOB_ERROR, job, buf, om_error_encode(&e, buf, sizeof buf));
}

/* ------------------------------------------------------------ the job's host */

static int read_user(void *ctx, uint64_t addr, uint32_t len, void *dst)
{
	return uvm_read(&((struct job *)ctx)->uvm, addr, dst, len) < 0 ? -LX_EFAULT : 0;
}

static int write_user(void *ctx, uint64_t addr, uint32_t len, const void *src)
{
	return uvm_write(&((struct job *)ctx)->uvm, addr, src, len, 0) < 0 ? -LX_EFAULT : 0;
}

/* A file mapping's own contents land even where the program may not write. */
static int write_fill(void *ctx, uint64_t addr, uint32_t len, const void *src)
{
	return uvm_write(&((struct job *)ctx)->uvm, addr, src, len, 1) < 0 ? -LX_EFAULT : 0;
}

static void go_home(struct job *j, uint32_t reason, const char *text, int32_t pending);

/* Encodes the call with these arguments into the slot. */
static void forward_send(struct job *j, unsigned nr, const uint64_t args[6])
{
	int uerr = 0;
	int n = om_sysreq_encode(hl.fwd, nr, args, read_user, j, hl.slot, OM_MAX_PAYLOAD, &uerr);
	if (n == OM_SC_EUSER) {
		sched_reply(j, -uerr);
		return;
	}
	if (n == OM_E_RANGE) { /* not forwardable with these arguments */
		go_home(j, OM_HOME_SYSCALL, om_syscall_name(nr), (int32_t)nr);
		return;
	}
	if (n < 0) {
		kprintf("job %u: system call %u does not encode (%s)\n", j->id, nr, om_strerror(n));
		sched_reply(j, -LX_ENOSYS);
		return;
	}
	hl.slot_len = (size_t)n;
	hl.slot_type = OM_T_SYSCALL_REQ;
	hl.slot_job = j->id;
	hl.slot_seq = ++j->seq;
	hl.slot_full = 1;
	homelink_poll();
}

static void host_forward(struct job *j, const struct sys_call *sc)
{
	memcpy(hl.fwd_args, sc->a, sizeof hl.fwd_args);
	hl.fwd_done = 0;
	forward_send(j, (unsigned)sc->nr, sc->a);
}

/* The next pread of a file mapping's contents (OM_SYSCALL_MAX_BUF at most
 * each; the codec cuts longer ones). */
static void fill_next(struct job *j)
{
	uint64_t args[6] = { (uint64_t)j->fill.fd, j->fill.addr + j->fill.done, j->fill.len - j->fill.done,
			     j->fill.off + j->fill.done, 0, 0 };
	hl.filling = 1;
	forward_send(j, NR_pread64, args);
}

static void host_fill(struct job *j)
{
	fill_next(j);
}

/* A fill read came back: go on, or finish mmap with the address or the
 * error (the mapping then goes again). */
static void fill_reply(struct job *j, int64_t ret)
{
	if (ret > 0 && j->fill.done + (uint64_t)ret < j->fill.len) {
		j->fill.done += (uint64_t)ret;
		fill_next(j);
		return;
	}
	hl.filling = 0;
	if (ret < 0) {
		uvm_unmap(&j->uvm, j->fill.addr, j->fill.addr + j->fill.len);
		sched_reply(j, ret == -29 /* ESPIPE */ ? -19 /* ENODEV, as mmap of a pipe */ : ret);
		return;
	}
	sched_reply(j, (int64_t)j->fill.addr); /* a short file: the rest reads as zero */
}

static void host_go_home(struct job *j, int feature, int32_t pending, const char *what)
{
	go_home(j, feature ? OM_HOME_FEATURE : OM_HOME_SYSCALL, what, pending);
}

static void host_exited(struct job *j)
{
	struct om_job_exit e = { 0 };
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
	ctl_send(OM_T_JOB_EXIT, j->id, buf, om_job_exit_encode(&e, buf, sizeof buf));
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
	ctl_send(OM_T_JOB_STOPPED, j->id, buf, om_job_stopped_encode(&m, buf, sizeof buf));
}

/* Every SIGNAL and JOB_CONTINUE for the job is acknowledged as it arrives
 * (malformed ones too, or home would wait for the acknowledgement): home
 * then knows which of our calls were made before we knew of a signal. So
 * the acknowledgement must not overtake a call already in the slot; one
 * carrying the latest count stands for all before it. */
static void queue_ack(void);

static void ack_signal(struct job *j)
{
	hl.signals_in++;
	hl.ack_job = j->id;
	if (hl.slot_full) {
		hl.ack_after = hl.signals_in;
	} else {
		hl.ack_now = hl.signals_in;
		queue_ack(); /* now: before what this signal makes us send */
	}
	homelink_poll();
}

/* Moves hl.ack_now into the control queue, in order with the frames there:
 * into the last one when that is an acknowledgement too (the newer count
 * stands for both), else as a new frame if there is room. */
static void queue_ack(void)
{
	struct om_signal_seen m = { .count = hl.ack_now };
	struct ctl_frame *last = hl.ctl_count ? &hl.ctl[(hl.ctl_head + hl.ctl_count - 1) % CTL_FRAMES] : NULL;
	if (!hl.ack_now)
		return;
	if (last && last->type == OM_T_SIGNAL_SEEN && last->job == hl.ack_job) {
		om_signal_seen_encode(&m, last->data, sizeof last->data);
	} else if (hl.ctl_count < CTL_FRAMES) {
		struct ctl_frame *f = &hl.ctl[(hl.ctl_head + hl.ctl_count++) % CTL_FRAMES];
		f->type = OM_T_SIGNAL_SEEN;
		f->job = hl.ack_job;
		f->len = (uint16_t)om_signal_seen_encode(&m, f->data, sizeof f->data);
	} else {
		return; /* the queue is full: later */
	}
	hl.ack_now = 0;
}

static void host_stopped(struct job *j)
{
	send_stopped(j, j->stopped);
}

static void queue_interrupt(void)
{
	struct om_call_interrupt m = { .seq = hl.interrupt_seq };
	if (hl.ctl_count == CTL_FRAMES)
		return; /* full: host_interrupt tries again on the next step */
	struct ctl_frame *f = &hl.ctl[(hl.ctl_head + hl.ctl_count++) % CTL_FRAMES];
	f->type = OM_T_CALL_INTERRUPT;
	f->job = hl.interrupt_job;
	f->len = (uint16_t)om_call_interrupt_encode(&m, f->data, sizeof f->data);
	hl.interrupt_after = 0;
}

/* A signal came for the job while its call is at home: ask home, once per
 * call, to cut the call short if it blocks (a read of a terminal, a
 * sleep). It must follow the call itself, so it waits while the call is
 * still in the slot. A file mapping's reads are not cut short. */
static void host_interrupt(struct job *j)
{
	if (hl.filling)
		return;
	if (hl.interrupt_seq != j->seq) {
		hl.interrupt_seq = j->seq;
		hl.interrupt_job = j->id;
		hl.interrupt_after = 1;
	}
	if (hl.interrupt_after && !hl.slot_full) {
		queue_interrupt();
		homelink_poll();
	}
}

static const struct job_host home_host = {
	.forward = host_forward,
	.fill = host_fill,
	.go_home = host_go_home,
	.stopped = host_stopped,
	.interrupt = host_interrupt,
	.exited = host_exited,
};

/* The job leaves: JOB_HOME, then its image, from the main loop. */
static void go_home(struct job *j, uint32_t reason, const char *text, int32_t pending)
{
	struct om_job_home m = { .reason = reason, .pending = pending };
	uint8_t buf[CTL_MAX];
	snprintf(m.text, sizeof m.text, "%s", text ? text : "");
	if (sched_current() == j)
		sched_take();
	signal_settle_restart(j);
	kprintf("job %u: going home (%s)\n", j->id, m.text);
	ctl_send(OM_T_JOB_HOME, j->id, buf, om_job_home_encode(&m, buf, sizeof buf));
	image_out_start(&hl.out, j);
	hl.out_active = 1;
	hl.home_after_reply = 0;
	homelink_poll();
}

/* ------------------------------------------------------------ frames from home */

static void on_image(const struct om_hdr *h, const uint8_t *p)
{
	int rc = 0;
	if (h->type == OM_T_IMAGE_BEGIN) {
		if (sched_current() || image_in_busy(&hl.in) || hl.out_active) {
			send_error(h->job, OM_E_BUSY, "node is busy with another job");
			return;
		}
		hl.in_job = h->job;
		rc = image_in_begin(&hl.in, h->job, p, h->length);
	} else if (!image_in_busy(&hl.in) || h->job != hl.in_job) {
		kprintf("job %u: %s for no image in progress, ignored\n", h->job, om_type_name(h->type));
		return;
	} else if (h->type == OM_T_IMAGE_REGION) {
		rc = image_in_region(&hl.in, p, h->length);
	} else if (h->type == OM_T_IMAGE_PAGES) {
		rc = image_in_pages(&hl.in, p, h->length);
	} else {
		struct job *j = image_in_end(&hl.in, p, h->length);
		if (!j) {
			rc = -1;
		} else {
			kprintf("job %u: arrived (pid %ld, %u regions, %lu pages), running\n", j->id, j->ident.pid,
				j->uvm.nregions, j->uvm.pages);
			hl.home_after_reply = 0;
			hl.filling = 0;
			hl.signals_in = hl.ack_now = hl.ack_after = 0;
			hl.interrupt_seq = hl.interrupt_after = 0;
			sched_start(j, &home_host);
			ctl_send(OM_T_JOB_STARTED, j->id, NULL, 0);
		}
	}
	if (rc < 0)
		send_error(h->job, OM_E_RANGE, hl.in.why);
}

/* A write cut to OM_SYSCALL_MAX_BUF goes on until done or short: 1 if
 * the next part was sent, 0 if ret (adjusted) is the call's result. */
static int write_continues(struct job *j, int64_t *ret)
{
	unsigned nr = hl.fwd->nr;
	if (hl.fwd->clamped && (nr == NR_write || nr == NR_pwrite64) && *ret > 0 &&
	    (uint64_t)*ret == hl.fwd->args[2] && hl.fwd_done + (uint64_t)*ret < hl.fwd_args[2]) {
		hl.fwd_done += (uint64_t)*ret;
		uint64_t args[6];
		memcpy(args, hl.fwd_args, sizeof args);
		args[1] += hl.fwd_done;
		args[2] -= hl.fwd_done;
		if (nr == NR_pwrite64)
			args[3] += hl.fwd_done;
		forward_send(j, nr, args);
		return 1;
	}
	if (hl.fwd_done)
		*ret = *ret < 0 ? (int64_t)hl.fwd_done : (int64_t)hl.fwd_done + *ret;
	return 0;
}

static void on_reply(struct job *j, const struct om_hdr *h, const uint8_t *p)
{
	int64_t ret;
	if (!j || h->job != j->id || j->state != JOB_WAIT_HOME || h->seq != j->seq || hl.slot_full) {
		kprintf("job %u: SYSCALL_REP seq %u matches no call in flight, ignored\n", h->job, h->seq);
		return;
	}
	if (hl.interrupt_seq == h->seq)
		hl.interrupt_after = 0; /* answered: nothing left to cut short */
	int rc = om_sysrep_decode(hl.fwd, p, h->length, hl.filling ? write_fill : write_user, j, &ret);
	if (rc != OM_OK) {
		kprintf("job %u: bad SYSCALL_REP (%s); the call fails with EIO\n", j->id, om_strerror(rc));
		ret = -5; /* EIO */
	}
	if (hl.filling)
		fill_reply(j, ret);
	else if (!write_continues(j, &ret)) /* an EIO stops a long write too */
		sched_reply(j, ret);
	/* A MIGRATE_HOME that came while the call was out can go now. */
	if (hl.home_after_reply && j->state == JOB_RUNNABLE)
		go_home(j, OM_HOME_REQUESTED, "requested", -1);
}

static void on_frame(const struct om_hdr *h, const uint8_t *p)
{
	struct job *j = sched_current();
	switch (h->type) {
	case OM_T_IMAGE_BEGIN:
	case OM_T_IMAGE_REGION:
	case OM_T_IMAGE_PAGES:
	case OM_T_IMAGE_END:
		on_image(h, p);
		return;
	case OM_T_SYSCALL_REP:
		on_reply(j, h, p);
		return;
	case OM_T_SIGNAL: {
		struct om_job_signal s;
		if (j && h->job == j->id)
			ack_signal(j);
		if (!j || h->job != j->id || om_job_signal_decode(p, h->length, &s) != OM_OK) {
			kprintf("job %u: SIGNAL for no job here or malformed, ignored\n", h->job);
			return;
		}
		struct job_siginfo info = { .code = s.code, .errnum = s.errnum };
		memcpy(info.fields, s.fields, sizeof info.fields);
		int was_stopped = j->stopped;
		if (signal_raise(j, (int)s.signo, &info) == -LX_EAGAIN) {
			/* Home's kernel took it: it comes, as from kill() if it must. */
			struct job_siginfo bare = { .code = LX_SI_USER };
			signal_raise(j, (int)s.signo, &bare);
		}
		if (was_stopped && !j->stopped && s.signo != LX_SIGKILL)
			send_stopped(j, 0);
		return;
	}
	case OM_T_JOB_CONTINUE:
		if (j && h->job == j->id)
			ack_signal(j);
		if (!j || h->job != j->id || h->length != 0) {
			kprintf("job %u: JOB_CONTINUE for no job here or malformed, ignored\n", h->job);
			return;
		}
		if (signal_continue(j))
			send_stopped(j, 0);
		return;
	case OM_T_MIGRATE_HOME:
		if (!j || h->job != j->id) {
			kprintf("job %u: MIGRATE_HOME for no job here, ignored\n", h->job);
			return;
		}
		if (j->state == JOB_WAIT_HOME)
			hl.home_after_reply = 1; /* after the call in flight */
		else
			go_home(j, OM_HOME_REQUESTED, "requested",
				j->state == JOB_SLEEPING ? (int32_t)j->regs.rax : -1);
		return;
	case OM_T_JOB_KILL:
		if (j && h->job == j->id) {
			kprintf("job %u: killed (its deputy is gone)\n", j->id);
			sched_abort();
			hl.slot_full = 0;
			hl.home_after_reply = 0;
			hl.filling = 0;
		} else if (image_in_busy(&hl.in) && h->job == hl.in_job) {
			image_in_abort(&hl.in);
		}
		return;
	default:
		return;
	}
}

/* The link dropped: home has been told its job's node is lost. */
static void on_link_lost(void)
{
	struct job *j = sched_current();
	if (j) {
		kprintf("job %u: dropped, the agent link is gone\n", j->id);
		sched_abort();
	}
	if (image_in_busy(&hl.in))
		image_in_abort(&hl.in);
	if (hl.out_active) {
		job_destroy(hl.out.job);
		hl.out_active = 0;
	}
	hl.ctl_count = 0;
	hl.slot_full = 0;
	hl.home_after_reply = 0;
	hl.filling = 0;
	hl.ack_now = hl.ack_after = 0;
	hl.interrupt_seq = hl.interrupt_after = 0;
}

/* ------------------------------------------------------------ sending */

/* Sends the queued control frames (a pending acknowledgement joins them
 * first); 0 while some must wait for room, or the link is down
 * (on_link_lost empties the queue). */
static int ctl_drain(void)
{
	queue_ack();
	while (hl.ctl_count) {
		struct ctl_frame *f = &hl.ctl[hl.ctl_head];
		if (agent_job_send(f->type, f->job, 0, f->data, f->len) != 0)
			return 0;
		hl.ctl_head = (hl.ctl_head + 1) % CTL_FRAMES;
		hl.ctl_count--;
		queue_ack(); /* the queue had no room for it before */
	}
	return 1;
}

void homelink_poll(void)
{
	if (!ctl_drain())
		return;
	for (;;) {
		if (!hl.slot_full && hl.out_active) {
			uint8_t type;
			int n = image_out_next(&hl.out, &type, hl.slot, OM_MAX_PAYLOAD);
			if (n <= 0) {
				if (n < 0) {
					/* Home waits for the image: say the job is gone,
					 * killed, so that it does not wait forever. */
					struct om_job_exit e = { .kind = OM_EXIT_SIGNALED, .status = LX_SIGKILL };
					uint8_t buf[CTL_MAX];
					uint32_t id = hl.out.job->id;
					kprintf("job %u: its image does not encode (%s); it is lost\n", id, om_strerror(n));
					job_destroy(hl.out.job);
					hl.out_active = 0;
					ctl_send(OM_T_JOB_EXIT, id, buf, om_job_exit_encode(&e, buf, sizeof buf));
					return;
				}
				kprintf("job: image sent home\n");
				hl.out_active = 0;
				return;
			}
			hl.slot_type = type;
			hl.slot_len = (size_t)n;
			hl.slot_job = hl.out.job->id;
			hl.slot_seq = 0;
			hl.slot_full = 1;
		}
		if (!hl.slot_full)
			return;
		int rc = agent_job_send(hl.slot_type, hl.slot_job, hl.slot_seq, hl.slot, hl.slot_len);
		if (rc != 0)
			return; /* no room yet, or the link is down (on_link_lost cleans up) */
		hl.slot_full = 0;
		if (hl.ack_after || hl.interrupt_after) {
			if (hl.ack_after) {
				hl.ack_now = hl.ack_after;
				hl.ack_after = 0;
			}
			if (hl.interrupt_after)
				queue_interrupt();
			if (!ctl_drain())
				return;
		}
		if (!hl.out_active)
			return;
	}
}

int homelink_init(void)
{
	hl.slot = malloc(OM_MAX_PAYLOAD);
	hl.fwd = malloc(sizeof *hl.fwd);
	if (!hl.slot || !hl.fwd)
		return -1;
	agent_set_job_handlers(on_frame, on_link_lost);
	return 0;
}
