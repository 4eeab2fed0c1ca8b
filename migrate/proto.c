/* proto.c - frame header and message codecs (contract in proto.h, layout in
 * docs/protocol.md). No allocation, no I/O: also built into the node kernel. */
#include <string.h>

#include "proto.h"
#include "cpu_wire.h"
#include "wire.h"

/* Field limits narrower than OM_STR_MAX come from the struct sizes. */
#define VENDOR_MAX (sizeof(((struct om_cpu *)0)->vendor) - 1)
#define MODEL_MAX (sizeof(((struct om_cpu *)0)->model) - 1)

/* Smallest encoded node record (all strings empty): id, mac, ip, nic, cpu,
 * speed, mem_bytes, mem_free, load, jobs, state, uptime, registered, seen.
 * Used to reject a count that cannot possibly fit before walking it. */
#define CPU_MIN_SIZE (2 + 2 + 3 * 4 + 5 * 4 + 8 + 2)
#define NODE_MIN_SIZE (4 + 6 + 2 + 2 + CPU_MIN_SIZE + 4 + 8 + 8 + 4 + 4 + 1 + 1 + 4 + 4 + 4 + \
	OM_KEY_FP_BYTES + 1)

const char *
om_strerror(int err)
{
	switch (err) {
	case OM_OK: return "no error";
	case OM_E_SHORT: return "incomplete frame";
	case OM_E_MAGIC: return "bad magic (not an om frame)";
	case OM_E_VERSION: return "unsupported protocol version";
	case OM_E_TOOBIG: return "frame too large";
	case OM_E_TYPE: return "unknown frame type";
	case OM_E_TRUNC: return "payload ends inside a field";
	case OM_E_TRAILING: return "trailing bytes after payload";
	case OM_E_RANGE: return "field value out of range";
	case OM_E_NOSPACE: return "output buffer too small";
	case OM_E_STATE: return "frame not allowed in this state";
	case OM_E_BUSY: return "agent cannot take more nodes";
	case OM_E_ADMIT: return "node not admitted by the agent";
	}
	return "unknown error";
}

const char *
om_type_name(int type)
{
	switch (type) {
	case OM_T_ERROR: return "ERROR";
	case OM_T_HELLO: return "HELLO";
	case OM_T_WELCOME: return "WELCOME";
	case OM_T_HEARTBEAT: return "HEARTBEAT";
	case OM_T_ECHO: return "ECHO";
	case OM_T_ECHO_REPLY: return "ECHO_REPLY";
	case OM_T_BYE: return "BYE";
	case OM_T_NODE_LEAVING: return "NODE_LEAVING";
	case OM_T_NODE_RESTART: return "NODE_RESTART";
	case OM_T_IMAGE_BEGIN: return "IMAGE_BEGIN";
	case OM_T_IMAGE_REGION: return "IMAGE_REGION";
	case OM_T_IMAGE_PAGES: return "IMAGE_PAGES";
	case OM_T_IMAGE_END: return "IMAGE_END";
	case OM_T_JOB_STARTED: return "JOB_STARTED";
	case OM_T_JOB_ERROR: return "JOB_ERROR";
	case OM_T_SYSCALL_REQ: return "SYSCALL_REQ";
	case OM_T_SYSCALL_REP: return "SYSCALL_REP";
	case OM_T_SIGNAL: return "SIGNAL";
	case OM_T_JOB_EXIT: return "JOB_EXIT";
	case OM_T_JOB_HOME: return "JOB_HOME";
	case OM_T_MIGRATE_HOME: return "MIGRATE_HOME";
	case OM_T_JOB_KILL: return "JOB_KILL";
	case OM_T_NODE_LOST: return "NODE_LOST";
	case OM_T_JOB_STOPPED: return "JOB_STOPPED";
	case OM_T_JOB_CONTINUE: return "JOB_CONTINUE";
	case OM_T_SIGNAL_SEEN: return "SIGNAL_SEEN";
	case OM_T_CALL_INTERRUPT: return "CALL_INTERRUPT";
	case OM_T_JOB_FORK: return "JOB_FORK";
	case OM_T_JOB_MOVE: return "JOB_MOVE";
	case OM_T_JOB_MOVING: return "JOB_MOVING";
	case OM_T_JOB_MOVE_REFUSED: return "JOB_MOVE_REFUSED";
	case OM_T_JOB_RESUME: return "JOB_RESUME";
	case OM_T_JOB_ARRIVING: return "JOB_ARRIVING";
	case OM_T_JOB_MOVED: return "JOB_MOVED";
	case OM_T_IMAGE_THREAD: return "IMAGE_THREAD";
	case OM_T_CHECKPOINT: return "CHECKPOINT";
	case OM_T_CHECKPOINT_TAKEN: return "CHECKPOINT_TAKEN";
	case OM_T_JOB_REATTACH: return "JOB_REATTACH";
	case OM_T_JOB_REATTACHED: return "JOB_REATTACHED";
	case OM_T_DECISIONS: return "DECISIONS";
	case OM_T_CTL_NODES: return "CTL_NODES";
	case OM_T_CTL_NODES_REPLY: return "CTL_NODES_REPLY";
	case OM_T_CTL_JOB_SUBMIT: return "CTL_JOB_SUBMIT";
	case OM_T_CTL_JOB_PLACED: return "CTL_JOB_PLACED";
	case OM_T_CTL_JOBS: return "CTL_JOBS";
	case OM_T_CTL_JOBS_REPLY: return "CTL_JOBS_REPLY";
	case OM_T_CTL_MIGRATE: return "CTL_MIGRATE";
	case OM_T_CTL_NODE: return "CTL_NODE";
	case OM_T_CTL_NODE_REPLY: return "CTL_NODE_REPLY";
	case OM_T_CTL_ADMIT: return "CTL_ADMIT";
	case OM_T_CTL_ADMIT_REPLY: return "CTL_ADMIT_REPLY";
	case OM_T_CTL_PENDING: return "CTL_PENDING";
	case OM_T_CTL_PENDING_REPLY: return "CTL_PENDING_REPLY";
	case OM_T_CTL_POLICY: return "CTL_POLICY";
	case OM_T_CTL_POLICY_REPLY: return "CTL_POLICY_REPLY";
	case OM_T_CTL_JOB_REATTACH: return "CTL_JOB_REATTACH";
	case OM_T_CTL_CHECKPOINT: return "CTL_CHECKPOINT";
	case OM_T_CKPT_HOME: return "CKPT_HOME";
	case OM_T_CKPT_ENTRY: return "CKPT_ENTRY";
	}
	return "?";
}

