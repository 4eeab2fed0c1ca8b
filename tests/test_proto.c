/* test_proto.c - codec tests for migrate/proto.c: round trips, golden bytes,
 * every truncation, trailing bytes, field limits, header checks, and a
 * deterministic mutation fuzz. Built with ASan/UBSan; every decode reads
 * from an exact-size heap copy so a one-byte overread is caught. */
#include <stdlib.h>
#include <string.h>

#define CHECK_PREFIX "proto/"
#include "check.h"
#include "codec_check.h"
#include "admit_msg.h"
#include "job_seq.h"
#include "proto.h"

#define BUF_MAX (OM_MAX_PAYLOAD + 64)

static uint8_t buf[BUF_MAX], buf2[BUF_MAX];

/* ---- sample messages */

static void
fill_cpu(struct om_cpu *c)
{
	memset(c, 0, sizeof *c);
	strcpy(c->vendor, "GenuineIntel");
	strcpy(c->model, "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz");
	c->family = 6;
	c->model_id = 79;
	c->stepping = 1;
	c->leaf1_ecx = 0xfffa3203;
	c->leaf1_edx = 0x178bfbff;
	c->leaf7_ebx = 0x0021c3ab;
	c->leaf7_ecx = 0x00000004;
	c->leaf7_edx = 0x8c000400;
	c->xcr0 = 0x00000000000002e7ull;
	c->cores = 4;
}

static void
fill_hello(struct om_hello *h)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

	memset(h, 0, sizeof *h);
	memcpy(h->mac, mac, 6);
	strcpy(h->nic, "virtio-net");
	fill_cpu(&h->cpu);
	h->mem_bytes = (512ull << 20) + 12345;
	h->speed = 4321;
	h->boot_ms = 789;
	strcpy(h->version, "om 0.1");
}

static void
fill_node(struct om_node_info *n, uint32_t id)
{
	memset(n, 0, sizeof *n);
	n->id = id;
	n->mac[0] = 0x52;
	n->mac[1] = 0x54;
	n->mac[2] = (uint8_t)(id >> 16);
	n->mac[3] = (uint8_t)(id >> 8);
	n->mac[4] = (uint8_t)id;
	n->mac[5] = 0x01;
	strcpy(n->ip, "10.0.2.15");
	strcpy(n->nic, "e1000");
	fill_cpu(&n->cpu);
	n->speed = 1000 + id;
	n->mem_bytes = 1ull << 33;
	n->mem_free = (1ull << 32) + id;
	n->load_milli = 1500;
	n->jobs = 2;
	n->state = id % 2 ? OM_NODE_UP : OM_NODE_DOWN;
	n->flags = (uint8_t)(id % 8);
	n->uptime_ms = 0xfedcba98u;
	n->registered_s = 3600;
	n->last_seen_ms = 250;
	for (int i = 0; i < OM_KEY_FP_BYTES; i++)
		n->key_fp[i] = (uint8_t)(0xa0 + id + i);
	n->claims = (uint8_t)(id % (OM_CLAIMS_MAX + 1));
}

static int
cpu_eq(const struct om_cpu *a, const struct om_cpu *b)
{
	return strcmp(a->vendor, b->vendor) == 0 && strcmp(a->model, b->model) == 0 &&
	    a->family == b->family && a->model_id == b->model_id &&
	    a->stepping == b->stepping && a->leaf1_ecx == b->leaf1_ecx &&
	    a->leaf1_edx == b->leaf1_edx && a->leaf7_ebx == b->leaf7_ebx &&
	    a->leaf7_ecx == b->leaf7_ecx && a->leaf7_edx == b->leaf7_edx &&
	    a->xcr0 == b->xcr0 && a->cores == b->cores;
}

static int
hello_eq(const struct om_hello *a, const struct om_hello *b)
{
	return memcmp(a->mac, b->mac, 6) == 0 && strcmp(a->nic, b->nic) == 0 &&
	    cpu_eq(&a->cpu, &b->cpu) && a->mem_bytes == b->mem_bytes &&
	    a->speed == b->speed && a->boot_ms == b->boot_ms &&
	    strcmp(a->version, b->version) == 0;
}

static int
node_eq(const struct om_node_info *a, const struct om_node_info *b)
{
	return a->id == b->id && memcmp(a->mac, b->mac, 6) == 0 &&
	    strcmp(a->ip, b->ip) == 0 && strcmp(a->nic, b->nic) == 0 &&
	    cpu_eq(&a->cpu, &b->cpu) && a->speed == b->speed &&
	    a->mem_bytes == b->mem_bytes && a->mem_free == b->mem_free &&
	    a->load_milli == b->load_milli && a->jobs == b->jobs &&
	    a->state == b->state && a->flags == b->flags && a->uptime_ms == b->uptime_ms &&
	    a->registered_s == b->registered_s && a->last_seen_ms == b->last_seen_ms &&
	    memcmp(a->key_fp, b->key_fp, OM_KEY_FP_BYTES) == 0 && a->claims == b->claims;
}

/* ---- a uniform view of every codec, for the generic tests and the fuzz */

#define LIST_MAX 8 /* fuzz and generic tests use short lists */

struct nlist {
	uint32_t n;
	struct om_node_info v[OM_NODES_MAX];
};

CODEC_ADAPTERS(error, om_error)
CODEC_ADAPTERS(hello, om_hello)
CODEC_ADAPTERS(welcome, om_welcome)
CODEC_ADAPTERS(hb, om_heartbeat)
CODEC_ADAPTERS(leaving, om_node_leaving)
CODEC_ADAPTERS(ctlnode, om_ctl_node)
CODEC_ADAPTERS(ctlnode_reply, om_ctl_node_reply)
CODEC_ADAPTERS(admit, om_ctl_admit)
CODEC_ADAPTERS(admit_reply, om_ctl_admit_reply)

