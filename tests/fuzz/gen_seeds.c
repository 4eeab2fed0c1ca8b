/* gen_seeds.c - writes the fuzzers' seed inputs (tests/fuzz/seeds/NAME/)
 * with the project's own encoders, so each seed is a valid input in the
 * harness's format: the fuzzer starts from real frames, real images, real
 * link sessions and real calls, and mutates from there. Every image is
 * run through om_image_check here first. Run by `make fuzz-seeds`; the
 * seeds are committed (small: the images carry a page or two).
 *
 * Usage: gen_seeds DIR (default tests/fuzz/seeds). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admit_msg.h"
#include "image.h"
#include "job_msg.h"
#include "link_stream.h"
#include "proto.h"
#include "reattach_msg.h"
#include "ckpt_file.h"
#include "decision.h"
#include "syscall_codec.h"

#include "fuzz_keys.h"

static const char *root = "tests/fuzz/seeds";

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "gen_seeds: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/* ---- an output buffer */

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void
put(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 4096;
		if ((b->p = realloc(b->p, b->cap)) == NULL)
			die("out of memory");
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void put8(struct buf *b, uint8_t v) { put(b, &v, 1); }
static void put16(struct buf *b, uint16_t v) { uint8_t x[2] = { (uint8_t)v, (uint8_t)(v >> 8) }; put(b, x, 2); }
static void put32(struct buf *b, uint32_t v) { for (int i = 0; i < 4; i++) put8(b, (uint8_t)(v >> 8 * i)); }
static void put64(struct buf *b, uint64_t v) { for (int i = 0; i < 8; i++) put8(b, (uint8_t)(v >> 8 * i)); }

static void
frame(struct buf *b, uint8_t type, uint32_t job, uint32_t seq, const void *p, int len)
{
	uint8_t h[OM_HDR_SIZE];

	if (len < 0)
		die("a %s payload does not encode: %s", om_type_name(type), om_strerror(len));
	om_hdr_encode(h, type, (uint32_t)len, job, seq);
	put(b, h, sizeof h);
	put(b, p, (size_t)len);
}

static void
save(const char *name, const char *seed, const struct buf *b)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", root, name);
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		die("mkdir %s: %s", path, strerror(errno));
	snprintf(path, sizeof path, "%s/%s/%s", root, name, seed);
	if ((f = fopen(path, "wb")) == NULL || fwrite(b->p, 1, b->len, f) != b->len || fclose(f) != 0)
		die("%s: %s", path, strerror(errno));
}

/* Scratch for encoders. */
static uint8_t pl[OM_MAX_PAYLOAD];

/* ---- sample messages */

static struct om_cpu
sample_cpu(void)
{
	struct om_cpu c = { 0 };

	snprintf(c.vendor, sizeof c.vendor, "GenuineIntel");
	snprintf(c.model, sizeof c.model, "QEMU Virtual CPU version 2.5+");
	c.family = 6, c.model_id = 6, c.stepping = 3;
	c.leaf1_ecx = 0x80a02001, c.leaf1_edx = 0x0781abfd;
	c.leaf7_ebx = 0x9, c.xcr0 = 7, c.cores = 2;
	return c;
}

static int
hello(uint8_t mac_last)
{
	struct om_hello h = { .mac = { 0x52, 0x54, 0x00, 0x12, 0x34, mac_last } };

	snprintf(h.nic, sizeof h.nic, "virtio-net");
	h.cpu = sample_cpu();
	h.mem_bytes = 512ull << 20;
	h.speed = 1000;
	h.boot_ms = 1234;
	snprintf(h.version, sizeof h.version, "om 0.1");
	return om_hello_encode(&h, pl, sizeof pl);
}

static int
heartbeat(uint32_t job)
{
	struct om_heartbeat hb = { .uptime_ms = 5000, .load_milli = 1000, .mem_free = 400ull << 20,
		.jobs = job ? 1 : 0, .nlisted = job ? 1 : 0 };

	hb.listed[0] = (struct om_hb_job){ .job = job ? job : 1, .cpu_ns = 1000000, .runnable = 1 };
	return om_heartbeat_encode(&hb, pl, sizeof pl);
}

static int
error_msg(uint32_t code, const char *msg)
{
	struct om_error e = { .code = code };

	snprintf(e.msg, sizeof e.msg, "%s", msg);
	return om_error_encode(&e, pl, sizeof pl);
}

static int
submit(uint32_t pid, uint32_t node, uint32_t flags, uint32_t fork_job)
{
	struct om_job_submit s = { .pid = pid, .node = node, .flags = flags, .fork_job = fork_job,
		.fork_seq = fork_job ? 7 : 0, .mem_bytes = 1 << 20 };

	snprintf(s.cmd, sizeof s.cmd, "./primes 100000");
	s.cpu.cores = 1;
	s.cpu.leaf1_edx = 1;
	return om_job_submit_encode(&s, pl, sizeof pl);
}

/* CTL_JOB_REATTACH for job, pid's, naming a made-up key. */
static int
ctl_reattach(uint32_t job, uint32_t pid)
{
	struct om_ctl_reattach m = { .job = job };
	int n = submit(pid, 0, 0, 0);

	if (n < 0 || om_job_submit_decode(pl, (size_t)n, &m.s) != OM_OK)
		return -1;
	memset(m.key, 0x42, sizeof m.key);
	return om_ctl_reattach_encode(&m, pl, sizeof pl);
}

static int
placed(uint32_t job, uint32_t node)
{
	struct om_job_placed p = { .job = job, .node = node };

	if (node) {
		p.cpu = sample_cpu();
		snprintf(p.addr, sizeof p.addr, "10.0.2.15");
	} else
		snprintf(p.reason, sizeof p.reason, "no node");
	return om_job_placed_encode(&p, pl, sizeof pl);
}

static int
empty(void)
{
	return 0;
}

#define ENC(fn, ...) fn##_encode(&(struct fn){ __VA_ARGS__ }, pl, sizeof pl)

/* ---- fuzz_node_frames, fuzz_ctl_frames */

/* A DECISIONS payload: a clock reading, random bytes, a timer's signal. */
static int
decisions(void)
{
	static const uint8_t ts[16] = { 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0 }, rnd[8] = "random!";
	struct om_decision d[3] = {
		{ .kind = OM_DEC_CALL, .nr = 228, .a = { 1, 0x7ffc0000 }, .nout = 1,
		  .out = { { 0x7ffc0000, 16, ts } } },
		{ .kind = OM_DEC_CALL, .nr = 318, .ret = 8, .a = { 0x7ffc0100, 8 }, .nout = 1,
		  .out = { { 0x7ffc0100, 8, rnd } } },
		{ .kind = OM_DEC_SIGNAL, .nr = 14, .ret = OM_DEC_AT_USER, .a = { 2, 0x401000, 0x1234 }, .nout = 1,
		  .out = { { 0, 16, ts } } } };
	int n = 0;

	for (int i = 0; i < 3; i++)
		n += om_decision_encode(&d[i], pl + n, sizeof pl - (size_t)n);
	return n;
}