static int
type_known(int type)
{
	return om_type_name(type)[0] != '?';
}

int
om_frame_check(const void *buf, size_t len, struct om_hdr *h)
{
	struct wire_rd r;
	uint16_t magic;

	if (len < OM_HDR_SIZE)
		return OM_E_SHORT;
	wire_rd_init(&r, buf, OM_HDR_SIZE);
	magic = wire_rd_u16(&r);
	h->version = wire_rd_u8(&r);
	h->type = wire_rd_u8(&r);
	h->length = wire_rd_u32(&r);
	h->job = wire_rd_u32(&r);
	h->seq = wire_rd_u32(&r);
	/* Checked in wire order: a stream that is not om at all reports
	 * MAGIC, not whatever its third byte happens to mean. */
	if (magic != OM_MAGIC)
		return OM_E_MAGIC;
	if (h->version != OM_PROTO_VERSION)
		return OM_E_VERSION;
	if (!type_known(h->type))
		return OM_E_TYPE;
	if (h->length > OM_MAX_PAYLOAD)
		return OM_E_TOOBIG;
	return OM_OK;
}

void
om_hdr_encode(void *out, uint8_t type, uint32_t length, uint32_t job, uint32_t seq)
{
	struct wire_wr w;

	wire_wr_init(&w, out, OM_HDR_SIZE);
	wire_wr_u16(&w, OM_MAGIC);
	wire_wr_u8(&w, OM_PROTO_VERSION);
	wire_wr_u8(&w, type);
	wire_wr_u32(&w, length);
	wire_wr_u32(&w, job);
	wire_wr_u32(&w, seq);
}

/* A station address: not all zero, not multicast (I/G bit, IEEE 802-2014
 * 8.2.2). The MAC is the node's identity, so it must be one a NIC can own. */
static int
mac_ok(const uint8_t mac[6])
{
	static const uint8_t zero[6];

	return memcmp(mac, zero, 6) != 0 && (mac[0] & 1) == 0;
}

/* ---- ERROR */

int
om_error_encode(const struct om_error *m, void *out, size_t cap)
{
	struct wire_wr w;

	wire_wr_init(&w, out, cap);
	wire_wr_u32(&w, m->code);
	wire_wr_str(&w, m->msg, sizeof m->msg);
	return wire_wr_end(&w);
}