struct plist {
	uint32_t n;
	struct om_pending v[OM_PENDING_MAX];
};

static int
e_pending(const void *m, void *o, size_t c)
{
	const struct plist *l = m;

	return om_pending_list_encode(l->v, l->n, o, c);
}

static int
d_pending(const void *b, size_t len, void *m)
{
	struct plist *l = m;

	return om_pending_list_decode(b, len, l->v, OM_PENDING_MAX, &l->n);
}

static int
e_list(const void *m, void *o, size_t c)
{
	const struct nlist *l = m;

	return om_node_list_encode(l->v, l->n, o, c);
}

static int
d_list(const void *b, size_t len, void *m)
{
	struct nlist *l = m;
	size_t pos;
	uint32_t i;
	int rc;

	if ((rc = om_node_list_count(b, len, &l->n, &pos)) != OM_OK)
		return rc;
	for (i = 0; i < l->n; i++)
		if ((rc = om_node_list_next(b, len, &pos, &l->v[i])) != OM_OK)
			return rc;
	return om_node_list_end(len, pos);
}

static const struct codec codecs[] = {
	{ "error", e_error, d_error },
	{ "hello", e_hello, d_hello },
	{ "welcome", e_welcome, d_welcome },
	{ "heartbeat", e_hb, d_hb },
	{ "node_leaving", e_leaving, d_leaving },
	{ "ctl_node", e_ctlnode, d_ctlnode },
	{ "ctl_node_reply", e_ctlnode_reply, d_ctlnode_reply },
	{ "ctl_admit", e_admit, d_admit },
	{ "ctl_admit_reply", e_admit_reply, d_admit_reply },
	{ "pending_list", e_pending, d_pending },
	{ "node_list", e_list, d_list },
};
#define NCODECS (sizeof codecs / sizeof codecs[0])

static struct nlist list_a, list_b; /* large: keep them off the stack */

/* A sample message for codec i, stored in a static object. */
static const void *
sample(size_t i)
{
	static struct om_error e = { 0xfffffff8u, "field value out of range" };
	static struct om_hello h;
	static struct om_welcome w = { 7, 1000, 1764059020123456789ull, 30000 };
	static struct om_heartbeat hb = { 123456, 2500, 1ull << 30, 3, 2,
		{ { 7, 1500000000ull, 1 }, { 9, 0, 0 } } };
	static struct om_node_leaving lv = { OM_LEAVE_OWNER, "a key was pressed" };
	static struct om_ctl_node cn = { OM_CTL_EXPEL, 0x01020304 };
	static struct om_ctl_node_reply cr = { 42, OM_NODE_F_DRAINING | OM_NODE_F_BLOCKED, 3 };
	static struct om_ctl_admit ad = { "1a2b-3c4d-5e6f-7081" };
	static struct om_ctl_admit_reply ar = { 1, "52:54:00:12:34:56", "10.0.2.15" };
	static struct plist pl = { 2, { { "1a2b-3c4d-5e6f-7081", { 0x52, 0x54, 0, 0x12, 0x34, 0x56 },
		"10.0.2.15", 12, 3 }, { "ffff-0000-ffff-0000", { 2, 0, 0, 0, 0, 7 }, "192.168.1.20", 0, 1 } } };
	uint32_t k;

	switch (i) {
	case 0: return &e;
	case 1: fill_hello(&h); return &h;
	case 2: return &w;
	case 3: return &hb;
	case 4: return &lv;
	case 5: return &cn;
	case 6: return &cr;
	case 7: return &ad;
	case 8: return &ar;
	case 9: return &pl;
	}
	list_a.n = 3;
	for (k = 0; k < list_a.n; k++)
		fill_node(&list_a.v[k], k + 1);
	return &list_a;
}

static void *
scratch(void)
{
	return &list_b; /* big enough for any message struct */
}

static const struct codec_suite suite = { codecs, NCODECS, sample, scratch, buf, buf2, BUF_MAX };

/* ---- header */

static void
hdr_golden(void)
{
	static const uint8_t want[OM_HDR_SIZE] = {
		0x6f, 0x6d, 0x10, 0x03, 0x10, 0x00, 0x00, 0x00,
		0x78, 0x56, 0x34, 0x12, 0x01, 0x00, 0x00, 0x80 };
	struct om_hdr h;

	om_hdr_encode(buf, OM_T_WELCOME, 16, 0x12345678, 0x80000001u);
	CHECK(memcmp(buf, want, OM_HDR_SIZE) == 0);
	CHECK_EQ(om_frame_check(buf, OM_HDR_SIZE, &h), OM_OK);
	CHECK_EQ(h.version, OM_PROTO_VERSION);
	CHECK_EQ(h.type, OM_T_WELCOME);
	CHECK_EQ(h.length, 16);
	CHECK_EQ(h.job, 0x12345678);
	CHECK_EQ(h.seq, 0x80000001u);
}

static void
hdr_short(void)
{
	struct om_hdr h;
	size_t len;

	om_hdr_encode(buf, OM_T_HELLO, 0, 0, 0);
	for (len = 0; len < OM_HDR_SIZE; len++)
		CHECK_EQ(om_frame_check(buf, len, &h), OM_E_SHORT);
	/* Even garbage is only judged once a whole header is there. */
	memset(buf, 0xff, OM_HDR_SIZE);
	CHECK_EQ(om_frame_check(buf, OM_HDR_SIZE - 1, &h), OM_E_SHORT);
}

