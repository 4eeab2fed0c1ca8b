/* job_msg.c - job and job-control payload codecs (contract in job_msg.h,
 * layouts in docs/protocol.md). No allocation, no I/O: also built into the
 * node kernel. */
#include <string.h>

#include "job_msg.h"
#include "wire.h"
#include "cpu_wire.h"


/* Smallest job record (empty command), to reject an impossible count. */
#define JOB_RECORD_MIN (4 + 4 + 4 + 4 + 4 + 1 + 2 + 8 + 1)

static void
wr_fail(struct wire_wr *w, int err)
{
	if (w->err == OM_OK)
		w->err = err;
}

/* The cpu layout of docs/protocol.md section 3, byte for byte as proto.c
 * writes it in HELLO (tests/test_job_msg.c compares the two). */

/* ---- CTL_JOB_SUBMIT */

int
om_job_submit_encode(const struct om_job_submit *m, void *out, size_t cap)
{
	struct wire_wr w;

	wire_wr_init(&w, out, cap);
	wire_wr_u32(&w, m->pid);
	wire_wr_str(&w, m->cmd, sizeof m->cmd);
	om_cpu_put(&w, &m->cpu);
	wire_wr_u64(&w, m->mem_bytes);
	wire_wr_u32(&w, m->node);
	wire_wr_u32(&w, m->flags);
	if (m->flags & OM_JOB_F_FORK) {
		wire_wr_u32(&w, m->fork_job);
		wire_wr_u32(&w, m->fork_seq);
	}
	if ((m->flags & ~OM_JOB_F_ALL) || (m->flags & OM_JOB_F_HOME && m->flags & OM_JOB_F_FORK) ||
	    (m->flags & OM_JOB_F_FORK && m->fork_job == 0))
		wr_fail(&w, OM_E_RANGE);
	return wire_wr_end(&w);
}

int
om_job_submit_decode(const void *buf, size_t len, struct om_job_submit *m)
{
	struct wire_rd r;

	memset(m, 0, sizeof *m);
	wire_rd_init(&r, buf, len);
	m->pid = wire_rd_u32(&r);
	wire_rd_str(&r, m->cmd, OM_CMD_MAX);
	om_cpu_get(&r, &m->cpu);
	m->mem_bytes = wire_rd_u64(&r);
	m->node = wire_rd_u32(&r);
	m->flags = wire_rd_u32(&r);
	if (m->flags & OM_JOB_F_FORK) {
		m->fork_job = wire_rd_u32(&r);
		m->fork_seq = wire_rd_u32(&r);
	}
	if (r.err == OM_OK && ((m->flags & ~OM_JOB_F_ALL) || (m->flags & OM_JOB_F_HOME && m->flags & OM_JOB_F_FORK) ||
	    (m->flags & OM_JOB_F_FORK && m->fork_job == 0)))
		wire_rd_fail(&r, OM_E_RANGE);
	return wire_rd_end(&r);
}

/* ---- CTL_JOB_PLACED */

static void
placed_put(struct wire_wr *w, const struct om_job_placed *m)
{
	wire_wr_u32(w, m->job);
	wire_wr_u32(w, m->node);
	if (m->node != 0) {
		om_cpu_put(w, &m->cpu);
		wire_wr_str(w, m->addr, sizeof m->addr);
		wire_wr_bytes(w, m->key, sizeof m->key);
	}
	wire_wr_str(w, m->reason, sizeof m->reason);
}

static void
placed_get(struct wire_rd *r, struct om_job_placed *m)
{
	m->job = wire_rd_u32(r);
	m->node = wire_rd_u32(r);
	if (r->err == OM_OK && m->node != 0 && m->job == 0)
		wire_rd_fail(r, OM_E_RANGE);
	if (m->node != 0) {
		om_cpu_get(r, &m->cpu);
		wire_rd_str(r, m->addr, OM_STR_MAX);
		wire_rd_bytes(r, m->key, sizeof m->key);
	}
	wire_rd_str(r, m->reason, OM_STR_MAX);
}

