/* test_job_msg.c - codec tests for migrate/job_msg.c: round trips, golden
 * bytes, every truncation, trailing bytes, field ranges, the job list, and
 * a deterministic mutation fuzz (whatever decodes must re-encode to the
 * same bytes). Built with ASan/UBSan; decodes read exact-size heap copies. */
#include <stdlib.h>
#include <string.h>

#define CHECK_PREFIX "job_msg/"
#include "check.h"
#include "codec_check.h"
#include "job_msg.h"
#include "reattach_msg.h"
#include "ckpt_file.h"
#include "decision.h"

#define BUF_MAX (OM_MAX_PAYLOAD + 64)

static uint8_t buf[BUF_MAX], buf2[BUF_MAX];

/* ---- samples */

static void
fill_cpu(struct om_cpu *c)
{
	memset(c, 0, sizeof *c);
	strcpy(c->vendor, "AuthenticAMD");
	strcpy(c->model, "AMD EPYC 7763 64-Core Processor");
	c->family = 25;
	c->model_id = 1;
	c->stepping = 1;
	c->leaf1_ecx = 0x7ed8320b;
	c->leaf1_edx = 0x178bfbff;
	c->leaf7_ebx = 0x219c97a9;
	c->leaf7_ecx = 0x0040069c;
	c->leaf7_edx = 0x00000010;
	c->xcr0 = 0x207;
	c->cores = 1;
}

static void
fill_submit(struct om_job_submit *m)
{
	memset(m, 0, sizeof *m);
	m->pid = 31337;
	strcpy(m->cmd, "./matmul --size 4096 input.dat");
	fill_cpu(&m->cpu);
	m->mem_bytes = 3ull << 30;
	m->node = 5;
	m->flags = 0;
}

static void
fill_placed(struct om_job_placed *m)
{
	memset(m, 0, sizeof *m);
	m->job = 12;
	m->node = 5;
	fill_cpu(&m->cpu);
	m->cpu.cores = 8;
	strcpy(m->addr, "10.0.2.15");
	strcpy(m->reason, "fastest free node");
}

static void
fill_info(struct om_job_info *j, uint32_t k)
{
	memset(j, 0, sizeof *j);
	j->job = k;
	j->node = 1 + k % 7;
	j->uid = 1000 + k % 3;
	j->pid = 4000 + k;
	j->ppid = 3000 + k;
	j->why = (uint8_t)(k % (OM_WHY_MAX + 1));
	snprintf(j->cmd, sizeof j->cmd, "prog-%u arg", k);
	j->runtime_ms = 123456789012ull + k;
	j->state = (uint8_t)(OM_JOB_PLACED + k % 3);
}

/* ---- a uniform view of every codec */

struct jlist {
	uint32_t n;
	struct om_job_info v[OM_JOBS_MAX];
};

CODEC_ADAPTERS(sub, om_job_submit)
CODEC_ADAPTERS(pl, om_job_placed)
CODEC_ADAPTERS(mig, om_job_migrate)
CODEC_ADAPTERS(sig, om_job_signal)
CODEC_ADAPTERS(stop, om_job_stopped)
CODEC_ADAPTERS(seen, om_signal_seen)
CODEC_ADAPTERS(intr, om_call_interrupt)
CODEC_ADAPTERS(fork, om_job_fork)
CODEC_ADAPTERS(moving, om_job_moving)
CODEC_ADAPTERS(moved, om_job_moved)
CODEC_ADAPTERS(exit, om_job_exit)
CODEC_ADAPTERS(home, om_job_home)
CODEC_ADAPTERS(lost, om_node_lost)
CODEC_ADAPTERS(err, om_error)
CODEC_ADAPTERS(pol, om_policy)
CODEC_ADAPTERS(reat, om_job_reattach)
CODEC_ADAPTERS(creat, om_ctl_reattach)
CODEC_ADAPTERS(cck, om_ctl_checkpoint)
CODEC_ADAPTERS(ckq, om_checkpoint)
CODEC_ADAPTERS(ckh, om_ckpt_home)
CODEC_ADAPTERS(cke, om_ckpt_entry)

static int
e_list(const void *m, void *o, size_t c)
{
	const struct jlist *l = m;

	return om_job_list_encode(l->v, l->n, o, c);
}

static int
d_list(const void *b, size_t len, void *m)
{
	struct jlist *l = m;
	size_t pos;
	uint32_t i;
	int rc;

	if ((rc = om_job_list_count(b, len, &l->n, &pos)) != OM_OK)
		return rc;
	for (i = 0; i < l->n; i++)
		if ((rc = om_job_list_next(b, len, &pos, &l->v[i])) != OM_OK)
			return rc;
	return om_job_list_end(len, pos);
}

static const struct codec codecs[] = {
	{ "submit", e_sub, d_sub },
	{ "placed", e_pl, d_pl },
	{ "placed_none", e_pl, d_pl },
	{ "migrate", e_mig, d_mig },
	{ "signal", e_sig, d_sig },
	{ "exit", e_exit, d_exit },
	{ "exit_signaled", e_exit, d_exit },
	{ "home", e_home, d_home },
	{ "node_lost", e_lost, d_lost },
	{ "job_error", e_err, d_err },
	{ "job_list", e_list, d_list },
	{ "stopped", e_stop, d_stop },
	{ "signal_seen", e_seen, d_seen },
	{ "call_interrupt", e_intr, d_intr },
	{ "submit_fork", e_sub, d_sub },
	{ "job_fork", e_fork, d_fork },
	{ "job_moving", e_moving, d_moving },
	{ "job_moved", e_moved, d_moved },
	{ "policy", e_pol, d_pol },
	{ "job_reattach", e_reat, d_reat },
	{ "ctl_reattach", e_creat, d_creat },
	{ "ctl_checkpoint", e_cck, d_cck },
	{ "ckpt_home", e_ckh, d_ckh },
	{ "ckpt_entry_fd", e_cke, d_cke },
	{ "ckpt_entry_code", e_cke, d_cke },
	{ "checkpoint", e_ckq, d_ckq },
};
#define NCODECS (sizeof codecs / sizeof codecs[0])

static struct jlist list_a, list_b;