int
om_error_decode(const void *buf, size_t len, struct om_error *m)
{
	struct wire_rd r;

	wire_rd_init(&r, buf, len);
	m->code = wire_rd_u32(&r);
	wire_rd_str(&r, m->msg, OM_STR_MAX);
	return wire_rd_end(&r);
}

/* ---- CPU description: HELLO, node records, job placement, images */

void
om_cpu_put(struct wire_wr *w, const struct om_cpu *c)
{
	wire_wr_str(w, c->vendor, sizeof c->vendor);
	wire_wr_str(w, c->model, sizeof c->model);
	wire_wr_u32(w, c->family);
	wire_wr_u32(w, c->model_id);
	wire_wr_u32(w, c->stepping);
	wire_wr_u32(w, c->leaf1_ecx);
	wire_wr_u32(w, c->leaf1_edx);
	wire_wr_u32(w, c->leaf7_ebx);
	wire_wr_u32(w, c->leaf7_ecx);
	wire_wr_u32(w, c->leaf7_edx);
	wire_wr_u64(w, c->xcr0);
	wire_wr_u16(w, c->cores);
	if (c->cores == 0 && w->err == OM_OK)
		w->err = OM_E_RANGE;
}

void
om_cpu_get(struct wire_rd *r, struct om_cpu *c)
{
	wire_rd_str(r, c->vendor, VENDOR_MAX);
	wire_rd_str(r, c->model, MODEL_MAX);
	c->family = wire_rd_u32(r);
	c->model_id = wire_rd_u32(r);
	c->stepping = wire_rd_u32(r);
	c->leaf1_ecx = wire_rd_u32(r);
	c->leaf1_edx = wire_rd_u32(r);
	c->leaf7_ebx = wire_rd_u32(r);
	c->leaf7_ecx = wire_rd_u32(r);
	c->leaf7_edx = wire_rd_u32(r);
	c->xcr0 = wire_rd_u64(r);
	c->cores = wire_rd_u16(r);
	if (c->cores == 0)
		wire_rd_fail(r, OM_E_RANGE);
}

/* ---- HELLO */

int
om_hello_encode(const struct om_hello *m, void *out, size_t cap)
{
	struct wire_wr w;

	wire_wr_init(&w, out, cap);
	if (!mac_ok(m->mac))
		return OM_E_RANGE;
	wire_wr_bytes(&w, m->mac, 6);
	wire_wr_str(&w, m->nic, sizeof m->nic);
	om_cpu_put(&w, &m->cpu);
	wire_wr_u64(&w, m->mem_bytes);
	wire_wr_u32(&w, m->speed);
	wire_wr_u32(&w, m->boot_ms);
	wire_wr_str(&w, m->version, sizeof m->version);
	return wire_wr_end(&w);
}

int
om_hello_decode(const void *buf, size_t len, struct om_hello *m)
{
	struct wire_rd r;

	memset(m, 0, sizeof *m);
	wire_rd_init(&r, buf, len);
	wire_rd_bytes(&r, m->mac, 6);
	if (r.err == OM_OK && !mac_ok(m->mac))
		wire_rd_fail(&r, OM_E_RANGE);
	wire_rd_str(&r, m->nic, OM_STR_MAX);
	om_cpu_get(&r, &m->cpu);
	m->mem_bytes = wire_rd_u64(&r);
	m->speed = wire_rd_u32(&r);
	m->boot_ms = wire_rd_u32(&r);
	wire_rd_str(&r, m->version, OM_STR_MAX);
	return wire_rd_end(&r);
}

/* ---- WELCOME */

int
om_welcome_encode(const struct om_welcome *m, void *out, size_t cap)
{
	struct wire_wr w;

	if (m->node_id == 0 || m->heartbeat_ms == 0)
		return OM_E_RANGE;
	wire_wr_init(&w, out, cap);
	wire_wr_u32(&w, m->node_id);
	wire_wr_u32(&w, m->heartbeat_ms);
	wire_wr_u64(&w, m->time_ns);
	wire_wr_u32(&w, m->grace_ms);
	return wire_wr_end(&w);
}

int
om_welcome_decode(const void *buf, size_t len, struct om_welcome *m)
{
	struct wire_rd r;

	wire_rd_init(&r, buf, len);
	m->node_id = wire_rd_u32(&r);
	m->heartbeat_ms = wire_rd_u32(&r);
	m->time_ns = wire_rd_u64(&r);
	m->grace_ms = wire_rd_u32(&r);
	if (r.err == OM_OK && (m->node_id == 0 || m->heartbeat_ms == 0))
		wire_rd_fail(&r, OM_E_RANGE);
	return wire_rd_end(&r);
}