static void
hdr_bad_magic(void)
{
	struct om_hdr h;

	om_hdr_encode(buf, OM_T_HELLO, 0, 0, 0);
	buf[0] ^= 1;
	CHECK_EQ(om_frame_check(buf, OM_HDR_SIZE, &h), OM_E_MAGIC);
	om_hdr_encode(buf, OM_T_HELLO, 0, 0, 0);
	buf[0] = 0x6d, buf[1] = 0x6f; /* byte-swapped magic: a big-endian peer */
	CHECK_EQ(om_frame_check(buf, OM_HDR_SIZE, &h), OM_E_MAGIC);
	memcpy(buf, "GET / HTTP/1.1\r\n", OM_HDR_SIZE);
	CHECK_EQ(om_frame_check(buf, OM_HDR_SIZE, &h), OM_E_MAGIC);
}

static void
hdr_bad_version(void)
{
	/* 1: before timers and whole siginfo, 2: before CPU time in JOB_EXIT/JOB_HOME,
	 * 3: before heartbeat job lists, 4: before NODE_LEAVING and node flags,
	 * 5: before forks on nodes (JOB_FORK), 6: before execve from nodes,
	 * 7: before node -> node moves through the agent (JOB_MOVE ...),
	 * 8: before threads in images (IMAGE_THREAD), 9: before the caller's
	 * tid in SYSCALL_REQ, 10: before the link and admission, 11: before
	 * key fingerprints and CPU claims in node records, 12: before call
	 * numbers checked, 13: before jobs reattached on a new link, 14:
	 * before checkpoints of what changed (CHECKPOINT's base), 15: before
	 * the node's decisions (DECISIONS) */
	static const uint8_t bad[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17, 0x7f, 0xff };
	struct om_hdr h;
	size_t i;

	for (i = 0; i < sizeof bad; i++) {
		om_hdr_encode(buf, OM_T_HELLO, 0, 0, 0);
		buf[2] = bad[i];
		CHECK_EQ(om_frame_check(buf, OM_HDR_SIZE, &h), OM_E_VERSION);
	}
}

static void
hdr_types(void)
{
	struct om_hdr h;
	int t, known;

	for (t = 0; t < 256; t++) {
		known = (t >= OM_T_ERROR && t <= OM_T_NODE_RESTART) ||
		    (t >= OM_T_IMAGE_BEGIN && t <= OM_T_JOB_LAST) ||
		    (t >= OM_T_CTL_NODES && t <= OM_T_CKPT_ENTRY);
		om_hdr_encode(buf, (uint8_t)t, 0, 0, 0);
		CHECK_EQ(om_frame_check(buf, OM_HDR_SIZE, &h), known ? OM_OK : OM_E_TYPE);
		CHECK_EQ(strcmp(om_type_name(t), "?") != 0, known);
	}
	CHECK(strcmp(om_type_name(-1), "?") == 0);
	CHECK(strcmp(om_type_name(OM_T_HELLO), "HELLO") == 0);
}

static void
hdr_oversize(void)
{
	struct om_hdr h;

	om_hdr_encode(buf, OM_T_ECHO, OM_MAX_PAYLOAD, 0, 0);
	CHECK_EQ(om_frame_check(buf, OM_HDR_SIZE, &h), OM_OK);
	CHECK_EQ(h.length, OM_MAX_PAYLOAD);
	om_hdr_encode(buf, OM_T_ECHO, OM_MAX_PAYLOAD + 1, 0, 0);
	CHECK_EQ(om_frame_check(buf, OM_HDR_SIZE, &h), OM_E_TOOBIG);
	om_hdr_encode(buf, OM_T_ECHO, 0xffffffffu, 0, 0);
	CHECK_EQ(om_frame_check(buf, OM_HDR_SIZE, &h), OM_E_TOOBIG);
}

static void
strerror_all(void)
{
	int e;

	for (e = OM_E_ADMIT; e <= OM_OK; e++)
		CHECK(strcmp(om_strerror(e), "unknown error") != 0);
	CHECK(strcmp(om_strerror(OM_E_ADMIT - 1), "unknown error") == 0);
	CHECK(strcmp(om_strerror(1), "unknown error") == 0);
}

/* ---- round trips */

static void
roundtrip_error(void)
{
	struct om_error a = { 42, "" }, b;
	int n;

	strcpy(a.msg, "something broke: 100%");
	n = om_error_encode(&a, buf, sizeof buf);
	CHECK_EQ(n, 4 + 2 + (int)strlen(a.msg));
	CHECK_EQ(codec_dec_exact(&codecs[0], buf, (size_t)n, &b), OM_OK);
	CHECK_EQ(b.code, 42);
	CHECK(strcmp(b.msg, a.msg) == 0);
	a.msg[0] = '\0';
	n = om_error_encode(&a, buf, sizeof buf);
	CHECK_EQ(n, 6);
	CHECK_EQ(codec_dec_exact(&codecs[0], buf, (size_t)n, &b), OM_OK);
	CHECK(b.msg[0] == '\0');
}

static void
roundtrip_hello(void)
{
	struct om_hello a, b;
	int n;

	fill_hello(&a);
	n = om_hello_encode(&a, buf, sizeof buf);
	CHECK(n > 0);
	/* mac, nic, cpu (2 strings, 8 u32, u64, u16), mem, speed, boot, version */
	CHECK_EQ(n, 6 + 2 + 10 + (2 + 12 + 2 + 41 + 32 + 8 + 2) + 8 + 4 + 4 + 2 + 6);
	CHECK_EQ(codec_dec_exact(&codecs[1], buf, (size_t)n, &b), OM_OK);
	CHECK(hello_eq(&a, &b));
}