static const void *
sample(size_t i)
{
	static struct om_job_submit sub;
	static struct om_job_placed pl, none;
	static struct om_job_migrate mig = { 4242, 0 };
	static struct om_job_signal sig = { 2, -6, 0, { 0x09, 0x03, 0, 0, 0xe8, 0x03, 0, 0, 42 } };
	static struct om_job_exit ex = { OM_EXIT_EXITED, 255, 0 };
	static struct om_job_exit ks = { OM_EXIT_SIGNALED, 11, 1, 0x1122334455667788ull };
	static struct om_job_home home = { OM_HOME_SYSCALL, "fork", 57 };
	static struct om_node_lost lost = { 3, "connection closed by peer" };
	static struct om_error err = { (uint32_t)OM_E_STATE, "no memory for the image" };
	static struct om_job_stopped stop = { 20 };
	static struct om_signal_seen seen = { 0xfffffffe };
	static struct om_call_interrupt intr = { 7 };
	static struct om_job_submit subf;
	static struct om_job_fork fork = { 77, 0xfffffff0u, 4242 };
	static struct om_job_moving moving = { 0x0102030405060708ull, 0xfffffffeu };
	static struct om_job_moved moved;
	static struct om_policy pol = { OM_POLICY_CONFINE, 60000, 7 };
	static struct om_job_reattach reat = { 3, 4242, 1000, 0xfffffff0u, 7, 19, 0 };
	static struct om_ctl_reattach creat;
	static struct om_ctl_checkpoint cck;
	static struct om_ckpt_home ckh = { 1000, 77, 3, 1700000000123456789, 0x555555554000, 0x555555556000, 0x555555558000,
		0x555555559000, 0x55555555a000, 0x7ffffffde000, 0x7fffffffe100, 0x7fffffffe120, 0x7fffffffe120,
		0x7fffffffefe0, "/usr/bin/caf\xc3\xa9 au lait" };
	static struct om_ckpt_entry fd = { OM_CKPT_FD, OM_CKPT_FILE, 7, 02101, 123456789, 0, 0, 2049, 42, 999999,
		1700000000123456789, -1, "/home/u/out.txt" };
	static struct om_checkpoint ckq = { 0xfffffffeu };
	static struct om_ckpt_entry code = { OM_CKPT_CODE, 0, -1, 5, 8192, 0x7f0000001000, 0x5000, 2049, 43, 65536,
		1, 2, "/usr/lib/x86_64-linux-gnu/libc.so.6" };
	uint32_t k;

	switch (i) {
	case 0: fill_submit(&sub); return &sub;
	case 1: fill_placed(&pl); return &pl;
	case 2:
		memset(&none, 0, sizeof none);
		strcpy(none.reason, "no node has AVX2");
		return &none;
	case 3: return &mig;
	case 4: return &sig;
	case 5: return &ex;
	case 6: return &ks;
	case 7: return &home;
	case 8: return &lost;
	case 9: return &err;
	case 11: return &stop;
	case 12: return &seen;
	case 13: return &intr;
	case 14:
		fill_submit(&subf);
		subf.flags = OM_JOB_F_FORK;
		subf.fork_job = 9;
		subf.fork_seq = 3;
		return &subf;
	case 15: return &fork;
	case 16: return &moving;
	case 17:
		fill_placed(&moved.to);
		moved.cpu_ns = 12345678901ull;
		return &moved;
	case 18: return &pol;
	case 19: return &reat;
	case 20:
		fill_submit(&creat.s);
		creat.s.node = 0; /* a claim prefers no node */
		creat.job = 0xfffffff1u;
		memset(creat.key, 0xa5, sizeof creat.key);
		return &creat;
	case 21:
		cck.pid = 4242;
		memset(cck.path, 'a', OM_PATH_MAX); /* the longest path */
		cck.path[0] = '/';
		cck.path[OM_PATH_MAX] = '\0';
		return &cck;
	case 22: return &ckh;
	case 23: return &fd;
	case 24: return &code;
	case 25: return &ckq;
	}
	list_a.n = 3;
	for (k = 0; k < list_a.n; k++)
		fill_info(&list_a.v[k], k + 1);
	return &list_a;
}

static void *
scratch(void)
{
	return &list_b;
}

static const struct codec_suite suite = { codecs, NCODECS, sample, scratch, buf, buf2, BUF_MAX };

/* ---- generic properties */

static void
roundtrip_all_canonical(void)
{
	codec_roundtrip(&suite);
}

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

/* ---- layouts */

/* The cpu inside SUBMIT is byte for byte the cpu of a HELLO (proto.c). */
static void
cpu_same_as_hello(void)
{
	struct om_hello h;
	struct om_job_submit s;
	int hn, sn;

	memset(&h, 0, sizeof h);
	h.mac[0] = 0x52, h.mac[5] = 1;
	fill_cpu(&h.cpu);
	hn = om_hello_encode(&h, buf, sizeof buf);
	fill_submit(&s);
	s.cmd[0] = '\0';
	sn = om_job_submit_encode(&s, buf2, sizeof buf2);
	CHECK(hn > 0 && sn > 0);
	/* HELLO: mac(6) nic(2+0) cpu; SUBMIT: pid(4) cmd(2+0) cpu */
	CHECK(memcmp(buf + 8, buf2 + 6, (size_t)sn - 6 - 16) == 0);
}

