/* om-checkpoint - save a running job in a file (through the agent); and
 * capture a program at its entry point and restore it, at home: the test
 * bench for the image codec and the deputy's ptrace machinery.
 *
 *   om-checkpoint [--control PATH] PID FILE
 *       The job of PID, on a node, saved in FILE now (ckpt_ask.h).
 *   om-checkpoint --roundtrip PROG [ARG...]
 *       Start PROG under ptrace, stop at its entry point, capture its image
 *       through the codec (encode, decode, validate), then change it the
 *       way a node would (move the break, add a mapping, remove an
 *       anonymous one, make writable data read-only), zero its anonymous
 *       pages and clobber its registers (general and XSAVE), restore the
 *       image, check that registers and address space came back, let it
 *       run. PROG must behave exactly as when run natively; the exit
 *       status is PROG's. OM_CHECKPOINT_DEBUG=1 prints both address
 *       spaces when they differ.
 *   om-checkpoint --save FILE PROG [ARG...]
 *       Capture PROG at its entry point into FILE (its home record and
 *       image frames, as a checkpoint file: om-run --restart FILE runs
 *       it), then kill it.
 *   om-checkpoint --info FILE
 *       Validate FILE and print a summary: header, registers, regions.
 *
 * Exit status: PROG's for --roundtrip (127 / 126 when it cannot be
 * executed, like a shell), 0 on success otherwise, 1 on any error.
 * Manual: docs/man/om-checkpoint.1. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <elf.h>
#include <unistd.h>

#include "capture.h"
#include "ckpt_home.h"
#include "ckpt_ask.h"
#include "image.h"
#include "inject.h"
#include "proto.h"
#include "ptrace_start.h"
#include "restore.h"

extern char **environ;

static const char *progname = "om-checkpoint";

/* Exits with status: 0 for --help (on stdout), 1 for a usage error. */
static void __attribute__((noreturn))
usage(FILE *f, int status)
{
	fprintf(f, "usage: %s [--control PATH] PID FILE\n"
	    "       %s --roundtrip PROG [ARG...]\n"
	    "       %s --save FILE PROG [ARG...]\n"
	    "       %s --info FILE\n"
	    "  PID FILE         save the job of PID (om-run's program, on a node) in FILE now;\n"
	    "                   FILE becomes its checkpoint file (a restart takes it if the node is lost)\n"
	    "  --control PATH   agent control socket (default $OM_CONTROL, else /run/om/agent.sock)\n"
	    "  --roundtrip      capture PROG at its entry point, disturb it, restore it, let it run\n"
	    "  --save FILE      capture PROG at its entry point into FILE, then kill it\n"
	    "  --info FILE      check the image in FILE and print a summary\n"
	    "  -h, --help       show this help\n", progname, progname, progname, progname);
	exit(status);
}

/* ---- frames in memory */

struct fbuf {
	uint8_t *p;
	size_t len, cap;
};