/* ---- HEARTBEAT */

int
om_heartbeat_encode(const struct om_heartbeat *m, void *out, size_t cap)
{
	struct wire_wr w;

	wire_wr_init(&w, out, cap);
	wire_wr_u32(&w, m->uptime_ms);
	wire_wr_u32(&w, m->load_milli);
	wire_wr_u64(&w, m->mem_free);
	wire_wr_u32(&w, m->jobs);
	if (m->nlisted > OM_NODE_JOBS_MAX)
		return OM_E_RANGE;
	wire_wr_u32(&w, m->nlisted);
	for (uint32_t i = 0; i < m->nlisted; i++) {
		if (m->listed[i].job == 0 || m->listed[i].runnable > 1)
			return OM_E_RANGE;
		wire_wr_u32(&w, m->listed[i].job);
		wire_wr_u64(&w, m->listed[i].cpu_ns);
		wire_wr_u8(&w, m->listed[i].runnable);
	}
	return wire_wr_end(&w);
}

int
om_heartbeat_decode(const void *buf, size_t len, struct om_heartbeat *m)
{
	struct wire_rd r;

	wire_rd_init(&r, buf, len);
	m->uptime_ms = wire_rd_u32(&r);
	m->load_milli = wire_rd_u32(&r);
	m->mem_free = wire_rd_u64(&r);
	m->jobs = wire_rd_u32(&r);
	m->nlisted = wire_rd_u32(&r);
	if (r.err == OM_OK && m->nlisted > OM_NODE_JOBS_MAX)
		return OM_E_RANGE;
	for (uint32_t i = 0; i < m->nlisted && r.err == OM_OK; i++) {
		struct om_hb_job *j = &m->listed[i];
		j->job = wire_rd_u32(&r);
		j->cpu_ns = wire_rd_u64(&r);
		j->runnable = wire_rd_u8(&r);
		if (r.err == OM_OK && (j->job == 0 || j->runnable > 1))
			wire_rd_fail(&r, OM_E_RANGE);
	}
	return wire_rd_end(&r);
}

/* ---- NODE_LEAVING */

static int
leave_reason_ok(uint8_t reason)
{
	return reason == OM_LEAVE_OWNER || reason == OM_LEAVE_RESTART;
}

int
om_node_leaving_encode(const struct om_node_leaving *m, void *out, size_t cap)
{
	struct wire_wr w;

	if (!leave_reason_ok(m->reason))
		return OM_E_RANGE;
	wire_wr_init(&w, out, cap);
	wire_wr_u8(&w, m->reason);
	wire_wr_str(&w, m->text, sizeof m->text);
	return wire_wr_end(&w);
}

int
om_node_leaving_decode(const void *buf, size_t len, struct om_node_leaving *m)
{
	struct wire_rd r;

	wire_rd_init(&r, buf, len);
	m->reason = wire_rd_u8(&r);
	if (r.err == OM_OK && !leave_reason_ok(m->reason))
		wire_rd_fail(&r, OM_E_RANGE);
	wire_rd_str(&r, m->text, OM_STR_MAX);
	return wire_rd_end(&r);
}

/* ---- CTL_NODE and its reply */

int
om_ctl_node_encode(const struct om_ctl_node *m, void *out, size_t cap)
{
	struct wire_wr w;

	if (m->action < OM_CTL_DRAIN || m->action > OM_CTL_REBOOT || m->node == 0)
		return OM_E_RANGE;
	wire_wr_init(&w, out, cap);
	wire_wr_u8(&w, m->action);
	wire_wr_u32(&w, m->node);
	return wire_wr_end(&w);
}

int
om_ctl_node_decode(const void *buf, size_t len, struct om_ctl_node *m)
{
	struct wire_rd r;

	wire_rd_init(&r, buf, len);
	m->action = wire_rd_u8(&r);
	m->node = wire_rd_u32(&r);
	if (r.err == OM_OK && (m->action < OM_CTL_DRAIN || m->action > OM_CTL_REBOOT || m->node == 0))
		wire_rd_fail(&r, OM_E_RANGE);
	return wire_rd_end(&r);
}

int
om_ctl_node_reply_encode(const struct om_ctl_node_reply *m, void *out, size_t cap)
{
	struct wire_wr w;

	if (m->node == 0 || (m->flags & ~OM_NODE_F_ALL))
		return OM_E_RANGE;
	wire_wr_init(&w, out, cap);
	wire_wr_u32(&w, m->node);
	wire_wr_u8(&w, m->flags);
	wire_wr_u32(&w, m->moving);
	return wire_wr_end(&w);
}