static void
golden_small(void)
{
	/* signo 2, si_code SI_TKILL, si_errno 0, si_pid 777, si_uid 1000, si_value 42 */
	static const uint8_t sig[44] = { 2, 0, 0, 0, 0xfa, 0xff, 0xff, 0xff, 0, 0, 0, 0,
		0x09, 0x03, 0, 0, 0xe8, 0x03, 0, 0, 42 };
	struct om_job_signal sender;
	static const uint8_t ex[14] = { 2, 11, 0, 0, 0, 1,
		0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11 };
	static const uint8_t mig[8] = { 0x92, 0x10, 0, 0, 0, 0, 0, 0 };
	static const uint8_t home[12] = { 1, 0, 0, 0, 4, 0, 'f', 'o', 'r', 'k', 57, 0 };
	static const uint8_t none[10] = { 0, 0, 0, 0, 0, 0, 0, 0, 2, 0 };
	struct om_job_placed p;
	int n;

	CHECK_EQ(om_job_signal_encode(sample(4), buf, sizeof buf), 44);
	CHECK(memcmp(buf, sig, 44) == 0);
	memset(&sender, 0, sizeof sender);
	om_job_signal_set_sender(&sender, 777, 1000);
	CHECK(memcmp(sender.fields, sig + 12, 8) == 0);
	CHECK_EQ(om_job_exit_encode(sample(6), buf, sizeof buf), 14);
	CHECK(memcmp(buf, ex, 14) == 0);
	CHECK_EQ(om_job_migrate_encode(sample(3), buf, sizeof buf), 8);
	CHECK(memcmp(buf, mig, 8) == 0);
	n = om_job_home_encode(sample(7), buf, sizeof buf);
	CHECK_EQ(n, 22);
	CHECK(memcmp(buf, home, 12) == 0 && buf[12] == 0 && buf[13] == 0);
	for (int i = 14; i < 22; i++)
		CHECK_EQ(buf[i], 0); /* cpu_ns */
	memset(&p, 0, sizeof p);
	strcpy(p.reason, "no");
	n = om_job_placed_encode(&p, buf, sizeof buf);
	CHECK_EQ(n, 12);
	CHECK(memcmp(buf, none, 10) == 0 && buf[10] == 'n' && buf[11] == 'o');
	static const uint8_t moving[12] = { 8, 7, 6, 5, 4, 3, 2, 1, 0xfe, 0xff, 0xff, 0xff };
	CHECK_EQ(om_job_moving_encode(sample(16), buf, sizeof buf), 12);
	CHECK(memcmp(buf, moving, 12) == 0);
}

/* JOB_MOVED names a node and a job: the node the job runs on now. */
static void
moved_ranges(void)
{
	struct om_job_moved m, out;
	uint8_t b[OM_JOB_MOVED_MAX];
	int n;

	memset(&m, 0, sizeof m);
	fill_placed(&m.to);
	memset(m.to.addr, 'a', OM_STR_MAX);
	memset(m.to.reason, 'r', OM_STR_MAX);
	memset(m.to.cpu.vendor, 'v', 12);
	memset(m.to.cpu.model, 'm', 48);
	CHECK_EQ(om_job_moved_encode(&m, b, sizeof b), OM_JOB_MOVED_MAX);
	fill_placed(&m.to);
	m.to.node = 0;
	CHECK_EQ(om_job_moved_encode(&m, b, sizeof b), OM_E_RANGE);
	m.to.node = 3;
	m.to.job = 0;
	CHECK_EQ(om_job_moved_encode(&m, b, sizeof b), OM_E_RANGE);
	/* a JOB_MOVED naming home (node 0): refused on decode */
	memset(&m.to, 0, sizeof m.to);
	n = om_job_placed_encode(&m.to, b + 8, sizeof b - 8);
	memset(b, 0, 8);
	CHECK(n > 0);
	CHECK_EQ(om_job_moved_decode(b, (size_t)n + 8, &out), OM_E_RANGE);
}

static void
max_sizes(void)
{
	struct om_job_submit s;
	struct om_job_placed p;
	struct om_job_info j;

	fill_submit(&s);
	s.flags = OM_JOB_F_FORK; /* the longest */
	s.fork_job = 1;
	memset(s.cmd, 'c', OM_CMD_MAX);
	s.cmd[OM_CMD_MAX] = '\0';
	memset(s.cpu.vendor, 'v', 12);
	memset(s.cpu.model, 'm', 48);
	CHECK_EQ(om_job_submit_encode(&s, buf, sizeof buf), OM_JOB_SUBMIT_MAX);
	CHECK_EQ(om_job_submit_encode(&s, buf, OM_JOB_SUBMIT_MAX - 1), OM_E_NOSPACE);
	fill_placed(&p);
	memset(p.cpu.vendor, 'v', 12);
	memset(p.cpu.model, 'm', 48);
	memset(p.addr, 'a', OM_STR_MAX);
	memset(p.reason, 'r', OM_STR_MAX);
	CHECK_EQ(om_job_placed_encode(&p, buf, sizeof buf), OM_JOB_PLACED_MAX);
	fill_info(&j, 1);
	memset(j.cmd, 'c', OM_CMD_MAX);
	j.cmd[OM_CMD_MAX] = '\0';
	CHECK_EQ(om_job_list_encode(&j, 1, buf, sizeof buf), 4 + OM_JOB_RECORD_MAX);
	/* a full table fits one frame */
	CHECK(4 + (uint64_t)OM_JOBS_MAX * OM_JOB_RECORD_MAX <= OM_MAX_PAYLOAD);
}

/* ---- field ranges */