static int
fbuf_emit(int type, const void *payload, size_t len, void *ctx)
{
	struct fbuf *b = ctx;

	if (b->cap - b->len < OM_HDR_SIZE + len) {
		size_t cap = b->cap ? b->cap : 1 << 20;
		void *p;

		while (cap - b->len < OM_HDR_SIZE + len)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	om_hdr_encode(b->p + b->len, (uint8_t)type, (uint32_t)len, 0, 0);
	memcpy(b->p + b->len + OM_HDR_SIZE, payload, len);
	b->len += OM_HDR_SIZE + len;
	return 0;
}

static int
file_emit(int type, const void *payload, size_t len, void *ctx)
{
	FILE *f = ctx;
	uint8_t h[OM_HDR_SIZE];

	om_hdr_encode(h, (uint8_t)type, (uint32_t)len, 0, 0);
	if (fwrite(h, 1, sizeof h, f) != sizeof h || fwrite(payload, 1, len, f) != len)
		return -EIO;
	return 0;
}

/* Walks the frames in buf; fn gets each complete frame. Stops at the first
 * error: a header that is not an image frame, or a frame cut short. */
typedef int (*frame_fn)(int type, const uint8_t *payload, size_t len, void *ctx,
    char *err, size_t errlen);

static int
walk_frames(const uint8_t *buf, size_t len, frame_fn fn, void *ctx, char *err, size_t errlen)
{
	struct om_hdr h;
	size_t off = 0, n = 0;
	int rc;

	while (off < len) {
		rc = om_frame_check(buf + off, len - off, &h);
		if (rc == OM_OK && !om_type_is_image(h.type) && h.type != OM_T_CKPT_HOME &&
		    h.type != OM_T_CKPT_ENTRY)
			rc = OM_E_TYPE;
		if (rc == OM_OK && h.length > len - off - OM_HDR_SIZE)
			rc = OM_E_SHORT;
		if (rc != OM_OK) {
			snprintf(err, errlen, "frame %zu at offset %zu: %s", n, off,
			    rc == OM_E_SHORT ? "truncated frame" : om_strerror(rc));
			return rc;
		}
		if ((rc = fn(h.type, buf + off + OM_HDR_SIZE, h.length, ctx, err, errlen)) != 0) {
			char tmp[256];

			snprintf(tmp, sizeof tmp, "frame %zu (%s) at offset %zu: %s", n,
			    om_type_name(h.type), off, err);
			snprintf(err, errlen, "%s", tmp);
			return rc;
		}
		off += OM_HDR_SIZE + h.length;
		n++;
	}
	return 0;
}

/* ---- decoding and validating an image, keeping what --info and the
 * scribbler need */

struct region_list {
	struct om_image_region *r;
	size_t n, cap;
};

struct decoded {
	struct om_image_check check;
	struct om_image_hdr *hdr;
	struct region_list regions;
	int print;        /* --info: print as it goes */
};

static const char *
prot_str(uint32_t p, char s[4])
{
	s[0] = (p & OM_PROT_R) ? 'r' : '-';
	s[1] = (p & OM_PROT_W) ? 'w' : '-';
	s[2] = (p & OM_PROT_X) ? 'x' : '-';
	s[3] = '\0';
	return s;
}

static void
print_hdr(const struct om_image_hdr *h)
{
	static const char *names[OM_REG_COUNT] = { "rax", "rbx", "rcx", "rdx", "rsi", "rdi",
		"rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip",
		"rflags", "orig_rax", "fs_base", "gs_base" };
	int i, nsig = 0;

	printf("process: pid %u ppid %u pgid %u sid %u uid %u/%u/%u gid %u/%u/%u umask %03o\n",
	    h->pid, h->ppid, h->pgid, h->sid, h->uid, h->euid, h->suid, h->gid, h->egid, h->sgid,
	    h->umask);
	printf("uname: %s %s %s %s %s\n", h->sysname, h->nodename, h->release, h->machine,
	    h->version);
	printf("cpu: %s, %s, family %u model %u, xcr0 %#llx\n", h->cpu.vendor, h->cpu.model,
	    h->cpu.family, h->cpu.model_id, (unsigned long long)h->cpu.xcr0);
	printf("registers:");
	for (i = 0; i < OM_REG_COUNT; i++)
		printf("%s %s %#llx", i % 4 == 0 ? "\n " : ",", names[i],
		    (unsigned long long)h->regs[i]);
	printf("\nxsave: %u bytes, xcr0 %#llx\n", h->xsave_size, (unsigned long long)h->xcr0);
	printf("brk: %#llx..%#llx, mmap_base %#llx, vdso %#llx, scratch %#llx+%#llx\n",
	    (unsigned long long)h->start_brk, (unsigned long long)h->brk,
	    (unsigned long long)h->mmap_base, (unsigned long long)h->vdso_base,
	    (unsigned long long)h->scratch_start, (unsigned long long)h->scratch_len);
	for (i = 0; i < OM_NSIG; i++)
		nsig += h->sigact[i].handler != 0;
	printf("signals: blocked %#llx, pending %#llx, %d not default, altstack %s\n",
	    (unsigned long long)h->sig_blocked, (unsigned long long)h->sig_pending, nsig,
	    (h->ss_flags & 2) ? "disabled" : "set");
	printf("thread: rseq %#llx (%u bytes), tid_address %#llx, robust_list %#llx\n",
	    (unsigned long long)h->rseq_addr, h->rseq_len, (unsigned long long)h->tid_address,
	    (unsigned long long)h->robust_list);
	printf("regions: %u, threads besides tid %u: %u\n", h->region_count, h->tid, h->thread_count);
}

/* The home record before the image (ckpt_file.h). */
static int
home_frame(int type, const uint8_t *p, size_t len, int print)
{
	static struct om_ckpt_home h;
	static struct om_ckpt_entry e;
	static const char *what[] = { "", "file", "directory", "device", "stream", "not restartable" };
	char ps[4];
	int rc;

	if (type == OM_T_CKPT_HOME) {
		if ((rc = om_ckpt_home_decode(p, len, &h)) == OM_OK && print)
			printf("home: %s, uid %u, after call %u, %u entries; brk from %#llx, arguments at %#llx\n",
			    h.exe, h.uid, h.calls, h.entries, (unsigned long long)h.start_brk,
			    (unsigned long long)h.arg_start);
		return rc;
	}
	if ((rc = om_ckpt_entry_decode(p, len, &e)) != OM_OK || !print)
		return rc;
	if (e.kind == OM_CKPT_FD)
		printf("  fd %d: %s %s, flags %#o, at %llu\n", e.fd, what[e.what], e.path, e.flags,
		    (unsigned long long)e.pos);
	else if (e.kind == OM_CKPT_CWD)
		printf("  cwd: %s\n", e.path);
	else
		printf("  %s: %012llx-%012llx %s %s +%llu\n", om_ckpt_kind_name(e.kind),
		    (unsigned long long)e.addr, (unsigned long long)(e.addr + e.len),
		    prot_str(e.kind == OM_CKPT_CODE ? e.flags : 0, ps), e.path, (unsigned long long)e.pos);
	return rc;
}

static int
decode_frame(int type, const uint8_t *p, size_t len, void *ctx, char *err, size_t errlen)
{
	struct decoded *d = ctx;
	struct om_image_region reg;
	struct om_image_pages pg;
	struct om_image_end end;
	char ps[4];
	int rc;

	switch (type) {
	case OM_T_CKPT_HOME:
	case OM_T_CKPT_ENTRY:
		rc = d->hdr != NULL ? OM_E_STATE : home_frame(type, p, len, d->print);
		break;
	case OM_T_IMAGE_BEGIN:
		if (d->hdr == NULL && (d->hdr = malloc(sizeof *d->hdr)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		if ((rc = om_image_hdr_decode(p, len, d->hdr)) != OM_OK)
			break;
		if ((rc = om_image_check_begin(&d->check, d->hdr)) == OM_OK && d->print)
			print_hdr(d->hdr);
		break;
	case OM_T_IMAGE_THREAD: {
		struct om_image_thread *t = malloc(sizeof *t);

		if (t == NULL) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		if ((rc = om_image_thread_decode(p, len, t)) == OM_OK &&
		    (rc = om_image_check_thread(&d->check, t)) == OM_OK && d->print)
			printf("thread %u: rip %#llx rsp %#llx, blocked %#llx\n", t->tid,
			    (unsigned long long)t->regs[OM_REG_RIP], (unsigned long long)t->regs[OM_REG_RSP],
			    (unsigned long long)t->sig_blocked);
		free(t);
		break;
	}
	case OM_T_IMAGE_REGION:
		if ((rc = om_image_region_decode(p, len, &reg)) != OM_OK)
			break;
		if ((rc = om_image_check_region(&d->check, &reg)) != OM_OK)
			break;
		if (d->regions.n == d->regions.cap) {
			size_t cap = d->regions.cap ? 2 * d->regions.cap : 64;
			void *q = realloc(d->regions.r, cap * sizeof reg);

			if (q == NULL) {
				snprintf(err, errlen, "out of memory");
				return -ENOMEM;
			}
			d->regions.r = q;
			d->regions.cap = cap;
		}
		d->regions.r[d->regions.n++] = reg;
		if (d->print)
			printf("  %012llx-%012llx %s %-8s %6llu/%-6llu pages %s\n",
			    (unsigned long long)reg.start, (unsigned long long)reg.end,
			    prot_str(reg.prot, ps), om_region_kind_name(reg.kind),
			    (unsigned long long)reg.pages_sent,
			    (unsigned long long)((reg.end - reg.start) / OM_PAGE_SIZE), reg.name);
		break;
	case OM_T_IMAGE_PAGES:
		if ((rc = om_image_pages_decode(p, len, &pg)) != OM_OK)
			break;
		rc = om_image_check_pages(&d->check, &pg);
		break;
	default:
		if ((rc = om_image_end_decode(p, len, &end)) != OM_OK)
			break;
		if ((rc = om_image_check_end(&d->check, &end)) == OM_OK && d->print)
			printf("total: %u regions, %llu pages (%llu KiB)\n", end.regions,
			    (unsigned long long)end.pages, (unsigned long long)end.pages * 4);
		break;
	}
	if (rc != OM_OK)
		snprintf(err, errlen, "%s", d->check.why[0] ? d->check.why : om_strerror(rc));
	return rc;
}

static int
decode_image(const uint8_t *buf, size_t len, struct decoded *d, char *err, size_t errlen)
{
	int rc;

	om_image_check_init(&d->check);
	if ((rc = walk_frames(buf, len, decode_frame, d, err, errlen)) != 0)
		return rc;
	if (!om_image_check_done(&d->check)) {
		snprintf(err, errlen, "the image ends before IMAGE_END");
		return OM_E_SHORT;
	}
	return 0;
}

static void
decoded_free(struct decoded *d)
{
	free(d->hdr);
	free(d->regions.r);
}

/* ---- --info */

static int
cmd_info(const char *path)
{
	struct decoded d;
	struct stat sb;
	uint8_t *buf;
	char err[512];
	int fd, rc;
	size_t off = 0;
	ssize_t n;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 || fstat(fd, &sb) == -1) {
		fprintf(stderr, "%s: %s: %s\n", progname, path, strerror(errno));
		return 1;
	}
	if ((buf = malloc(sb.st_size ? (size_t)sb.st_size : 1)) == NULL) {
		fprintf(stderr, "%s: %s: out of memory\n", progname, path);
		close(fd);
		return 1;
	}
	while (off < (size_t)sb.st_size && (n = read(fd, buf + off, (size_t)sb.st_size - off)) > 0)
		off += (size_t)n;
	close(fd);
	memset(&d, 0, sizeof d);
	d.print = 1;
	printf("%s: %zu bytes\n", path, off);
	rc = decode_image(buf, off, &d, err, sizeof err);
	if (rc == 0 && off == 0)
		snprintf(err, sizeof err, "empty file"), rc = OM_E_SHORT;
	fflush(stdout);
	if (rc != 0)
		fprintf(stderr, "%s: %s: invalid image: %s\n", progname, path, err);
	decoded_free(&d);
	free(buf);
	return rc != 0;
}

/* ---- starting the program */

static int
start(char **argv, pid_t *pid, struct inject *in)
{
	uint64_t entry;
	int rc;

	if ((rc = ptrace_start(argv[0], argv, environ, pid, &entry)) != 0) {
		fprintf(stderr, "%s: %s: %s\n", progname, argv[0], strerror(-rc));
		exit(rc == -ENOENT || rc == -EACCES || rc == -ENOEXEC ? ptrace_start_status(rc) : 1);
	}
	if ((rc = inject_open(in, *pid)) != 0 || (rc = inject_setup(in)) != 0) {
		fprintf(stderr, "%s: %s: scratch region: %s\n", progname, argv[0], strerror(-rc));
		return -1;
	}
	return 0;
}

static void __attribute__((noreturn))
die_kill(pid_t pid, const char *what, const char *err)
{
	fprintf(stderr, "%s: %s: %s\n", progname, what, err);
	kill(pid, SIGKILL);
	exit(1);
}

/* ---- --save */

static int
cmd_save(const char *path, char **argv)
{
	struct capture_stats st;
	struct inject in;
	char err[512];
	pid_t pid;
	FILE *f;
	int rc;

	if ((f = fopen(path, "we")) == NULL) {
		fprintf(stderr, "%s: %s: %s\n", progname, path, strerror(errno));
		return 1;
	}
	if (start(argv, &pid, &in) != 0)
		die_kill(pid, argv[0], "cannot set up injection");
	if (ckpt_home_write(fileno(f), pid, in.scratch, in.scratch_len, 0, 0, err, sizeof err) != 0)
		die_kill(pid, path, err);
	rc = capture_image(&in, NULL, 0, file_emit, f, &st, err, sizeof err);
	if (rc == -EIO || (rc == 0 && fclose(f) != 0))
		die_kill(pid, path, strerror(errno ? errno : EIO));
	if (rc != 0)
		die_kill(pid, "capture", err);
	fprintf(stderr, "%s: %s: %u regions, %llu pages, %llu frames\n", progname, path,
	    st.regions, (unsigned long long)st.pages, (unsigned long long)st.frames);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, __WALL);
	return 0;
}

/* ---- --roundtrip */

/* The address space as a list of ranges with the same protection and
 * mapping, adjacent lines merged: how the kernel splits or merges vmas is
 * not part of what restore promises. */
static size_t
maps_normalize(struct capture_map *m, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (k > 0 && m[k - 1].end == m[i].start && m[k - 1].prot == m[i].prot &&
		    m[k - 1].shared == m[i].shared && strcmp(m[k - 1].name, m[i].name) == 0 &&
		    (m[i].inode == 0 ||
		    m[k - 1].offset + (m[k - 1].end - m[k - 1].start) == m[i].offset)) {
			m[k - 1].end = m[i].end;
			continue;
		}
		m[k++] = m[i];
	}
	return k;
}