static void
node_stream(struct buf *b)
{
	struct om_job_signal sig = { .signo = 10, .code = 0 };
	struct om_job_home home = { .reason = OM_HOME_SYSCALL, .pending = 57, .cpu_ns = 5 };
	struct om_node_leaving lv = { .reason = OM_LEAVE_OWNER };

	snprintf(home.text, sizeof home.text, "fork");
	snprintf(lv.text, sizeof lv.text, "a key was pressed");
	om_job_signal_set_sender(&sig, 1000, 1000);
	frame(b, OM_T_HELLO, 0, 0, pl, hello(0x56));
	frame(b, OM_T_WELCOME, 0, 0, pl, ENC(om_welcome, .node_id = 1, .heartbeat_ms = 1000, .time_ns = 1,
					       .grace_ms = 30000));
	frame(b, OM_T_HEARTBEAT, 0, 0, pl, heartbeat(1));
	frame(b, OM_T_ECHO, 0, 3, "ping", 4);
	frame(b, OM_T_JOB_FORK, 2, 0, pl, ENC(om_job_fork, .parent = 1, .seq = 7, .pid = 4321));
	frame(b, OM_T_SIGNAL, 1, 0, pl, om_job_signal_encode(&sig, pl, sizeof pl));
	frame(b, OM_T_SIGNAL_SEEN, 1, 0, pl, ENC(om_signal_seen, .count = 1));
	frame(b, OM_T_CALL_INTERRUPT, 1, 0, pl, ENC(om_call_interrupt, .seq = 9));
	frame(b, OM_T_JOB_STOPPED, 1, 0, pl, ENC(om_job_stopped, .signo = 19));
	frame(b, OM_T_JOB_MOVING, 1, 0, pl, ENC(om_job_moving, .cpu_ns = 77, .signals_in = 1));
	frame(b, OM_T_JOB_ARRIVING, 1, 0, pl, ENC(om_job_moving, .cpu_ns = 77, .signals_in = 1));
	frame(b, OM_T_JOB_MOVE_REFUSED, 1, 0, pl, error_msg(OM_E_STATE, "threads"));
	frame(b, OM_T_CHECKPOINT, 1, 3, pl, ENC(om_checkpoint, .base = 2));
	frame(b, OM_T_CHECKPOINT_TAKEN, 1, 3, pl, error_msg(0, ""));
	frame(b, OM_T_JOB_REATTACH, 1, 3, pl, ENC(om_job_reattach, .waiting = 4, .signals_in = 1));
	frame(b, OM_T_JOB_REATTACHED, 1, 0, pl, empty());
	frame(b, OM_T_DECISIONS, 1, 3, pl, decisions());
	frame(b, OM_T_JOB_HOME, 1, 0, pl, om_job_home_encode(&home, pl, sizeof pl));
	frame(b, OM_T_JOB_EXIT, 1, 0, pl, ENC(om_job_exit, .kind = OM_EXIT_SIGNALED, .status = 11, .core = 1));
	frame(b, OM_T_JOB_ERROR, 2, 0, pl, error_msg(OM_E_RANGE, "bad image"));
	frame(b, OM_T_NODE_LEAVING, 0, 0, pl, om_node_leaving_encode(&lv, pl, sizeof pl));
	frame(b, OM_T_ERROR, 0, 0, pl, error_msg(OM_E_STATE, "bye"));
	frame(b, OM_T_BYE, 0, 0, pl, empty());
}