static void
submit_ranges(void)
{
	struct om_job_submit s, out;
	int n;

	fill_submit(&s);
	s.flags = 4;
	CHECK_EQ(om_job_submit_encode(&s, buf, sizeof buf), OM_E_RANGE);
	s.flags = OM_JOB_F_HOME | OM_JOB_F_FORK; /* a child forked on a node is not at home */
	s.fork_job = 5;
	CHECK_EQ(om_job_submit_encode(&s, buf, sizeof buf), OM_E_RANGE);
	s.flags = OM_JOB_F_FORK;
	s.fork_job = 0; /* a fork of no job */
	CHECK_EQ(om_job_submit_encode(&s, buf, sizeof buf), OM_E_RANGE);
	s.fork_job = 5;
	n = om_job_submit_encode(&s, buf, sizeof buf);
	CHECK(n > 0);
	buf[n - 8] = 0; /* fork_job 0 on the wire */
	CHECK_EQ(codec_dec_exact(&codecs[0], buf, (size_t)n, &out), OM_E_RANGE);
	s.flags = OM_JOB_F_HOME;
	n = om_job_submit_encode(&s, buf, sizeof buf);
	CHECK(n > 0);
	CHECK_EQ(codec_dec_exact(&codecs[0], buf, (size_t)n, &out), OM_OK);
	CHECK_EQ(out.flags, OM_JOB_F_HOME);
	buf[n - 4] = 5; /* flags: unknown bit */
	CHECK_EQ(codec_dec_exact(&codecs[0], buf, (size_t)n, &out), OM_E_RANGE);
	fill_submit(&s);
	s.cpu.cores = 0;
	CHECK_EQ(om_job_submit_encode(&s, buf, sizeof buf), OM_E_RANGE);
	fill_submit(&s);
	s.cmd[3] = '\033';
	CHECK_EQ(om_job_submit_encode(&s, buf, sizeof buf), OM_E_RANGE);
	fill_submit(&s);
	memset(s.cmd, 'x', sizeof s.cmd); /* unterminated */
	CHECK_EQ(om_job_submit_encode(&s, buf, sizeof buf), OM_E_RANGE);
	/* a command one byte over the limit on the wire */
	fill_submit(&s);
	memset(s.cmd, 'x', OM_CMD_MAX);
	s.cmd[OM_CMD_MAX] = '\0';
	n = om_job_submit_encode(&s, buf, sizeof buf);
	CHECK(n > 0);
	CHECK_EQ(codec_dec_exact(&codecs[0], buf, (size_t)n, &out), OM_OK);
	buf[4] = OM_CMD_MAX + 1;
	CHECK_EQ(codec_dec_exact(&codecs[0], buf, (size_t)n, &out), OM_E_RANGE);
	/* a NUL inside the command */
	n = om_job_submit_encode(&s, buf, sizeof buf);
	buf[10] = 0;
	CHECK_EQ(codec_dec_exact(&codecs[0], buf, (size_t)n, &out), OM_E_RANGE);
}

static void
placed_ranges(void)
{
	struct om_job_placed p, out;
	int n;

	fill_placed(&p);
	p.job = 0;
	CHECK_EQ(om_job_placed_encode(&p, buf, sizeof buf), OM_E_RANGE);
	fill_placed(&p);
	p.node = 0; /* a process recorded at home: its id, no node */
	n = om_job_placed_encode(&p, buf, sizeof buf);
	CHECK(n > 0);
	CHECK_EQ(codec_dec_exact(&codecs[1], buf, (size_t)n, &out), OM_OK);
	CHECK(out.job == 12 && out.node == 0 && out.addr[0] == '\0');
	fill_placed(&p);
	p.cpu.cores = 0;
	CHECK_EQ(om_job_placed_encode(&p, buf, sizeof buf), OM_E_RANGE);
	fill_placed(&p);
	n = om_job_placed_encode(&p, buf, sizeof buf);
	CHECK(n > 0);
	memcpy(buf2, buf, (size_t)n);
	memset(buf2, 0, 4); /* job 0 with a node */
	CHECK_EQ(codec_dec_exact(&codecs[1], buf2, (size_t)n, &out), OM_E_RANGE);
	memcpy(buf2, buf, (size_t)n);
	memset(buf2 + 4, 0, 4); /* node 0: no cpu and address may follow */
	CHECK(codec_dec_exact(&codecs[1], buf2, (size_t)n, &out) != OM_OK);
	CHECK_EQ(codec_dec_exact(&codecs[1], buf, (size_t)n, &out), OM_OK);
	CHECK(out.job == 12 && out.node == 5 && out.cpu.cores == 8 &&
	    strcmp(out.addr, "10.0.2.15") == 0 && strcmp(out.reason, p.reason) == 0);
}