int
om_job_placed_encode(const struct om_job_placed *m, void *out, size_t cap)
{
	struct wire_wr w;

	if (m->node != 0 && m->job == 0)
		return OM_E_RANGE;
	wire_wr_init(&w, out, cap);
	placed_put(&w, m);
	return wire_wr_end(&w);
}

int
om_job_placed_decode(const void *buf, size_t len, struct om_job_placed *m)
{
	struct wire_rd r;

	memset(m, 0, sizeof *m);
	wire_rd_init(&r, buf, len);
	placed_get(&r, m);
	return wire_rd_end(&r);
}

/* ---- JOB_MOVING, JOB_ARRIVING, JOB_MOVED */

int
om_job_moving_encode(const struct om_job_moving *m, void *out, size_t cap)
{
	struct wire_wr w;

	wire_wr_init(&w, out, cap);
	wire_wr_u64(&w, m->cpu_ns);
	wire_wr_u32(&w, m->signals_in);
	return wire_wr_end(&w);
}

int
om_job_moving_decode(const void *buf, size_t len, struct om_job_moving *m)
{
	struct wire_rd r;

	wire_rd_init(&r, buf, len);
	m->cpu_ns = wire_rd_u64(&r);
	m->signals_in = wire_rd_u32(&r);
	return wire_rd_end(&r);
}

int
om_job_moved_encode(const struct om_job_moved *m, void *out, size_t cap)
{
	struct wire_wr w;

	if (m->to.node == 0 || m->to.job == 0)
		return OM_E_RANGE;
	wire_wr_init(&w, out, cap);
	wire_wr_u64(&w, m->cpu_ns);
	placed_put(&w, &m->to);
	return wire_wr_end(&w);
}

int
om_job_moved_decode(const void *buf, size_t len, struct om_job_moved *m)
{
	struct wire_rd r;

	memset(m, 0, sizeof *m);
	wire_rd_init(&r, buf, len);
	m->cpu_ns = wire_rd_u64(&r);
	placed_get(&r, &m->to);
	if (r.err == OM_OK && m->to.node == 0)
		wire_rd_fail(&r, OM_E_RANGE);
	return wire_rd_end(&r);
}

/* ---- CTL_MIGRATE */

/* ---- JOB_FORK */

int
om_job_fork_encode(const struct om_job_fork *m, void *out, size_t cap)
{
	struct wire_wr w;

	if (m->parent == 0 || m->pid == 0)
		return OM_E_RANGE;
	wire_wr_init(&w, out, cap);
	wire_wr_u32(&w, m->parent);
	wire_wr_u32(&w, m->seq);
	wire_wr_u32(&w, m->pid);
	return wire_wr_end(&w);
}

int
om_job_fork_decode(const void *buf, size_t len, struct om_job_fork *m)
{
	struct wire_rd r;

	wire_rd_init(&r, buf, len);
	m->parent = wire_rd_u32(&r);
	m->seq = wire_rd_u32(&r);
	m->pid = wire_rd_u32(&r);
	if (r.err == OM_OK && (m->parent == 0 || m->pid == 0))
		wire_rd_fail(&r, OM_E_RANGE);
	return wire_rd_end(&r);
}

int
om_job_migrate_encode(const struct om_job_migrate *m, void *out, size_t cap)
{
	struct wire_wr w;

	wire_wr_init(&w, out, cap);
	wire_wr_u32(&w, m->pid);
	wire_wr_u32(&w, m->target);
	return wire_wr_end(&w);
}

int
om_job_migrate_decode(const void *buf, size_t len, struct om_job_migrate *m)
{
	struct wire_rd r;

	wire_rd_init(&r, buf, len);
	m->pid = wire_rd_u32(&r);
	m->target = wire_rd_u32(&r);
	return wire_rd_end(&r);
}

/* ---- CTL_CHECKPOINT */

int
om_ctl_checkpoint_encode(const struct om_ctl_checkpoint *m, void *out, size_t cap)
{
	struct wire_wr w;

	if (m->pid == 0 || m->path[0] != '/')
		return OM_E_RANGE;
	wire_wr_init(&w, out, cap);
	wire_wr_u32(&w, m->pid);
	wire_wr_str(&w, m->path, sizeof m->path);
	return wire_wr_end(&w);
}