static void
ctl_stream(struct buf *b)
{
	struct om_node_info ni[2] = { 0 };
	struct om_job_info ji[2] = { 0 };
	struct om_pending pd[1] = { 0 };
	struct om_job_moved mv = { .cpu_ns = 3 };
	struct om_node_lost nl = { .node = 2 };
	struct om_ctl_admit ad;
	struct om_ctl_admit_reply ar = { .asked = 1 };
	uint8_t key[NOISE_KEY], pub[NOISE_KEY];

	for (int i = 0; i < 2; i++) {
		ni[i].id = (uint32_t)i + 1;
		memcpy(ni[i].mac, (uint8_t[6]){ 0x52, 0x54, 0, 0x12, 0x34, (uint8_t)(0x56 + i) }, 6);
		snprintf(ni[i].ip, sizeof ni[i].ip, "10.0.2.%d", 15 + i);
		snprintf(ni[i].nic, sizeof ni[i].nic, "e1000");
		ni[i].cpu = sample_cpu();
		ni[i].state = i ? OM_NODE_DOWN : OM_NODE_UP;
		ni[i].flags = (uint8_t)i * OM_NODE_F_DRAINING;
		ji[i].job = (uint32_t)i + 1;
		ji[i].node = i ? 0 : 1;
		ji[i].state = i ? OM_JOB_HOME : OM_JOB_RUNNING;
		ji[i].why = i ? OM_WHY_HOME : OM_WHY_PLACED;
		ji[i].pid = 4000 + (uint32_t)i;
		snprintf(ji[i].cmd, sizeof ji[i].cmd, "make -j4");
	}
	fuzz_key(key, FUZZ_KEY_NODE);
	noise_public(pub, key);
	noise_fingerprint(pub, ad.fp);
	memcpy(pd[0].fp, ad.fp, sizeof pd[0].fp);
	memcpy(pd[0].mac, ni[0].mac, 6);
	snprintf(pd[0].ip, sizeof pd[0].ip, "10.0.2.15");
	snprintf(ar.mac, sizeof ar.mac, "52:54:00:12:34:56");
	snprintf(ar.ip, sizeof ar.ip, "10.0.2.15");
	mv.to.job = 1, mv.to.node = 2, mv.to.cpu = sample_cpu();
	snprintf(mv.to.addr, sizeof mv.to.addr, "10.0.2.16");
	snprintf(nl.reason, sizeof nl.reason, "silent");
	frame(b, OM_T_CTL_NODES, 0, 0, pl, empty());
	frame(b, OM_T_CTL_NODES_REPLY, 0, 0, pl, om_node_list_encode(ni, 2, pl, sizeof pl));
	frame(b, OM_T_CTL_NODE, 0, 0, pl, ENC(om_ctl_node, .action = OM_CTL_DRAIN, .node = 1));
	frame(b, OM_T_CTL_NODE_REPLY, 0, 0, pl, ENC(om_ctl_node_reply, .node = 1, .flags = 2, .moving = 1));
	frame(b, OM_T_CTL_JOB_SUBMIT, 0, 0, pl, submit(4000, 0, 0, 0));
	frame(b, OM_T_CTL_JOB_SUBMIT, 0, 0, pl, submit(4001, 0, OM_JOB_F_FORK, 1));
	frame(b, OM_T_CTL_JOB_REATTACH, 0, 0, pl, ctl_reattach(7, 4000));
	frame(b, OM_T_CTL_CHECKPOINT, 0, 0, pl, ENC(om_ctl_checkpoint, .pid = 4000, .path = "/tmp/job.ckpt"));
	frame(b, OM_T_CKPT_HOME, 0, 0, pl, ENC(om_ckpt_home, .uid = 1000, .entries = 2, .start_brk = 0x555555559000,
					   .arg_start = 0x7fffffffe000, .arg_end = 0x7fffffffe010, .exe = "/bin/numbered"));
	frame(b, OM_T_CKPT_ENTRY, 0, 0, pl, ENC(om_ckpt_entry, .kind = OM_CKPT_FD, .what = OM_CKPT_FILE, .fd = 1,
					    .flags = 01, .pos = 4096, .path = "/tmp/out.txt"));
	frame(b, OM_T_CKPT_ENTRY, 0, 0, pl, ENC(om_ckpt_entry, .kind = OM_CKPT_READ, .fd = -1, .addr = 0x7f0000000000,
					    .len = 0x3000, .pos = 0x1000, .path = "/lib/x86_64-linux-gnu/libc.so.6"));
	frame(b, OM_T_CTL_JOB_PLACED, 1, 0, pl, placed(1, 1));
	frame(b, OM_T_CTL_JOB_PLACED, 0, 0, pl, placed(0, 0));
	frame(b, OM_T_CTL_JOBS_REPLY, 0, 0, pl, om_job_list_encode(ji, 2, pl, sizeof pl));
	frame(b, OM_T_CTL_MIGRATE, 0, 0, pl, ENC(om_job_migrate, .pid = 4000, .target = OM_MIGRATE_BALANCE));
	frame(b, OM_T_CTL_ADMIT, 0, 0, pl, om_ctl_admit_encode(&ad, pl, sizeof pl));
	frame(b, OM_T_CTL_ADMIT_REPLY, 0, 0, pl, om_ctl_admit_reply_encode(&ar, pl, sizeof pl));
	frame(b, OM_T_CTL_PENDING_REPLY, 0, 0, pl, om_pending_list_encode(pd, 1, pl, sizeof pl));
	frame(b, OM_T_JOB_MOVED, 1, 0, pl, om_job_moved_encode(&mv, pl, sizeof pl));
	frame(b, OM_T_NODE_LOST, 1, 0, pl, om_node_lost_encode(&nl, pl, sizeof pl));
	frame(b, OM_T_ERROR, 0, 0, pl, error_msg(OM_E_STATE, "no"));
}

/* ---- images */

#define SCRATCH 0x7fe000000000ull /* fuzz_restore.c's */
#define SCRATCH_LEN (4096ull + (2ull << 20))

struct image_spec {
	int threads;        /* IMAGE_THREADs */
	int xsave;          /* carry a 576-byte area */
	int scratch;        /* a RESERVED region at SCRATCH (fuzz_restore's home has it) */
	int timers;         /* a POSIX timer and a queued signal */
	int pages;          /* the heap's first page travels */
	int twin;           /* a file shared twice: executable, and writable with a page sent */
	uint32_t pid;
};