static void
small_ranges(void)
{
	struct om_job_signal s = { 0, 0, 0, { 0 } };
	struct om_job_exit e;
	struct om_job_home h = { OM_HOME_REQUESTED, "", -1 };
	struct om_node_lost l = { 0, "x" };
	union {
		struct om_job_signal s;
		struct om_job_exit e;
		struct om_job_home h;
		struct om_node_lost l;
	} out;
	int n;

	CHECK_EQ(om_job_signal_encode(&s, buf, sizeof buf), OM_E_RANGE);
	s.signo = OM_SIG_MAX + 1;
	CHECK_EQ(om_job_signal_encode(&s, buf, sizeof buf), OM_E_RANGE);
	s.signo = OM_SIG_MAX;
	CHECK_EQ(om_job_signal_encode(&s, buf, sizeof buf), 44);
	buf[0] = 0;
	CHECK_EQ(codec_dec_exact(&codecs[4], buf, 44, &out), OM_E_RANGE);
	buf[0] = OM_SIG_MAX + 1;
	CHECK_EQ(codec_dec_exact(&codecs[4], buf, 44, &out), OM_E_RANGE);

	/* CTL_POLICY_REPLY: the flags om-run knows, nothing else; checkpoints
	 * never or every 100 ms .. a day, taking 1 .. 50 % of a job's time */
	for (uint32_t v = 0; v <= 8; v++) {
		struct om_policy pol = { v, 0, 5 };
		int known = (v & ~OM_POLICY_ALL) == 0;
		CHECK_EQ(om_policy_encode(&pol, buf, sizeof buf), known ? 12 : OM_E_RANGE);
		om_policy_encode(&(struct om_policy){ 0, 0, 5 }, buf, sizeof buf);
		memcpy(buf, &v, 4);
		CHECK_EQ(codec_dec_exact(&codecs[18], buf, 12, &pol), known ? OM_OK : OM_E_RANGE);
		CHECK(!known || pol.flags == v);
	}
	static const struct { uint32_t every, pct; int ok; } pols[] = {
		{ 0, 5, 1 }, { 99, 5, 0 }, { 100, 5, 1 }, { 86400000, 50, 1 }, { 86400001, 5, 0 },
		{ 1000, 0, 0 }, { 1000, 51, 0 }, { 1000, 1, 1 } };
	for (size_t i = 0; i < sizeof pols / sizeof pols[0]; i++) {
		struct om_policy pol = { 0, pols[i].every, pols[i].pct };
		CHECK_EQ(om_policy_encode(&pol, buf, sizeof buf), pols[i].ok ? 12 : OM_E_RANGE);
	}

	/* JOB_STOPPED: 0 ("goes on") or a stop signal, 19..22, nothing else */
	struct om_job_stopped st;
	for (uint32_t v = 0; v <= OM_SIG_MAX + 1; v++) {
		int stop = v == 0 || (v >= 19 && v <= 22);
		st.signo = v;
		CHECK_EQ(om_job_stopped_encode(&st, buf, sizeof buf), stop ? 4 : OM_E_RANGE);
		memcpy(buf, &v, 4); /* little-endian host, as the wire */
		CHECK_EQ(codec_dec_exact(&codecs[11], buf, 4, &st), stop ? OM_OK : OM_E_RANGE);
	}

	e = (struct om_job_exit){ OM_EXIT_EXITED, 256, 0 };
	CHECK_EQ(om_job_exit_encode(&e, buf, sizeof buf), OM_E_RANGE);
	e = (struct om_job_exit){ OM_EXIT_EXITED, 0, 1 };
	CHECK_EQ(om_job_exit_encode(&e, buf, sizeof buf), OM_E_RANGE);
	e = (struct om_job_exit){ OM_EXIT_SIGNALED, 0, 0 };
	CHECK_EQ(om_job_exit_encode(&e, buf, sizeof buf), OM_E_RANGE);
	e = (struct om_job_exit){ OM_EXIT_SIGNALED, 9, 2 };
	CHECK_EQ(om_job_exit_encode(&e, buf, sizeof buf), OM_E_RANGE);
	e = (struct om_job_exit){ OM_EXIT_EXECED, 1, 0 };
	CHECK_EQ(om_job_exit_encode(&e, buf, sizeof buf), OM_E_RANGE);
	e = (struct om_job_exit){ OM_EXIT_EXECED, 0, 1 };
	CHECK_EQ(om_job_exit_encode(&e, buf, sizeof buf), OM_E_RANGE);
	e = (struct om_job_exit){ OM_EXIT_EXECED, 0, 0 };
	CHECK_EQ(om_job_exit_encode(&e, buf, sizeof buf), 14);
	e = (struct om_job_exit){ 4, 0, 0 };
	CHECK_EQ(om_job_exit_encode(&e, buf, sizeof buf), OM_E_RANGE);
	e = (struct om_job_exit){ OM_EXIT_EXITED, 0, 0 };
	CHECK_EQ(om_job_exit_encode(&e, buf, sizeof buf), 14);
	buf[0] = 0;
	CHECK_EQ(codec_dec_exact(&codecs[5], buf, 14, &out), OM_E_RANGE);
	buf[0] = 1, buf[5] = 1; /* core dump on a normal exit */
	CHECK_EQ(codec_dec_exact(&codecs[5], buf, 14, &out), OM_E_RANGE);

	n = om_job_home_encode(&h, buf, sizeof buf);
	CHECK_EQ(n, 18);
	CHECK_EQ(codec_dec_exact(&codecs[7], buf, (size_t)n, &out), OM_OK);
	CHECK_EQ(out.h.pending, -1);
	buf[6] = 0xfe; /* pending -2 */
	CHECK_EQ(codec_dec_exact(&codecs[7], buf, (size_t)n, &out), OM_E_RANGE);
	h.pending = -2;
	CHECK_EQ(om_job_home_encode(&h, buf, sizeof buf), OM_E_RANGE);
	h.pending = 0, h.reason = 0;
	CHECK_EQ(om_job_home_encode(&h, buf, sizeof buf), OM_E_RANGE);
	h.reason = OM_HOME_RESOURCE + 1;
	CHECK_EQ(om_job_home_encode(&h, buf, sizeof buf), OM_E_RANGE);

	/* Claims: an ended job waits for no answer, a stop signal is a
	 * signal; om-run's names a job, and no node or flags. */
	struct om_job_reattach ra = { .pid = 7, .waiting = 5, .exited = 1 };
	CHECK_EQ(om_job_reattach_encode(&ra, buf, sizeof buf), OM_E_RANGE);
	ra.waiting = 0;
	n = om_job_reattach_encode(&ra, buf, sizeof buf);
	CHECK_EQ(n, 28);
	buf[12] = 5; /* waiting, with exited */
	CHECK_EQ(om_job_reattach_decode(buf, (size_t)n, &ra), OM_E_RANGE);
	ra = (struct om_job_reattach){ .stopped = 65 };
	CHECK_EQ(om_job_reattach_encode(&ra, buf, sizeof buf), OM_E_RANGE);
	struct om_ctl_reattach cr;
	memset(&cr, 0, sizeof cr);
	CHECK_EQ(om_ctl_reattach_encode(&cr, buf, sizeof buf), OM_E_RANGE);
	cr.job = 1;
	fill_submit(&cr.s); /* node 5 */
	CHECK_EQ(om_ctl_reattach_encode(&cr, buf, sizeof buf), OM_E_RANGE);
	cr.s.node = 0;
	n = om_ctl_reattach_encode(&cr, buf, sizeof buf);
	CHECK(n > 36);
	buf[0] = 0; /* job 0 */
	CHECK_EQ(om_ctl_reattach_decode(buf, (size_t)n, &cr), OM_E_RANGE);
	CHECK_EQ(om_ctl_reattach_decode(buf, 20, &cr), OM_E_TRUNC);

	/* A checkpoint names a process and an absolute path. */
	struct om_ctl_checkpoint ck = { 0, "/tmp/x" };
	CHECK_EQ(om_ctl_checkpoint_encode(&ck, buf, sizeof buf), OM_E_RANGE);
	ck.pid = 1;
	strcpy(ck.path, "tmp/x");
	CHECK_EQ(om_ctl_checkpoint_encode(&ck, buf, sizeof buf), OM_E_RANGE);
	ck.path[0] = '\0';
	CHECK_EQ(om_ctl_checkpoint_encode(&ck, buf, sizeof buf), OM_E_RANGE);
	strcpy(ck.path, "/tmp/x");
	n = om_ctl_checkpoint_encode(&ck, buf, sizeof buf);
	CHECK_EQ(n, 12);
	buf[6] = 't'; /* relative */
	CHECK_EQ(om_ctl_checkpoint_decode(buf, (size_t)n, &ck), OM_E_RANGE);
	buf[6] = '/';
	buf[4] = 0xff; /* longer than the payload */
	CHECK_EQ(om_ctl_checkpoint_decode(buf, (size_t)n, &ck), OM_E_TRUNC);

	/* Node 0: no node claimed the job again after a reattach. */
	CHECK_EQ(om_node_lost_encode(&l, buf, sizeof buf), 7);
	l.reason[0] = 1;
	CHECK_EQ(om_node_lost_encode(&l, buf, sizeof buf), OM_E_RANGE);
	l.reason[0] = 'x';
	n = om_node_lost_encode(&l, buf, sizeof buf);
	buf[6] = 1; /* 'x' becomes a control character */
	CHECK_EQ(codec_dec_exact(&codecs[8], buf, (size_t)n, &out), OM_E_RANGE);
}