static void
roundtrip_welcome(void)
{
	static const uint8_t want[20] = { 7, 0, 0, 0, 0xe8, 0x03, 0, 0,
		0x15, 0xcd, 0x5b, 0x07, 0, 0, 0, 0, 0x30, 0x75, 0, 0 };
	struct om_welcome a = { 7, 1000, 123456789, 30000 }, b;
	int n;

	n = om_welcome_encode(&a, buf, sizeof buf);
	CHECK_EQ(n, 20);
	CHECK(memcmp(buf, want, 20) == 0);
	CHECK_EQ(codec_dec_exact(&codecs[2], buf, 20, &b), OM_OK);
	CHECK(b.node_id == 7 && b.heartbeat_ms == 1000 && b.time_ns == 123456789 && b.grace_ms == 30000);
}

static void
roundtrip_heartbeat(void)
{
	struct om_heartbeat a = { 0xffffffffu, 1234, 0xfedcba9876543210ull, 9, 0, { { 0 } } }, b;
	int n;

	n = om_heartbeat_encode(&a, buf, sizeof buf);
	CHECK_EQ(n, 24);
	CHECK_EQ(codec_dec_exact(&codecs[3], buf, 24, &b), OM_OK);
	CHECK(b.uptime_ms == a.uptime_ms && b.load_milli == a.load_milli &&
	    b.mem_free == a.mem_free && b.jobs == a.jobs && b.nlisted == 0);

	/* the job list: every slot, then one too many, job 0, runnable 2 */
	a.nlisted = OM_NODE_JOBS_MAX;
	for (uint32_t i = 0; i < a.nlisted; i++)
		a.listed[i] = (struct om_hb_job){ i + 1, (uint64_t)i << 40, (uint8_t)(i & 1) };
	n = om_heartbeat_encode(&a, buf, sizeof buf);
	CHECK_EQ(n, 24 + 13 * OM_NODE_JOBS_MAX);
	CHECK_EQ(codec_dec_exact(&codecs[3], buf, (size_t)n, &b), OM_OK);
	CHECK(b.nlisted == OM_NODE_JOBS_MAX && b.listed[15].job == 16 &&
	    b.listed[15].cpu_ns == 15ull << 40 && b.listed[15].runnable == 1);
	buf[20] = OM_NODE_JOBS_MAX + 1;
	CHECK_EQ(om_heartbeat_decode(buf, (size_t)n, &b), OM_E_RANGE);
	buf[20] = OM_NODE_JOBS_MAX;
	buf[24] = 0; /* job 0 */
	CHECK_EQ(om_heartbeat_decode(buf, (size_t)n, &b), OM_E_RANGE);
	buf[24] = 1, buf[36] = 2; /* runnable 2 */
	CHECK_EQ(om_heartbeat_decode(buf, (size_t)n, &b), OM_E_RANGE);
	a.nlisted = OM_NODE_JOBS_MAX + 1;
	CHECK_EQ(om_heartbeat_encode(&a, buf, sizeof buf), OM_E_RANGE);
}

/* Generic: every codec's sample survives encode -> decode -> encode
 * byte for byte (the encoding is canonical). */
static void
roundtrip_all_canonical(void)
{
	codec_roundtrip(&suite);
}

/* ---- malformed payloads */

static void
truncated_every_length(void)
{
	codec_truncated(&suite);
}

static void
trailing_bytes(void)
{
	codec_trailing(&suite);
}

static void
encode_nospace(void)
{
	codec_nospace(&suite);
}

/* Replaces del bytes at off with ins[inslen] in buf[*len]. */
static void
splice(uint8_t *b, size_t *len, size_t off, size_t del, const void *ins, size_t inslen)
{
	memmove(b + off + inslen, b + off + del, *len - off - del);
	memcpy(b + off, ins, inslen);
	*len = *len - del + inslen;
}

/* Offsets in the sample HELLO: mac 0, nic 6, vendor 18, model 32. */
#define H_NIC 6
#define H_VENDOR (H_NIC + 2 + 10)
#define H_MODEL (H_VENDOR + 2 + 12)

static void
string_limits_decode(void)
{
	struct om_hello h, out;
	uint8_t s[80];
	size_t len;
	int n;

	fill_hello(&h);
	n = om_hello_encode(&h, buf, sizeof buf);
	CHECK(n > 0);
	CHECK(buf[H_NIC] == 10 && buf[H_VENDOR] == 12 && buf[H_MODEL] == 41);

	/* nic of exactly OM_STR_MAX bytes: fine; one more: range. */
	s[0] = OM_STR_MAX, s[1] = 0;
	memset(s + 2, 'n', OM_STR_MAX + 1);
	memcpy(buf2, buf, (size_t)n);
	len = (size_t)n;
	splice(buf2, &len, H_NIC, 12, s, 2 + OM_STR_MAX);
	CHECK_EQ(codec_dec_exact(&codecs[1], buf2, len, &out), OM_OK);
	CHECK_EQ(strlen(out.nic), OM_STR_MAX);
	s[0] = OM_STR_MAX + 1;
	memcpy(buf2, buf, (size_t)n);
	len = (size_t)n;
	splice(buf2, &len, H_NIC, 12, s, 2 + OM_STR_MAX + 1);
	CHECK_EQ(codec_dec_exact(&codecs[1], buf2, len, &out), OM_E_RANGE);
	/* a length far beyond the payload is range, not an overread */
	memcpy(buf2, buf, (size_t)n);
	buf2[H_NIC] = 0xff, buf2[H_NIC + 1] = 0xff;
	CHECK_EQ(codec_dec_exact(&codecs[1], buf2, (size_t)n, &out), OM_E_RANGE);

	/* vendor is limited to 12 bytes, model to 48 */
	memcpy(buf2, buf, (size_t)n);
	len = (size_t)n;
	splice(buf2, &len, H_VENDOR, 14, "\x0d\x00GenuineIntelX", 15);
	CHECK_EQ(codec_dec_exact(&codecs[1], buf2, len, &out), OM_E_RANGE);
	s[0] = 49, s[1] = 0;
	memset(s + 2, 'm', 49);
	memcpy(buf2, buf, (size_t)n);
	len = (size_t)n;
	splice(buf2, &len, H_MODEL, 43, s, 51);
	CHECK_EQ(codec_dec_exact(&codecs[1], buf2, len, &out), OM_E_RANGE);
	s[0] = 48;
	memcpy(buf2, buf, (size_t)n);
	len = (size_t)n;
	splice(buf2, &len, H_MODEL, 43, s, 50);
	CHECK_EQ(codec_dec_exact(&codecs[1], buf2, len, &out), OM_OK);
	CHECK_EQ(strlen(out.cpu.model), 48);
}