static void
image(struct buf *b, const struct image_spec *sp)
{
	static struct om_image_hdr h;
	static struct om_image_thread t;
	static uint8_t page[OM_PAGE_SIZE];
	struct om_image_check c;
	struct om_image_region r[4];
	uint32_t nr = 0, npages = 0;
	int n;

	memset(&h, 0, sizeof h);
	h.regs[OM_REG_RIP] = 0x401000;
	h.regs[OM_REG_RSP] = 0x7ffffffde000 - 64;
	h.regs[OM_REG_RFLAGS] = 0x202;
	h.regs[OM_REG_ORIG_RAX] = (uint64_t)-1;
	h.regs[OM_REG_FS_BASE] = 0x4c0000;
	if (sp->xsave) {
		h.xcr0 = 3;
		h.xsave_size = OM_XSAVE_MIN;
		h.xsave[0] = 0x7f, h.xsave[1] = 0x03;     /* FCW */
		h.xsave[24] = 0x80, h.xsave[25] = 0x1f;   /* MXCSR */
		h.xsave[512] = 3;                          /* XSTATE_BV */
	}
	h.cpu.cores = 1;
	h.start_brk = 0x4c1000, h.brk = 0x4c3000, h.mmap_base = 0x7ffff7fff000;
	h.sig_blocked = 1ull << 9;
	h.sigact[1] = (struct om_sigaction){ .handler = 0x401200, .flags = 0x04000000, .restorer = 0x401300 };
	h.ss_flags = 2; /* SS_DISABLE */
	h.pid = h.tid = sp->pid, h.ppid = 1, h.pgid = h.sid = sp->pid;
	h.uid = h.euid = h.suid = h.gid = h.egid = h.sgid = 1000;
	snprintf(h.sysname, sizeof h.sysname, "Linux");
	snprintf(h.nodename, sizeof h.nodename, "home");
	snprintf(h.release, sizeof h.release, "6.1.0");
	snprintf(h.version, sizeof h.version, "#1 SMP");
	snprintf(h.machine, sizeof h.machine, "x86_64");
	h.umask = 022;
	h.clock_realtime = 1700000000ull * 1000000000ull;
	h.clock_monotonic = 100ull * 1000000000ull;
	h.clock_boottime = h.clock_monotonic;
	h.usage.utime_ns = 5000000;
	h.memlock_max = 8 << 20;
	if (sp->timers) {
		h.timer_count = 1;
		h.timer_next_id = 1;
		h.timers[0] = (struct om_timer){ .id = 0, .clock = 1, .expires = 200ull * 1000000000ull,
			.interval = 1000000000ull, .notify = 0, .signo = 14 };
		h.itimer[0] = (struct om_itimer){ .expires = 150ull * 1000000000ull };
		h.sig_pending = 1ull << 13;
		h.sigq_count = 1;
		h.sigq[0] = (struct om_siginfo){ .signo = 14, .code = -2 };
	}
	/* heap (1 page sent), stack (1 page sent), maybe the scratch. */
	r[nr++] = (struct om_image_region){ .start = 0x4c1000, .end = 0x4c3000, .prot = 3,
		.kind = OM_RK_HEAP, .pages_sent = sp->pages ? 1 : 0 };
	snprintf(r[0].name, sizeof r[0].name, "[heap]");
	if (sp->twin) { /* fuzz_restore's home has this file at these places */
		static const char lib[] = "/usr/lib/x86_64-linux-gnu/libc.so.6";
		r[nr] = (struct om_image_region){ .start = 0x500000, .end = 0x501000, .prot = 5,
			.kind = OM_RK_FILE, .flags = OM_RF_SHARED };
		snprintf(r[nr++].name, sizeof r[0].name, "%s", lib);
		r[nr] = (struct om_image_region){ .start = 0x600000, .end = 0x601000, .prot = 3,
			.kind = OM_RK_FILE, .flags = OM_RF_SHARED, .pages_sent = 1 };
		snprintf(r[nr++].name, sizeof r[0].name, "%s", lib);
	}
	if (sp->scratch) {
		r[nr++] = (struct om_image_region){ .start = SCRATCH, .end = SCRATCH + SCRATCH_LEN,
			.prot = 0, .kind = OM_RK_RESERVED };
		h.scratch_start = SCRATCH, h.scratch_len = SCRATCH_LEN;
	}
	r[nr] = (struct om_image_region){ .start = 0x7ffffffdd000, .end = 0x7ffffffff000, .prot = 3,
		.kind = OM_RK_STACK };
	snprintf(r[nr++].name, sizeof r[0].name, "[stack]");
	h.region_count = nr;
	h.thread_count = (uint32_t)sp->threads;
	om_image_check_init(&c);
	if (om_image_check_begin(&c, &h) != OM_OK)
		die("image header: %s", c.why);
	frame(b, OM_T_IMAGE_BEGIN, 0, 0, pl, om_image_hdr_encode(&h, pl, sizeof pl));
	for (int i = 0; i < sp->threads; i++) {
		memset(&t, 0, sizeof t);
		t.tid = sp->pid + 1 + (uint32_t)i;
		t.regs[OM_REG_RIP] = 0x401100;
		t.regs[OM_REG_RSP] = 0x7ffff7000000;
		t.xsave_size = h.xsave_size;
		memcpy(t.xsave, h.xsave, sizeof t.xsave);
		t.ss_flags = 2;
		t.tid_address = 0x7ffff7001000;
		if (om_image_check_thread(&c, &t) != OM_OK)
			die("image thread: %s", c.why);
		frame(b, OM_T_IMAGE_THREAD, 0, 0, pl, om_image_thread_encode(&t, pl, sizeof pl));
	}
	for (uint32_t i = 0; i < nr; i++) {
		if (om_image_check_region(&c, &r[i]) != OM_OK)
			die("image region %u: %s", i, c.why);
		frame(b, OM_T_IMAGE_REGION, 0, 0, pl, om_image_region_encode(&r[i], pl, sizeof pl));
		if (r[i].pages_sent) {
			struct om_image_pages p = { .region = i, .first = 0, .count = 1, .data = page };

			memset(page, 0, sizeof page);
			snprintf((char *)page, sizeof page, "page of region %u", i);
			if (om_image_check_pages(&c, &p) != OM_OK)
				die("image pages: %s", c.why);
			frame(b, OM_T_IMAGE_PAGES, 0, 0, pl, om_image_pages_encode(i, 0, 1, page, pl, sizeof pl));
			npages++;
		}
	}
	n = om_image_end_encode(&(struct om_image_end){ .regions = nr, .pages = npages }, pl, sizeof pl);
	if (om_image_check_end(&c, &(struct om_image_end){ .regions = nr, .pages = npages }) != OM_OK ||
	    !om_image_check_done(&c))
		die("image end: %s", c.why);
	frame(b, OM_T_IMAGE_END, 0, 0, pl, n);
}

/* ---- fuzz_syscall: the job's memory is a pool (fuzz_syscall.c's model:
 * address A reads pool[A mod its length]); structures sit at offsets of
 * a 512-byte pool, the job's pointers to them are AT(offset). */

#define POOL 512
#define AT(off) (0x10000ull + (off))

struct pool {
	uint8_t b[POOL];
	size_t len;
};

static void
pool_init(struct pool *p)
{
	memset(p, 0, sizeof *p);
	p->len = POOL;
}

static void
pool_put(struct pool *p, uint64_t at, const void *v, size_t n)
{
	if (at + n > POOL)
		die("pool offset %llu", (unsigned long long)at);
	memcpy(p->b + at, v, n);
}

static void
pool_u64(struct pool *p, uint64_t at, uint64_t v)
{
	pool_put(p, at, &v, 8);
}

static int
pool_read(void *ctx, uint64_t addr, uint32_t len, void *dst)
{
	const struct pool *p = ctx;
	uint8_t *d = dst;

	if ((addr >> 63) || addr + len < addr)
		return -14;
	for (uint32_t i = 0; i < len; i++)
		d[i] = p->b[(addr + i) % p->len];
	return 0;
}

/* fuzz_syscall.c's list of the calls a node may forward. */
static int
call_index(unsigned nr)
{
	int k = 0;

	for (unsigned i = 0; i < OM_SYSCALL_NR_MAX; i++) {
		const struct om_syscall *e = om_syscall_get(i);

		if (e != NULL && e->name != NULL && e->where != OM_HOME) {
			if (i == nr)
				return k;
			k++;
		}
	}
	die("call %u is not forwardable", nr);
}

/* One call both ways: the home-side seed (the request as sent) and the
 * node-side one (the call, the pool, home's reply with result ret and
 * out bytes 'fill'). */