/* ---- job lists */

/* The home record of a checkpoint file: what its decoders refuse. */
static void
ckpt_ranges(void)
{
	struct om_ckpt_home h = { 0 }, hd;
	struct om_ckpt_entry e, ed;
	int n;

	strcpy(h.exe, "/bin/true");
	CHECK(om_ckpt_home_encode(&h, buf, BUF_MAX) > 0);
	h.exe[0] = 'b'; /* a program by an absolute path only */
	CHECK_EQ(om_ckpt_home_encode(&h, buf, BUF_MAX), OM_E_RANGE);
	h.exe[0] = '/';
	h.arg_start = 2, h.arg_end = 1;
	CHECK_EQ(om_ckpt_home_encode(&h, buf, BUF_MAX), OM_E_RANGE);
	h.arg_start = 0, h.start_brk = OM_USER_TOP + 1;
	CHECK_EQ(om_ckpt_home_encode(&h, buf, BUF_MAX), OM_E_RANGE);
	h.start_brk = 0, h.entries = OM_CKPT_ENTRIES_MAX + 1;
	CHECK_EQ(om_ckpt_home_encode(&h, buf, BUF_MAX), OM_E_RANGE);
	h.entries = 0;
	memset(h.exe + 1, 'x', OM_CKPT_PATH_MAX - 1);
	h.exe[OM_CKPT_PATH_MAX] = '\0';
	CHECK((n = om_ckpt_home_encode(&h, buf, BUF_MAX)) > 0);
	CHECK_EQ(om_ckpt_home_decode(buf, (size_t)n, &hd), OM_OK);
	buf[n - 3] = '\0'; /* a NUL in a path */
	CHECK_EQ(om_ckpt_home_decode(buf, (size_t)n, &hd), OM_E_RANGE);

	memset(&e, 0, sizeof e);
	e.kind = OM_CKPT_FD, e.what = OM_CKPT_STREAM, e.fd = 2;
	strcpy(e.path, "pipe:[1234]");
	CHECK((n = om_ckpt_entry_encode(&e, buf, BUF_MAX)) > 0);
	e.fd = 3; /* a stream stands in for 0, 1, 2 only */
	CHECK_EQ(om_ckpt_entry_encode(&e, buf, BUF_MAX), OM_E_RANGE);
	e.what = OM_CKPT_OTHER;
	CHECK(om_ckpt_entry_encode(&e, buf, BUF_MAX) > 0);
	e.what = OM_CKPT_DUP, e.fd = 2, e.pos = 1; /* fd 2 is fd 1's open file */
	CHECK(om_ckpt_entry_encode(&e, buf, BUF_MAX) > 0);
	e.pos = 2; /* of a lower fd only */
	CHECK_EQ(om_ckpt_entry_encode(&e, buf, BUF_MAX), OM_E_RANGE);
	e.fd = 3;
	e.what = OM_CKPT_FILE; /* a file by its absolute path */
	CHECK_EQ(om_ckpt_entry_encode(&e, buf, BUF_MAX), OM_E_RANGE);
	e.what = OM_CKPT_WHAT_MAX + 1;
	strcpy(e.path, "/f");
	CHECK_EQ(om_ckpt_entry_encode(&e, buf, BUF_MAX), OM_E_RANGE);
	e.what = OM_CKPT_FILE, e.fd = -1;
	CHECK_EQ(om_ckpt_entry_encode(&e, buf, BUF_MAX), OM_E_RANGE);

	memset(&e, 0, sizeof e);
	e.kind = OM_CKPT_READ, e.fd = -1, e.addr = 0x10000, e.len = 0x1000, e.pos = 0x2000;
	strcpy(e.path, "/lib/x.so");
	CHECK((n = om_ckpt_entry_encode(&e, buf, BUF_MAX)) > 0);
	CHECK_EQ(om_ckpt_entry_decode(buf, (size_t)n, &ed), OM_OK);
	CHECK(ed.addr == e.addr && ed.len == e.len && strcmp(ed.path, e.path) == 0);
	e.len = 0; /* ranges: whole pages, not empty, under the user top, no wrap */
	CHECK_EQ(om_ckpt_entry_encode(&e, buf, BUF_MAX), OM_E_RANGE);
	e.len = 0x1001;
	CHECK_EQ(om_ckpt_entry_encode(&e, buf, BUF_MAX), OM_E_RANGE);
	e.len = 0x1000, e.pos = 0x2001;
	CHECK_EQ(om_ckpt_entry_encode(&e, buf, BUF_MAX), OM_E_RANGE);
	e.pos = 0, e.addr = OM_USER_TOP - 0x1000, e.len = 0x2000;
	CHECK_EQ(om_ckpt_entry_encode(&e, buf, BUF_MAX), OM_E_RANGE);
	e.addr = 0xfffffffffffff000ull, e.len = 0x2000;
	CHECK_EQ(om_ckpt_entry_encode(&e, buf, BUF_MAX), OM_E_RANGE);
	e.addr = 0x10000, e.len = 0x1000, e.kind = OM_CKPT_SPECIAL; /* the kernel's, by [name] */
	CHECK_EQ(om_ckpt_entry_encode(&e, buf, BUF_MAX), OM_E_RANGE);
	strcpy(e.path, "[vdso]");
	CHECK(om_ckpt_entry_encode(&e, buf, BUF_MAX) > 0);
	e.kind = OM_CKPT_KIND_MAX + 1;
	CHECK_EQ(om_ckpt_entry_encode(&e, buf, BUF_MAX), OM_E_RANGE);
	e.kind = OM_CKPT_CODE, e.flags = 8; /* prot: r, w, x */
	strcpy(e.path, "/lib/x.so");
	CHECK_EQ(om_ckpt_entry_encode(&e, buf, BUF_MAX), OM_E_RANGE);
	CHECK(strcmp(om_ckpt_kind_name(OM_CKPT_READ), "read") == 0 && strcmp(om_ckpt_kind_name(99), "?") == 0);
}