int
om_ctl_node_reply_decode(const void *buf, size_t len, struct om_ctl_node_reply *m)
{
	struct wire_rd r;

	wire_rd_init(&r, buf, len);
	m->node = wire_rd_u32(&r);
	m->flags = wire_rd_u8(&r);
	m->moving = wire_rd_u32(&r);
	if (r.err == OM_OK && (m->node == 0 || (m->flags & ~OM_NODE_F_ALL)))
		wire_rd_fail(&r, OM_E_RANGE);
	return wire_rd_end(&r);
}

/* ---- node list (control socket) */

int
om_node_list_encode(const struct om_node_info *nodes, uint32_t n, void *out, size_t cap)
{
	struct wire_wr w;
	uint32_t i;

	if (n > OM_NODES_MAX)
		return OM_E_RANGE;
	wire_wr_init(&w, out, cap);
	wire_wr_u32(&w, n);
	for (i = 0; i < n && w.err == OM_OK; i++) {
		const struct om_node_info *ni = &nodes[i];

		if (ni->id == 0 || !mac_ok(ni->mac) ||
		    (ni->state != OM_NODE_UP && ni->state != OM_NODE_DOWN) ||
		    (ni->flags & ~OM_NODE_F_ALL) || ni->claims > OM_CLAIMS_MAX)
			return OM_E_RANGE;
		wire_wr_u32(&w, ni->id);
		wire_wr_bytes(&w, ni->mac, 6);
		wire_wr_str(&w, ni->ip, sizeof ni->ip);
		wire_wr_str(&w, ni->nic, sizeof ni->nic);
		om_cpu_put(&w, &ni->cpu);
		wire_wr_u32(&w, ni->speed);
		wire_wr_u64(&w, ni->mem_bytes);
		wire_wr_u64(&w, ni->mem_free);
		wire_wr_u32(&w, ni->load_milli);
		wire_wr_u32(&w, ni->jobs);
		wire_wr_u8(&w, ni->state);
		wire_wr_u8(&w, ni->flags);
		wire_wr_u32(&w, ni->uptime_ms);
		wire_wr_u32(&w, ni->registered_s);
		wire_wr_u32(&w, ni->last_seen_ms);
		wire_wr_bytes(&w, ni->key_fp, OM_KEY_FP_BYTES);
		wire_wr_u8(&w, ni->claims);
	}
	return wire_wr_end(&w);
}

int
om_node_list_count(const void *buf, size_t len, uint32_t *count, size_t *pos)
{
	return wire_list_count(buf, len, OM_NODES_MAX, NODE_MIN_SIZE, count, pos);
}

int
om_node_list_next(const void *buf, size_t len, size_t *pos, struct om_node_info *ni)
{
	struct wire_rd r;

	memset(ni, 0, sizeof *ni);
	if (*pos > len)
		return OM_E_RANGE;
	wire_rd_init(&r, (const uint8_t *)buf + *pos, len - *pos);
	ni->id = wire_rd_u32(&r);
	wire_rd_bytes(&r, ni->mac, 6);
	wire_rd_str(&r, ni->ip, OM_STR_MAX);
	wire_rd_str(&r, ni->nic, OM_STR_MAX);
	om_cpu_get(&r, &ni->cpu);
	ni->speed = wire_rd_u32(&r);
	ni->mem_bytes = wire_rd_u64(&r);
	ni->mem_free = wire_rd_u64(&r);
	ni->load_milli = wire_rd_u32(&r);
	ni->jobs = wire_rd_u32(&r);
	ni->state = wire_rd_u8(&r);
	ni->flags = wire_rd_u8(&r);
	ni->uptime_ms = wire_rd_u32(&r);
	ni->registered_s = wire_rd_u32(&r);
	ni->last_seen_ms = wire_rd_u32(&r);
	wire_rd_bytes(&r, ni->key_fp, OM_KEY_FP_BYTES);
	ni->claims = wire_rd_u8(&r);
	if (r.err != OM_OK)
		return r.err;
	if (ni->id == 0 || !mac_ok(ni->mac) ||
	    (ni->state != OM_NODE_UP && ni->state != OM_NODE_DOWN) ||
	    (ni->flags & ~OM_NODE_F_ALL) || ni->claims > OM_CLAIMS_MAX)
		return OM_E_RANGE;
	*pos += r.pos;
	return OM_OK;
}

int
om_node_list_end(size_t len, size_t pos)
{
	return wire_list_end(len, pos);
}