static int
maps_equal(pid_t pid, const struct inject *in, const struct capture_map *before, size_t nb,
    char *err, size_t errlen)
{
	struct capture_map *after;
	size_t na, i;

	if (capture_read_maps(pid, in->scratch, in->scratch_len, &after, &na) != 0)
		return snprintf(err, errlen, "cannot read the maps again"), -1;
	na = maps_normalize(after, na);
	for (i = 0; i < na && i < nb; i++)
		if (after[i].start != before[i].start || after[i].end != before[i].end ||
		    after[i].prot != before[i].prot || strcmp(after[i].name, before[i].name) != 0)
			break;
	if (i < na || i < nb) {
		if (getenv("OM_CHECKPOINT_DEBUG") != NULL) {
			size_t k;

			for (k = 0; k < nb; k++)
				fprintf(stderr, "before %llx-%llx %x %s\n",
				    (unsigned long long)before[k].start,
				    (unsigned long long)before[k].end, before[k].prot, before[k].name);
			for (k = 0; k < na; k++)
				fprintf(stderr, "after  %llx-%llx %x %s\n",
				    (unsigned long long)after[k].start,
				    (unsigned long long)after[k].end, after[k].prot, after[k].name);
		}
		snprintf(err, errlen, "address space differs after restore at %#llx (%s)",
		    (unsigned long long)(i < na ? after[i].start : before[i].start),
		    i < na ? after[i].name : before[i].name);
		free(after);
		return -1;
	}
	free(after);
	return 0;
}