int
om_ctl_checkpoint_decode(const void *buf, size_t len, struct om_ctl_checkpoint *m)
{
	struct wire_rd r;

	wire_rd_init(&r, buf, len);
	m->pid = wire_rd_u32(&r);
	wire_rd_str(&r, m->path, OM_PATH_MAX);
	if (r.err == OM_OK && (m->pid == 0 || m->path[0] != '/'))
		wire_rd_fail(&r, OM_E_RANGE);
	return wire_rd_end(&r);
}

/* ---- CHECKPOINT */

int
om_checkpoint_encode(const struct om_checkpoint *m, void *out, size_t cap)
{
	struct wire_wr w;

	wire_wr_init(&w, out, cap);
	wire_wr_u32(&w, m->base);
	return wire_wr_end(&w);
}

int
om_checkpoint_decode(const void *buf, size_t len, struct om_checkpoint *m)
{
	struct wire_rd r;

	wire_rd_init(&r, buf, len);
	m->base = wire_rd_u32(&r);
	return wire_rd_end(&r);
}

/* ---- CTL_POLICY_REPLY */

static int
policy_ok(const struct om_policy *m)
{
	return !(m->flags & ~OM_POLICY_ALL) && (m->ckpt_every_ms == 0 ||
	    (m->ckpt_every_ms >= 100 && m->ckpt_every_ms <= 86400000)) &&
	    m->ckpt_max_pct >= 1 && m->ckpt_max_pct <= OM_CKPT_PCT_MAX;
}

int
om_policy_encode(const struct om_policy *m, void *out, size_t cap)
{
	struct wire_wr w;

	if (!policy_ok(m))
		return OM_E_RANGE;
	wire_wr_init(&w, out, cap);
	wire_wr_u32(&w, m->flags);
	wire_wr_u32(&w, m->ckpt_every_ms);
	wire_wr_u32(&w, m->ckpt_max_pct);
	return wire_wr_end(&w);
}

int
om_policy_decode(const void *buf, size_t len, struct om_policy *m)
{
	struct wire_rd r;

	wire_rd_init(&r, buf, len);
	m->flags = wire_rd_u32(&r);
	m->ckpt_every_ms = wire_rd_u32(&r);
	m->ckpt_max_pct = wire_rd_u32(&r);
	if (r.err == OM_OK && !policy_ok(m))
		wire_rd_fail(&r, OM_E_RANGE);
	return wire_rd_end(&r);
}

/* ---- SIGNAL */

int
om_job_signal_encode(const struct om_job_signal *m, void *out, size_t cap)
{
	struct wire_wr w;

	if (m->signo == 0 || m->signo > OM_SIG_MAX)
		return OM_E_RANGE;
	wire_wr_init(&w, out, cap);
	wire_wr_u32(&w, m->signo);
	wire_wr_u32(&w, (uint32_t)m->code);
	wire_wr_u32(&w, (uint32_t)m->errnum);
	wire_wr_bytes(&w, m->fields, sizeof m->fields);
	return wire_wr_end(&w);
}

int
om_job_signal_decode(const void *buf, size_t len, struct om_job_signal *m)
{
	struct wire_rd r;

	wire_rd_init(&r, buf, len);
	m->signo = wire_rd_u32(&r);
	m->code = (int32_t)wire_rd_u32(&r);
	m->errnum = (int32_t)wire_rd_u32(&r);
	wire_rd_bytes(&r, m->fields, sizeof m->fields);
	if (r.err == OM_OK && (m->signo == 0 || m->signo > OM_SIG_MAX))
		wire_rd_fail(&r, OM_E_RANGE);
	return wire_rd_end(&r);
}

/* ---- JOB_STOPPED, SIGNAL_SEEN: one u32 each */

static int
stop_sig_ok(uint32_t v)
{
	return v == 0 || (v >= 19 && v <= 22); /* SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU */
}

static int
any_u32_ok(uint32_t v)
{
	(void)v;
	return 1;
}