static void
string_bad_bytes(void)
{
	static const uint8_t bad[] = { 0x00, 0x01, 0x0a, 0x1b, 0x1f, 0x7f, 0x80, 0xff };
	static const uint8_t good[] = { 0x20, 0x7e };
	struct om_hello h, out;
	size_t i;
	int n;

	fill_hello(&h);
	n = om_hello_encode(&h, buf, sizeof buf);
	for (i = 0; i < sizeof bad; i++) {
		memcpy(buf2, buf, (size_t)n);
		buf2[H_NIC + 2 + 3] = bad[i]; /* inside "virtio-net" */
		CHECK_EQ(codec_dec_exact(&codecs[1], buf2, (size_t)n, &out), OM_E_RANGE);
		memcpy(buf2, buf, (size_t)n);
		buf2[(size_t)n - 1] = bad[i]; /* last byte of version */
		CHECK_EQ(codec_dec_exact(&codecs[1], buf2, (size_t)n, &out), OM_E_RANGE);
	}
	for (i = 0; i < sizeof good; i++) {
		memcpy(buf2, buf, (size_t)n);
		buf2[H_NIC + 2 + 3] = good[i];
		CHECK_EQ(codec_dec_exact(&codecs[1], buf2, (size_t)n, &out), OM_OK);
	}
}

static void
string_limits_encode(void)
{
	struct om_hello h;
	struct om_error e = { 1, "" };

	fill_hello(&h);
	memset(h.nic, 'a', sizeof h.nic); /* no NUL in the field */
	CHECK_EQ(om_hello_encode(&h, buf, sizeof buf), OM_E_RANGE);
	fill_hello(&h);
	memset(h.cpu.vendor, 'v', sizeof h.cpu.vendor);
	CHECK_EQ(om_hello_encode(&h, buf, sizeof buf), OM_E_RANGE);
	fill_hello(&h);
	memset(h.nic, 'a', OM_STR_MAX);
	h.nic[OM_STR_MAX] = '\0';
	CHECK(om_hello_encode(&h, buf, sizeof buf) > 0);
	fill_hello(&h);
	h.version[1] = '\n';
	CHECK_EQ(om_hello_encode(&h, buf, sizeof buf), OM_E_RANGE);
	strcpy(e.msg, "tab\there");
	CHECK_EQ(om_error_encode(&e, buf, sizeof buf), OM_E_RANGE);
}

static void
hello_field_ranges(void)
{
	struct om_hello h, out;
	int n;

	fill_hello(&h);
	memset(h.mac, 0, 6);
	CHECK_EQ(om_hello_encode(&h, buf, sizeof buf), OM_E_RANGE);
	fill_hello(&h);
	h.mac[0] = 0x01; /* multicast */
	CHECK_EQ(om_hello_encode(&h, buf, sizeof buf), OM_E_RANGE);
	fill_hello(&h);
	h.cpu.cores = 0;
	CHECK_EQ(om_hello_encode(&h, buf, sizeof buf), OM_E_RANGE);

	fill_hello(&h);
	n = om_hello_encode(&h, buf, sizeof buf);
	memcpy(buf2, buf, (size_t)n);
	memset(buf2, 0, 6);
	CHECK_EQ(codec_dec_exact(&codecs[1], buf2, (size_t)n, &out), OM_E_RANGE);
	memcpy(buf2, buf, (size_t)n);
	buf2[0] |= 1;
	CHECK_EQ(codec_dec_exact(&codecs[1], buf2, (size_t)n, &out), OM_E_RANGE);
	memcpy(buf2, buf, (size_t)n);
	buf2[n - 2 - 6 - 16 - 2] = 0; /* cores, just before mem/speed/boot/version */
	buf2[n - 2 - 6 - 16 - 1] = 0;
	CHECK_EQ(codec_dec_exact(&codecs[1], buf2, (size_t)n, &out), OM_E_RANGE);
}

static void
welcome_field_ranges(void)
{
	struct om_welcome w = { 0, 1000, 1 }, out;

	CHECK_EQ(om_welcome_encode(&w, buf, sizeof buf), OM_E_RANGE);
	w.node_id = 1, w.heartbeat_ms = 0;
	CHECK_EQ(om_welcome_encode(&w, buf, sizeof buf), OM_E_RANGE);
	memset(buf, 0, 20);
	buf[4] = 1; /* node id 0 */
	CHECK_EQ(codec_dec_exact(&codecs[2], buf, 20, &out), OM_E_RANGE);
	memset(buf, 0, 20);
	buf[0] = 1; /* heartbeat 0 */
	CHECK_EQ(codec_dec_exact(&codecs[2], buf, 20, &out), OM_E_RANGE);
}

/* ---- numbering (job_seq.h) */