static int
scribble_call(struct inject *in, long nr, uint64_t a0, uint64_t a1, uint64_t a2,
    uint64_t a3, char *err, size_t errlen)
{
	uint64_t a[6] = { a0, a1, a2, a3, (uint64_t)-1, 0 };
	int64_t ret;
	int rc;

	if ((rc = inject_syscall(in, nr, a, &ret)) != 0 || (ret < 0 && ret > -4096)) {
		snprintf(err, errlen, "scribbling with system call %ld: %s", nr,
		    strerror(rc ? -rc : (int)-ret));
		return -1;
	}
	return 0;
}

/* Makes the restore do the work, as if the job came back from a node that
 * changed everything: the break moves, a region appears, an anonymous
 * region disappears, writable data becomes read-only, every anonymous
 * page the image carries becomes zero, every general register and the
 * SSE/AVX state garbage. */
static int
scribble(struct inject *in, const struct decoded *d, char *err, size_t errlen)
{
	static uint8_t zero[OM_PAGE_SIZE];
	struct user_regs_struct regs;
	uint8_t xs[OM_XSAVE_MAX];
	struct iovec iov;
	size_t i;
	uint64_t a;
	int rc, protected = 0;
	size_t unmapped = 0; /* index + 1 of the region removed */

	if (scribble_call(in, SYS_brk, d->hdr->brk + (1 << 20), 0, 0, 0, err, errlen) != 0 ||
	    scribble_call(in, SYS_mmap, 0, 16 * OM_PAGE_SIZE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, err, errlen) != 0)
		return -1;
	for (i = 0; i < d->regions.n; i++) {
		const struct om_image_region *r = &d->regions.r[i];

		/* Not the region holding the rseq area: the kernel writes it on
		 * every return to user space, injected calls included. */
		if (!unmapped && r->kind == OM_RK_ANON && !(r->flags & OM_RF_SHARED) &&
		    !(d->hdr->rseq_addr >= r->start && d->hdr->rseq_addr < r->end)) {
			if (scribble_call(in, SYS_munmap, r->start, r->end - r->start, 0, 0,
			    err, errlen) != 0)
				return -1;
			unmapped = i + 1;
		} else if (!protected && r->kind == OM_RK_FILE && r->prot == (OM_PROT_R | OM_PROT_W)) {
			if (scribble_call(in, SYS_mprotect, r->start, r->end - r->start, PROT_READ, 0,
			    err, errlen) != 0)
				return -1;
			protected = 1;
		}
	}
	for (i = 0; i < d->regions.n; i++) {
		const struct om_image_region *r = &d->regions.r[i];

		if (r->kind != OM_RK_ANON && r->kind != OM_RK_HEAP && r->kind != OM_RK_STACK)
			continue;
		if (r->pages_sent == 0 || (r->flags & OM_RF_SHARED))
			continue;
		if (i + 1 == unmapped)
			continue; /* gone */
		for (a = r->start; a < r->end; a += OM_PAGE_SIZE)
			if ((rc = inject_write(in, a, zero, sizeof zero)) != 0) {
				snprintf(err, errlen, "zeroing %#llx: %s", (unsigned long long)a,
				    strerror(-rc));
				return rc;
			}
	}
	if (ptrace(PTRACE_GETREGS, in->pid, NULL, &regs) == -1)
		goto fail;
	regs.rax = regs.rbx = regs.rcx = regs.rdx = 0x5a5a5a5a5a5a5a5aull;
	regs.rsi = regs.rdi = regs.rbp = regs.rsp = 0x5a5a5a5a5a5a5a5aull;
	regs.r8 = regs.r9 = regs.r10 = regs.r11 = 0x5a5a5a5a5a5a5a5aull;
	regs.r12 = regs.r13 = regs.r14 = regs.r15 = 0x5a5a5a5a5a5a5a5aull;
	regs.rip = 0x5a5a5a5a5a5aull;
	regs.fs_base = 0x5a5a5a5a5000ull;
	if (ptrace(PTRACE_SETREGS, in->pid, NULL, &regs) == -1)
		goto fail;
	iov.iov_base = xs;
	iov.iov_len = sizeof xs;
	if (ptrace(PTRACE_GETREGSET, in->pid, (void *)NT_X86_XSTATE, &iov) == -1)
		return 0; /* no XSAVE: nothing to clobber */
	/* FXSAVE layout (SDM vol. 1, 10.5.1): FCW at 0, MXCSR at 24, XMM0-15 at
	 * 160; XSAVE header at 512 (XSTATE_BV); AVX upper halves at 576. */
	xs[0] = 0x7f;
	xs[1] = 0x00;               /* FCW 0x007f: 24-bit precision */
	xs[24] = 0xc0;
	xs[25] = 0x9f;              /* MXCSR 0x9fc0: FTZ, DAZ */
	memset(xs + 160, 0xa5, 256);
	xs[512] |= 0x3;             /* x87 and SSE state present */
	if (iov.iov_len >= 576 + 256 && (d->hdr->xcr0 & 4)) {
		memset(xs + 576, 0xc3, 256);
		xs[512] |= 0x4;
	}
	if (ptrace(PTRACE_SETREGSET, in->pid, (void *)NT_X86_XSTATE, &iov) == -1)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "clobbering registers: %s", strerror(errno));
	return -errno;
}