/* DECISIONS (decision.h): entries round-trip, and every bound and every
 * cut short is refused. */
static void
decisions(void)
{
	static uint8_t ts[16] = { 7 }, big[OM_DEC_OUT_MAX + 1];
	struct om_decision d = { .kind = OM_DEC_CALL, .nr = 228, .ret = 0, .a = { 1, 0x7000, 0, 0 }, .nout = 1,
		.out = { { 0x7000, sizeof ts, ts } } }, s = { .kind = OM_DEC_SIGNAL, .nr = 14, .ret = OM_DEC_AT_CALL,
		.a = { 3 }, .nout = 1, .out = { { 0, sizeof ts, ts } } }, l = { .kind = OM_DEC_LOST }, got;
	size_t pos = 0, len;
	int n, m, replayable;

	CHECK((n = om_decision_encode(&d, buf, BUF_MAX)) == OM_DEC_HEAD + 12 + 16);
	CHECK((m = om_decision_encode(&s, buf + n, BUF_MAX - (size_t)n)) == OM_DEC_HEAD + 12 + 16);
	len = (size_t)(n + m);
	CHECK_EQ(om_decision_next(buf, len, &pos, &got), OM_OK);
	CHECK(pos == (size_t)n && got.kind == OM_DEC_CALL && got.nr == 228 && got.a[1] == 0x7000 &&
	    got.nout == 1 && got.out[0].len == 16 && memcmp(got.out[0].bytes, ts, 16) == 0);
	CHECK_EQ(om_decision_next(buf, len, &pos, &got), OM_OK);
	CHECK(pos == len && got.kind == OM_DEC_SIGNAL && got.nr == 14 && got.ret == OM_DEC_AT_CALL && got.a[0] == 3);
	CHECK_EQ(om_decisions_check(buf, len, &replayable), OM_OK);
	CHECK_EQ(replayable, 1);
	CHECK((m = om_decision_encode(&l, buf + len, BUF_MAX - len)) == OM_DEC_HEAD);
	CHECK_EQ(om_decisions_check(buf, len + (size_t)m, &replayable), OM_OK);
	CHECK_EQ(replayable, 0); /* a loss: nothing to replay past it */
	CHECK_EQ(om_decisions_check(buf, 0, NULL), OM_E_TRUNC);
	for (size_t cut = 1; cut < (size_t)n; cut++)
		CHECK(om_decisions_check(buf, cut, NULL) < 0);

	/* Encoders refuse what decoders would. */
	d.nout = OM_DEC_OUTS + 1;
	CHECK_EQ(om_decision_encode(&d, buf, BUF_MAX), OM_E_RANGE);
	d.nout = 1, d.out[0].len = 0;
	CHECK_EQ(om_decision_encode(&d, buf, BUF_MAX), OM_E_RANGE);
	d.out[0].len = sizeof big, d.out[0].bytes = big;
	CHECK_EQ(om_decision_encode(&d, buf, BUF_MAX), OM_E_RANGE);
	d.out[0].len = 16, d.out[0].bytes = ts, d.kind = OM_DEC_UNTIL + 1;
	CHECK_EQ(om_decision_encode(&d, buf, BUF_MAX), OM_E_RANGE);
	d.kind = OM_DEC_LOST; /* a loss and the replay's end write nothing */
	CHECK_EQ(om_decision_encode(&d, buf, BUF_MAX), OM_E_RANGE);
	d.kind = OM_DEC_UNTIL;
	CHECK_EQ(om_decision_encode(&d, buf, BUF_MAX), OM_E_RANGE);
	s.out[0].addr = 0x7000; /* a signal's siginfo is no write to memory */
	CHECK_EQ(om_decision_encode(&s, buf, BUF_MAX), OM_E_RANGE);
	s.out[0].addr = 0, s.ret = OM_DEC_AT_CALL + 1; /* nor taken anywhere but in a call or after it */
	CHECK_EQ(om_decision_encode(&s, buf, BUF_MAX), OM_E_RANGE);
	s.ret = OM_DEC_AT_USER, s.nout = 0;
	CHECK_EQ(om_decision_encode(&s, buf, BUF_MAX), OM_E_RANGE);
	d.kind = OM_DEC_CALL;
	CHECK_EQ(om_decision_encode(&d, buf, 10), OM_E_NOSPACE);

	/* Decoders: a count, a length or a kind out of range. */
	n = om_decision_encode(&d, buf, BUF_MAX);
	buf[1] = OM_DEC_OUTS + 1;
	pos = 0;
	CHECK_EQ(om_decision_next(buf, (size_t)n, &pos, &got), OM_E_RANGE);
	CHECK(pos == 0);
	buf[1] = 1;
	buf[OM_DEC_HEAD + 8] = 0, buf[OM_DEC_HEAD + 9] = 0x80; /* out length 32768 */
	CHECK_EQ(om_decision_next(buf, (size_t)n, &pos, &got), OM_E_RANGE);
	buf[OM_DEC_HEAD + 8] = 16, buf[OM_DEC_HEAD + 9] = 0;
	buf[0] = 0;
	CHECK_EQ(om_decision_next(buf, (size_t)n, &pos, &got), OM_E_RANGE);
	buf[0] = OM_DEC_CALL;
	CHECK_EQ(om_decision_next(buf, (size_t)n, &pos, &got), OM_OK);
	pos = (size_t)n + 1;
	CHECK_EQ(om_decision_next(buf, (size_t)n, &pos, &got), OM_E_RANGE);
}