static void
call_seeds(const char *tag, unsigned nr, const uint64_t args[6], const struct pool *p, int64_t ret)
{
	static struct om_sysctx ctx;
	static struct om_sysreq req;
	static struct om_sysout outs[OM_SYSCALL_MAX_BUFS];
	static uint8_t fill[4096];
	struct buf home = { 0 }, node = { 0 };
	char name[64];
	int n, uerr, k;

	n = om_sysreq_encode(&ctx, nr, 33, args, pool_read, (void *)p, pl, sizeof pl, &uerr);
	if (n <= 0)
		die("%s: request does not encode: %d (errno %d)", tag, n, uerr);
	put8(&home, 0);
	put(&home, pl, (size_t)n);
	snprintf(name, sizeof name, "home-%s", tag);
	save("fuzz_syscall", name, &home);
	if (om_sysreq_decode(pl, (size_t)n, &req) != OM_OK)
		die("%s: request does not decode", tag);
	/* Out lengths as the deputy reads them back (deputy_call.c). */
	memset(outs, 0, sizeof outs);
	memset(fill, 'r', sizeof fill);
	for (unsigned i = 0; i < req.nbuf && ret >= 0; i++) {
		const struct om_sysbuf *b = &req.buf[i];
		struct om_sysout *o = &outs[i];
		uint32_t want = b->cap;

		o->data = fill;
		switch (b->kind) {
		case OM_K_OUTRET: case OM_K_IOV_OUT:
			want = (uint64_t)ret < b->cap ? (uint32_t)ret : b->cap;
			break;
		case OM_K_MSG_OUT:
			o->len = (uint64_t)ret < b->iov_total ? (uint32_t)ret : b->iov_total;
			o->msg_namelen = o->name_len = b->name_len < 16 ? b->name_len : 16;
			o->name = fill;
			continue;
		case OM_K_INOUT: case OM_K_INOUTS: case OM_K_POLL: case OM_K_FDSET: case OM_K_LENP:
			want = b->len;
			break;
		}
		o->len = want;
	}
	k = om_sysrep_encode(&req, ret, ret >= 0 ? outs : NULL, pl, sizeof pl);
	if (k <= 0)
		die("%s: reply does not encode: %d", tag, k);
	put8(&node, 1);
	put16(&node, (uint16_t)call_index(nr));
	put32(&node, 33);
	for (int i = 0; i < 6; i++)
		put64(&node, args[i]);
	put16(&node, 10); /* err: EAGAIN's 11 */
	put16(&node, (uint16_t)p->len);
	put(&node, p->b, p->len);
	put(&node, pl, (size_t)k);
	snprintf(name, sizeof name, "node-%s", tag);
	save("fuzz_syscall", name, &node);
	free(home.p);
	free(node.p);
}

static void
syscall_seeds(void)
{
	struct pool p;

	/* read(3, buf, 64) */
	pool_init(&p);
	call_seeds("read", 0, (uint64_t[6]){ 3, AT(0x100), 64 }, &p, 5);
	/* write(1, "hello\n", 6) */
	pool_init(&p);
	pool_put(&p, 0, "hello\n", 6);
	call_seeds("write", 1, (uint64_t[6]){ 1, AT(0), 6 }, &p, 6);
	/* openat(AT_FDCWD, "/etc/hostname", O_RDONLY) */
	pool_init(&p);
	pool_put(&p, 0, "/etc/hostname", 14);
	call_seeds("openat", 257, (uint64_t[6]){ (uint64_t)-100, AT(0), 0, 0 }, &p, 3);
	/* poll({3, POLLIN}, 1, 0) */
	pool_init(&p);
	pool_put(&p, 0, (uint8_t[8]){ 3, 0, 0, 0, 1, 0, 0, 0 }, 8);
	call_seeds("poll", 7, (uint64_t[6]){ AT(0), 1, 0 }, &p, 1);
	/* readv(3, iov[2], 2) */
	pool_init(&p);
	pool_u64(&p, 0x40, AT(0x100)), pool_u64(&p, 0x48, 8);
	pool_u64(&p, 0x50, AT(0x180)), pool_u64(&p, 0x58, 16);
	call_seeds("readv", 19, (uint64_t[6]){ 3, AT(0x40), 2 }, &p, 12);
	/* sendmsg and recvmsg over one msghdr: name (16 bytes), one iovec
	 * (32 bytes), control (24 bytes) */
	pool_init(&p);
	pool_u64(&p, 0, AT(0x60)), pool_u64(&p, 8, 16), pool_u64(&p, 16, AT(0x40)), pool_u64(&p, 24, 1);
	pool_u64(&p, 32, AT(0x80)), pool_u64(&p, 40, 24), pool_u64(&p, 48, 0);
	pool_u64(&p, 0x40, AT(0x100)), pool_u64(&p, 0x48, 32);
	pool_put(&p, 0x60, (uint8_t[16]){ 2, 0, 0x1f, 0x90, 127, 0, 0, 1 }, 16);
	call_seeds("sendmsg", 46, (uint64_t[6]){ 3, AT(0), 0 }, &p, 32);
	call_seeds("recvmsg", 47, (uint64_t[6]){ 3, AT(0), 0x40 }, &p, 10);
	/* getsockopt(3, SOL_SOCKET, SO_RCVBUF, optval, optlen -> 4) */
	pool_init(&p);
	pool_put(&p, 0x80, (uint8_t[4]){ 4 }, 4);
	call_seeds("getsockopt", 55, (uint64_t[6]){ 3, 1, 8, AT(0x100), AT(0x80) }, &p, 0);
	/* execve("/bin/true", ["true", "-x"], []) */
	pool_init(&p);
	pool_put(&p, 0x10, "/bin/true", 10);
	pool_u64(&p, 0x40, AT(0x14)), pool_u64(&p, 0x48, AT(0x90)), pool_u64(&p, 0x50, 0);
	pool_u64(&p, 0x60, 0);
	pool_put(&p, 0x90, "-x", 3);
	call_seeds("execve", 59, (uint64_t[6]){ AT(0x10), AT(0x40), AT(0x60) }, &p, -2);
}

/* ---- fuzz_link: a real session between the fixed keys */

struct pipe {
	struct buf b;   /* what was written */
	size_t off;     /* what was read of it */
};

static long
p_send(void *ctx, const void *buf, size_t len)
{
	put(&((struct pipe **)ctx)[0]->b, buf, len);
	return (long)len;
}

static long
p_recv(void *ctx, void *buf, size_t len)
{
	struct pipe *in = ((struct pipe **)ctx)[1];

	if (in->off == in->b.len)
		return OM_STREAM_AGAIN;
	if (len > in->b.len - in->off)
		len = in->b.len - in->off;
	memcpy(buf, in->b.p + in->off, len);
	in->off += len;
	return (long)len;
}

static const struct om_stream_ops pipe_ops = { .send = p_send, .recv = p_recv };

/* A framed message sent on an open link: whole records, flushed. */
static void
link_put(struct link_stream *ls, const uint8_t *p, size_t len)
{
	while (len > 0) {
		long n = link_stream_ops.send(ls, p, len);

		if (n <= 0)
			die("link send: %ld", n);
		p += n;
		len -= (size_t)n;
	}
	if (link_stream_ops.flush(ls) != 0)
		die("link flush");
}