struct restore_ctx {
	struct restore r;
	struct inject *in;
};

static int
restore_fn(int type, const uint8_t *p, size_t len, void *ctx, char *err, size_t errlen)
{
	struct restore_ctx *rc = ctx;

	return restore_frame(&rc->r, rc->in, type, p, len, err, errlen);
}

/* The registers read back must be the image's: general registers, MXCSR,
 * FCW, XMM and (when present) the AVX upper halves. */
static int
verify_regs(struct inject *in, const struct om_image_hdr *h, char *err, size_t errlen)
{
	struct user_regs_struct regs;
	uint8_t xs[OM_XSAVE_MAX];
	struct iovec iov = { xs, sizeof xs };

	if (ptrace(PTRACE_GETREGS, in->pid, NULL, &regs) == -1)
		return snprintf(err, errlen, "PTRACE_GETREGS: %s", strerror(errno)), -1;
	if (regs.rip != h->regs[OM_REG_RIP] || regs.rsp != h->regs[OM_REG_RSP] ||
	    regs.rdx != h->regs[OM_REG_RDX] || regs.r15 != h->regs[OM_REG_R15] ||
	    regs.fs_base != h->regs[OM_REG_FS_BASE])
		return snprintf(err, errlen, "general registers differ after restore"), -1;
	if (h->xsave_size == 0)
		return 0;
	if (ptrace(PTRACE_GETREGSET, in->pid, (void *)NT_X86_XSTATE, &iov) == -1)
		return snprintf(err, errlen, "PTRACE_GETREGSET: %s", strerror(errno)), -1;
	if (memcmp(xs, h->xsave, 2) != 0 || memcmp(xs + 24, h->xsave + 24, 4) != 0 ||
	    memcmp(xs + 160, h->xsave + 160, 256) != 0)
		return snprintf(err, errlen, "x87/SSE state differs after restore"), -1;
	if ((h->xsave[512] & 4) && (xs[512] & 4) && iov.iov_len >= 832 &&
	    memcmp(xs + 576, h->xsave + 576, 256) != 0)
		return snprintf(err, errlen, "AVX state differs after restore"), -1;
	if ((h->xsave[512] & 4) != (xs[512] & 4)) {
		/* An init-state component may read back either way; it is
		 * equal when the other side is all zero. */
		const uint8_t *hi = (h->xsave[512] & 4) ? h->xsave + 576 : xs + 576;
		int k;

		for (k = 0; k < 256 && iov.iov_len >= 832; k++)
			if (hi[k] != 0)
				return snprintf(err, errlen, "AVX state differs after restore"), -1;
	}
	return 0;
}