static void
job_seq_rules(void)
{
	struct job_seq s = { 0, 0 };

	CHECK_EQ(job_seq_frame(&s, 0), 0);   /* JOB_STARTED before any call */
	CHECK_EQ(job_seq_frame(&s, 1), -1);  /* names a call not made */
	CHECK_EQ(job_seq_call(&s, 2), -1);   /* skips call 1 */
	CHECK_EQ(job_seq_call(&s, 0), -1);
	CHECK_EQ(job_seq_call(&s, 1), 0);
	CHECK_EQ(s.calls, 1);
	CHECK_EQ(job_seq_call(&s, 1), -1);   /* repeated */
	CHECK_EQ(job_seq_frame(&s, 1), 0);
	CHECK_EQ(job_seq_frame(&s, 0), -1);  /* before the previous frame's */
	CHECK_EQ(job_seq_call(&s, 2), 0);
	CHECK_EQ(job_seq_frame(&s, 1), -1);
	CHECK_EQ(job_seq_frame(&s, 2), 0);
	CHECK_EQ(job_seq_frame(&s, 2), 0);
	CHECK_EQ(job_seq_frame(&s, 3), -1);
	s = (struct job_seq){ 0xfffffffe, 0 }; /* an image's count, at the top */
	CHECK_EQ(job_seq_call(&s, 0xffffffff), 0);
	CHECK_EQ(job_seq_call(&s, 0), -1);   /* no wrap */
}

/* ---- node lists */

static void
list_empty(void)
{
	uint32_t count = 99;
	size_t pos = 99;
	int n;

	n = om_node_list_encode(NULL, 0, buf, sizeof buf);
	CHECK_EQ(n, 4);
	CHECK_EQ(om_node_list_count(buf, 4, &count, &pos), OM_OK);
	CHECK_EQ(count, 0);
	CHECK_EQ(pos, 4);
	CHECK_EQ(om_node_list_end(4, pos), OM_OK);
	CHECK_EQ(om_node_list_count(buf, 3, &count, &pos), OM_E_TRUNC);
	CHECK_EQ(om_node_list_end(5, 4), OM_E_TRAILING);
	CHECK_EQ(om_node_list_end(4, 5), OM_E_RANGE);
}

static void
list_one(void)
{
	struct om_node_info a, b;
	uint32_t count;
	size_t pos;
	int n;

	fill_node(&a, 77);
	n = om_node_list_encode(&a, 1, buf, sizeof buf);
	CHECK(n > 4);
	CHECK_EQ(om_node_list_count(buf, (size_t)n, &count, &pos), OM_OK);
	CHECK_EQ(count, 1);
	CHECK_EQ(om_node_list_next(buf, (size_t)n, &pos, &b), OM_OK);
	CHECK(node_eq(&a, &b));
	CHECK_EQ(pos, (size_t)n);
	CHECK_EQ(om_node_list_end((size_t)n, pos), OM_OK);
	/* reading past the last record is a truncation, not an overread */
	CHECK_EQ(om_node_list_next(buf, (size_t)n, &pos, &b), OM_E_TRUNC);
	pos = (size_t)n + 1;
	CHECK_EQ(om_node_list_next(buf, (size_t)n, &pos, &b), OM_E_RANGE);
}

/* The largest table the agent can hold, every string at its limit (the IP
 * as a dotted quad), fits one frame and decodes back. */
static void
list_many_max(void)
{
	static struct nlist l;
	uint32_t i, count;
	size_t pos;
	int n;

	l.n = OM_NODES_MAX;
	for (i = 0; i < l.n; i++) {
		fill_node(&l.v[i], i + 1);
		strcpy(l.v[i].ip, "255.255.255.255");
		memset(l.v[i].nic, 'n', OM_STR_MAX);
		l.v[i].nic[OM_STR_MAX] = '\0';
		memset(l.v[i].cpu.model, 'm', 48);
		l.v[i].cpu.model[48] = '\0';
	}
	n = om_node_list_encode(l.v, l.n, buf, OM_MAX_PAYLOAD);
	CHECK(n > 0);
	CHECK_EQ(om_node_list_count(buf, (size_t)n, &count, &pos), OM_OK);
	CHECK_EQ(count, OM_NODES_MAX);
	for (i = 0; i < count; i++) {
		CHECK_EQ(om_node_list_next(buf, (size_t)n, &pos, &list_b.v[0]), OM_OK);
		CHECK(node_eq(&l.v[i], &list_b.v[0]));
	}
	CHECK_EQ(om_node_list_end((size_t)n, pos), OM_OK);
	CHECK_EQ(om_node_list_encode(l.v, OM_NODES_MAX + 1, buf, sizeof buf), OM_E_RANGE);
}

static void
list_bad_counts(void)
{
	struct om_node_info a;
	uint32_t count;
	size_t pos;
	int n;

	buf[0] = 0x01, buf[1] = 0x10, buf[2] = 0, buf[3] = 0; /* 4097 */
	CHECK_EQ(om_node_list_count(buf, 4, &count, &pos), OM_E_RANGE);
	memset(buf, 0xff, 4);
	CHECK_EQ(om_node_list_count(buf, 4, &count, &pos), OM_E_RANGE);
	/* count 2 with one record: cannot fit, rejected before walking */
	fill_node(&a, 1);
	n = om_node_list_encode(&a, 1, buf, sizeof buf);
	buf[0] = 2;
	CHECK_EQ(d_list(buf, (size_t)n, &list_b), OM_E_TRUNC);
	/* count 0 with a record behind it: trailing */
	buf[0] = 0;
	CHECK_EQ(d_list(buf, (size_t)n, &list_b), OM_E_TRAILING);
}