static void
link_seeds(void)
{
	static struct link_stream node, agent;
	uint8_t s_a[NOISE_KEY], p_a[NOISE_KEY], s_n[NOISE_KEY], p_n[NOISE_KEY], e[NOISE_KEY], x[64];
	struct pipe to_agent = { 0 }, to_node = { 0 };
	struct pipe *nctx[2] = { &to_agent, &to_node }, *actx[2] = { &to_node, &to_agent };
	struct buf b = { 0 }, fr = { 0 };

	fuzz_key(s_a, FUZZ_KEY_AGENT);
	fuzz_key(s_n, FUZZ_KEY_NODE);
	noise_public(p_a, s_a);
	noise_public(p_n, s_n);
	fuzz_key(e, FUZZ_KEY_NODE_E);
	if (link_stream_init(&node, (struct om_stream){ &pipe_ops, nctx }, 1, s_n, p_n, p_a, e) != 0)
		die("node link");
	fuzz_key(e, FUZZ_KEY_AGENT_E);
	if (link_stream_init(&agent, (struct om_stream){ &pipe_ops, actx }, 0, s_a, p_a, NULL, e) != 0)
		die("agent link");
	for (int i = 0; i < 8 && (!link_stream_peer(&node) || !link_stream_peer(&agent)); i++) {
		link_stream_ops.flush(&node);
		link_stream_ops.recv(&agent, x, sizeof x);
		link_stream_ops.flush(&agent);
		link_stream_ops.recv(&node, x, sizeof x);
		link_stream_ops.flush(&node);
	}
	if (!link_stream_peer(&node) || !link_stream_peer(&agent))
		die("no handshake");
	frame(&fr, OM_T_HELLO, 0, 0, pl, hello(0x56));
	frame(&fr, OM_T_HEARTBEAT, 0, 0, pl, heartbeat(0));
	link_put(&node, fr.p, fr.len);
	fr.len = 0;
	frame(&fr, OM_T_WELCOME, 0, 0, pl, ENC(om_welcome, .node_id = 1, .heartbeat_ms = 1000, .time_ns = 1));
	frame(&fr, OM_T_ECHO, 0, 1, "abc", 3);
	link_put(&agent, fr.p, fr.len);
	/* The agent's end hears the node's bytes; the node's the agent's. */
	put8(&b, 0);
	put(&b, to_agent.b.p, to_agent.b.len);
	save("fuzz_link", "responder", &b);
	b.len = 0;
	put8(&b, 0x1 | 7 << 1 | 3 << 5); /* small pieces, now and then none */
	put(&b, to_agent.b.p, to_agent.b.len);
	save("fuzz_link", "responder-pieces", &b);
	b.len = 0;
	put8(&b, 1);
	put(&b, to_node.b.p, to_node.b.len);
	save("fuzz_link", "initiator", &b);
	b.len = 0;
	put8(&b, 1 | 5 << 1 | 2 << 5);
	put(&b, to_node.b.p, to_node.b.len);
	save("fuzz_link", "initiator-pieces", &b);
	free(b.p);
	free(fr.p);
	free(to_agent.b.p);
	free(to_node.b.p);
}

/* ---- fuzz_agent: chunks (u8 tag, u16 length, bytes) */

enum { N0, N1, C0, C1 };
#define SEND 0
#define SHUT 4
#define CLOSE 8
#define NOWAIT 12
#define RAW 16

static void
chunk(struct buf *b, int tag, const struct buf *bytes)
{
	put8(b, (uint8_t)tag);
	put16(b, (uint16_t)bytes->len);
	put(b, bytes->p, bytes->len);
}

/* One frame as one chunk. */
static void
chunk_frame(struct buf *b, int tag, uint8_t type, uint32_t job, uint32_t seq, int len)
{
	struct buf f = { 0 };

	frame(&f, type, job, seq, pl, len);
	chunk(b, tag, &f);
	free(f.p);
}

/* An image's frames (the seeds' images carry job 0) as job 1's, seq
 * their numbering (job_seq.h), each one chunk from tag. */
static void
image_chunks(struct buf *b, int tag, const struct buf *f, uint32_t seq)
{
	size_t at = 0;

	while (at < f->len) {
		struct om_hdr h;
		struct buf one = { 0 };

		if (om_frame_check(f->p + at, f->len - at, &h) != OM_OK)
			die("image frame");
		put(&one, f->p + at, OM_HDR_SIZE + h.length);
		om_hdr_encode(one.p, h.type, h.length, 1, seq);
		chunk(b, tag, &one);
		free(one.p);
		at += OM_HDR_SIZE + h.length;
	}
}