static int
u32_encode(uint32_t v, int (*ok)(uint32_t), void *out, size_t cap)
{
	struct wire_wr w;

	if (!ok(v))
		return OM_E_RANGE;
	wire_wr_init(&w, out, cap);
	wire_wr_u32(&w, v);
	return wire_wr_end(&w);
}

static int
u32_decode(const void *buf, size_t len, int (*ok)(uint32_t), uint32_t *v)
{
	struct wire_rd r;

	wire_rd_init(&r, buf, len);
	*v = wire_rd_u32(&r);
	if (r.err == OM_OK && !ok(*v))
		wire_rd_fail(&r, OM_E_RANGE);
	return wire_rd_end(&r);
}

int
om_job_stopped_encode(const struct om_job_stopped *m, void *out, size_t cap)
{
	return u32_encode(m->signo, stop_sig_ok, out, cap);
}

int
om_job_stopped_decode(const void *buf, size_t len, struct om_job_stopped *m)
{
	return u32_decode(buf, len, stop_sig_ok, &m->signo);
}

int
om_signal_seen_encode(const struct om_signal_seen *m, void *out, size_t cap)
{
	return u32_encode(m->count, any_u32_ok, out, cap);
}

int
om_signal_seen_decode(const void *buf, size_t len, struct om_signal_seen *m)
{
	return u32_decode(buf, len, any_u32_ok, &m->count);
}

int
om_call_interrupt_encode(const struct om_call_interrupt *m, void *out, size_t cap)
{
	return u32_encode(m->seq, any_u32_ok, out, cap);
}

int
om_call_interrupt_decode(const void *buf, size_t len, struct om_call_interrupt *m)
{
	return u32_decode(buf, len, any_u32_ok, &m->seq);
}

void
om_job_signal_set_sender(struct om_job_signal *m, uint32_t pid, uint32_t uid)
{
	struct wire_wr w;

	wire_wr_init(&w, m->fields, 8);
	wire_wr_u32(&w, pid);
	wire_wr_u32(&w, uid);
}

/* ---- JOB_EXIT */

static int
exit_ok(const struct om_job_exit *m)
{
	if (m->kind == OM_EXIT_EXITED)
		return m->status <= 255 && m->core == 0;
	if (m->kind == OM_EXIT_SIGNALED)
		return m->status >= 1 && m->status <= OM_SIG_MAX && m->core <= 1;
	if (m->kind == OM_EXIT_EXECED)
		return m->status == 0 && m->core == 0;
	return 0;
}

int
om_job_exit_encode(const struct om_job_exit *m, void *out, size_t cap)
{
	struct wire_wr w;

	if (!exit_ok(m))
		return OM_E_RANGE;
	wire_wr_init(&w, out, cap);
	wire_wr_u8(&w, m->kind);
	wire_wr_u32(&w, m->status);
	wire_wr_u8(&w, m->core);
	wire_wr_u64(&w, m->cpu_ns);
	return wire_wr_end(&w);
}

int
om_job_exit_decode(const void *buf, size_t len, struct om_job_exit *m)
{
	struct wire_rd r;

	wire_rd_init(&r, buf, len);
	m->kind = wire_rd_u8(&r);
	m->status = wire_rd_u32(&r);
	m->core = wire_rd_u8(&r);
	m->cpu_ns = wire_rd_u64(&r);
	if (r.err == OM_OK && !exit_ok(m))
		wire_rd_fail(&r, OM_E_RANGE);
	return wire_rd_end(&r);
}

/* ---- JOB_HOME */

static int
home_ok(const struct om_job_home *m)
{
	return m->reason >= OM_HOME_SYSCALL && m->reason <= OM_HOME_RESOURCE &&
	    m->pending >= -1;
}

int
om_job_home_encode(const struct om_job_home *m, void *out, size_t cap)
{
	struct wire_wr w;

	if (!home_ok(m))
		return OM_E_RANGE;
	wire_wr_init(&w, out, cap);
	wire_wr_u32(&w, m->reason);
	wire_wr_str(&w, m->text, sizeof m->text);
	wire_wr_u32(&w, (uint32_t)m->pending);
	wire_wr_u64(&w, m->cpu_ns);
	return wire_wr_end(&w);
}