static void
list_bad_records(void)
{
	struct om_node_info a;
	int n;

	fill_node(&a, 1);
	a.state = 3;
	CHECK_EQ(om_node_list_encode(&a, 1, buf, sizeof buf), OM_E_RANGE);
	fill_node(&a, 1);
	a.id = 0;
	CHECK_EQ(om_node_list_encode(&a, 1, buf, sizeof buf), OM_E_RANGE);
	fill_node(&a, 1);
	a.flags = 8;
	CHECK_EQ(om_node_list_encode(&a, 1, buf, sizeof buf), OM_E_RANGE);
	fill_node(&a, 1);
	a.claims = OM_CLAIMS_MAX + 1;
	CHECK_EQ(om_node_list_encode(&a, 1, buf, sizeof buf), OM_E_RANGE);
	fill_node(&a, 1);
	n = om_node_list_encode(&a, 1, buf, sizeof buf);
	/* the record ends: state, flags, uptime, registered, seen, the key's
	 * fingerprint (8 bytes), claims */
	CHECK(memcmp(buf + n - 9, a.key_fp, OM_KEY_FP_BYTES) == 0 && buf[n - 1] == a.claims);
	buf[n - 23] = 0; /* state */
	CHECK_EQ(d_list(buf, (size_t)n, &list_b), OM_E_RANGE);
	buf[n - 23] = 9;
	CHECK_EQ(d_list(buf, (size_t)n, &list_b), OM_E_RANGE);
	buf[n - 23] = OM_NODE_UP;
	buf[n - 22] = OM_NODE_F_ALL + 1; /* flags: an unknown bit */
	CHECK_EQ(d_list(buf, (size_t)n, &list_b), OM_E_RANGE);
	buf[n - 22] = 0x80;
	CHECK_EQ(d_list(buf, (size_t)n, &list_b), OM_E_RANGE);
	buf[n - 22] = OM_NODE_F_ALL;
	CHECK_EQ(d_list(buf, (size_t)n, &list_b), OM_OK);
	buf[n - 1] = OM_CLAIMS_MAX + 1; /* claims: not a finding */
	CHECK_EQ(d_list(buf, (size_t)n, &list_b), OM_E_RANGE);
	buf[n - 1] = OM_CLAIMS_CORES;
	CHECK_EQ(d_list(buf, (size_t)n, &list_b), OM_OK);
	memset(buf + 4, 0, 4); /* id 0 */
	CHECK_EQ(d_list(buf, (size_t)n, &list_b), OM_E_RANGE);
}

/* ---- NODE_LEAVING and CTL_NODE: golden bytes and field limits */

static void
leaving_and_ctl_node(void)
{
	static const uint8_t want_lv[] = { 0x02, 0x02, 0x00, 'h', 'i' };
	static const uint8_t want_cn[] = { 0x05, 0x07, 0x00, 0x00, 0x00 };
	struct om_node_leaving lv = { OM_LEAVE_RESTART, "hi" };
	struct om_ctl_node cn = { OM_CTL_REBOOT, 7 };
	struct om_ctl_node_reply cr = { 7, OM_NODE_F_LEAVING, 0 };

	CHECK_EQ(om_node_leaving_encode(&lv, buf, sizeof buf), (int)sizeof want_lv);
	CHECK(memcmp(buf, want_lv, sizeof want_lv) == 0);
	CHECK_EQ(om_ctl_node_encode(&cn, buf, sizeof buf), (int)sizeof want_cn);
	CHECK(memcmp(buf, want_cn, sizeof want_cn) == 0);
	CHECK_EQ(om_ctl_node_reply_encode(&cr, buf, sizeof buf), 9);
	/* reasons, actions, node ids and flags out of range, both ways */
	lv.reason = 0;
	CHECK_EQ(om_node_leaving_encode(&lv, buf, sizeof buf), OM_E_RANGE);
	buf[0] = 3, buf[1] = 0, buf[2] = 0;
	CHECK_EQ(om_node_leaving_decode(buf, 3, &lv), OM_E_RANGE);
	buf[0] = 1;
	CHECK_EQ(om_node_leaving_decode(buf, 3, &lv), OM_OK);
	CHECK_EQ(om_node_leaving_decode(buf, 4, &lv), OM_E_TRAILING);
	cn.action = 6;
	CHECK_EQ(om_ctl_node_encode(&cn, buf, sizeof buf), OM_E_RANGE);
	cn.action = OM_CTL_DRAIN, cn.node = 0;
	CHECK_EQ(om_ctl_node_encode(&cn, buf, sizeof buf), OM_E_RANGE);
	memcpy(buf, want_cn, sizeof want_cn);
	buf[0] = 0;
	CHECK_EQ(om_ctl_node_decode(buf, sizeof want_cn, &cn), OM_E_RANGE);
	buf[0] = 1, buf[1] = 0;
	CHECK_EQ(om_ctl_node_decode(buf, sizeof want_cn, &cn), OM_E_RANGE);
	buf[1] = 1;
	CHECK_EQ(om_ctl_node_decode(buf, sizeof want_cn, &cn), OM_OK);
	CHECK_EQ(om_ctl_node_decode(buf, sizeof want_cn - 1, &cn), OM_E_TRUNC);
	cr.flags = 8;
	CHECK_EQ(om_ctl_node_reply_encode(&cr, buf, sizeof buf), OM_E_RANGE);
	cr.flags = 0, cr.node = 0;
	CHECK_EQ(om_ctl_node_reply_encode(&cr, buf, sizeof buf), OM_E_RANGE);
}

/* ---- fuzz */