static void
agent_seeds(void)
{
	struct buf b = { 0 }, f = { 0 };
	struct om_ctl_admit ad;
	uint8_t key[NOISE_KEY], pub[NOISE_KEY];
	struct om_job_signal sig = { .signo = 2 };
	struct om_node_leaving lv = { .reason = OM_LEAVE_OWNER };

	/* Nodes register and report; a tool looks and blocks one. */
	put8(&b, 0);
	chunk_frame(&b, N0, OM_T_HELLO, 0, 0, hello(0x56));
	chunk_frame(&b, N1, OM_T_HELLO, 0, 0, hello(0x57));
	chunk_frame(&b, N0, OM_T_HEARTBEAT, 0, 0, heartbeat(0));
	chunk_frame(&b, N1, OM_T_ECHO, 0, 5, (memcpy(pl, "ping", 4), 4));
	chunk_frame(&b, C0, OM_T_CTL_NODES, 0, 0, empty());
	chunk_frame(&b, C1, OM_T_CTL_JOBS, 0, 0, empty());
	chunk_frame(&b, C0, OM_T_CTL_NODE, 0, 0, ENC(om_ctl_node, .action = OM_CTL_BLOCK, .node = 2));
	chunk_frame(&b, C0, OM_T_CTL_NODE, 0, 0, ENC(om_ctl_node, .action = OM_CTL_UNBLOCK, .node = 2));
	chunk_frame(&b, C0, OM_T_CTL_PENDING, 0, 0, empty());
	chunk_frame(&b, N1, OM_T_BYE, 0, 0, empty());
	save("fuzz_agent", "nodes", &b);

	/* A job: placed, its image relayed, started, a call, a signal, exit. */
	b.len = 0;
	put8(&b, 0);
	chunk_frame(&b, N0, OM_T_HELLO, 0, 0, hello(0x56));
	chunk_frame(&b, C0, OM_T_CTL_JOB_SUBMIT, 0, 0, submit(100000, 0, 0, 0));
	f.len = 0;
	image(&f, &(struct image_spec){ .pid = 100000 });
	image_chunks(&b, C0, &f, 0);
	chunk_frame(&b, N0, OM_T_JOB_STARTED, 1, 0, empty());
	chunk_frame(&b, N0, OM_T_HEARTBEAT, 0, 0, heartbeat(1));
	chunk_frame(&b, N0, OM_T_SYSCALL_REQ, 1, 1, (memset(pl, 0, 64), 64));
	chunk_frame(&b, C0, OM_T_SYSCALL_REP, 1, 1, (memset(pl, 0, 8), 8));
	chunk_frame(&b, N0, OM_T_DECISIONS, 1, 1, decisions());
	chunk_frame(&b, C0, OM_T_DECISIONS, 1, 1, decisions());
	chunk_frame(&b, C0, OM_T_SIGNAL, 1, 0, om_job_signal_encode(&sig, pl, sizeof pl));
	chunk_frame(&b, N0, OM_T_SIGNAL_SEEN, 1, 0, ENC(om_signal_seen, .count = 1));
	chunk_frame(&b, N0, OM_T_JOB_STOPPED, 1, 0, ENC(om_job_stopped, .signo = 19));
	chunk_frame(&b, C0, OM_T_JOB_CONTINUE, 1, 0, empty());
	chunk_frame(&b, C0, OM_T_CHECKPOINT, 1, 1, ENC(om_checkpoint, .base = 0));
	chunk_frame(&b, N0, OM_T_CHECKPOINT_TAKEN, 1, 1, error_msg(0, ""));
	image_chunks(&b, N0, &f, 1);
	chunk_frame(&b, C1, OM_T_CTL_JOBS, 0, 0, empty());
	chunk_frame(&b, N0, OM_T_JOB_EXIT, 1, 0, ENC(om_job_exit, .kind = OM_EXIT_EXITED, .status = 0));
	save("fuzz_agent", "job", &b);

	/* A job moved node to node by om-migrate, then one comes home. */
	b.len = 0;
	put8(&b, 0);
	chunk_frame(&b, N0, OM_T_HELLO, 0, 0, hello(0x56));
	chunk_frame(&b, N1, OM_T_HELLO, 0, 0, hello(0x57));
	chunk_frame(&b, C0, OM_T_CTL_JOB_SUBMIT, 0, 0, submit(100000, 1, 0, 0));
	chunk_frame(&b, N0, OM_T_JOB_STARTED, 1, 0, empty());
	chunk_frame(&b, C0, OM_T_CTL_MIGRATE, 0, 0, ENC(om_job_migrate, .pid = 100000, .target = 2));
	chunk_frame(&b, N0, OM_T_JOB_MOVING, 1, 0, ENC(om_job_moving, .cpu_ns = 5, .signals_in = 0));
	f.len = 0;
	image(&f, &(struct image_spec){ .pid = 100000 });
	image_chunks(&b, N0, &f, 0);
	chunk_frame(&b, N1, OM_T_JOB_STARTED, 1, 0, empty());
	chunk_frame(&b, C0, OM_T_CTL_MIGRATE, 0, 0, ENC(om_job_migrate, .pid = 100000, .target = 0));
	{
		struct om_job_home jh = { .reason = OM_HOME_REQUESTED, .pending = -1 };

		snprintf(jh.text, sizeof jh.text, "asked");
		chunk_frame(&b, N1, OM_T_JOB_HOME, 1, 0, om_job_home_encode(&jh, pl, sizeof pl));
	}
	chunk_frame(&b, N1, OM_T_IMAGE_END, 1, 0, ENC(om_image_end, .regions = 0, .pages = 0));
	chunk_frame(&b, C0, OM_T_CTL_JOB_SUBMIT, 0, 0, submit(100000, 0, OM_JOB_F_HOME, 0));
	chunk_frame(&b, C0, OM_T_CTL_MIGRATE, 0, 0, ENC(om_job_migrate, .pid = 100000,
	    .target = OM_MIGRATE_BALANCE));
	save("fuzz_agent", "move", &b);

	/* Pairing: refused, listed, admitted, then registered. */
	b.len = 0;
	put8(&b, 2);
	fuzz_key(key, FUZZ_KEY_NODE);
	noise_public(pub, key);
	noise_fingerprint(pub, ad.fp);
	chunk_frame(&b, N0, OM_T_HELLO, 0, 0, hello(0x56));
	chunk_frame(&b, C0, OM_T_CTL_PENDING, 0, 0, empty());
	chunk_frame(&b, C1, OM_T_CTL_ADMIT, 0, 0, om_ctl_admit_encode(&ad, pl, sizeof pl));
	chunk_frame(&b, C0, OM_T_CTL_ADMIT, 0, 0, om_ctl_admit_encode(&ad, pl, sizeof pl));
	chunk(&b, N0 | CLOSE, &(struct buf){ 0 });
	chunk_frame(&b, N0, OM_T_HELLO, 0, 0, hello(0x56));
	chunk_frame(&b, C0, OM_T_CTL_NODES, 0, 0, empty());
	save("fuzz_agent", "pairing", &b);

	/* Admission by list; a node leaves; an admin drains, expels, reboots. */
	b.len = 0;
	put8(&b, 1);
	snprintf(lv.text, sizeof lv.text, "a key was pressed");
	chunk_frame(&b, N0, OM_T_HELLO, 0, 0, hello(0x56));
	chunk_frame(&b, N1, OM_T_HELLO, 0, 0, hello(0x57));
	chunk_frame(&b, C0, OM_T_CTL_JOB_SUBMIT, 0, 0, submit(100000, 2, 0, 0));
	chunk_frame(&b, N1, OM_T_JOB_STARTED, 1, 0, empty());
	chunk_frame(&b, C0, OM_T_CTL_NODE, 0, 0, ENC(om_ctl_node, .action = OM_CTL_DRAIN, .node = 2));
	chunk_frame(&b, N1, OM_T_JOB_MOVE_REFUSED, 1, 0, error_msg(OM_E_STATE, "threads"));
	chunk_frame(&b, C0, OM_T_CTL_NODE, 0, 0, ENC(om_ctl_node, .action = OM_CTL_EXPEL, .node = 2));
	chunk_frame(&b, N0, OM_T_NODE_LEAVING, 0, 0, om_node_leaving_encode(&lv, pl, sizeof pl));
	chunk_frame(&b, C0, OM_T_CTL_NODE, 0, 0, ENC(om_ctl_node, .action = OM_CTL_REBOOT, .node = 1));
	chunk(&b, C0 | CLOSE, &(struct buf){ 0 });
	save("fuzz_agent", "drain", &b);

	/* A job claimed again after the agent restarted: the node first, then
	 * om-run naming a key (not the node's here: the claims do not pair),
	 * then frames for it from both sides. */
	b.len = 0;
	put8(&b, 1);
	chunk_frame(&b, N0, OM_T_HELLO, 0, 0, hello(0x56));
	chunk_frame(&b, N0, OM_T_JOB_REATTACH, 9, 3, ENC(om_job_reattach, .waiting = 4, .signals_in = 1));
	chunk_frame(&b, C0, OM_T_CTL_JOB_REATTACH, 0, 0, ctl_reattach(9, 100000));
	chunk_frame(&b, N0, OM_T_SYSCALL_REQ, 9, 4, (memset(pl, 0, 64), 64));
	chunk_frame(&b, C0, OM_T_SIGNAL, 9, 3, om_job_signal_encode(&sig, pl, sizeof pl));
	chunk_frame(&b, N0, OM_T_JOB_REATTACH, 9, 3, ENC(om_job_reattach, .exited = 1));
	chunk(&b, N0 | CLOSE, &(struct buf){ 0 });
	chunk_frame(&b, N0, OM_T_HELLO, 0, 0, hello(0x56));
	chunk_frame(&b, N0, OM_T_JOB_REATTACH, 9, 3, ENC(om_job_reattach, .stopped = 19));
	save("fuzz_agent", "reattach", &b);

	/* Bytes that are no link and no frame. */
	b.len = 0;
	put8(&b, 3);
	chunk(&b, N0 | RAW, &(struct buf){ (uint8_t *)"\x00\x30GET / HTTP/1.0\r\n\r\n", 21, 0 });
	chunk(&b, C0 | SHUT, &(struct buf){ (uint8_t *)"om\x0b\x40\x00\x00\x00\x00", 8, 0 });
	chunk(&b, N1, &(struct buf){ (uint8_t *)"\x6f\x6d\x0b\x02\xff\xff\xff\x7f", 8, 0 });
	save("fuzz_agent", "garbage", &b);
	free(b.p);
	free(f.p);
}