static int
cmd_roundtrip(char **argv)
{
	struct capture_stats st;
	struct restore_ctx rc;
	struct decoded d;
	struct fbuf fb = { 0 };
	struct capture_map *before;
	struct inject in;
	size_t nbefore;
	char err[512];
	pid_t pid;
	int sig, status, r;

	if (start(argv, &pid, &in) != 0)
		die_kill(pid, argv[0], "cannot set up injection");
	if (capture_read_maps(pid, in.scratch, in.scratch_len, &before, &nbefore) != 0)
		die_kill(pid, "maps", "cannot read /proc/PID/maps");
	nbefore = maps_normalize(before, nbefore);
	if ((r = capture_image(&in, NULL, 0, fbuf_emit, &fb, &st, err, sizeof err)) != 0)
		die_kill(pid, "capture", err[0] ? err : strerror(-r));
	memset(&d, 0, sizeof d);
	if (decode_image(fb.p, fb.len, &d, err, sizeof err) != 0)
		die_kill(pid, "captured image", err);
	if (scribble(&in, &d, err, sizeof err) != 0)
		die_kill(pid, "scribble", err);
	memset(&rc, 0, sizeof rc);
	rc.in = &in;
	if (walk_frames(fb.p, fb.len, restore_fn, &rc, err, sizeof err) != 0)
		die_kill(pid, "restore", err);
	if (verify_regs(&in, d.hdr, err, sizeof err) != 0 ||
	    maps_equal(pid, &in, before, nbefore, err, sizeof err) != 0)
		die_kill(pid, "restore", err);
	free(before);
	sig = rc.r.pending ? __builtin_ctzll(rc.r.pending) + 1 : 0;
	restore_free(&rc.r);
	decoded_free(&d);
	free(fb.p);
	if ((r = inject_teardown(&in)) != 0)
		die_kill(pid, "removing the scratch region", strerror(-r));
	if (ptrace(PTRACE_DETACH, pid, NULL, (void *)(long)sig) == -1)
		die_kill(pid, "PTRACE_DETACH", strerror(errno));
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			fprintf(stderr, "%s: waitpid: %s\n", progname, strerror(errno));
			return 1;
		}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	/* Die the same way, as a shell would see it. */
	signal(WTERMSIG(status), SIG_DFL);
	kill(getpid(), WTERMSIG(status));
	return 128 + WTERMSIG(status);
}

int
main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "--roundtrip") == 0)
		return cmd_roundtrip(argv + 2);
	if (argc >= 4 && strcmp(argv[1], "--save") == 0)
		return cmd_save(argv[2], argv + 3);
	if (argc == 3 && strcmp(argv[1], "--info") == 0)
		return cmd_info(argv[2]);
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		usage(stdout, 0);
	if (argc == 5 && strcmp(argv[1], "--control") == 0)
		return ckpt_ask(argv[2], argv[3], argv[4]);
	if (argc == 3 && argv[1][0] != '-')
		return ckpt_ask(NULL, argv[1], argv[2]);
	usage(stderr, 1);
}