int
om_job_home_decode(const void *buf, size_t len, struct om_job_home *m)
{
	struct wire_rd r;

	wire_rd_init(&r, buf, len);
	m->reason = wire_rd_u32(&r);
	wire_rd_str(&r, m->text, OM_STR_MAX);
	m->pending = (int32_t)wire_rd_u32(&r);
	m->cpu_ns = wire_rd_u64(&r);
	if (r.err == OM_OK && !home_ok(m))
		wire_rd_fail(&r, OM_E_RANGE);
	return wire_rd_end(&r);
}

/* ---- NODE_LOST */

int
om_node_lost_encode(const struct om_node_lost *m, void *out, size_t cap)
{
	struct wire_wr w;

	wire_wr_init(&w, out, cap);
	wire_wr_u32(&w, m->node);
	wire_wr_str(&w, m->reason, sizeof m->reason);
	return wire_wr_end(&w);
}

int
om_node_lost_decode(const void *buf, size_t len, struct om_node_lost *m)
{
	struct wire_rd r;

	wire_rd_init(&r, buf, len);
	m->node = wire_rd_u32(&r);
	wire_rd_str(&r, m->reason, OM_STR_MAX);
	return wire_rd_end(&r);
}

/* ---- CTL_JOBS_REPLY */

static int
job_info_ok(const struct om_job_info *j)
{
	/* Node 0 is home, and only a process at home is there. */
	return j->job != 0 && (j->node == 0) == (j->state == OM_JOB_HOME) && j->state >= OM_JOB_PLACED &&
	    j->state <= OM_JOB_MOVING && j->why <= OM_WHY_MAX;
}

int
om_job_list_encode(const struct om_job_info *jobs, uint32_t n, void *out, size_t cap)
{
	struct wire_wr w;
	uint32_t i;

	if (n > OM_JOBS_MAX)
		return OM_E_RANGE;
	wire_wr_init(&w, out, cap);
	wire_wr_u32(&w, n);
	for (i = 0; i < n && w.err == OM_OK; i++) {
		const struct om_job_info *j = &jobs[i];

		if (!job_info_ok(j))
			return OM_E_RANGE;
		wire_wr_u32(&w, j->job);
		wire_wr_u32(&w, j->node);
		wire_wr_u32(&w, j->uid);
		wire_wr_u32(&w, j->pid);
		wire_wr_u32(&w, j->ppid);
		wire_wr_u8(&w, j->why);
		wire_wr_str(&w, j->cmd, sizeof j->cmd);
		wire_wr_u64(&w, j->runtime_ms);
		wire_wr_u8(&w, j->state);
	}
	return wire_wr_end(&w);
}

int
om_job_list_count(const void *buf, size_t len, uint32_t *count, size_t *pos)
{
	return wire_list_count(buf, len, OM_JOBS_MAX, JOB_RECORD_MIN, count, pos);
}

int
om_job_list_next(const void *buf, size_t len, size_t *pos, struct om_job_info *j)
{
	struct wire_rd r;

	memset(j, 0, sizeof *j);
	if (*pos > len)
		return OM_E_RANGE;
	wire_rd_init(&r, (const uint8_t *)buf + *pos, len - *pos);
	j->job = wire_rd_u32(&r);
	j->node = wire_rd_u32(&r);
	j->uid = wire_rd_u32(&r);
	j->pid = wire_rd_u32(&r);
	j->ppid = wire_rd_u32(&r);
	j->why = wire_rd_u8(&r);
	wire_rd_str(&r, j->cmd, OM_CMD_MAX);
	j->runtime_ms = wire_rd_u64(&r);
	j->state = wire_rd_u8(&r);
	if (r.err != OM_OK)
		return r.err;
	if (!job_info_ok(j))
		return OM_E_RANGE;
	*pos += r.pos;
	return OM_OK;
}

int
om_job_list_end(size_t len, size_t pos)
{
	return wire_list_end(len, pos);
}