int
main(int argc, char **argv)
{
	struct buf b = { 0 };

	if (argc > 1)
		root = argv[1];
	if (mkdir(root, 0755) != 0 && errno != EEXIST)
		die("mkdir %s: %s", root, strerror(errno));

	node_stream(&b);
	{
		struct buf s = { 0 };

		put8(&s, 0), put8(&s, 0), put(&s, b.p, b.len);
		save("fuzz_node_frames", "all-at-once", &s);
		s.len = 0;
		put8(&s, 7), put8(&s, 2), put(&s, b.p, b.len);
		save("fuzz_node_frames", "pieces-feed", &s);
		s.len = 0;
		put8(&s, 100), put8(&s, 1), put(&s, b.p, b.len);
		save("fuzz_node_frames", "relay-cap", &s);
		b.len = 0;
		ctl_stream(&b);
		s.len = 0;
		put8(&s, 0), put8(&s, 1), put(&s, b.p, b.len);
		save("fuzz_ctl_frames", "all-at-once", &s);
		s.len = 0;
		put8(&s, 13), put8(&s, 0), put(&s, b.p, b.len);
		save("fuzz_ctl_frames", "pieces-small-cap", &s);
		free(s.p);
	}

	/* The image: the codec, the node's intake, home's restore. */
	b.len = 0;
	image(&b, &(struct image_spec){ .pid = 4000, .xsave = 1, .timers = 1, .pages = 1 });
	save("fuzz_image", "single", &b);
	{
		struct buf s = { 0 };

		put8(&s, 4), put(&s, b.p, b.len);
		save("fuzz_job_image", "single-home", &s);
		s.len = 0;
		put8(&s, 0), put8(&s, 0);
		put8(&s, 2);           /* the home's [heap], and its [stack] to grow */
		put32(&s, 0x4c1), put16(&s, 1), put8(&s, 3), put8(&s, 1), put32(&s, 0);
		put32(&s, 0xfffffffe), put16(&s, 0), put8(&s, 3), put8(&s, 0x80 | 2), put32(&s, 0);
		put(&s, b.p, b.len);
		save("fuzz_restore", "single", &s);
		b.len = 0;
		image(&b, &(struct image_spec){ .pid = 4000, .threads = 2, .xsave = 1, .scratch = 1 });
		save("fuzz_image", "threads", &b);
		s.len = 0;
		put8(&s, 5), put(&s, b.p, b.len);
		save("fuzz_job_image", "threads-home", &s);
		s.len = 0;
		put8(&s, 1), put8(&s, 0);
		put8(&s, 1);           /* the home's [vdso], apart from the image */
		put32(&s, 0xff7fc1), put16(&s, 1), put8(&s, 5), put8(&s, 0x80 | 3), put32(&s, 0);
		put(&s, b.p, b.len);
		save("fuzz_restore", "threads", &s);
		/* A writable twin of executable memory, with a page: compared
		 * with the home's, never written. */
		b.len = 0;
		image(&b, &(struct image_spec){ .pid = 4000, .twin = 1 });
		s.len = 0;
		put8(&s, 0), put8(&s, 0);
		put8(&s, 3);           /* [heap], the file's executable view and its writable twin */
		put32(&s, 0x4c1), put16(&s, 1), put8(&s, 3), put8(&s, 1), put32(&s, 0);
		put32(&s, 0x500), put16(&s, 0), put8(&s, 5), put8(&s, 8 | 5), put32(&s, 0);
		put32(&s, 0x600), put16(&s, 0), put8(&s, 3), put8(&s, 8 | 5), put32(&s, 0);
		put(&s, b.p, b.len);
		save("fuzz_restore", "twin", &s);
		free(s.p);
	}

	syscall_seeds();
	link_seeds();
	agent_seeds();

	{
		static const char *lines[] = {
			"om-node.elf om.agent=10.0.2.2:7707 om.ip=10.0.2.15/24,10.0.2.2 om.speed=1000",
			"om.key=8f2c6a1e0b7d4c3a9e5f1d2b6c8a0e4f7b3d9c1a5e2f6b8d0c4a7e3f9b1d5c2a om.selftest",
			"om.agent=300.1.1.1 om.ip=10.0.2.15 om.speed=0 om.bogus=1 quiet",
		};
		for (int i = 0; i < 3; i++) {
			struct buf s = { (uint8_t *)lines[i], strlen(lines[i]), 0 };
			char name[16];

			snprintf(name, sizeof name, "line-%d", i);
			save("fuzz_cmdline", name, &s);
		}
	}
	free(b.p);
	return 0;
}