static void
mutate(uint8_t *b, size_t *len, size_t cap)
{
	static const uint8_t edge[] = { 0, 1, 0x1f, 0x20, 0x40, 0x41, 0x7e, 0x7f, 0x80, 0xff };
	size_t off, n;
	unsigned k, rounds = 1 + (unsigned)(check_rand() % 4);

	while (rounds-- > 0) {
		off = *len ? (size_t)(check_rand() % *len) : 0;
		switch (check_rand() % 7) {
		case 0: /* flip a bit */
			if (*len)
				b[off] ^= (uint8_t)(1u << (check_rand() % 8));
			break;
		case 1: /* an interesting byte */
			if (*len)
				b[off] = edge[check_rand() % sizeof edge];
			break;
		case 2: /* truncate */
			*len = *len ? (size_t)(check_rand() % *len) : 0;
			break;
		case 3: /* append random bytes */
			for (n = 1 + check_rand() % 8; n > 0 && *len < cap; n--)
				b[(*len)++] = (uint8_t)check_rand();
			break;
		case 4: /* a length-like u16 */
			if (*len >= 2) {
				k = (unsigned)(check_rand() % 4);
				n = k == 0 ? 0 : k == 1 ? OM_STR_MAX : k == 2 ? OM_STR_MAX + 1 : 0xffff;
				off = (size_t)(check_rand() % (*len - 1));
				b[off] = (uint8_t)n, b[off + 1] = (uint8_t)(n >> 8);
			}
			break;
		case 5: /* delete a range */
			if (*len) {
				n = 1 + (size_t)(check_rand() % 8);
				if (n > *len - off)
					n = *len - off;
				memmove(b + off, b + off + n, *len - off - n);
				*len -= n;
			}
			break;
		case 6: /* insert random bytes */
			n = 1 + (size_t)(check_rand() % 8);
			if (*len + n <= cap) {
				memmove(b + off + n, b + off, *len - off);
				for (k = 0; k < n; k++)
					b[off + k] = (uint8_t)check_rand();
				*len += n;
			}
			break;
		}
	}
}

/* Random mutations of every sample, decoded by every decoder. Whatever a
 * decoder accepts must re-encode to exactly the same bytes: a decoder
 * that accepts more than the encoder can produce is a parser bug. */
static void
fuzz_decoders(void)
{
	static const int ok_codes[] = { OM_OK, OM_E_TRUNC, OM_E_TRAILING, OM_E_RANGE };
	size_t i, j, len, c;
	int iter, rc, n, okc;

	check_seed(0x0123456789abcdefull);
	for (iter = 0; iter < 200000; iter++) {
		i = (size_t)iter % NCODECS;
		n = codecs[i].enc(sample(i), buf, sizeof buf);
		CHECK(n > 0);
		len = (size_t)n;
		mutate(buf, &len, 4096);
		for (j = 0; j < NCODECS; j++) {
			rc = codec_dec_exact(&codecs[j], buf, len, scratch());
			for (okc = 0, c = 0; c < sizeof ok_codes / sizeof ok_codes[0]; c++)
				okc |= rc == ok_codes[c];
			if (!okc) {
				check_fail("iteration %d: %s decoder returned %d", iter, codecs[j].name, rc);
				return;
			}
			if (rc != OM_OK)
				continue;
			n = codecs[j].enc(scratch(), buf2, sizeof buf2);
			if (n != (int)len || memcmp(buf, buf2, len) != 0) {
				check_fail("iteration %d: %s accepted %zu bytes that re-encode to %d",
				    iter, codecs[j].name, len, n);
				return;
			}
		}
	}
}

/* Random headers: om_frame_check returns only its documented results and
 * accepts only what it promises to. */
static void
fuzz_headers(void)
{
	struct om_hdr h;
	size_t len;
	int iter, rc;

	check_seed(42);
	for (iter = 0; iter < 100000; iter++) {
		om_hdr_encode(buf, (uint8_t)(1 + check_rand() % 7), (uint32_t)(check_rand() % 64), 0, 0);
		len = OM_HDR_SIZE;
		if (iter % 2)
			mutate(buf, &len, OM_HDR_SIZE);
		else
			for (len = 0; len < OM_HDR_SIZE; len++)
				buf[len] = (uint8_t)check_rand();
		{
			uint8_t *p = malloc(len ? len : 1);

			memcpy(p, buf, len);
			rc = om_frame_check(p, len, &h);
			free(p);
		}
		if (len < OM_HDR_SIZE)
			CHECK_EQ(rc, OM_E_SHORT);
		else if (rc == OM_OK)
			CHECK(h.version == OM_PROTO_VERSION && h.length <= OM_MAX_PAYLOAD &&
			    strcmp(om_type_name(h.type), "?") != 0);
		else
			CHECK(rc == OM_E_MAGIC || rc == OM_E_VERSION || rc == OM_E_TYPE ||
			    rc == OM_E_TOOBIG);
	}
}

int
main(void)
{
	RUN(hdr_golden);
	RUN(hdr_short);
	RUN(hdr_bad_magic);
	RUN(hdr_bad_version);
	RUN(hdr_types);
	RUN(hdr_oversize);
	RUN(strerror_all);
	RUN(roundtrip_error);
	RUN(roundtrip_hello);
	RUN(roundtrip_welcome);
	RUN(roundtrip_heartbeat);
	RUN(roundtrip_all_canonical);
	RUN(truncated_every_length);
	RUN(trailing_bytes);
	RUN(encode_nospace);
	RUN(string_limits_decode);
	RUN(string_bad_bytes);
	RUN(string_limits_encode);
	RUN(hello_field_ranges);
	RUN(welcome_field_ranges);
	RUN(job_seq_rules);
	RUN(list_empty);
	RUN(list_one);
	RUN(list_many_max);
	RUN(list_bad_counts);
	RUN(list_bad_records);
	RUN(leaving_and_ctl_node);
	RUN(fuzz_decoders);
	RUN(fuzz_headers);
	return check_exit();
}