static void
list_edges(void)
{
	struct om_job_info j;
	uint32_t count;
	size_t pos;
	int n;

	n = om_job_list_encode(NULL, 0, buf, sizeof buf);
	CHECK_EQ(n, 4);
	CHECK_EQ(om_job_list_count(buf, 4, &count, &pos), OM_OK);
	CHECK(count == 0 && pos == 4);
	CHECK_EQ(om_job_list_end(4, pos), OM_OK);
	CHECK_EQ(om_job_list_end(5, 4), OM_E_TRAILING);
	CHECK_EQ(om_job_list_end(4, 5), OM_E_RANGE);
	buf[0] = 0x01, buf[1] = 0x10, buf[2] = 0, buf[3] = 0; /* 4097 */
	CHECK_EQ(om_job_list_count(buf, 4, &count, &pos), OM_E_RANGE);
	buf[0] = 2, buf[1] = 0;
	CHECK_EQ(om_job_list_count(buf, 4 + 30, &count, &pos), OM_E_TRUNC);
	fill_info(&j, 1);
	j.state = 0;
	CHECK_EQ(om_job_list_encode(&j, 1, buf, sizeof buf), OM_E_RANGE);
	j.state = OM_JOB_MOVING + 1;
	CHECK_EQ(om_job_list_encode(&j, 1, buf, sizeof buf), OM_E_RANGE);
	fill_info(&j, 1);
	j.state = OM_JOB_HOME; /* at home, yet on a node */
	CHECK_EQ(om_job_list_encode(&j, 1, buf, sizeof buf), OM_E_RANGE);
	j.node = 0; /* at home, node 0: fine */
	CHECK(om_job_list_encode(&j, 1, buf, sizeof buf) > 0);
	j.why = OM_WHY_MAX + 1;
	CHECK_EQ(om_job_list_encode(&j, 1, buf, sizeof buf), OM_E_RANGE);
	fill_info(&j, 1);
	j.job = 0;
	CHECK_EQ(om_job_list_encode(&j, 1, buf, sizeof buf), OM_E_RANGE);
	fill_info(&j, 1);
	j.node = 0;
	CHECK_EQ(om_job_list_encode(&j, 1, buf, sizeof buf), OM_E_RANGE);
	fill_info(&j, 1);
	n = om_job_list_encode(&j, 1, buf, sizeof buf);
	CHECK(n > 0);
	buf[n - 1] = 9; /* state */
	CHECK_EQ(codec_dec_exact(&codecs[10], buf, (size_t)n, scratch()), OM_E_RANGE);
	pos = (size_t)n + 1;
	CHECK_EQ(om_job_list_next(buf, (size_t)n, &pos, &j), OM_E_RANGE);
	CHECK_EQ(om_job_list_encode(list_a.v, OM_JOBS_MAX + 1, buf, sizeof buf), OM_E_RANGE);
}

static void
list_full(void)
{
	static struct jlist l;
	uint32_t i, count;
	size_t pos;
	int n;

	l.n = OM_JOBS_MAX;
	for (i = 0; i < l.n; i++) {
		fill_info(&l.v[i], i + 1);
		memset(l.v[i].cmd, 'c', OM_CMD_MAX);
		l.v[i].cmd[OM_CMD_MAX] = '\0';
	}
	n = om_job_list_encode(l.v, l.n, buf, OM_MAX_PAYLOAD);
	CHECK(n > 0);
	CHECK_EQ(om_job_list_count(buf, (size_t)n, &count, &pos), OM_OK);
	CHECK_EQ(count, OM_JOBS_MAX);
	for (i = 0; i < count; i++) {
		CHECK_EQ(om_job_list_next(buf, (size_t)n, &pos, &list_b.v[0]), OM_OK);
		CHECK(list_b.v[0].job == i + 1 && list_b.v[0].pid == l.v[i].pid &&
		    list_b.v[0].runtime_ms == l.v[i].runtime_ms &&
		    strcmp(list_b.v[0].cmd, l.v[i].cmd) == 0);
	}
	CHECK_EQ(om_job_list_end((size_t)n, pos), OM_OK);
}

/* ---- fuzz: random mutations never crash a decoder, and whatever is
 * accepted re-encodes to exactly the accepted bytes. */
static void
fuzz_mutations(void)
{
	size_t i, len, pos;
	int n, rc, m, round;

	check_seed(0x6a6f62);
	for (i = 0; i < NCODECS; i++) {
		n = codecs[i].enc(sample(i), buf, sizeof buf);
		CHECK(n > 0);
		for (round = 0; round < 20000; round++) {
			int k, edits = 1 + (int)(check_rand() % 4);

			memcpy(buf2, buf, (size_t)n);
			len = (size_t)n;
			for (k = 0; k < edits && len > 0; k++) {
				pos = check_rand() % len;
				switch (check_rand() % 4) {
				case 0: buf2[pos] ^= (uint8_t)(1u << (check_rand() % 8)); break;
				case 1: buf2[pos] = (uint8_t)check_rand(); break;
				case 2: len = pos; break;
				default: if (len < sizeof buf2 - 1) buf2[len++] = (uint8_t)check_rand(); break;
				}
			}
			rc = codec_dec_exact(&codecs[i], buf2, len, scratch());
			if (rc != OM_OK) {
				if (rc != OM_E_TRUNC && rc != OM_E_TRAILING && rc != OM_E_RANGE) {
					check_fail("%s: unexpected result %d", codecs[i].name, rc);
					return;
				}
				continue;
			}
			m = codecs[i].enc(scratch(), buf + BUF_MAX / 2, BUF_MAX / 2);
			if (m != (int)len || memcmp(buf + BUF_MAX / 2, buf2, len) != 0) {
				check_fail("%s: accepted input is not canonical (round %d)",
				    codecs[i].name, round);
				return;
			}
		}
	}
}

int
main(void)
{
	RUN(roundtrip_all_canonical);
	RUN(truncated_every_length);
	RUN(trailing_bytes);
	RUN(encode_nospace);
	RUN(cpu_same_as_hello);
	RUN(golden_small);
	RUN(max_sizes);
	RUN(submit_ranges);
	RUN(placed_ranges);
	RUN(small_ranges);
	RUN(list_edges);
	RUN(ckpt_ranges);
	RUN(decisions);
	RUN(moved_ranges);
	RUN(list_full);
	RUN(fuzz_mutations);
	return check_exit();
}
